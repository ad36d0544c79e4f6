/**
 * The API FC handler against the ACK simulator and the Tablestore fake, configured only through
 * environment variables and the invocation context, driven with FC 3.0 HTTP trigger events (a Buffer
 * of JSON: base64 bodies, comma-joined headers, rawPath, queryParameters) — first from source, then as
 * the esbuild bundle that is deployed.
 */
import { build } from 'esbuild';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createApiFunction,
  type ApiFunction,
  type FcContext,
  type FcHttpResponse,
} from '../../../functions/api/index';
import { startSimulator, type Simulator } from '../../../lib/sim/index';
import { startTablestoreFake, type TablestoreFake } from '../../fakes/tablestore/index';

const CREDS = {
  accessKeyId: 'STS.NTestApiRoleKey',
  accessKeySecret: 'api-role-secret-0123456789',
  securityToken: 'api-role-sts-token-abcdefghij',
};
const TOKEN = 'fc-api-token-0123456789';
const C1 = 'c0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1';
const C2 = 'c0bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2';

let sim: Simulator;
let ots: TablestoreFake;
let env: Record<string, string>;

beforeAll(async () => {
  sim = await startSimulator({ seed: 5, ...CREDS, clusters: [C1, C2], checkDurationMs: 3_600_000 });
  ots = await startTablestoreFake({
    accessKeyId: CREDS.accessKeyId,
    accessKeySecret: CREDS.accessKeySecret,
    stsToken: CREDS.securityToken,
  });
  env = {
    CHECKWATCH_STORE: 'tablestore',
    CHECKWATCH_OTS_ENDPOINT: ots.endpoint,
    CHECKWATCH_OTS_INSTANCE: ots.instanceName,
    CHECKWATCH_OTS_CREATE_TABLES: 'true',
    CHECKWATCH_ACK_ENDPOINT: sim.endpoint,
    CHECKWATCH_CONFIG: JSON.stringify({
      channels: {
        hook: { type: 'webhook', url: 'https://hooks.example.com/x', secret: { env: 'HOOK_SECRET' } },
      },
      routes: { ops: { channels: ['hook'] } },
      defaults: { routes: ['ops'] },
    }),
    CHECKWATCH_API_TOKEN_ENVS: 'API_TOKEN',
    API_TOKEN: TOKEN,
    HOOK_SECRET: 'hook-secret-0123456',
  };
});

afterAll(async () => {
  await sim.close();
  await ots.close();
});

interface EventInit {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  /** Default true: FC base64-encodes bodies it does not know to be text. */
  base64?: boolean;
  token?: string | null;
}

/** An FC 3.0 HTTP trigger event, as the runtime hands it to the function: a Buffer of JSON. */
function event(init: EventInit): Buffer {
  const headers: Record<string, string> = {
    Accept: 'application/json, text/plain, */*',
    'X-Forwarded-For': '203.0.113.7, 10.0.0.1',
    'User-Agent': 'checkwatch-test',
    ...init.headers,
  };
  const token = init.token === undefined ? TOKEN : init.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  let body = '';
  if (init.body !== undefined) {
    headers['Content-Type'] ??= 'application/json';
    const text = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    body = init.base64 === false ? text : Buffer.from(text, 'utf8').toString('base64');
  }
  return Buffer.from(
    JSON.stringify({
      version: 'v1',
      rawPath: init.path,
      body,
      isBase64Encoded: init.body !== undefined && init.base64 !== false,
      headers,
      queryParameters: init.query ?? {},
      requestContext: {
        accountId: '1234567890123456',
        domainName: 'checkwatch-api.cn-hangzhou.fcapp.run',
        http: {
          method: init.method,
          path: init.path,
          protocol: 'HTTP/1.1',
          sourceIp: '203.0.113.7',
          userAgent: 'test',
        },
        requestId: 'req-http',
        time: new Date().toISOString(),
        timeEpoch: String(Date.now()),
      },
    }),
  );
}

let seq = 0;
function context(credentials: FcContext['credentials'] = { ...CREDS }): FcContext {
  seq += 1;
  return {
    requestId: `req-${seq}`,
    credentials,
    function: { name: 'checkwatch-api' },
    region: 'cn-hangzhou',
  };
}

// Parsed from the function's answer: its shape is what the assertions check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function json(res: FcHttpResponse): any {
  expect(res.isBase64Encoded).toBe(false);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  return JSON.parse(res.body);
}

