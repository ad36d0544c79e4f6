import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AckClient } from '../../../lib/ack/client';
import type { AckClientOptions } from '../../../lib/ack/client';
import { AckError } from '../../../lib/ack/errors';
import type { AckErrorCode } from '../../../lib/ack/errors';
import type { Clock } from '../../../lib/clock';
import type { CheckId, ClusterId } from '../../../lib/domain/check';
import { startSimulator } from '../../../lib/sim/index';
import type { FaultKind, Simulator } from '../../../lib/sim/index';

const CLUSTER = 'c0123456789abcdef0123456789abcdef' as ClusterId;
const OTHER = 'c9999999999abcdef0123456789abcdef' as ClusterId;

/** Real time plus whatever the client "slept": retries cost no wall time, and sleeps are recorded. */
class SkippingClock implements Clock {
  offset = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return Date.now() + this.offset;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    this.sleeps.push(ms);
    this.offset += ms;
    return Promise.resolve();
  }
}

async function caught(p: Promise<unknown>): Promise<AckError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AckError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

let sim: Simulator;
let clock: SkippingClock;
const clients: AckClient[] = [];

function client(over: Partial<AckClientOptions> = {}): AckClient {
  const c = new AckClient({
    credentials: { accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret },
    region: 'cn-hangzhou',
    endpoint: sim.endpoint,
    clock,
    random: () => 0.5,
    ...over,
  });
  clients.push(c);
  return c;
}

beforeEach(async () => {
  sim = await startSimulator({ seed: 11, clusters: [CLUSTER], checkDurationMs: 60_000 });
  clock = new SkippingClock();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await sim.close();
});

