import { describe, expect, it } from 'vitest';
import type { CheckId, ClusterId } from '../../../lib/domain/check';
import {
  decideClaim,
  encodeJson,
  idempotencyKeyFor,
  leaseIsFree,
  mergeRoutes,
  rateGrant,
  shardOf,
} from '../../../lib/store/rules';
import type { Delivery } from '../../../lib/store/store';
import { packCheckKey, unpackCheckKey } from '../../../lib/store/tablestore';

const key = { clusterId: 'c1234567890' as ClusterId, checkId: 'k1' as CheckId, channel: 'ops' };
const delivery = (over: Partial<Delivery>): Delivery => ({
  ...key,
  state: 'claimed',
  attempts: 1,
  idempotencyKey: 'k',
  updatedAt: 0,
  version: 1,
  ...over,
});

describe('shardOf', () => {
  it('is stable across runs (FNV-1a), in range, and spreads clusters', () => {
    expect(shardOf('c0123456789abcdef0123456789abcdef', 16)).toBe(
      shardOf('c0123456789abcdef0123456789abcdef', 16),
    );
    expect(shardOf('', 16)).toBe(0x811c9dc5 % 16);
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 1600; i++) {
      const s = shardOf(`c${i.toString(16).padStart(31, '0')}`, 16);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThan(16);
      counts[s] = (counts[s] ?? 0) + 1;
    }
    expect(Math.min(...counts)).toBeGreaterThan(50);
  });
});

describe('decideClaim', () => {
  it.each([
    ['no row', undefined, 100, { claim: true }],
    ['delivered', delivery({ state: 'delivered' }), 100, { claim: false, reason: 'delivered' }],
    ['failed', delivery({ state: 'failed' }), 100, { claim: false, reason: 'failed' }],
    [
      'retry, not due',
      delivery({ state: 'retry', nextAttemptAt: 101 }),
      100,
      { claim: false, reason: 'not-due' },
    ],
    ['retry, due', delivery({ state: 'retry', nextAttemptAt: 100 }), 100, { claim: true }],
    ['live claim', delivery({ claimUntil: 101 }), 100, { claim: false, reason: 'claimed' }],
    ['expired claim', delivery({ claimUntil: 100 }), 100, { claim: true }],
  ] as const)('%s', (_name, existing, now, expected) => {
    expect(decideClaim(existing, now)).toEqual(expected);
  });
});

describe('leases, rates, routes', () => {
  it('frees a lease that is absent, released, expired or already ours', () => {
    const lease = { name: 'p', shard: -1, holder: 'A', until: 100, data: undefined, version: 3 };
    expect(leaseIsFree(undefined, 'B', 0)).toBe(true);
    expect(leaseIsFree({ ...lease, holder: '' }, 'B', 0)).toBe(true);
    expect(leaseIsFree(lease, 'B', 99)).toBe(false);
    expect(leaseIsFree(lease, 'B', 100)).toBe(true);
    expect(leaseIsFree(lease, 'A', 50)).toBe(true);
  });

  it('grants at most what is left in the window', () => {
    expect(rateGrant(0, 20, 5)).toBe(5);
    expect(rateGrant(18, 20, 5)).toBe(2);
    expect(rateGrant(25, 20, 5)).toBe(0);
  });

  it('merges routes keeping the existing order and dropping duplicates', () => {
    expect(mergeRoutes(['b', 'a'], ['a', 'c', 'c'])).toEqual(['b', 'a', 'c']);
  });

  it('derives one stable idempotency key per (check, channel)', () => {
    expect(idempotencyKeyFor(key)).toBe(idempotencyKeyFor({ ...key }));
    expect(idempotencyKeyFor(key)).not.toBe(idempotencyKeyFor({ ...key, channel: 'ops2' }));
    expect(idempotencyKeyFor(key)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('bounds opaque JSON and rejects what cannot be serialised', () => {
    expect(encodeJson('s', { a: 1 }, 100)).toBe('{"a":1}');
    expect(encodeJson('s', undefined, 100)).toBeUndefined();
    expect(() => encodeJson('s', 'x'.repeat(200), 100)).toThrow(
      expect.objectContaining({ code: 'STORE_INVALID' }),
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encodeJson('s', cyclic, 100)).toThrow(expect.objectContaining({ code: 'STORE_INVALID' }));
  });
});

describe('packed check keys', () => {
  it('drops the cluster id infix and restores it exactly', () => {
    const cluster = 'c0123456789abcdef0123456789abcdef';
    const id = `1697100584236600453-${cluster}-clustercheck-lboto`;
    const packed = packCheckKey(cluster, id);
    expect(packed).toBe('1697100584236600453~clustercheck-lboto');
    expect(unpackCheckKey(cluster, packed)).toBe(id);
    expect(unpackCheckKey(cluster, packCheckKey(cluster, 'no-infix-here'))).toBe('no-infix-here');
  });
});