function rowsSnapshot(): string {
  return JSON.stringify(
    ots.tableNames().map((t) => [t, ots.rows(t)]),
    (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
  );
}

describe('API function (from source)', () => {
  let fn: ApiFunction;
  const logs: string[] = [];
  beforeAll(() => {
    fn = createApiFunction({ env, write: (l) => logs.push(l) });
  });
  afterAll(async () => {
    await fn.close();
  });

  it('answers healthz without a token once the store answers', async () => {
    const res = await fn.handle(event({ method: 'GET', path: '/v1/healthz', token: null }), context());
    expect(res.statusCode).toBe(200);
    expect(json(res)).toEqual({ status: 'ok', store: 'reachable', api: 'token' });
  });

  it('watches a check from a base64 body with comma-joined headers, and reads it back', async () => {
    const checkId = sim.seedCheck({ clusterId: C1, type: 'ClusterUpgrade' });
    const res = await fn.handle(
      event({ method: 'POST', path: '/v1/watches/checks', body: { cluster_id: C1, check_id: checkId } }),
      context(),
    );
    expect(res.statusCode).toBe(201);
    expect(json(res).check).toMatchObject({
      check_id: checkId,
      source: 'watch',
      type: 'ClusterUpgrade',
      routes: ['ops'],
    });

    const shown = await fn.handle(event({ method: 'GET', path: `/v1/checks/${C1}/${checkId}` }), context());
    expect(shown.statusCode).toBe(200);
    expect(json(shown).check).toMatchObject({ check_id: checkId, state: 'watching', deliveries: [] });

    const listed = await fn.handle(
      event({ method: 'GET', path: '/v1/checks', query: { cluster_id: C1, status: 'running' } }),
      context(),
    );
    expect(json(listed).checks.map((c: { check_id: string }) => c.check_id)).toEqual([checkId]);

    const del = await fn.handle(
      event({ method: 'DELETE', path: `/v1/watches/checks/${C1}/${checkId}` }),
      context(),
    );
    expect(del.statusCode).toBe(200);
    const again = await fn.handle(
      event({ method: 'DELETE', path: `/v1/watches/checks/${C1}/${checkId}` }),
      context(),
    );
    expect(again.statusCode).toBe(404);
  });

  it('accepts a plain-text body when the event says it is not base64', async () => {
    const checkId = sim.seedCheck({ clusterId: C1 });
    const res = await fn.handle(
      event({
        method: 'POST',
        path: '/v1/watches/checks',
        body: { cluster_id: C1, check_id: checkId },
        base64: false,
      }),
      context(),
    );
    expect(res.statusCode).toBe(201);
  });

  it('runs a check and watches it with source "run"', async () => {
    const res = await fn.handle(
      event({
        method: 'POST',
        path: `/v1/clusters/${C2}/checks`,
        body: { type: 'MasterUpgrade', options: { next_version: '1.32.1-aliyun.1' } },
      }),
      context(),
    );
    expect(res.statusCode).toBe(201);
    const body = json(res);
    expect(sim.checkIds(C2)).toContain(body.check_id);
    expect(body.check).toMatchObject({ source: 'run', type: 'MasterUpgrade', state: 'watching' });
    const watches = json(await fn.handle(event({ method: 'GET', path: '/v1/watches' }), context()));
    expect(watches.checks).toContainEqual(
      expect.objectContaining({ check_id: body.check_id, source: 'run' }),
    );
  });

  it('watches a cluster with a baseline of its finished checks', async () => {
    const now = Date.now();
    const old = sim.seedCheck({ clusterId: C2, createdAt: now - 7_200_000, durationMs: 1_000 });
    const res = await fn.handle(
      event({ method: 'POST', path: '/v1/watches/clusters', body: { cluster_id: C2 } }),
      context(),
    );
    expect(res.statusCode).toBe(201);
    const body = json(res);
    expect(body.baseline).toBe(1);
    const watches = json(await fn.handle(event({ method: 'GET', path: '/v1/watches' }), context()));
    expect(watches.clusters).toContainEqual(expect.objectContaining({ cluster_id: C2, baseline_size: 1 }));
    expect(watches.checks.map((c: { check_id: string }) => c.check_id)).not.toContain(old);
    const del = await fn.handle(event({ method: 'DELETE', path: `/v1/watches/clusters/${C2}` }), context());
    expect(del.statusCode).toBe(200);
  });

  it('answers 401 without a token and 403 with a wrong one', async () => {
    const none = await fn.handle(event({ method: 'GET', path: '/v1/watches', token: null }), context());
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="checkwatch"');
    const wrong = await fn.handle(
      event({ method: 'GET', path: '/v1/watches', token: `${TOKEN}0` }),
      context(),
    );
    expect(wrong.statusCode).toBe(403);
    expect(json(wrong).error.code).toBe('FORBIDDEN');
  });

  it('answers 404 for unknown paths and 405 with Allow for wrong methods', async () => {
    const nf = await fn.handle(event({ method: 'GET', path: '/v2/watches' }), context());
    expect(nf.statusCode).toBe(404);
    const na = await fn.handle(event({ method: 'PATCH', path: '/v1/watches' }), context());
    expect(na.statusCode).toBe(405);
    expect(na.headers.allow).toBe('GET');
  });

  it('answers 400 INVALID_EVENT for something that is not an HTTP trigger event', async () => {
    for (const bad of [
      Buffer.from('not json'),
      Buffer.from('{"triggerTime":"x","triggerName":"t"}'),
      Buffer.from('[]'),
    ]) {
      const res = await fn.handle(bad, context());
      expect(res.statusCode).toBe(400);
      expect(json(res).error.code).toBe('INVALID_EVENT');
    }
  });

  it('answers 400 INVALID_EVENT for a body flagged base64 that is not', async () => {
    const e = JSON.parse(
      event({ method: 'POST', path: '/v1/watches/clusters', body: { cluster_id: C1 } }).toString(),
    );
    e.body = '{"cluster_id": "not base64!"}';
    const res = await fn.handle(Buffer.from(JSON.stringify(e)), context());
    expect(res.statusCode).toBe(400);
    expect(json(res).error.code).toBe('INVALID_EVENT');
  });

  it('answers 503 CREDENTIALS_MISSING when the function has no role', async () => {
    const res = await fn.handle(event({ method: 'GET', path: '/v1/watches' }), context({}));
    expect(res.statusCode).toBe(503);
    expect(json(res).error.code).toBe('CREDENTIALS_MISSING');
  });

  it('answers only 4xx JSON errors to fuzzed bodies and changes no row', async () => {
    const before = rowsSnapshot();
    const runs = sim.counters.RunClusterCheck;
    const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/watches/checks', '/v1/watches/clusters', `/v1/clusters/${C1}/checks`),
        fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.constantFrom(
            `{"cluster_id":"${C1}","__proto__":{"polluted":true}}`,
            `{"type":"ClusterUpgrade","constructor":{"prototype":{"polluted":true}}}`,
            `{"type":"ClusterUpgrade","options":{"__proto__":{"polluted":true}}}`,
          ),
          fc.string({ unit: 'binary', maxLength: 100 }),
          fc.string({ minLength: 70_000, maxLength: 70_100 }),
        ),
        fc.boolean(),
        async (path, body, base64) => {
          const res = await fn.handle(event({ method: 'POST', path, body, base64 }), context());
          expect(res.statusCode).toBeGreaterThanOrEqual(400);
          expect(res.statusCode).toBeLessThan(500);
          expect(typeof json(res).error.code).toBe('string');
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        },
      ),
      { numRuns: 80, seed: 99 },
    );
    expect(rowsSnapshot()).toBe(before);
    expect(sim.counters.RunClusterCheck).toBe(runs);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeys);
  });

  it('never logs the API token or the role credentials', () => {
    const all = logs.join('\n');
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain(CREDS.accessKeySecret);
    expect(all).not.toContain(CREDS.securityToken);
  });
});

