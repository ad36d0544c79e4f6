/**
 * Property-based fuzzing of request bodies over real HTTP: whatever arrives (random JSON, wrong types,
 * huge strings, unicode, `__proto__` / `constructor` keys, bytes that are not UTF-8, wrong content
 * types), the answer is a 4xx JSON error with a stable code, the store is unchanged, ACK is never asked
 * to start a check, and Object.prototype is untouched.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { C1, call, startHarness, type Harness } from './helpers';

const ENDPOINTS = ['/v1/watches/checks', '/v1/watches/clusters', `/v1/clusters/${C1}/checks`] as const;
const KEYS = ['cluster_id', 'check_id', 'type', 'target', 'options', 'region', 'routes'] as const;

/** Values of every JSON type that no field accepts as is (no string is a valid id/type by accident). */
const wrongValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map((s) => ` ${s}`),
  fc.string({ minLength: 300, maxLength: 3000 }),
);

/** An object with plausible keys and wrong values, plus one key that is always wrong. */
const wrongObject = fc
  .tuple(
    fc.dictionary(fc.constantFrom(...KEYS), wrongValue, { minKeys: 0, maxKeys: 4 }),
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'channel_url', 'url', 'Cluster_Id', '', '🙂'),
    fc.jsonValue({ maxDepth: 2 }),
  )
  .map(([obj, key, value]) => {
    const body = JSON.stringify(obj);
    const extra = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    return body === '{}' ? `{${extra}}` : `${body.slice(0, -1)},${extra}}`;
  });

const deepNesting = fc
  .integer({ min: 100, max: 5000 })
  .map((n) => `{"cluster_id":${'['.repeat(n)}${']'.repeat(n)}}`);

const body = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  wrongObject,
  deepNesting,
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  fc.string({ minLength: 60_000, maxLength: 70_000 }).map((s) => JSON.stringify({ cluster_id: s })),
);

const contentType = fc.oneof(
  { weight: 4, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/xml',
      'application/json; charset=utf-16',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      '',
    ),
  },
);

describe('fuzzing the API bodies over HTTP', () => {
  let h: Harness;
  let before: string;
  let protoKeys: string[];

  beforeAll(async () => {
    h = await startHarness();
    h.sim.seedCheck({ clusterId: C1 });
    before = await h.snapshot();
    protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers only 4xx JSON errors, writes nothing and pollutes nothing', async () => {
    const runsBefore = h.sim.counters.RunClusterCheck;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), body, contentType, async (path, raw, type) => {
        const r = await call(h.server.url, 'POST', path, {
          raw,
          headers: type === '' ? {} : { 'content-type': type },
        });
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(typeof r.json.error.code).toBe('string');
        expect(typeof r.json.error.message).toBe('string');
        expect(r.json.error.details).toBeTypeOf('object');
        expect(['INVALID_INPUT', 'INVALID_JSON', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE']).toContain(
          r.json.error.code,
        );
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 250, seed: 20240601 },
    );
    expect(await h.snapshot()).toBe(before);
    expect(h.sim.counters.RunClusterCheck).toBe(runsBefore);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeys);
  });

  it('answers only 4xx for random query strings and path ids', async () => {
    const runsBefore = h.sim.counters.total;
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 60 }),
        fc.string({ unit: 'binary', maxLength: 60 }),
        async (a, b) => {
          const q = await call(
            h.server.url,
            'GET',
            `/v1/checks?${encodeURIComponent(a)}=${encodeURIComponent(b)}&limit=${encodeURIComponent(b)}`,
          );
          expect(q.status).toBe(400);
          const p = await call(
            h.server.url,
            'DELETE',
            `/v1/watches/checks/${encodeURIComponent(a)}/x${encodeURIComponent(b)}`,
          );
          expect([400, 404]).toContain(p.status);
        },
      ),
      { numRuns: 100, seed: 7 },
    );
    expect(await h.snapshot()).toBe(before);
    expect(h.sim.counters.total).toBe(runsBefore);
  });
});
