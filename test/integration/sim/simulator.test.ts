import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalQueryString, encodePath, newNonce, signRequest } from '../../../lib/ack/signer';
import { startSimulator } from '../../../lib/sim/index';
import type { FaultSpec, Simulator } from '../../../lib/sim/index';

const CLUSTER = 'c0123456789abcdef0123456789abcdef';
const CHECK_ID = new RegExp(`^\\d{19}-${CLUSTER}-clustercheck-[a-z]{5}$`);
const NANO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // Raw JSON from the wire: its shape is what the assertions check.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: () => any;
}

interface Op {
  method: 'GET' | 'POST';
  segments: readonly string[];
  action: string;
  query?: Record<string, string> | undefined;
  body?: string | undefined;
}

/** A signed request straight over undici: the simulator tested on its own, without the client. */
async function call(
  sim: Simulator,
  op: Op,
  over: { secret?: string; nonce?: string; now?: number; headers?: Record<string, string> } = {},
): Promise<Raw> {
  const url = new URL(sim.endpoint);
  const path = encodePath(op.segments);
  const query = op.query ?? {};
  const headers = signRequest({
    method: op.method,
    host: url.host,
    path,
    query,
    action: op.action,
    version: '2015-12-15',
    body: op.body,
    contentType: op.body === undefined ? undefined : 'application/json; charset=utf-8',
    credentials: {
      accessKeyId: sim.accessKeyId,
      accessKeySecret: over.secret ?? sim.accessKeySecret,
      securityToken: sim.securityToken,
    },
    now: over.now ?? Date.now(),
    nonce: over.nonce ?? newNonce(),
  });
  const qs = canonicalQueryString(query);
  const res = await request(`${sim.endpoint}${path}${qs === '' ? '' : `?${qs}`}`, {
    method: op.method,
    headers: { ...headers, ...over.headers },
    ...(op.body === undefined ? {} : { body: op.body }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
}

const list = (clusterId = CLUSTER, query?: Record<string, string>): Op => ({
  method: 'GET',
  segments: ['clusters', clusterId, 'checks'],
  action: 'ListClusterChecks',
  query,
});
const get = (checkId: string, clusterId = CLUSTER): Op => ({
  method: 'GET',
  segments: ['clusters', clusterId, 'checks', checkId],
  action: 'GetClusterCheck',
});
const run = (body: unknown, clusterId = CLUSTER): Op => ({
  method: 'POST',
  segments: ['clusters', clusterId, 'checks'],
  action: 'RunClusterCheck',
  body: JSON.stringify(body),
});

let sim: Simulator;
let now: number;

beforeEach(async () => {
  now = Date.now();
  sim = await startSimulator({
    seed: 99,
    clusters: [CLUSTER],
    checkDurationMs: 8_000,
    now: () => now,
    failureRate: 0,
  });
});
afterEach(async () => {
  await sim.close();
});

describe('simulator: the documented shapes', () => {
  it('answers RunClusterCheck with request_id and a check id in the documented format', async () => {
    const res = await call(
      sim,
      run({ type: 'ClusterUpgrade', options: { next_version: '1.32.1-aliyun.1' } }),
    );
    expect(res.status).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['check_id', 'request_id']);
    expect(body.check_id).toMatch(CHECK_ID);
    expect(res.headers['x-acs-request-id']).toBe(body.request_id);
  });

  it('lists checks in snake_case without check_items, and gets one with check_items', async () => {
    const id = sim.seedCheck({ clusterId: CLUSTER, outcome: 'Failed', durationMs: 1000 });
    now += 1000;
    const listed = (await call(sim, list())).json();
    expect(Object.keys(listed)).toEqual(['checks']);
    expect(listed.checks[0]).toEqual({
      check_id: id,
      type: 'ClusterUpgrade',
      status: 'Failed',
      message: 'task failed',
      created_at: expect.stringMatching(NANO),
      finished_at: expect.stringMatching(NANO),
    });
    const detail = (await call(sim, get(id))).json();
    expect(detail).toMatchObject({ check_id: id, status: 'Failed' });
    const levels = Object.values(detail.check_items as Record<string, { Level: object }[]>).flatMap((e) =>
      Object.keys(e[0]?.Level ?? {}),
    );
    expect(levels).toContain('error');
  });

  it('runs a check for the configured duration, then finishes it', async () => {
    const { check_id } = (await call(sim, run({ type: 'MasterUpgrade' }))).json();
    expect(sim.finishedAt(CLUSTER, check_id)).toBe(now + 8_000);
    expect((await call(sim, get(check_id))).json()).toMatchObject({ status: 'Running', check_items: {} });
    now += 8_000;
    expect((await call(sim, get(check_id))).json()).toMatchObject({
      status: 'Succeeded',
      message: 'task succeed',
    });
  });

  it('holds many clusters apart', async () => {
    const others = Array.from(
      { length: 20 },
      (_, i) => `c${String(i).padStart(4, '0')}abcdef0123456789abcdef0123`,
    );
    for (const c of others) sim.seedCheck({ clusterId: c });
    for (const c of others.slice(0, 3)) {
      const body = (await call(sim, list(c))).json();
      expect(body.checks).toHaveLength(1);
      expect(body.checks[0].check_id).toContain(c);
    }
  });

  it.each([
    ['an unknown type', { type: 'Everything' }],
    ['no type', {}],
    ['a NodePoolUpgrade without target', { type: 'NodePoolUpgrade' }],
    ['options that are not strings', { type: 'ClusterUpgrade', options: { n: 1 } }],
  ])('answers 400 InvalidParameter to RunClusterCheck with %s', async (_what, body) => {
    const res = await call(sim, run(body));
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/"(Code|code)":"InvalidParameter"/);
  });

  it('answers 404 ErrorClusterNotFound for an unknown cluster and 404 for an unknown check', async () => {
    const cluster = await call(sim, list('cnotthere0000'));
    expect(cluster.status).toBe(404);
    expect(cluster.text).toContain('ErrorClusterNotFound');
    const check = await call(sim, get('1697100584236600453-x-clustercheck-abcde'));
    expect(check.status).toBe(404);
    expect(check.text).not.toContain('ErrorClusterNotFound');
  });

  it('writes error bodies in both casings', async () => {
    const bodies = await Promise.all(Array.from({ length: 12 }, () => call(sim, list('cnotthere0000'))));
    const keys = new Set(bodies.map((b) => Object.keys(b.json()).sort()[0]));
    expect(keys).toEqual(new Set(['Code', 'code']));
  });
});

describe('simulator: authentication', () => {
  it('answers 403 SignatureDoesNotMatch to a wrong secret and counts it as rejected', async () => {
    const res = await call(sim, list(), { secret: 'wrong' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('SignatureDoesNotMatch');
    expect(sim.counters).toMatchObject({ ListClusterChecks: 1, rejected: 1, total: 1 });
  });

  it('answers 400 to a date outside the 15-minute window of its own clock', async () => {
    const res = await call(sim, list(), { now: now - 16 * 60_000 });
    expect(res.status).toBe(400);
    expect(res.text).toContain('InvalidTimeStamp.Expired');
  });

  it('refuses a replayed nonce', async () => {
    expect((await call(sim, list(), { nonce: 'fixed-nonce' })).status).toBe(200);
    const replay = await call(sim, list(), { nonce: 'fixed-nonce' });
    expect(replay.status).toBe(400);
    expect(replay.text).toContain('SignatureNonceUsed');
  });

  it('refuses a request whose x-acs-action does not match the route', async () => {
    const res = await call(sim, { ...list(), action: 'GetClusterCheck' });
    expect(res.status).toBe(400);
  });

  it('answers an unknown route with 404 and counts it in total only', async () => {
    const res = await request(`${sim.endpoint}/clusters`, { method: 'GET' });
    await res.body.text();
    expect(res.statusCode).toBe(404);
    expect(sim.counters).toEqual({
      GetClusterCheck: 0,
      ListClusterChecks: 0,
      RunClusterCheck: 0,
      total: 1,
      rejected: 0,
    });
  });
});

describe('simulator: faults and counters', () => {
  it('injects each fault kind with the documented answer', async () => {
    const answer = async (spec: FaultSpec): Promise<Raw> => {
      sim.injectFault({ ...spec, next: 1 });
      return call(sim, list());
    };
    const throttled = await answer({ kinds: ['throttle'], retryAfterSec: 2 });
    expect([400, 429]).toContain(throttled.status);
    expect(throttled.text).toContain('Throttling.User');
    expect(throttled.headers['x-acs-retry-after']).toBe('2000');
    const html = await answer({ kinds: ['html502'] });
    expect(html.status).toBe(502);
    expect(html.headers['content-type']).toBe('text/html');
    expect(html.text).toContain('<title>502 Bad Gateway</title>');
    expect([500, 503]).toContain((await answer({ kinds: ['5xx'] })).status);
    const truncated = await answer({ kinds: ['truncated'] });
    expect(truncated.status).toBe(200);
    expect(() => truncated.json()).toThrow(SyntaxError);
    const xml = await answer({ kinds: ['xml503'] });
    expect(xml.text).toContain('<Code>ServiceUnavailable</Code>');
    await expect(answer({ kinds: ['reset'] })).rejects.toMatchObject({
      code: expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/),
    });
    const started = Date.now();
    expect((await answer({ kinds: ['latency'], latencyMs: 120 })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    sim.seedCheck({ clusterId: CLUSTER });
    const odd = (await answer({ kinds: ['unknownStatus'] })).json();
    expect(odd.checks[0].status).not.toBe('Running');
    expect((await call(sim, list())).status).toBe(200);
  });

  it('reproduces the same fault pattern from the same seed', async () => {
    const pattern = async (seed: number): Promise<number[]> => {
      const s = await startSimulator({ seed, clusters: [CLUSTER] });
      try {
        s.injectFault({ rate: 0.5, kinds: ['5xx', 'html502', 'throttle'] });
        const statuses: number[] = [];
        for (let i = 0; i < 16; i++) statuses.push((await call(s, list())).status);
        return statuses;
      } finally {
        await s.close();
      }
    };
    const a = await pattern(7);
    expect(await pattern(7)).toEqual(a);
    expect(new Set(a).size).toBeGreaterThan(1);
  });

  it('removes a fault with its remover and all faults with clearFaults', async () => {
    const remove = sim.injectFault({ kinds: ['5xx'] });
    expect((await call(sim, list())).status).toBeGreaterThanOrEqual(500);
    remove();
    expect((await call(sim, list())).status).toBe(200);
    sim.injectFault({ kinds: ['html502'] });
    sim.injectFault({ kinds: ['5xx'], rate: 1 });
    sim.clearFaults();
    expect((await call(sim, list())).status).toBe(200);
  });

  it('counts requests per operation and resets the counters', async () => {
    const id = sim.seedCheck({ clusterId: CLUSTER });
    await call(sim, list());
    await call(sim, list());
    await call(sim, get(id));
    await call(sim, run({ type: 'ClusterMigrate' }));
    expect(sim.counters).toEqual({
      GetClusterCheck: 1,
      ListClusterChecks: 2,
      RunClusterCheck: 1,
      total: 4,
      rejected: 0,
    });
    sim.resetCounters();
    expect(sim.counters.total).toBe(0);
  });

  it('closes promptly even with a response held back by latency', async () => {
    sim.injectFault({ kinds: ['latency'], latencyMs: 60_000 });
    const pending = call(sim, list()).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 30));
    const started = Date.now();
    await sim.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('startSimulator options', () => {
  it('uses the given credentials and port-0 loopback endpoint', async () => {
    const s = await startSimulator({ accessKeyId: 'LTAIgiven', accessKeySecret: 'given-secret', seed: 1 });
    try {
      expect(s.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect([s.accessKeyId, s.accessKeySecret, s.seed, s.securityToken]).toEqual([
        'LTAIgiven',
        'given-secret',
        1,
        undefined,
      ]);
    } finally {
      await s.close();
    }
  });

  it('generates distinct credentials when none are given', async () => {
    const [a, b] = await Promise.all([startSimulator(), startSimulator()]);
    try {
      expect(a.accessKeySecret).not.toBe(b.accessKeySecret);
      expect(a.accessKeySecret.length).toBeGreaterThanOrEqual(20);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('adds latencyMs to every response', async () => {
    const s = await startSimulator({ latencyMs: 80, clusters: [CLUSTER] });
    try {
      const started = Date.now();
      expect((await call(s, list())).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    } finally {
      await s.close();
    }
  });
});