describe('AckClient against the simulator: the three operations', () => {
  it('runs a check, lists it as running, then gets it finished with check_items', async () => {
    const ack = client();
    const run = await ack.runClusterCheck(CLUSTER, {
      type: 'ClusterUpgrade',
      options: { next_version: '1.32.1-aliyun.1' },
    });
    expect(run.checkId).toMatch(new RegExp(`^\\d{19}-${CLUSTER}-clustercheck-[a-z]{5}$`));
    expect(run.requestId).toMatch(/^[0-9A-F]{8}-/);
    const listed = await ack.listClusterChecks(CLUSTER);
    expect(listed).toEqual([
      expect.objectContaining({ checkId: run.checkId, status: 'Running', type: 'ClusterUpgrade' }),
    ]);
    sim.finishCheck(CLUSTER, run.checkId, 'Failed');
    const detail = await ack.getClusterCheck(CLUSTER, run.checkId);
    expect(detail.status).toBe('Failed');
    expect(detail.finishedAt).toMatch(/\.\d{9}Z$/);
    expect(JSON.stringify(detail.checkItems)).toContain('"error"');
    expect(sim.counters).toMatchObject({
      RunClusterCheck: 1,
      ListClusterChecks: 1,
      GetClusterCheck: 1,
      rejected: 0,
    });
  });

  it('filters the list by type and target', async () => {
    const ack = client();
    sim.seedCheck({ clusterId: CLUSTER, type: 'MasterUpgrade' });
    const np = sim.seedCheck({ clusterId: CLUSTER, type: 'NodePoolUpgrade', target: 'np-1 a*~' });
    expect((await ack.listClusterChecks(CLUSTER, { type: 'MasterUpgrade' })).map((c) => c.type)).toEqual([
      'MasterUpgrade',
    ]);
    expect((await ack.listClusterChecks(CLUSTER, { target: 'np-1 a*~' })).map((c) => c.checkId)).toEqual([
      np,
    ]);
  });

  it('reports an unknown cluster as ACK_CLUSTER_NOT_FOUND without retrying', async () => {
    const err = await caught(client().listClusterChecks(OTHER));
    expect(err).toMatchObject({
      code: 'ACK_CLUSTER_NOT_FOUND',
      status: 404,
      ackCode: 'ErrorClusterNotFound',
      retryable: false,
    });
    expect(err.requestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(sim.counters.ListClusterChecks).toBe(1);
  });

  it('reports a removed check as ACK_CHECK_NOT_FOUND', async () => {
    const id = sim.seedCheck({ clusterId: CLUSTER }) as CheckId;
    sim.removeCheck(CLUSTER, id);
    expect((await caught(client().getClusterCheck(CLUSTER, id))).code).toBe('ACK_CHECK_NOT_FOUND');
    expect(sim.counters.GetClusterCheck).toBe(1);
  });

  it.each([
    ['an unknown type', { type: 'Everything' }],
    ['NodePoolUpgrade without a target', { type: 'NodePoolUpgrade' }],
  ])('refuses RunClusterCheck with %s as ACK_BAD_REQUEST, once', async (_what, input) => {
    const err = await caught(client().runClusterCheck(CLUSTER, input));
    expect(err).toMatchObject({ code: 'ACK_BAD_REQUEST', status: 400, ackCode: 'InvalidParameter' });
    expect(sim.counters.RunClusterCheck).toBe(1);
    expect(sim.checkIds(CLUSTER)).toEqual([]);
  });

  it('keeps odd but valid shapes: unknown final status, check_items of any kind, missing items', async () => {
    const ack = client();
    const weird = sim.seedCheck({
      clusterId: CLUSTER,
      durationMs: 0,
      outcome: 'RolledBackByOperator',
      checkItems: 'see console',
    }) as CheckId;
    const nul = sim.seedCheck({ clusterId: CLUSTER, durationMs: 0, checkItems: null }) as CheckId;
    const list = await ack.listClusterChecks(CLUSTER);
    expect(list.find((c) => c.checkId === weird)?.status).toBe('RolledBackByOperator');
    expect((await ack.getClusterCheck(CLUSTER, weird)).checkItems).toBe('see console');
    expect((await ack.getClusterCheck(CLUSTER, nul)).checkItems).toBeNull();
  });
});

describe('AckClient against the simulator: faults', () => {
  it.each<[FaultKind, AckErrorCode]>([
    ['5xx', 'ACK_SERVER_ERROR'],
    ['throttle', 'ACK_THROTTLED'],
    ['html502', 'ACK_SERVER_ERROR'],
    ['xml503', 'ACK_SERVER_ERROR'],
    ['truncated', 'ACK_BAD_RESPONSE'],
    ['reset', 'ACK_NETWORK'],
  ])('surfaces %s as %s when retries are off, and succeeds after it with retries', async (kind, code) => {
    const id = sim.seedCheck({ clusterId: CLUSTER }) as CheckId;
    sim.injectFault({ kinds: [kind], next: 1, retryAfterMs: 5 });
    const once = client({ retry: { maxAttempts: 1, baseMs: 1, capMs: 1 } });
    const err = await caught(once.getClusterCheck(CLUSTER, id));
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(true);
    if (kind !== 'reset') expect(err.snippet).not.toBe('');
    if (kind === 'xml503') expect(err.ackCode).toBe('ServiceUnavailable');

    sim.injectFault({ kinds: [kind], next: 2, retryAfterMs: 5 });
    sim.resetCounters();
    const detail = await client().getClusterCheck(CLUSTER, id);
    expect(detail.checkId).toBe(id);
    expect(sim.counters.GetClusterCheck).toBe(3);
    expect(clock.sleeps).toHaveLength(2);
  });

  it('keeps an unknown status injected by the gateway verbatim', async () => {
    const id = sim.seedCheck({ clusterId: CLUSTER }) as CheckId;
    sim.injectFault({ kinds: ['unknownStatus'], next: 2 });
    const ack = client();
    const detail = await ack.getClusterCheck(CLUSTER, id);
    const [summary] = await ack.listClusterChecks(CLUSTER);
    for (const status of [detail.status, summary?.status]) {
      expect(['Pending', 'Initializing', 'Checking', 'WaitingForApproval', 'PAUSED']).toContain(status);
    }
  });

  it('honours x-acs-retry-after as a floor for the backoff delay', async () => {
    sim.injectFault({ kinds: ['throttle'], next: 2, retryAfterMs: 3_000 });
    await client().listClusterChecks(CLUSTER);
    expect(clock.sleeps).toEqual([3_000, 3_000]);
  });

  it('uses exponential backoff with full jitter when there is no hint', async () => {
    sim.injectFault({ kinds: ['5xx'], next: 3 });
    await client({
      retry: { maxAttempts: 6, baseMs: 100, capMs: 300 },
      random: () => 0.999,
    }).listClusterChecks(CLUSTER);
    expect(clock.sleeps).toEqual([99, 199, 299]);
  });

  it('gives up after maxAttempts with the last error, not a deadline error', async () => {
    sim.injectFault({ kinds: ['5xx'] });
    const err = await caught(
      client({ retry: { maxAttempts: 3, baseMs: 10, capMs: 10 } }).listClusterChecks(CLUSTER),
    );
    expect(err.code).toBe('ACK_SERVER_ERROR');
    expect(sim.counters.ListClusterChecks).toBe(3);
  });

  it('does not retry past the deadline and reports ACK_DEADLINE with the last error as cause', async () => {
    sim.injectFault({ kinds: ['5xx'] });
    const deadline = clock.now() + 2_000;
    const err = await caught(
      client({ retry: { maxAttempts: 50, baseMs: 400, capMs: 400 } }).listClusterChecks(CLUSTER, undefined, {
        deadline,
      }),
    );
    expect(err.code).toBe('ACK_DEADLINE');
    expect(err.retryable).toBe(false);
    expect((err.cause as AckError).code).toBe('ACK_SERVER_ERROR');
    expect(clock.now()).toBeLessThan(deadline);
    // 200 ms per sleep (0.5 × 400): requests at 0, 200, …, 1800 ms; the next sleep would cross the deadline.
    expect(sim.counters.ListClusterChecks).toBe(10);
  });

  it('does not wait out a retry-after hint that ends after the deadline', async () => {
    sim.injectFault({ kinds: ['throttle'], retryAfterMs: 60_000 });
    const err = await caught(
      client().listClusterChecks(CLUSTER, undefined, { deadline: clock.now() + 5_000 }),
    );
    expect(err.code).toBe('ACK_DEADLINE');
    expect(clock.sleeps).toEqual([]);
    expect(sim.counters.ListClusterChecks).toBe(1);
  });

  it('makes no request when the deadline has already passed', async () => {
    const err = await caught(client().listClusterChecks(CLUSTER, undefined, { deadline: clock.now() - 1 }));
    expect(err.code).toBe('ACK_DEADLINE');
    expect(sim.counters.total).toBe(0);
  });

  it('times out a slow answer as ACK_TIMEOUT, and as ACK_DEADLINE when the deadline cut it short', async () => {
    sim.injectFault({ kinds: ['latency'], latencyMs: 2_000 });
    const ack = client({ timeoutMs: 100, retry: { maxAttempts: 1, baseMs: 1, capMs: 1 } });
    expect((await caught(ack.listClusterChecks(CLUSTER))).code).toBe('ACK_TIMEOUT');
    const slow = client({ timeoutMs: 10_000 });
    const started = Date.now();
    const err = await caught(slow.listClusterChecks(CLUSTER, undefined, { deadline: clock.now() + 150 }));
    expect(err.code).toBe('ACK_DEADLINE');
    expect((err.cause as AckError).code).toBe('ACK_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('rejects with the caller abort reason when the signal fires', async () => {
    sim.injectFault({ kinds: ['latency'], latencyMs: 2_000 });
    const controller = new AbortController();
    const reason = new Error('shutting down');
    setTimeout(() => {
      controller.abort(reason);
    }, 50);
    await expect(client().listClusterChecks(CLUSTER, undefined, { signal: controller.signal })).rejects.toBe(
      reason,
    );
  });

  it('maps a refused connection to ACK_NETWORK after retrying', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
    const err = await caught(
      client({
        endpoint: `http://127.0.0.1:${port}`,
        retry: { maxAttempts: 2, baseMs: 1, capMs: 1 },
      }).listClusterChecks(CLUSTER),
    );
    expect(err.code).toBe('ACK_NETWORK');
    expect(clock.sleeps).toHaveLength(1);
  });

  it('faults only the cluster a fault is scoped to', async () => {
    sim.addCluster(OTHER);
    sim.injectFault({ kinds: ['5xx'], clusterId: OTHER });
    const once = client({ retry: { maxAttempts: 1, baseMs: 1, capMs: 1 } });
    await expect(once.listClusterChecks(CLUSTER)).resolves.toEqual([]);
    expect((await caught(once.listClusterChecks(OTHER))).code).toBe('ACK_SERVER_ERROR');
  });

  it('refuses an oversized response as ACK_BAD_RESPONSE', async () => {
    for (let i = 0; i < 50; i++) sim.seedCheck({ clusterId: CLUSTER });
    const err = await caught(
      client({ maxResponseBytes: 1_000, retry: { maxAttempts: 1, baseMs: 1, capMs: 1 } }).listClusterChecks(
        CLUSTER,
      ),
    );
    expect(err.code).toBe('ACK_BAD_RESPONSE');
  });
});

describe('AckClient: RunClusterCheck is not repeated when ACK may have acted', () => {
  it.each<FaultKind>(['5xx', 'reset', 'truncated'])(
    'does not retry after %s (no duplicate check)',
    async (kind) => {
      sim.injectFault({ kinds: [kind], next: 1, action: 'RunClusterCheck' });
      const err = await caught(client().runClusterCheck(CLUSTER, { type: 'ClusterUpgrade' }));
      expect(err.retryable).toBe(true);
      expect(sim.counters.RunClusterCheck).toBe(1);
    },
  );

  it('retries a throttled RunClusterCheck and creates exactly one check', async () => {
    sim.injectFault({ kinds: ['throttle'], next: 2, action: 'RunClusterCheck', retryAfterMs: 10 });
    const run = await client().runClusterCheck(CLUSTER, { type: 'ClusterUpgrade' });
    expect(sim.checkIds(CLUSTER)).toEqual([run.checkId]);
    expect(sim.counters.RunClusterCheck).toBe(3);
  });

  it('retries after 5xx when the caller accepts a possible duplicate', async () => {
    sim.injectFault({ kinds: ['5xx'], next: 1, action: 'RunClusterCheck' });
    await client({ retryRunOnAmbiguousFailure: true }).runClusterCheck(CLUSTER, {
      type: 'MasterUpgrade',
      options: { next_version: '1.33.1-aliyun.1' },
    });
    expect(sim.counters.RunClusterCheck).toBe(2);
  });
});

describe('AckClient: signing and credentials', () => {
  it('is answered 403 by the simulator when the secret is wrong, and does not retry', async () => {
    const err = await caught(
      client({
        credentials: { accessKeyId: sim.accessKeyId, accessKeySecret: 'not-the-secret' },
      }).listClusterChecks(CLUSTER),
    );
    expect(err).toMatchObject({ code: 'ACK_FORBIDDEN', status: 403, ackCode: 'SignatureDoesNotMatch' });
    expect(sim.counters).toMatchObject({ ListClusterChecks: 1, rejected: 1 });
  });

  it('reads the gateway 404 for an unknown AccessKey as ACK_FORBIDDEN, not a missing check', async () => {
    const id = sim.seedCheck({ clusterId: CLUSTER }) as CheckId;
    const err = await caught(
      client({
        credentials: { accessKeyId: 'LTAIunknown', accessKeySecret: sim.accessKeySecret },
      }).getClusterCheck(CLUSTER, id),
    );
    expect(err).toMatchObject({ code: 'ACK_FORBIDDEN', status: 404 });
  });

  it('never puts the secret in an error', async () => {
    const err = await caught(
      client({
        credentials: { accessKeyId: sim.accessKeyId, accessKeySecret: 'wrong-secret-123' },
      }).listClusterChecks(CLUSTER),
    );
    const text = JSON.stringify(err.toJSON()) + err.message + String(err.snippet);
    expect(text).not.toContain('wrong-secret-123');
    expect(text).not.toContain(sim.accessKeySecret);
  });

  it.each([
    ['20 minutes ahead', 20 * 60_000, 'ACK_BAD_REQUEST'],
    ['20 minutes behind', -20 * 60_000, 'ACK_BAD_REQUEST'],
    ['10 minutes ahead', 10 * 60_000, undefined],
  ])('has a request with x-acs-date %s rejected=%s', async (_what, skew, code) => {
    clock.offset = skew;
    const call = client().listClusterChecks(CLUSTER);
    if (code === undefined) {
      await expect(call).resolves.toEqual([]);
    } else {
      expect(await caught(call)).toMatchObject({ code, ackCode: 'InvalidTimeStamp.Expired' });
    }
  });

  it('asks a credentials provider before every attempt (rotating STS keys)', async () => {
    let calls = 0;
    sim.injectFault({ kinds: ['5xx'], next: 1 });
    await client({
      credentials: () => {
        calls += 1;
        return Promise.resolve({ accessKeyId: sim.accessKeyId, accessKeySecret: sim.accessKeySecret });
      },
    }).listClusterChecks(CLUSTER);
    expect(calls).toBe(2);
  });

  it('reports every attempt to onRequest', async () => {
    const seen: unknown[] = [];
    sim.injectFault({ kinds: ['html502'], next: 1 });
    await client({ onRequest: (info) => seen.push(info) }).listClusterChecks(CLUSTER, undefined, {
      region: 'cn-shanghai',
    });
    expect(seen).toEqual([
      { action: 'ListClusterChecks', region: 'cn-shanghai', attempt: 1 },
      { action: 'ListClusterChecks', region: 'cn-shanghai', attempt: 2 },
    ]);
  });
});

describe('AckClient: STS', () => {
  let sts: Simulator;
  beforeEach(async () => {
    sts = await startSimulator({ seed: 5, clusters: [CLUSTER], securityToken: 'CAIS-simulated-sts-token' });
  });
  afterEach(async () => {
    await sts.close();
  });

  const stsClient = (token: string | undefined): AckClient =>
    client({
      endpoint: sts.endpoint,
      credentials: {
        accessKeyId: sts.accessKeyId,
        accessKeySecret: sts.accessKeySecret,
        securityToken: token,
      },
    });

  it('signs and sends the security token', async () => {
    await expect(stsClient('CAIS-simulated-sts-token').listClusterChecks(CLUSTER)).resolves.toEqual([]);
  });

  it.each([
    ['missing', undefined],
    ['wrong', 'CAIS-expired-token'],
  ])('is refused with ACK_FORBIDDEN when the token is %s', async (_what, token) => {
    const err = await caught(stsClient(token).listClusterChecks(CLUSTER));
    expect(err.code).toBe('ACK_FORBIDDEN');
    expect(err.ackCode).toMatch(/^InvalidSecurityToken\./);
    expect(sts.counters.rejected).toBe(1);
  });
});

describe('AckClient lifecycle', () => {
  it('refuses calls after close', async () => {
    const ack = client();
    await ack.close();
    await ack.close();
    expect((await caught(ack.listClusterChecks(CLUSTER))).code).toBe('ACK_NETWORK');
  });

  it('leaves a shared dispatcher open when it closes', async () => {
    const shared = new Agent();
    try {
      const first = client({ dispatcher: shared });
      await first.listClusterChecks(CLUSTER);
      await first.close();
      await expect(client({ dispatcher: shared }).listClusterChecks(CLUSTER)).resolves.toEqual([]);
      expect(shared.closed).toBe(false);
    } finally {
      await shared.close();
    }
  });

  it('fails at construction on a bad region, naming the setting', () => {
    expect(
      () => new AckClient({ credentials: { accessKeyId: 'a', accessKeySecret: 'b' }, region: 'Hangzhou!' }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error);
  });
});
