import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash, createHmac } from 'node:crypto';
import { createLogger } from '../../../lib/log';
import type { Clock } from '../../../lib/clock';
import {
  DispatchError,
  encodeDispatchEvent,
  parseDispatchEvent,
  taskIdFor,
  type DispatchRequest,
} from '../../../lib/dispatch/dispatch';
import { createFcDispatcher, type FcDispatchOptions } from '../../../lib/dispatch/fc';
import { startFcFake, type FcFake } from '../../fakes/fc/index';

const CLUSTER = 'c0123456789abcdef0123456789abcdef';
const CHECK = `1697100584236600453-${CLUSTER}-clustercheck-lboto`;
const NOTIFY: DispatchRequest = { kind: 'notify', clusterId: CLUSTER, checkId: CHECK, generation: 0 };

/** Sleeps are recorded, not waited: retries stay instant and their delays observable. */
function instantClock(): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return { sleeps, now: () => Date.now(), sleep: (ms) => (sleeps.push(ms), Promise.resolve()) };
}

async function rejection(p: Promise<unknown>): Promise<DispatchError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DispatchError);
  return err as DispatchError;
}

describe('FC dispatcher against the loopback FC endpoint (real @alicloud/fc2 client)', () => {
  let fake: FcFake;
  let clock: ReturnType<typeof instantClock>;

  beforeEach(async () => {
    fake = await startFcFake({ accountId: '1234567890123456' });
    clock = instantClock();
  });
  afterEach(async () => {
    await fake.close();
  });

  function dispatcher(overrides: Partial<FcDispatchOptions> = {}) {
    return createFcDispatcher({
      accountId: fake.accountId,
      region: 'cn-hangzhou',
      endpoint: fake.endpoint,
      notifierFunction: 'checkwatch-notifier',
      pollerFunction: 'checkwatch-poller',
      qualifier: 'LATEST',
      credentials: { accessKeyId: fake.accessKeyId, accessKeySecret: fake.accessKeySecret },
      clock,
      random: () => 0.5,
      ...overrides,
    });
  }

  it('sends the FC 3.0 async invocation: path, query, x-fc headers, MD5 and a valid FC signature', async () => {
    const result = await dispatcher().dispatch(NOTIFY);

    expect(result.status).toBe('dispatched');
    expect(fake.invocations).toHaveLength(1);
    const inv = fake.invocations[0]!;
    expect(inv.method).toBe('POST');
    expect(inv.api).toBe('2023-03-30');
    expect(inv.url).toBe('/2023-03-30/functions/checkwatch-notifier/invocations?qualifier=LATEST');
    expect(inv.functionName).toBe('checkwatch-notifier');
    expect(inv.qualifier).toBe('LATEST');
    expect(inv.invocationType).toBe('Async');
    expect(inv.taskId).toBe(taskIdFor(NOTIFY));
    expect(inv.body).toBe(encodeDispatchEvent(NOTIFY));

    const h = inv.headers;
    expect(h['x-fc-invocation-type']).toBe('Async');
    expect(h['x-fc-async-task-id']).toBe(taskIdFor(NOTIFY));
    expect(h['x-fc-account-id']).toBe(fake.accountId);
    expect(h['content-type']).toBe('application/octet-stream');
    expect(h['x-fc-security-token']).toBeUndefined();
    // fc2 sends base64 of the hex MD5 digest (not of the raw digest as RFC 1864 would).
    const hexMd5 = createHash('md5').update(inv.body).digest('hex');
    expect(h['content-md5']).toBe(Buffer.from(hexMd5).toString('base64'));

    // The signature, recomputed here from the rule: the query is not signed, both x-fc-* invocation
    // headers are, and the resource starts with the 2023-03-30 version segment.
    const fcHeaders = Object.keys(h)
      .filter((k) => k.startsWith('x-fc-'))
      .sort()
      .map((k) => `${k}:${h[k]}\n`)
      .join('');
    expect(fcHeaders).toContain('x-fc-async-task-id:');
    expect(fcHeaders).toContain('x-fc-invocation-type:Async\n');
    const stringToSign = `POST\n${h['content-md5']}\napplication/octet-stream\n${h.date}\n${fcHeaders}/2023-03-30/functions/checkwatch-notifier/invocations`;
    const sig = createHmac('sha256', fake.accessKeySecret).update(stringToSign).digest('base64');
    expect(h.authorization).toBe(`FC ${fake.accessKeyId}:${sig}`);
  });

  it('returns dispatched with the FC request id on 202', async () => {
    const result = await dispatcher().dispatch(NOTIFY);
    expect(result).toEqual({ status: 'dispatched', requestId: fake.invocations[0]!.requestId });
    expect(fake.invocations[0]!.requestId).toMatch(/^fake-/);
  });

  it('omits the qualifier query when none is configured', async () => {
    const rest: FcDispatchOptions = {
      accountId: fake.accountId,
      region: 'cn-hangzhou',
      endpoint: fake.endpoint,
      notifierFunction: 'checkwatch-notifier',
      pollerFunction: 'checkwatch-poller',
      credentials: { accessKeyId: fake.accessKeyId, accessKeySecret: fake.accessKeySecret },
    };
    await createFcDispatcher(rest).dispatch(NOTIFY);
    expect(fake.invocations[0]!.url).toBe('/2023-03-30/functions/checkwatch-notifier/invocations');
    expect(fake.invocations[0]!.qualifier).toBeUndefined();
  });

  it('answers duplicate, not an error, when the same generation is dispatched again (FC 409)', async () => {
    const d = dispatcher();
    expect((await d.dispatch(NOTIFY)).status).toBe('dispatched');
    expect(await d.dispatch(NOTIFY)).toEqual({ status: 'duplicate' });
    expect(fake.invocations).toHaveLength(1);
    expect(fake.rejections).toEqual([expect.objectContaining({ status: 409 })]);
  });

  it('dispatches again when the next generation is used (overdue re-dispatch)', async () => {
    const d = dispatcher();
    await d.dispatch(NOTIFY);
    const again = await d.dispatch({ ...NOTIFY, generation: 1 });
    expect(again.status).toBe('dispatched');
    expect(fake.invocations.map((i) => i.taskId)).toEqual([
      taskIdFor(NOTIFY),
      taskIdFor({ ...NOTIFY, generation: 1 }),
    ]);
  });

  it('sends poll-shard requests to the poller function', async () => {
    await dispatcher().dispatch({ kind: 'poll-shard', shard: 3, generation: 42 });
    const inv = fake.invocations[0]!;
    expect(inv.functionName).toBe('checkwatch-poller');
    expect(inv.taskId).toBe('cw_p_3_42');
    expect(parseDispatchEvent(inv.body)).toEqual({ kind: 'poll-shard', shard: 3, generation: 42 });
  });

  it('delivers the event to the function handler after accepting it, as a Buffer-decodable id-only event', async () => {
    const received: DispatchRequest[] = [];
    fake.onInvoke((inv) => {
      received.push(parseDispatchEvent(Buffer.from(inv.body)));
    });
    await dispatcher().dispatch(NOTIFY);
    await fake.drain();
    expect(received).toEqual([NOTIFY]);
  });

  it('surfaces a wrong secret as a non-retryable DispatchError with status 403, without retrying', async () => {
    const err = await rejection(
      dispatcher({
        credentials: { accessKeyId: fake.accessKeyId, accessKeySecret: 'not-the-secret' },
      }).dispatch(NOTIFY),
    );
    expect(err.code).toBe('DISPATCH_FAILED');
    expect(err.retryable).toBe(false);
    expect(err.details).toMatchObject({
      status: 403,
      function: 'checkwatch-notifier',
      taskId: taskIdFor(NOTIFY),
    });
    expect(err.details.requestId).toMatch(/^fake-/);
    expect(fake.rejections).toEqual([
      {
        code: 'SignatureNotMatch',
        status: 403,
        path: '/2023-03-30/functions/checkwatch-notifier/invocations',
      },
    ]);
    expect(fake.invocations).toHaveLength(0);
    expect(clock.sleeps).toEqual([]);
  });

  it('never puts the secret into the error or the log lines of a failed dispatch', async () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), level: 'debug' });
    const err = await rejection(
      dispatcher({
        credentials: { accessKeyId: fake.accessKeyId, accessKeySecret: 'wrong-secret-value-123' },
        log,
      }).dispatch(NOTIFY),
    );
    const everything = [JSON.stringify(err.toJSON()), err.message, String(err.cause), ...lines].join('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(everything).not.toContain('wrong-secret-value-123');
  });

  it('retries a 5xx and succeeds when FC recovers', async () => {
    fake.injectFault({ kind: '5xx', next: 2 });
    const result = await dispatcher().dispatch(NOTIFY);
    expect(result.status).toBe('dispatched');
    expect(fake.rejections.map((r) => r.status)).toEqual([503, 503]);
    expect(clock.sleeps).toEqual([100, 200]);
  });

  it('throws a retryable DispatchError when FC keeps answering 5xx', async () => {
    fake.injectFault({ kind: '5xx' });
    const err = await rejection(dispatcher().dispatch(NOTIFY));
    expect(err.retryable).toBe(true);
    expect(err.details.status).toBe(503);
    expect(fake.rejections).toHaveLength(3);
  });

  it('throws a retryable DispatchError when FC throttles (429)', async () => {
    fake.injectFault({ kind: 'throttle' });
    const err = await rejection(
      dispatcher({ retry: { maxAttempts: 1, baseMs: 1, capMs: 1 } }).dispatch(NOTIFY),
    );
    expect(err.retryable).toBe(true);
    expect(err.details.status).toBe(429);
  });

  it('throws a retryable DispatchError without status when the connection is reset', async () => {
    fake.injectFault({ kind: 'reset' });
    const err = await rejection(
      dispatcher({ retry: { maxAttempts: 1, baseMs: 1, capMs: 1 } }).dispatch(NOTIFY),
    );
    expect(err.retryable).toBe(true);
    expect(err.details.status).toBeUndefined();
    expect(fake.invocations).toHaveLength(0);
  });

  it('reports duplicate when the reply to an accepted invocation was lost and the retry gets 409', async () => {
    fake.injectFault({ kind: 'accept-then-reset', next: 1 });
    const result = await dispatcher().dispatch(NOTIFY);
    expect(result).toEqual({ status: 'duplicate' });
    expect(fake.invocations).toHaveLength(1);
    expect(fake.rejections.map((r) => r.status)).toEqual([409]);
  });

  it('does not retry when FC refuses the request for another account (403)', async () => {
    const err = await rejection(
      createFcDispatcher({
        accountId: '999',
        region: 'cn-hangzhou',
        endpoint: fake.endpoint,
        notifierFunction: 'checkwatch-notifier',
        pollerFunction: 'checkwatch-poller',
        credentials: { accessKeyId: fake.accessKeyId, accessKeySecret: fake.accessKeySecret },
        clock,
      }).dispatch(NOTIFY),
    );
    expect(err.retryable).toBe(false);
    expect(err.details.status).toBe(403);
    expect(fake.rejections[0]!.code).toBe('AccessDenied');
    expect(clock.sleeps).toEqual([]);
  });
});

