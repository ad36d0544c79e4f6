/**
 * The HTTP API end to end over real HTTP: startApiServer on 127.0.0.1:0, the SQLite store, and the ACK
 * simulator behind the real ACK client.
 */
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../lib/errors';
import type { CheckId, ClusterId } from '../../../lib/domain/check';
import { StoreUnavailable, type Store } from '../../../lib/store/store';
import {
  C1,
  C2,
  HOOK_SECRET,
  HOOK_TOKEN,
  OTHER_TOKEN,
  TOKEN,
  call,
  simClient,
  startHarness,
  type Harness,
} from './helpers';

const HOUR = 3_600_000;

describe('the API over HTTP with SQLite and the ACK simulator', () => {
  let h: Harness;
  let url: string;
  let oldPassed: string;
  let oldFailed: string;
  let running: string;

  beforeAll(async () => {
    h = await startHarness();
    url = h.server.url;
    const now = Date.now();
    oldPassed = h.sim.seedCheck({ clusterId: C1, createdAt: now - 3 * HOUR, durationMs: 60_000 });
    oldFailed = h.sim.seedCheck({
      clusterId: C1,
      createdAt: now - 2 * HOUR,
      durationMs: 60_000,
      outcome: 'Failed',
    });
    running = h.sim.seedCheck({
      clusterId: C1,
      createdAt: now - 60_000,
      durationMs: HOUR,
      type: 'MasterUpgrade',
    });
  });
  afterAll(async () => {
    await h.close();
  });

  describe('healthz', () => {
    it('answers without a token and says the store is reachable', async () => {
      const r = await call(url, 'GET', '/v1/healthz', { token: null });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ status: 'ok', store: 'reachable', api: 'token' });
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    });

    it('answers 405 with Allow for a POST', async () => {
      const r = await call(url, 'POST', '/v1/healthz', { token: null, body: {} });
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe('GET');
      expect(r.json.error.code).toBe('METHOD_NOT_ALLOWED');
    });
  });

  describe('authentication', () => {
    it('answers 401 with a Bearer challenge when no token is sent', async () => {
      const r = await call(url, 'GET', '/v1/watches', { token: null });
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe('UNAUTHORIZED');
      expect(r.headers['www-authenticate']).toBe('Bearer realm="checkwatch"');
    });

    it('answers 401 for another scheme than Bearer', async () => {
      const r = await call(url, 'GET', '/v1/watches', {
        token: null,
        headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` },
      });
      expect(r.status).toBe(401);
    });

    it.each([
      ['a wrong token of the same length', TOKEN.replace(/.$/, 'X')],
      ['a prefix of the token', TOKEN.slice(0, 8)],
      ['a longer token', `${TOKEN}${TOKEN}`],
      ['latin-1 characters', 'tökén-ü-ß'],
    ])('answers 403 for %s', async (_name, token) => {
      const r = await call(url, 'GET', '/v1/watches', { token });
      expect(r.status).toBe(403);
      expect(r.json.error.code).toBe('FORBIDDEN');
      expect(r.text).not.toContain(TOKEN);
    });

    it('accepts every configured token, with any case of "bearer"', async () => {
      expect((await call(url, 'GET', '/v1/watches', { token: OTHER_TOKEN })).status).toBe(200);
      const r = await call(url, 'GET', '/v1/watches', {
        token: null,
        headers: { authorization: `bearer ${TOKEN}` },
      });
      expect(r.status).toBe(200);
    });

    it('hides unknown paths behind authentication', async () => {
      const anonymous = await call(url, 'GET', '/v1/nothing-here', { token: null });
      expect(anonymous.status).toBe(401);
      const authed = await call(url, 'GET', '/v1/nothing-here');
      expect(authed.status).toBe(404);
      expect(authed.json.error.code).toBe('NOT_FOUND');
    });
  });

  describe('POST /v1/watches/checks', () => {
    afterEach(async () => {
      await h.store.unwatchCheck(C1 as ClusterId, running as CheckId);
    });

    it('watches a known check with the type and created_at ACK reports', async () => {
      const r = await call(url, 'POST', '/v1/watches/checks', {
        body: { cluster_id: C1, check_id: running },
      });
      expect(r.status).toBe(201);
      expect(r.json.created).toBe(true);
      expect(r.json.check).toMatchObject({
        cluster_id: C1,
        check_id: running,
        state: 'watching',
        source: 'watch',
        type: 'MasterUpgrade',
        status: 'Running',
        status_class: 'running',
        routes: ['ops'],
        region: 'cn-hangzhou',
        outcome: null,
      });
      expect(r.json.check.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
      const stored = await h.store.getCheck(C1 as ClusterId, running as CheckId);
      expect(stored?.check.source).toBe('watch');
    });

    it('is idempotent and merges routes on a second watch', async () => {
      await call(url, 'POST', '/v1/watches/checks', { body: { cluster_id: C1, check_id: running } });
      const again = await call(url, 'POST', '/v1/watches/checks', {
        body: { cluster_id: C1, check_id: running, routes: ['release', 'ops'] },
      });
      expect(again.status).toBe(200);
      expect(again.json.created).toBe(false);
      expect(again.json.check.routes).toEqual(['ops', 'release']);
      const pending = await h.store.listPending();
      expect(pending.checks.filter((c) => c.checkId === running)).toHaveLength(1);
    });

    it('answers 404 with ACK_CHECK_NOT_FOUND for a check ACK does not know, writing nothing', async () => {
      const before = await h.snapshot();
      const r = await call(url, 'POST', '/v1/watches/checks', {
        body: { cluster_id: C1, check_id: '1697100584236600453-typo-clustercheck-abcde' },
      });
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe('ACK_CHECK_NOT_FOUND');
      expect(r.json.error.details.action).toBe('GetClusterCheck');
      expect(await h.snapshot()).toBe(before);
    });

    it('answers 404 with ACK_CLUSTER_NOT_FOUND and ACK code for an unknown cluster', async () => {
      const r = await call(url, 'POST', '/v1/watches/checks', {
        body: { cluster_id: 'cffffffffffffffffffffffffffffffff', check_id: running },
      });
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe('ACK_CLUSTER_NOT_FOUND');
      expect(r.json.error.details.ack_code).toBe('ErrorClusterNotFound');
    });

    it('refuses an unknown route name with a field error, writing nothing', async () => {
      const before = await h.snapshot();
      const r = await call(url, 'POST', '/v1/watches/checks', {
        body: { cluster_id: C1, check_id: running, routes: ['ops', 'nope'] },
      });
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('INVALID_INPUT');
      expect(r.json.error.details.fields).toEqual([
        { path: 'routes.1', message: 'no route named "nope" is configured' },
      ]);
      expect(await h.snapshot()).toBe(before);
    });

    it('never accepts a URL in place of a route', async () => {
      const r = await call(url, 'POST', '/v1/watches/checks', {
        body: { cluster_id: C1, check_id: running, routes: ['https://evil.example.com/hook'] },
      });
      expect(r.status).toBe(400);
      expect(r.json.error.details.fields[0].path).toBe('routes.0');
    });

    it.each([
      [
        'an unknown field',
        { cluster_id: C1, check_id: 'x1', channel_url: 'https://x' },
        'channel_url',
        'unknown field',
      ],
      [
        'a __proto__ key',
        JSON.parse(`{"cluster_id":"${C1}","check_id":"x1","__proto__":{"polluted":1}}`),
        '__proto__',
        'unknown field',
      ],
      [
        'a constructor key',
        { cluster_id: C1, check_id: 'x1', constructor: { prototype: { polluted: 1 } } },
        'constructor',
        'unknown field',
      ],
      ['a wrong type', { cluster_id: 42, check_id: 'x1' }, 'cluster_id', 'expected string, received number'],
      ['a missing field', { cluster_id: C1 }, 'check_id', 'expected string, received undefined'],
      [
        'a bad cluster id',
        { cluster_id: 'C/../x', check_id: 'x1' },
        'cluster_id',
        'expected an ACK cluster id (lowercase letters, digits and -)',
      ],
    ])('answers 400 with field errors for %s', async (_name, body, path, message) => {
      const r = await call(url, 'POST', '/v1/watches/checks', { body });
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('INVALID_INPUT');
      expect(r.json.error.details.fields).toContainEqual({ path, message });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  describe('POST /v1/clusters/{cluster_id}/checks (run and watch)', () => {
    it('runs the check in ACK and watches it with source "run"', async () => {
      const before = h.sim.checkIds(C2).length;
      const r = await call(url, 'POST', `/v1/clusters/${C2}/checks`, {
        body: { type: 'ClusterUpgrade', options: { next_version: '1.32.1-aliyun.1' }, routes: ['release'] },
      });
      expect(r.status).toBe(201);
      expect(r.json.check_id).toMatch(new RegExp(`^\\d{19}-${C2}-clustercheck-[a-z]{5}$`));
      expect(r.json.request_id).toMatch(/\S/);
      expect(h.sim.checkIds(C2)).toHaveLength(before + 1);
      expect(h.sim.checkIds(C2)).toContain(r.json.check_id);
      expect(r.json.check).toMatchObject({
        source: 'run',
        state: 'watching',
        type: 'ClusterUpgrade',
        routes: ['release'],
      });
      const pending = await h.store.listPending();
      const row = pending.checks.find((c) => c.checkId === r.json.check_id);
      expect(row?.source).toBe('run');
      expect(row?.type).toBe('ClusterUpgrade');
    });

    it('requires a target for NodePoolUpgrade and starts nothing without it', async () => {
      const before = h.sim.counters.RunClusterCheck;
      const r = await call(url, 'POST', `/v1/clusters/${C2}/checks`, { body: { type: 'NodePoolUpgrade' } });
      expect(r.status).toBe(400);
      expect(r.json.error.details.fields).toEqual([
        { path: 'target', message: 'required when type is NodePoolUpgrade' },
      ]);
      expect(h.sim.counters.RunClusterCheck).toBe(before);
    });

    it('refuses an unknown check type with the accepted ones named', async () => {
      const r = await call(url, 'POST', `/v1/clusters/${C2}/checks`, { body: { type: 'Upgrade' } });
      expect(r.status).toBe(400);
      expect(r.json.error.details.fields[0]).toEqual({
        path: 'type',
        message: 'expected one of ClusterMigrate, MasterUpgrade, NodePoolUpgrade, ClusterUpgrade',
      });
    });

    it.each([
      ['__proto__', '{"type":"ClusterUpgrade","options":{"__proto__":{"polluted":"y"}}}', 'unknown field'],
      [
        'constructor',
        '{"type":"ClusterUpgrade","options":{"constructor":"x"}}',
        'invalid name: reserved name',
      ],
    ])('refuses an option named %s and starts nothing', async (name, raw, message) => {
      const before = h.sim.counters.RunClusterCheck;
      const r = await call(url, 'POST', `/v1/clusters/${C2}/checks`, {
        raw,
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status).toBe(400);
      expect(r.json.error.details.fields).toEqual([{ path: `options.${name}`, message }]);
      expect(h.sim.counters.RunClusterCheck).toBe(before);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('answers 404 for an unknown cluster', async () => {
      const r = await call(url, 'POST', '/v1/clusters/cdeadbeef00000000000000000000000/checks', {
        body: { type: 'ClusterUpgrade' },
      });
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe('ACK_CLUSTER_NOT_FOUND');
    });
  });

  describe('POST /v1/watches/clusters', () => {
    it('takes a baseline of the finished checks so they are never replayed', async () => {
      const r = await call(url, 'POST', '/v1/watches/clusters', {
        body: { cluster_id: C1, routes: ['ops'] },
      });
      expect(r.status).toBe(201);
      expect(r.json.created).toBe(true);
      expect(r.json.baseline).toBe(2);
      expect(r.json.cluster).toMatchObject({ cluster_id: C1, routes: ['ops'], baseline_size: 2 });
      const pending = await h.store.listPending();
      const watch = pending.clusters.find((c) => c.clusterId === C1);
      expect([...(watch?.baseline ?? [])].sort()).toEqual([oldPassed, oldFailed].sort());
      // Old checks are not pending; the running one is left for the poller to discover.
      const ids = pending.checks.map((c) => c.checkId as string);
      expect(ids).not.toContain(oldPassed);
      expect(ids).not.toContain(oldFailed);
      expect(watch?.baseline).not.toContain(running);

      const again = await call(url, 'POST', '/v1/watches/clusters', {
        body: { cluster_id: C1, routes: ['release'] },
      });
      expect(again.status).toBe(200);
      expect(again.json.created).toBe(false);
      expect(again.json.cluster.routes).toEqual(['ops', 'release']);

      const listed = await call(url, 'GET', '/v1/watches');
      expect(listed.json.clusters).toContainEqual(
        expect.objectContaining({ cluster_id: C1, baseline_size: 2 }),
      );

      const del = await call(url, 'DELETE', `/v1/watches/clusters/${C1}`);
      expect(del.status).toBe(200);
      expect(del.json).toEqual({ deleted: true, cluster_id: C1 });
      expect((await call(url, 'DELETE', `/v1/watches/clusters/${C1}`)).status).toBe(404);
    });

    it('answers 404 for a cluster ACK does not know, writing nothing', async () => {
      const before = await h.snapshot();
      const r = await call(url, 'POST', '/v1/watches/clusters', {
        body: { cluster_id: 'c99999999999999999999999999999999' },
      });
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe('ACK_CLUSTER_NOT_FOUND');
      expect(await h.snapshot()).toBe(before);
    });
  });

  describe('reading and unwatching', () => {
    it('lists, filters, shows and unwatches a check with its deliveries', async () => {
      const w = await call(url, 'POST', '/v1/watches/checks', {
        body: { cluster_id: C1, check_id: oldFailed },
      });
      expect(w.status).toBe(201);

      const all = await call(url, 'GET', `/v1/checks?cluster_id=${C1}`);
      expect(all.status).toBe(200);
      expect(all.json.checks.map((c: { check_id: string }) => c.check_id)).toContain(oldFailed);

      const byStatus = await call(url, 'GET', `/v1/checks?cluster_id=${C1}&status=failed&limit=5`);
      expect(byStatus.json.checks.map((c: { check_id: string }) => c.check_id)).toEqual([oldFailed]);
      const none = await call(url, 'GET', `/v1/checks?cluster_id=${C1}&status=passed`);
      expect(none.json.checks).toEqual([]);

      // A failed delivery whose platform text echoes the webhook URL: the token must not come back.
      const key = { clusterId: C1 as ClusterId, checkId: oldFailed as CheckId, channel: 'hook' };
      const claim = await h.store.claimDelivery(key, 'test', 60_000, Date.now());
      if (!claim.claimed) throw new Error('claim failed');
      await h.store.finishDelivery(
        claim.delivery,
        {
          state: 'failed',
          lastError: `HTTP 403 from ${HOOK_TOKEN} at https://hooks.example.com/notify?token=${HOOK_TOKEN} (${HOOK_SECRET})`,
        },
        Date.now(),
      );
      const shown = await call(url, 'GET', `/v1/checks/${C1}/${oldFailed}`);
      expect(shown.status).toBe(200);
      expect(shown.json.check).toMatchObject({
        check_id: oldFailed,
        status: 'Failed',
        status_class: 'failed',
      });
      expect(shown.json.check.deliveries).toHaveLength(1);
      expect(shown.json.check.deliveries[0]).toMatchObject({ channel: 'hook', state: 'failed', attempts: 1 });
      expect(shown.json.check.deliveries[0].last_error).toContain('HTTP 403');
      expect(shown.text).not.toContain(HOOK_TOKEN);
      expect(shown.text).not.toContain(HOOK_SECRET);

      const watches = await call(url, 'GET', '/v1/watches');
      expect(watches.json.checks.map((c: { check_id: string }) => c.check_id)).toContain(oldFailed);

      const del = await call(url, 'DELETE', `/v1/watches/checks/${C1}/${oldFailed}`);
      expect(del.status).toBe(200);
      expect(del.json).toEqual({ deleted: true, cluster_id: C1, check_id: oldFailed });
      const again = await call(url, 'DELETE', `/v1/watches/checks/${C1}/${oldFailed}`);
      expect(again.status).toBe(404);
      expect(again.json.error.code).toBe('NOT_FOUND');
    });

    it('answers 404 NOT_FOUND for a check checkwatch does not know', async () => {
      const r = await call(url, 'GET', `/v1/checks/${C2}/1697100584236600453-${C2}-clustercheck-zzzzz`);
      expect(r.status).toBe(404);
      expect(r.json.error).toMatchObject({ code: 'NOT_FOUND' });
    });

    it.each([
      ['/v1/checks?limit=0', 'query.limit'],
      ['/v1/checks?limit=abc', 'query.limit'],
      ['/v1/checks?cluster_id=BAD!', 'query.cluster_id'],
      ['/v1/checks?sort=desc', 'query.sort'],
      ['/v1/watches?__proto__=x', 'query.__proto__'],
    ])('answers 400 for the query of %s', async (path, field) => {
      const r = await call(url, 'GET', path);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('INVALID_INPUT');
      expect(r.json.error.details.fields.map((f: { path: string }) => f.path)).toContain(field);
    });

    it('answers 400 for a malformed id in the path', async () => {
      const r = await call(url, 'GET', `/v1/checks/${C1}/bad%20id`);
      expect(r.status).toBe(400);
      expect(r.json.error.details.fields[0].path).toBe('check_id');
      const bad = await call(url, 'GET', `/v1/checks/${C1}/%E0%A4%A`);
      expect(bad.status).toBe(400);
      expect(bad.json.error.code).toBe('INVALID_PATH');
    });
  });

  describe('request framing', () => {
    it('answers 405 with Allow for a wrong method', async () => {
      const r = await call(url, 'PUT', '/v1/watches/checks', { body: {} });
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe('POST');
      expect(r.json.error.code).toBe('METHOD_NOT_ALLOWED');
    });

    it.each([
      ['text/plain', 'text/plain'],
      ['a form', 'application/x-www-form-urlencoded'],
      ['JSON in another charset', 'application/json; charset=latin1'],
    ])('answers 415 for %s', async (_name, type) => {
      const r = await call(url, 'POST', '/v1/watches/clusters', {
        raw: JSON.stringify({ cluster_id: C1 }),
        headers: { 'content-type': type },
      });
      expect(r.status).toBe(415);
      expect(r.json.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 415 when the content type is missing', async () => {
      const r = await call(url, 'POST', '/v1/watches/clusters', { raw: JSON.stringify({ cluster_id: C1 }) });
      expect(r.status).toBe(415);
    });

    it('accepts JSON with charset=utf-8', async () => {
      const r = await call(url, 'POST', '/v1/watches/checks', {
        raw: JSON.stringify({ cluster_id: C1, check_id: 'x' }),
        headers: { 'content-type': 'Application/JSON; charset=UTF-8' },
      });
      expect(r.status).toBe(404);
    });

    it.each([
      ['not JSON', '{"cluster_id":'],
      ['empty', ''],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
    ])('answers 400 INVALID_JSON for a body that is %s', async (_name, raw) => {
      const r = await call(url, 'POST', '/v1/watches/clusters', {
        raw,
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('INVALID_JSON');
    });

    it('answers 413 for a declared body over the limit without reading it', async () => {
      const big = Buffer.alloc(h.config.api.maxBodyBytes + 1, 0x20);
      const r = await call(url, 'POST', '/v1/watches/clusters', {
        raw: big,
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status).toBe(413);
      expect(r.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('answers 413 for a chunked body that grows over the limit', async () => {
      const limit = h.config.api.maxBodyBytes;
      async function* chunks(): AsyncGenerator<Buffer> {
        for (let sent = 0; sent <= limit; sent += 8192) {
          await Promise.resolve();
          yield Buffer.alloc(8192, 0x20);
        }
      }
      const res = await request(`${url}/v1/watches/clusters`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: Readable.from(chunks()),
      }).catch((err: unknown) => err);
      // The server may cut the connection while the client is still sending: then the client sees a
      // reset instead of the 413. Either way nothing was handled, and the server keeps serving.
      const seen = res instanceof Error ? 'reset' : String((res as { statusCode: number }).statusCode);
      if (!(res instanceof Error)) await (res as { body: { text(): Promise<string> } }).body.text();
      expect(seen).toMatch(/^(reset|413)$/);
      expect((await call(url, 'GET', '/v1/healthz', { token: null })).status).toBe(200);
    });

    it('answers every response as JSON with a request id and no caching', async () => {
      const r = await call(url, 'GET', '/v1/watches');
      expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    });
  });

  describe('ACK failures', () => {
    afterEach(() => {
      h.sim.clearFaults();
    });

    it('answers 503 with Retry-After when ACK throttles', async () => {
      h.sim.injectFault({ kinds: ['throttle'], next: 1, retryAfterMs: 4_000 });
      const r = await call(url, 'POST', '/v1/watches/checks', {
        body: { cluster_id: C1, check_id: running },
      });
      expect(r.status).toBe(503);
      expect(r.json.error.code).toBe('ACK_THROTTLED');
      expect(r.headers['retry-after']).toBe('4');
    });

    it('answers 503 with Retry-After when ACK fails with a 5xx', async () => {
      h.sim.injectFault({ kinds: ['5xx'], next: 1 });
      const r = await call(url, 'POST', '/v1/watches/clusters', { body: { cluster_id: C2 } });
      expect(r.status).toBe(503);
      expect(r.json.error.code).toBe('ACK_SERVER_ERROR');
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    });

    it('answers 503 when ACK resets the connection', async () => {
      h.sim.injectFault({ kinds: ['reset'], next: 1 });
      const r = await call(url, 'POST', '/v1/watches/clusters', { body: { cluster_id: C2 } });
      expect(r.status).toBe(503);
      expect(['ACK_NETWORK', 'ACK_TIMEOUT']).toContain(r.json.error.code);
    });
  });
});

describe('the API with other wiring', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('refuses everything but healthz with 503 API_DISABLED when no token is configured', async () => {
    h = await startHarness({ tokens: false });
    const r = await call(h.server.url, 'GET', '/v1/watches', { token: null });
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('API_DISABLED');
    expect((await call(h.server.url, 'GET', '/v1/unknown', { token: 'anything' })).json.error.code).toBe(
      'API_DISABLED',
    );
    const health = await call(h.server.url, 'GET', '/v1/healthz', { token: null });
    expect(health.status).toBe(200);
    expect(health.json.api).toBe('disabled');
  });

  it('serves without a token when started with allowAnonymous and no tokens', async () => {
    h = await startHarness({ tokens: false, allowAnonymous: true });
    const r = await call(h.server.url, 'GET', '/v1/watches', { token: null });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ checks: [], clusters: [] });
  });

  it('still requires configured tokens when allowAnonymous is set', async () => {
    h = await startHarness({ allowAnonymous: true });
    expect((await call(h.server.url, 'GET', '/v1/watches', { token: null })).status).toBe(401);
  });

  it('warns when a watch has no routes at all', async () => {
    h = await startHarness({ defaultRoutes: [] });
    const id = h.sim.seedCheck({ clusterId: C1 });
    const r = await call(h.server.url, 'POST', '/v1/watches/checks', {
      body: { cluster_id: C1, check_id: id },
    });
    expect(r.status).toBe(201);
    expect(r.json.check.routes).toEqual([]);
    expect(r.json.warnings[0]).toMatch(/no routes/);
  });

  it('answers 502 ACK_FORBIDDEN when ACK refuses checkwatch’s own credentials', async () => {
    h = await startHarness({ ack: (sim) => simClient(sim, 'wrong-secret-value') });
    const r = await call(h.server.url, 'POST', '/v1/watches/clusters', { body: { cluster_id: C1 } });
    expect(r.status).toBe(502);
    expect(r.json.error.code).toBe('ACK_FORBIDDEN');
    expect(r.json.error.message).toMatch(/credentials/);
    expect(r.json.error.details.ack_code).toBe('SignatureDoesNotMatch');
  });

  it('answers 503 STORE_UNAVAILABLE with Retry-After when the store is down, and healthz says so', async () => {
    const down = (store: Store): Store =>
      new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === 'watchCluster' || prop === 'listPending') {
            return () => Promise.reject(new StoreUnavailable('connection refused'));
          }
          return Reflect.get(target, prop, receiver) as unknown;
        },
      });
    h = await startHarness({ wrapStore: down, healthCheck: () => () => Promise.reject(new Error('down')) });
    const r = await call(h.server.url, 'POST', '/v1/watches/clusters', { body: { cluster_id: C1 } });
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('STORE_UNAVAILABLE');
    expect(r.headers['retry-after']).toBe('2');
    expect((await call(h.server.url, 'GET', '/v1/watches')).status).toBe(503);
    const health = await call(h.server.url, 'GET', '/v1/healthz', { token: null });
    expect(health.status).toBe(503);
    expect(health.json).toMatchObject({ status: 'unavailable', store: 'unreachable' });
  });

  it('says which check was started when it could not be watched', async () => {
    const failing = (store: Store): Store =>
      new Proxy(store, {
        get(target, prop, receiver) {
          if (prop === 'watchCheck') return () => Promise.reject(new StoreUnavailable('busy'));
          return Reflect.get(target, prop, receiver) as unknown;
        },
      });
    h = await startHarness({ wrapStore: failing });
    const r = await call(h.server.url, 'POST', `/v1/clusters/${C1}/checks`, {
      body: { type: 'ClusterMigrate' },
    });
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('STORE_UNAVAILABLE');
    expect(h.sim.checkIds(C1)).toContain(r.json.error.details.check_id);
    expect(r.json.error.message).toContain(r.json.error.details.check_id);
  });

  it('answers 500 INTERNAL without details for an unexpected failure, logged with the request id', async () => {
    h = await startHarness({
      wrapService: (s) => ({
        ...s,
        listWatches: () =>
          Promise.reject(new TypeError('cannot read properties of undefined (secret-ish internals)')),
      }),
    });
    const r = await call(h.server.url, 'GET', '/v1/watches');
    expect(r.status).toBe(500);
    expect(r.json.error.code).toBe('INTERNAL');
    expect(r.json.error.details).toEqual({});
    expect(r.text).not.toContain('internals');
    const requestId = r.headers['x-request-id'];
    const line = h.logs
      .map((l) => JSON.parse(l))
      .find((l) => l.level === 'error' && l.requestId === requestId);
    expect(line?.error?.message).toContain('internals');
  });

  it('maps an unknown AppError code to 500 INTERNAL', async () => {
    h = await startHarness({
      wrapService: (s) => ({
        ...s,
        listWatches: () => Promise.reject(new AppError('SOMETHING_NEW', 'new failure')),
      }),
    });
    const r = await call(h.server.url, 'GET', '/v1/watches');
    expect(r.status).toBe(500);
    expect(r.json.error.code).toBe('INTERNAL');
  });

  it('never logs the bearer token', async () => {
    h = await startHarness();
    await call(h.server.url, 'GET', '/v1/watches');
    await call(h.server.url, 'GET', '/v1/watches', { token: `${TOKEN}x` });
    expect(h.logs.length).toBeGreaterThan(0);
    expect(h.logs.join('\n')).not.toContain(TOKEN);
  });
});
