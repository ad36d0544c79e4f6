import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import FCClient from '@alicloud/fc2';
import { startFcFake, fcStringToSign, type FcFake } from '../../../fakes/fc/index';
import { start } from '../../../fakes/fc/standalone';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends one raw request: the fake must judge exactly what is on the wire. */
function send(endpoint: string, path: string, headers: Record<string, string>, body: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${endpoint}${path}`, { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Headers signed the way the fc2 client signs them, using the SDK's own static signer — the test may
 * use it, the fake never does — so that tampering with one part at a time shows the fake checks it.
 */
function signed(
  fake: FcFake,
  path: string,
  body: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const md5 = Buffer.from(createHash('md5').update(body).digest('hex')).toString('base64');
  const headers: Record<string, string> = {
    date: new Date().toUTCString(),
    'content-type': 'application/octet-stream',
    'content-md5': md5,
    'x-fc-account-id': fake.accountId,
    'x-fc-invocation-type': 'Async',
    ...extra,
  };
  const resource = path.split('?')[0]!;
  headers.authorization = FCClient.getSignature(
    fake.accessKeyId,
    fake.accessKeySecret,
    'POST',
    resource,
    headers,
    null,
  );
  return headers;
}

const FC3_PATH = '/2023-03-30/functions/notifier/invocations';

describe('FC fake: request verification', () => {
  let fake: FcFake;
  beforeEach(async () => {
    fake = await startFcFake();
  });
  afterEach(async () => {
    await fake.close();
  });

  it('accepts a correctly signed async invocation with 202, a request id and the task id echoed', async () => {
    const reply = await send(
      fake.endpoint,
      FC3_PATH,
      signed(fake, FC3_PATH, '{}', { 'x-fc-async-task-id': 't_1' }),
      '{}',
    );
    expect(reply.status).toBe(202);
    expect(reply.headers['x-fc-request-id']).toMatch(/^fake-/);
    expect(reply.headers['x-fc-async-task-id']).toBe('t_1');
    expect(fake.invocations.map((i) => [i.functionName, i.taskId, i.body])).toEqual([
      ['notifier', 't_1', '{}'],
    ]);
  });

  it('refuses a signed x-fc header changed after signing (SignatureNotMatch, FC 3.0 error body)', async () => {
    const headers = signed(fake, FC3_PATH, '{}', { 'x-fc-async-task-id': 't_1' });
    headers['x-fc-async-task-id'] = 't_2';
    const reply = await send(fake.endpoint, FC3_PATH, headers, '{}');
    expect(reply.status).toBe(403);
    expect(reply.headers['content-type']).toBe('application/json');
    const body = JSON.parse(reply.body) as Record<string, unknown>;
    expect(body).toMatchObject({ Code: 'SignatureNotMatch' });
    expect(body.RequestId).toBe(reply.headers['x-fc-request-id']);
    expect(fake.invocations).toHaveLength(0);
  });

  it('refuses a signature over a different path', async () => {
    const headers = signed(fake, '/2023-03-30/functions/other/invocations', '{}');
    const reply = await send(fake.endpoint, FC3_PATH, headers, '{}');
    expect(reply.status).toBe(403);
    expect(fake.rejections[0]!.code).toBe('SignatureNotMatch');
  });

  it('refuses a body that does not match Content-MD5', async () => {
    const reply = await send(fake.endpoint, FC3_PATH, signed(fake, FC3_PATH, '{}'), '{"x":1}');
    expect(reply.status).toBe(400);
    expect(fake.rejections[0]!.code).toBe('InvalidArgument');
  });

  it('refuses a request without Authorization, and one with an unknown AccessKey id', async () => {
    const { authorization: _a, ...unsigned } = signed(fake, FC3_PATH, '{}');
    expect((await send(fake.endpoint, FC3_PATH, unsigned, '{}')).status).toBe(403);
    const other = signed(fake, FC3_PATH, '{}');
    other.authorization = other.authorization!.replace(fake.accessKeyId, 'someone-else');
    expect((await send(fake.endpoint, FC3_PATH, other, '{}')).status).toBe(403);
    expect(fake.rejections.map((r) => r.code)).toEqual(['SignatureNotMatch', 'InvalidAccessKeyID']);
  });

  it('refuses a Date more than 15 minutes away from its clock', async () => {
    const headers = signed(fake, FC3_PATH, '{}', {});
    const skewed = signed(fake, FC3_PATH, '{}', { date: new Date(Date.now() - 16 * 60_000).toUTCString() });
    expect((await send(fake.endpoint, FC3_PATH, headers, '{}')).status).toBe(202);
    expect((await send(fake.endpoint, FC3_PATH, skewed, '{}')).status).toBe(403);
    expect(fake.rejections.map((r) => r.code)).toEqual(['RequestTimeTooSkewed']);
  });

  it('refuses an invalid task id with 400', async () => {
    const headers = signed(fake, FC3_PATH, '{}', { 'x-fc-async-task-id': '1-starts-with-a-digit' });
    expect((await send(fake.endpoint, FC3_PATH, headers, '{}')).status).toBe(400);
  });

  it('answers 409 to a repeated task id of the same function, and accepts it for another function', async () => {
    const path2 = '/2023-03-30/functions/poller/invocations';
    const task = { 'x-fc-async-task-id': 'same' };
    expect((await send(fake.endpoint, FC3_PATH, signed(fake, FC3_PATH, 'a', task), 'a')).status).toBe(202);
    const again = await send(fake.endpoint, FC3_PATH, signed(fake, FC3_PATH, 'b', task), 'b');
    expect(again.status).toBe(409);
    expect(JSON.parse(again.body)).toMatchObject({ Code: 'AsyncTaskAlreadyExists' });
    expect((await send(fake.endpoint, path2, signed(fake, path2, 'c', task), 'c')).status).toBe(202);
  });

  it('answers 404 PathNotSupported for other paths', async () => {
    const path = '/2023-03-30/functions/notifier';
    expect((await send(fake.endpoint, path, signed(fake, path, '{}'), '{}')).status).toBe(404);
    expect(fake.rejections[0]!.code).toBe('PathNotSupported');
  });

  it('computes the documented string to sign, query signed only for /proxy/ paths', () => {
    const headers = {
      date: 'Mon, 01 Jan 2024 00:00:00 GMT',
      'content-type': 'application/json',
      'content-md5': 'bWQ1',
      'x-fc-b': '2',
      'x-fc-a': '1',
      host: 'ignored',
    };
    expect(fcStringToSign('POST', '/2023-03-30/functions/f/invocations', headers, null)).toBe(
      'POST\nbWQ1\napplication/json\nMon, 01 Jan 2024 00:00:00 GMT\nx-fc-a:1\nx-fc-b:2\n/2023-03-30/functions/f/invocations',
    );
    expect(
      fcStringToSign('GET', '/2016-08-15/proxy/s/f/', { date: 'D' }, new URLSearchParams('b=2&a=1')),
    ).toBe('GET\n\n\nD\n/2016-08-15/proxy/s/f/\na=1\nb=2');
  });
});

describe('FC fake: driven by the real fc2 client', () => {
  let fake: FcFake;
  beforeEach(async () => {
    fake = await startFcFake({ accountId: '4242' });
  });
  afterEach(async () => {
    await fake.close();
  });

  function client(): FCClient {
    return new FCClient('4242', {
      accessKeyID: fake.accessKeyId,
      accessKeySecret: fake.accessKeySecret,
      region: 'cn-hangzhou',
      endpoint: fake.endpoint,
    });
  }

  it('serves the FC 2.0 invokeFunction path with X-Fc-Stateful-Async-Invocation-Id, and 409 on repeat', async () => {
    const headers = { 'X-Fc-Invocation-Type': 'Async', 'X-Fc-Stateful-Async-Invocation-Id': 'task_9' };
    const res = await client().invokeFunction('svc', 'fn', 'payload', headers, 'prod');
    expect(res.data).toBe('');
    const inv = fake.invocations[0]!;
    expect([inv.api, inv.service, inv.functionName, inv.qualifier, inv.taskId]).toEqual([
      '2016-08-15',
      'svc',
      'fn',
      'prod',
      'task_9',
    ]);
    const err: unknown = await client()
      .invokeFunction('svc', 'fn', 'payload', headers, 'prod')
      .catch((e: unknown) => e);
    // FC 2.0 error body: the fc2 client surfaces its ErrorCode.
    expect((err as { code?: string }).code).toBe('StatefulAsyncInvocationAlreadyExists');
  });

  it('runs a sync invocation through the handlers before replying 200', async () => {
    const seen: string[] = [];
    fake.onInvoke(async (inv) => {
      await Promise.resolve();
      seen.push(inv.body);
    });
    const res = await client().invokeFunction('svc', 'fn', 'hello');
    expect(res.data).toBe('');
    expect(seen).toEqual(['hello']);
  });
  it('answers a failing sync invocation with 200 and x-fc-error-type, as FC does', async () => {
    fake.onInvoke(() => {
      throw new Error('handler failed');
    });
    const res = await client().invokeFunction('svc', 'fn', 'hello');
    expect(res.headers['x-fc-error-type']).toBe('UnhandledInvocationError');
    expect(res.data).toEqual({ errorMessage: 'handler failed', errorType: 'Error' });
  });
});

describe('FC fake: faults', () => {
  let fake: FcFake;
  beforeEach(async () => {
    fake = await startFcFake();
  });
  afterEach(async () => {
    await fake.close();
  });

  const ok = (): Promise<Reply> => send(fake.endpoint, FC3_PATH, signed(fake, FC3_PATH, '{}'), '{}');

  it('applies a `next` fault to that many requests only, then serves normally', async () => {
    fake.injectFault({ kind: '5xx', next: 2 });
    expect([(await ok()).status, (await ok()).status, (await ok()).status]).toEqual([503, 503, 202]);
  });

  it('applies an open-ended fault until removed, and a rate-0 fault never', async () => {
    fake.injectFault({ kind: '5xx', rate: 0 });
    expect((await ok()).status).toBe(202);
    const remove = fake.injectFault({ kind: 'throttle' });
    expect((await ok()).status).toBe(429);
    remove();
    expect((await ok()).status).toBe(202);
    fake.injectFault({ kind: 'throttle' });
    fake.clearFaults();
    expect((await ok()).status).toBe(202);
  });

  it('resets the connection without a reply for a reset fault', async () => {
    fake.injectFault({ kind: 'reset', next: 1 });
    const err: unknown = await ok().catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(fake.invocations).toHaveLength(0);
  });

  it('records the invocation and then drops the connection for accept-then-reset', async () => {
    fake.injectFault({ kind: 'accept-then-reset', next: 1 });
    const err: unknown = await ok().catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(fake.invocations).toHaveLength(1);
  });
});

describe('FC fake: standalone (npm run fake -- fc)', () => {
  it('starts on the given port with the given credentials and prints how to reach it', async () => {
    const args = ['--account-id', '777', '--access-key-id', 'ak-x', '--access-key-secret', 'sk-x'];
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fakes/main.ts', 'fc', '--port', '0', ...args],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const info = JSON.parse(line) as Record<string, unknown>;
      expect(info).toMatchObject({ accountId: '777', accessKeyId: 'ak-x', accessKeySecret: 'sk-x' });
      expect(info.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // Reachable, and strict: an unsigned request is refused.
      const reply = await send(String(info.endpoint), FC3_PATH, {}, '');
      expect(reply.status).toBe(400);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('rejects a malformed --port', async () => {
    await expect(start('fc', ['--port', 'abc'])).rejects.toThrow('--port');
  });
});