describe('FC dispatcher with STS credentials (FC runtime context.credentials)', () => {
  const sts = {
    accessKeyId: 'STS.NUgYrLnoC37mZZCNnAbez2aDk',
    accessKeySecret: 'sts-secret-abcdef',
    securityToken: 'CAIS-security-token-value-0123456789',
  };
  let fake: FcFake;
  beforeEach(async () => {
    fake = await startFcFake(sts);
  });
  afterEach(async () => {
    await fake.close();
  });

  const options = (credentials: FcDispatchOptions['credentials']): FcDispatchOptions => ({
    accountId: fake.accountId,
    region: 'cn-hangzhou',
    endpoint: fake.endpoint,
    notifierFunction: 'checkwatch-notifier',
    pollerFunction: 'checkwatch-poller',
    credentials,
  });

  it('sends x-fc-security-token, signed with the other x-fc headers', async () => {
    const result = await createFcDispatcher(options(sts)).dispatch(NOTIFY);
    expect(result.status).toBe('dispatched');
    expect(fake.invocations[0]!.headers['x-fc-security-token']).toBe(sts.securityToken);
  });

  it('is refused with 403 when the token is wrong', async () => {
    const err = await rejection(
      createFcDispatcher(options({ ...sts, securityToken: 'CAIS-stale-token' })).dispatch(NOTIFY),
    );
    expect(err.retryable).toBe(false);
    expect(err.details.status).toBe(403);
    expect(fake.rejections[0]!.code).toBe('InvalidSecurityToken');
  });
});