describe('API function configuration errors', () => {
  it('answers 500 CONFIG_INVALID (details only in the log) and tries again on the next request', async () => {
    const logs: string[] = [];
    const broken = { ...env, CHECKWATCH_OTS_INSTANCE: '!' };
    const fn = createApiFunction({ env: broken, write: (l) => logs.push(l) });
    const res = await fn.handle(event({ method: 'GET', path: '/v1/watches' }), context());
    expect(res.statusCode).toBe(500);
    expect(json(res).error).toEqual({
      code: 'CONFIG_INVALID',
      message: 'checkwatch is misconfigured; see the function log',
      details: {},
    });
    expect(logs.join('\n')).toContain('store.instance');
    await fn.close();
  });

  it('refuses to run over the SQLite store', async () => {
    const fn = createApiFunction({ env: { ...env, CHECKWATCH_STORE: 'sqlite' }, write: () => undefined });
    const res = await fn.handle(event({ method: 'GET', path: '/v1/watches' }), context());
    expect(res.statusCode).toBe(500);
    expect(json(res).error.code).toBe('CONFIG_INVALID');
    await fn.close();
  });
});

describe('API function (esbuild bundle)', () => {
  it('bundles, and the bundle serves the routes from FC events', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-api-'));
    try {
      const outfile = join(dir, 'index.js');
      await build({
        entryPoints: [join(__dirname, '../../../functions/api/index.ts')],
        outfile,
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        minify: true,
        logLevel: 'silent',
        external: ['better-sqlite3', 'proxy-agent'],
      });
      Object.assign(process.env, env, { CHECKWATCH_LOG_LEVEL: 'error' });
      const mod = createRequire(outfile)(outfile) as {
        handler: (event: Buffer, ctx: FcContext) => Promise<FcHttpResponse>;
      };
      const health = await mod.handler(event({ method: 'GET', path: '/v1/healthz', token: null }), context());
      expect(health.statusCode).toBe(200);
      const checkId = sim.seedCheck({ clusterId: C1 });
      const watched = await mod.handler(
        event({
          method: 'POST',
          path: '/v1/watches/checks',
          body: { cluster_id: C1, check_id: checkId, routes: ['ops'] },
        }),
        context(),
      );
      expect(watched.statusCode).toBe(201);
      const shown = await mod.handler(
        event({ method: 'GET', path: `/v1/checks/${C1}/${checkId}` }),
        context(),
      );
      expect(json(shown).check.check_id).toBe(checkId);
      const unauth = await mod.handler(event({ method: 'GET', path: '/v1/watches', token: null }), context());
      expect(unauth.statusCode).toBe(401);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
