/**
 * The Store contract: the same behaviour asserted against every adapter (STYLE.md 8). Each adapter's
 * test file calls `storeContract(name, harness)`. Fault cases run when the harness can inject faults
 * (the Tablestore fake can; SQLite has no network to break).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckId, ClusterId } from '../../lib/domain/check';
import {
  StoreError,
  type CheckState,
  type Delivery,
  type PendingChange,
  type Store,
} from '../../lib/store/store';
import { idempotencyKeyFor, shardOf } from '../../lib/store/rules';

export interface FaultControl {
  inject(f: {
    kind: 'busy' | 'conflict' | 'timeoutAfterWrite' | 'reset' | 'latency';
    operation?: string;
    next?: number;
    rate?: number;
  }): () => void;
  clear(): void;
}

export interface StoreHarness {
  /** Registers the fault cases (the harness's `create` then returns `faults`). */
  readonly faultsSupported?: boolean;
  /** A fresh, empty store (schema ready). */
  create(): Promise<{ store: Store; shards: number; faults?: FaultControl }>;
  /** Cleans up after one test. */
  dispose?(): Promise<void>;
}

const T0 = 1_700_000_000_000;
const cid = (n: number): ClusterId => `c${String(n).padStart(8, '0')}abcdef` as ClusterId;
const kid = (n: number, c = 0): CheckId =>
  `1697100584236600${String(n).padStart(3, '0')}-${cid(c)}-clustercheck-x` as CheckId;

function checkState(clusterId: ClusterId, checkId: CheckId, over: Partial<CheckState> = {}): CheckState {
  return {
    clusterId,
    checkId,
    region: 'cn-hangzhou',
    routes: ['ops'],
    source: 'watch',
    status: 'Running',
    message: '',
    type: 'ClusterUpgrade',
    target: '',
    createdAt: '2023-10-16T08:31:20.292030178Z',
    finishedAt: '',
    watchedAt: T0,
    lastChangeAt: T0,
    dispatchCount: 0,
    ...over,
  };
}

function errorCode(err: unknown): string | undefined {
  return err instanceof StoreError ? err.code : undefined;
}

export function storeContract(name: string, harness: StoreHarness): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let shards: number;
    let faults: FaultControl | undefined;

    beforeEach(async () => {
      const h = await harness.create();
      store = h.store;
      shards = h.shards;
      faults = h.faults;
    });
    afterEach(async () => {
      faults?.clear();
      await store.close();
      await harness.dispose?.();
    });

    describe('checks and versions', () => {
      it('creates a watched check at version 1 and reads it back from the pending set', async () => {
        const r = await store.watchCheck(
          {
            clusterId: cid(1),
            checkId: kid(1, 1),
            region: 'cn-beijing',
            routes: ['ops', 'ops'],
            source: 'run',
          },
          T0,
        );
        expect(r.created).toBe(true);
        expect(r.check.version).toBe(1);
        const pending = await store.listPending();
        expect(pending.checks).toHaveLength(1);
        expect(pending.checks[0]).toMatchObject({
          clusterId: cid(1),
          checkId: kid(1, 1),
          region: 'cn-beijing',
          routes: ['ops'],
          source: 'run',
          status: '',
          watchedAt: T0,
          lastChangeAt: T0,
          dispatchCount: 0,
          version: 1,
        });
        expect(pending.checks[0]?.outcome).toBeUndefined();
      });

      it('keeps one row and merges routes when the same check is watched twice', async () => {
        const input = {
          clusterId: cid(1),
          checkId: kid(1, 1),
          region: 'cn-beijing',
          routes: ['a'],
          source: 'watch',
        } as const;
        await store.watchCheck(input, T0);
        const again = await store.watchCheck({ ...input, routes: ['b', 'a'] }, T0 + 5);
        expect(again.created).toBe(false);
        expect(again.check.routes).toEqual(['a', 'b']);
        expect(again.check.watchedAt).toBe(T0);
        const same = await store.watchCheck({ ...input, routes: ['a'] }, T0 + 9);
        expect(same.check.version).toBe(again.check.version);
        const pending = await store.listPending();
        expect(pending.checks).toHaveLength(1);
        expect(pending.checks[0]?.routes).toEqual(['a', 'b']);
      });

      it('updates a row only against the version it read, and bumps the version by one', async () => {
        const c = checkState(cid(2), kid(2, 2));
        const [created] = await store.applyChanges([{ kind: 'putCheck', check: c, expectedVersion: 0 }]);
        expect(created).toEqual({ ok: true, version: 1 });
        const [updated] = await store.applyChanges([
          { kind: 'putCheck', check: { ...c, status: 'Succeeded', outcome: 'passed' }, expectedVersion: 1 },
        ]);
        expect(updated).toEqual({ ok: true, version: 2 });
        const [stale] = await store.applyChanges([
          { kind: 'putCheck', check: { ...c, status: 'Failed' }, expectedVersion: 1 },
        ]);
        expect(stale?.ok).toBe(false);
        expect(stale && !stale.ok ? stale.error.code : undefined).toBe('STORE_CONFLICT');
        const [dup] = await store.applyChanges([{ kind: 'putCheck', check: c, expectedVersion: 0 }]);
        expect(dup && !dup.ok ? dup.error.code : undefined).toBe('STORE_CONFLICT');
        const pending = await store.listPending();
        expect(pending.checks[0]).toMatchObject({ status: 'Succeeded', outcome: 'passed', version: 2 });
      });

      it('returns per-row results in order when some rows of a batch conflict', async () => {
        const a = checkState(cid(3), kid(1, 3));
        const b = checkState(cid(3), kid(2, 3));
        await store.applyChanges([{ kind: 'putCheck', check: a, expectedVersion: 0 }]);
        const results = await store.applyChanges([
          { kind: 'putCheck', check: a, expectedVersion: 0 },
          { kind: 'putCheck', check: b, expectedVersion: 0 },
          { kind: 'putCheck', check: { ...a, message: 'x' }, expectedVersion: 1 },
        ]);
        expect(results.map((r) => r.ok)).toEqual([false, true, true]);
        expect(results[2]).toEqual({ ok: true, version: 2 });
      });

      it('keeps the summary when a later write omits it, and leaves it out of the pending read', async () => {
        const c = checkState(cid(4), kid(1, 4));
        const summary = { failed: [{ name: 'NodePool', reason: 'disk' }], passed: 12 };
        await store.applyChanges([
          {
            kind: 'putCheck',
            check: { ...c, outcome: 'failed', status: 'Failed' },
            summary,
            expectedVersion: 0,
          },
        ]);
        await store.applyChanges([
          {
            kind: 'putCheck',
            check: { ...c, outcome: 'failed', status: 'Failed', dispatchCount: 1, dispatchedAt: T0 + 1 },
            expectedVersion: 1,
          },
        ]);
        const pending = await store.listPending();
        expect(pending.checks[0]).not.toHaveProperty('summary');
        expect(pending.checks[0]?.dispatchedAt).toBe(T0 + 1);
        const view = await store.getCheck(c.clusterId, c.checkId);
        expect(view?.where).toBe('pending');
        expect(view?.check.summary).toEqual(summary);
      });

      it('deletes a row only at the version it read', async () => {
        const c = checkState(cid(5), kid(1, 5));
        await store.applyChanges([{ kind: 'putCheck', check: c, expectedVersion: 0 }]);
        const [stale] = await store.applyChanges([
          { kind: 'deleteCheck', clusterId: c.clusterId, checkId: c.checkId, expectedVersion: 7 },
        ]);
        expect(stale?.ok).toBe(false);
        const [ok] = await store.applyChanges([
          { kind: 'deleteCheck', clusterId: c.clusterId, checkId: c.checkId, expectedVersion: 1 },
        ]);
        expect(ok).toEqual({ ok: true, version: 0 });
        expect((await store.listPending()).checks).toHaveLength(0);
      });

      it('lets exactly one of several writers racing on one check win', async () => {
        const c = checkState(cid(6), kid(1, 6));
        await store.applyChanges([{ kind: 'putCheck', check: c, expectedVersion: 0 }]);
        const writers = Array.from({ length: 8 }, (_, i) =>
          store.applyChanges([
            { kind: 'putCheck', check: { ...c, message: `writer ${i}` }, expectedVersion: 1 },
          ]),
        );
        const results = (await Promise.all(writers)).map((r) => r[0]);
        const winners = results.filter((r) => r?.ok);
        expect(winners).toHaveLength(1);
        expect(results.filter((r) => r && !r.ok && r.error.code === 'STORE_CONFLICT')).toHaveLength(7);
        const pending = await store.listPending();
        expect(pending.checks[0]?.version).toBe(2);
        expect(pending.checks[0]?.message).toMatch(/^writer \d$/);
      });

      it('rejects bad input with STORE_INVALID and changes nothing', async () => {
        const bad = checkState('NOT A CLUSTER' as ClusterId, kid(1));
        const [r] = await store.applyChanges([{ kind: 'putCheck', check: bad, expectedVersion: 0 }]);
        expect(r && !r.ok ? r.error.code : undefined).toBe('STORE_INVALID');
        const tooBig = checkState(cid(7), kid(1, 7));
        const [r2] = await store.applyChanges([
          { kind: 'putCheck', check: tooBig, summary: 'x'.repeat(200_000), expectedVersion: 0 },
        ]);
        expect(r2 && !r2.ok ? r2.error.code : undefined).toBe('STORE_INVALID');
        await expect(
          store.watchCheck(
            { clusterId: cid(7), checkId: '../etc' as CheckId, region: 'r', routes: [], source: 'watch' },
            T0,
          ),
        ).rejects.toMatchObject({ code: 'STORE_INVALID' });
        expect((await store.listPending()).checks).toHaveLength(0);
      });
    });

    describe('cluster watches and scopes', () => {
      it('stores cluster watches with their baseline and reads a shard or a cluster alone', async () => {
        const r = await store.watchCluster(
          { clusterId: cid(10), region: 'cn-shanghai', routes: ['ops'], baseline: [kid(1, 10), kid(2, 10)] },
          T0,
        );
        expect(r.created).toBe(true);
        const again = await store.watchCluster(
          { clusterId: cid(10), region: 'cn-shanghai', routes: ['dev'], baseline: [] },
          T0 + 1,
        );
        expect(again.created).toBe(false);
        expect(again.cluster.routes).toEqual(['ops', 'dev']);
        expect(again.cluster.baseline).toEqual([kid(1, 10), kid(2, 10)]);
        await store.applyChanges([
          {
            kind: 'putCheck',
            check: checkState(cid(10), kid(3, 10), { source: 'cluster' }),
            expectedVersion: 0,
          },
          { kind: 'putCheck', check: checkState(cid(11), kid(1, 11)), expectedVersion: 0 },
        ]);
        const byCluster = await store.listPending({ clusterId: cid(10) });
        expect(byCluster.checks.map((c) => c.checkId)).toEqual([kid(3, 10)]);
        expect(byCluster.clusters.map((c) => c.clusterId)).toEqual([cid(10)]);
        const shard = shardOf(cid(11), shards);
        const byShard = await store.listPending({ shard });
        expect(byShard.checks.map((c) => c.checkId)).toContain(kid(1, 11));
        for (const c of byShard.checks) expect(shardOf(c.clusterId, shards)).toBe(shard);
        expect(await store.unwatchCluster(cid(10))).toBe(true);
        expect(await store.unwatchCluster(cid(10))).toBe(false);
        expect((await store.listPending()).clusters).toHaveLength(0);
      });

      it('updates a cluster watch conditionally', async () => {
        const { cluster } = await store.watchCluster(
          { clusterId: cid(12), region: 'r', routes: [], baseline: [] },
          T0,
        );
        const { version: _v, ...state } = cluster;
        const [ok] = await store.applyChanges([
          {
            kind: 'putCluster',
            cluster: { ...state, lastListedAt: T0 + 60_000, baseline: ['x1'] },
            expectedVersion: 1,
          },
        ]);
        expect(ok).toEqual({ ok: true, version: 2 });
        const [stale] = await store.applyChanges([
          { kind: 'putCluster', cluster: state, expectedVersion: 1 },
        ]);
        expect(stale?.ok).toBe(false);
        const pending = await store.listPending();
        expect(pending.clusters[0]).toMatchObject({
          lastListedAt: T0 + 60_000,
          baseline: ['x1'],
          version: 2,
        });
      });

      it('reads a pending set of more than 5000 entries completely (paging)', async () => {
        const total = 5300;
        const changes: PendingChange[] = [];
        for (let i = 0; i < total; i++) {
          changes.push({
            kind: 'putCheck',
            check: checkState(cid(100 + (i % 97)), kid(i, 100 + (i % 97))),
            expectedVersion: 0,
          });
        }
        const results = await store.applyChanges(changes);
        expect(results.filter((r) => r.ok)).toHaveLength(total);
        const pending = await store.listPending();
        expect(pending.checks).toHaveLength(total);
        expect(new Set(pending.checks.map((c) => `${c.clusterId}/${c.checkId}`)).size).toBe(total);
        let sum = 0;
        for (let s = 0; s < shards; s++) sum += (await store.listPending({ shard: s })).checks.length;
        expect(sum).toBe(total);
      });
    });

    describe('leases', () => {
      it('acquires, refuses a second holder, renews, and lets another steal only after expiry', async () => {
        const a = await store.acquireLease('poller', 'A', 10_000, T0);
        expect(a.acquired).toBe(true);
        if (!a.acquired) return;
        expect(a.previousData).toBeUndefined();
        const b = await store.acquireLease('poller', 'B', 10_000, T0 + 5_000);
        expect(b).toEqual({ acquired: false, holder: 'A', until: T0 + 10_000 });
        const renewed = await store.renewLease(a.lease, 10_000, T0 + 6_000);
        expect(renewed.until).toBe(T0 + 16_000);
        const early = await store.acquireLease('poller', 'B', 10_000, T0 + 15_000);
        expect(early.acquired).toBe(false);
        const stolen = await store.acquireLease('poller', 'B', 10_000, T0 + 16_000);
        expect(stolen.acquired).toBe(true);
        await expect(store.renewLease(renewed, 10_000, T0 + 16_500)).rejects.toMatchObject({
          code: 'STORE_CONFLICT',
        });
        expect(await store.releaseLease(renewed, { cycleAt: 1 }, T0 + 16_600)).toBe(false);
      });

      it('hands the data left at release to the next holder', async () => {
        const a = await store.acquireLease('poller', 'A', 10_000, T0);
        if (!a.acquired) throw new Error('expected lease');
        expect(await store.releaseLease(a.lease, { cycleAt: T0 + 100 }, T0 + 200)).toBe(true);
        const b = await store.acquireLease('poller', 'B', 10_000, T0 + 300);
        expect(b.acquired && b.previousData).toEqual({ cycleAt: T0 + 100 });
        const read = await store.readLease('poller');
        expect(read).toMatchObject({ holder: 'B', until: T0 + 10_300, data: { cycleAt: T0 + 100 } });
      });

      it('returns lease rows with the pending set and acquires against what was read', async () => {
        const first = await store.acquireLease('poller', 'A', 1_000, T0);
        if (!first.acquired) throw new Error('expected lease');
        await store.releaseLease(first.lease, { cycleAt: T0 }, T0 + 10);
        const shardLease = await store.acquireLease('poller/3', 'S', 1_000, T0, { shard: 3 % shards });
        expect(shardLease.acquired).toBe(true);
        const all = await store.listPending();
        expect(all.leases.map((l) => l.name).sort()).toEqual(['poller', 'poller/3']);
        const seen = all.leases.find((l) => l.name === 'poller');
        expect(seen?.data).toEqual({ cycleAt: T0 });
        const shardRead = await store.listPending({ shard: 3 % shards });
        expect(shardRead.leases.map((l) => l.name)).toEqual(['poller/3']);
        const got = await store.acquireLease('poller', 'B', 1_000, T0 + 20, { seen: seen ?? null });
        expect(got.acquired && got.previousData).toEqual({ cycleAt: T0 });
        // A second caller holding the same (now stale) read must not also get it.
        const late = await store.acquireLease('poller', 'C', 1_000, T0 + 30, { seen: seen ?? null });
        expect(late).toEqual({ acquired: false, holder: 'B', until: T0 + 1_020 });
      });

      it('gives the lease to exactly one of many concurrent acquirers', async () => {
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) => store.acquireLease('race', `h${i}`, 5_000, T0)),
        );
        expect(results.filter((r) => r.acquired)).toHaveLength(1);
      });
    });

    describe('deliveries', () => {
      const key = { clusterId: cid(20), checkId: kid(1, 20), channel: 'dingtalk-ops' };

      it('is claimed by exactly one of many concurrent notifiers', async () => {
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => store.claimDelivery(key, `n${i}`, 30_000, T0)),
        );
        const winners = results.filter((r) => r.claimed);
        expect(winners).toHaveLength(1);
        for (const r of results) if (!r.claimed) expect(r.reason).toBe('claimed');
        expect(winners[0]?.delivery).toMatchObject({
          state: 'claimed',
          attempts: 1,
          idempotencyKey: idempotencyKeyFor(key),
        });
      });

      it('never claims a delivered or permanently failed delivery again', async () => {
        const c = await store.claimDelivery(key, 'n1', 30_000, T0);
        if (!c.claimed) throw new Error('expected claim');
        const done = await store.finishDelivery(c.delivery, { state: 'delivered', sentAt: T0 + 5 }, T0 + 5);
        expect(done).toMatchObject({ state: 'delivered', sentAt: T0 + 5, version: 2 });
        const again = await store.claimDelivery(key, 'n2', 30_000, T0 + 10 ** 9);
        expect(again).toMatchObject({ claimed: false, reason: 'delivered' });
        const k2 = { ...key, channel: 'slack' };
        const c2 = await store.claimDelivery(k2, 'n1', 30_000, T0);
        if (!c2.claimed) throw new Error('expected claim');
        await store.finishDelivery(
          c2.delivery,
          { state: 'failed', lastError: 'errcode 310000 keywords not in content' },
          T0,
        );
        const again2 = await store.claimDelivery(k2, 'n2', 30_000, T0 + 10 ** 9);
        expect(again2).toMatchObject({
          claimed: false,
          reason: 'failed',
          delivery: { lastError: 'errcode 310000 keywords not in content' },
        });
      });

      it('reclaims a retry only when due, keeping the idempotency key and counting attempts', async () => {
        const c = await store.claimDelivery(key, 'n1', 30_000, T0);
        if (!c.claimed) throw new Error('expected claim');
        await store.finishDelivery(
          c.delivery,
          { state: 'retry', lastError: '429', nextAttemptAt: T0 + 60_000 },
          T0 + 1,
        );
        expect(await store.claimDelivery(key, 'n2', 30_000, T0 + 59_999)).toMatchObject({
          claimed: false,
          reason: 'not-due',
        });
        const again = await store.claimDelivery(key, 'n2', 30_000, T0 + 60_000);
        expect(again.claimed).toBe(true);
        expect(again.delivery).toMatchObject({
          attempts: 2,
          claimedBy: 'n2',
          idempotencyKey: c.delivery.idempotencyKey,
        });
      });

      it('keeps a delivery uncertain across retries until it is delivered', async () => {
        const read = async (): Promise<Delivery | undefined> =>
          (await store.listDeliveries(key.clusterId, key.checkId)).find((d) => d.channel === key.channel);
        const c1 = await store.claimDelivery(key, 'n1', 30_000, T0);
        if (!c1.claimed) throw new Error('expected claim');
        expect(c1.delivery.uncertain).toBeUndefined();
        // A plain retry does not make it uncertain.
        await store.finishDelivery(
          c1.delivery,
          { state: 'retry', lastError: 'HTTP 503', nextAttemptAt: T0 },
          T0,
        );
        expect((await read())?.uncertain).toBeUndefined();
        const c2 = await store.claimDelivery(key, 'n1', 30_000, T0 + 1);
        if (!c2.claimed) throw new Error('expected claim');
        const r2 = await store.finishDelivery(
          c2.delivery,
          { state: 'retry', lastError: 'timed out', nextAttemptAt: T0 + 1, uncertain: true },
          T0 + 1,
        );
        expect(r2.uncertain).toBe(true);
        expect(await read()).toMatchObject({ state: 'retry', uncertain: true });
        // The claim carries it, and a later retry that does not mention it keeps it.
        const c3 = await store.claimDelivery(key, 'n2', 30_000, T0 + 2);
        if (!c3.claimed) throw new Error('expected claim');
        expect(c3.delivery).toMatchObject({ state: 'claimed', uncertain: true });
        expect(await read()).toMatchObject({ state: 'claimed', uncertain: true });
        await store.finishDelivery(
          c3.delivery,
          { state: 'retry', lastError: 'rate limited', nextAttemptAt: T0 + 2 },
          T0 + 2,
        );
        expect(await read()).toMatchObject({ state: 'retry', uncertain: true, lastError: 'rate limited' });
        await store.applyChanges([
          { kind: 'putCheck', check: checkState(key.clusterId, key.checkId), expectedVersion: 0 },
        ]);
        const view = await store.getCheck(key.clusterId, key.checkId);
        expect(view?.deliveries.find((d) => d.channel === key.channel)?.uncertain).toBe(true);
        // Delivered settles it.
        const c4 = await store.claimDelivery(key, 'n2', 30_000, T0 + 3);
        if (!c4.claimed) throw new Error('expected claim');
        expect(c4.delivery.uncertain).toBe(true);
        const done = await store.finishDelivery(c4.delivery, { state: 'delivered', sentAt: T0 + 4 }, T0 + 4);
        expect(done.uncertain).toBeUndefined();
        expect(await read()).toMatchObject({ state: 'delivered', attempts: 4 });
        expect((await read())?.uncertain).toBeUndefined();
        // So does failed.
        const k2 = { ...key, channel: 'slack' };
        const f1 = await store.claimDelivery(k2, 'n1', 30_000, T0);
        if (!f1.claimed) throw new Error('expected claim');
        await store.finishDelivery(
          f1.delivery,
          { state: 'retry', lastError: 'reset', nextAttemptAt: T0, uncertain: true },
          T0,
        );
        const f2 = await store.claimDelivery(k2, 'n1', 30_000, T0 + 1);
        if (!f2.claimed) throw new Error('expected claim');
        await store.finishDelivery(f2.delivery, { state: 'failed', lastError: 'errcode 93000' }, T0 + 1);
        const failed = (await store.listDeliveries(k2.clusterId, k2.checkId)).find(
          (d) => d.channel === 'slack',
        );
        expect(failed?.state).toBe('failed');
        expect(failed?.uncertain).toBeUndefined();
      });

      it('keeps the digest an uncertain delivery went out in across claims and retries until it is delivered', async () => {
        const read = async (): Promise<Delivery | undefined> =>
          (await store.listDeliveries(key.clusterId, key.checkId)).find((d) => d.channel === key.channel);
        const digestOf = [`${key.clusterId}/${key.checkId}`, `${key.clusterId}/1700000000000000009-other`];
        const c1 = await store.claimDelivery(key, 'n1', 30_000, T0);
        if (!c1.claimed) throw new Error('expected claim');
        expect(c1.delivery.digestKey).toBeUndefined();
        const r1 = await store.finishDelivery(
          c1.delivery,
          {
            state: 'retry',
            lastError: 'timed out',
            nextAttemptAt: T0,
            uncertain: true,
            digestKey: 'dgabc123',
            digestOf,
          },
          T0,
        );
        expect(r1).toMatchObject({ uncertain: true, digestKey: 'dgabc123', digestOf });
        expect(await read()).toMatchObject({ state: 'retry', digestKey: 'dgabc123', digestOf });
        // The claim carries it, and a retry that does not mention it (a rate-limit wait) keeps it.
        const c2 = await store.claimDelivery(key, 'n2', 30_000, T0 + 1);
        if (!c2.claimed) throw new Error('expected claim');
        expect(c2.delivery).toMatchObject({ uncertain: true, digestKey: 'dgabc123', digestOf });
        await store.finishDelivery(
          c2.delivery,
          { state: 'retry', lastError: 'rate limited', nextAttemptAt: T0 + 1 },
          T0 + 1,
        );
        expect(await read()).toMatchObject({ uncertain: true, digestKey: 'dgabc123', digestOf });
        // Delivered settles it.
        const c3 = await store.claimDelivery(key, 'n2', 30_000, T0 + 2);
        if (!c3.claimed) throw new Error('expected claim');
        const done = await store.finishDelivery(c3.delivery, { state: 'delivered', sentAt: T0 + 3 }, T0 + 3);
        expect(done.digestKey).toBeUndefined();
        const settled = await read();
        expect(settled?.state).toBe('delivered');
        expect(settled?.digestKey).toBeUndefined();
        expect(settled?.digestOf).toBeUndefined();
        // So does failed.
        const k2 = { ...key, channel: 'slack' };
        const f1 = await store.claimDelivery(k2, 'n1', 30_000, T0);
        if (!f1.claimed) throw new Error('expected claim');
        await store.finishDelivery(
          f1.delivery,
          {
            state: 'retry',
            lastError: 'reset',
            nextAttemptAt: T0,
            uncertain: true,
            digestKey: 'dgx',
            digestOf,
          },
          T0,
        );
        const f2 = await store.claimDelivery(k2, 'n1', 30_000, T0 + 1);
        if (!f2.claimed) throw new Error('expected claim');
        expect(f2.delivery.digestKey).toBe('dgx');
        await store.finishDelivery(f2.delivery, { state: 'failed', lastError: 'errcode 93000' }, T0 + 1);
        const failed = (await store.listDeliveries(k2.clusterId, k2.checkId)).find(
          (d) => d.channel === 'slack',
        );
        expect(failed?.state).toBe('failed');
        expect(failed?.digestKey).toBeUndefined();
        expect(failed?.digestOf).toBeUndefined();
      });

      it('lets a stale claim be taken over and refuses the stale claimant’s result', async () => {
        const c = await store.claimDelivery(key, 'crashed', 30_000, T0);
        if (!c.claimed) throw new Error('expected claim');
        expect((await store.claimDelivery(key, 'n2', 30_000, T0 + 29_999)).claimed).toBe(false);
        const taken = await store.claimDelivery(key, 'n2', 30_000, T0 + 30_000);
        expect(taken.claimed).toBe(true);
        await expect(
          store.finishDelivery(c.delivery, { state: 'delivered', sentAt: T0 + 30_001 }, T0 + 30_001),
        ).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
        const list = await store.listDeliveries(key.clusterId, key.checkId);
        expect(list).toHaveLength(1);
        expect(list[0]).toMatchObject({ state: 'claimed', claimedBy: 'n2' });
      });
    });

    describe('archive and the API reads', () => {
      it('archives a delivered check to history with its summary and deliveries', async () => {
        const c = checkState(cid(30), kid(1, 30), {
          status: 'Succeeded',
          outcome: 'passed',
          finishedAt: '2023-10-16T08:40:00Z',
        });
        await store.applyChanges([{ kind: 'putCheck', check: c, summary: { ok: 3 }, expectedVersion: 0 }]);
        const claim = await store.claimDelivery(
          { clusterId: c.clusterId, checkId: c.checkId, channel: 'ops' },
          'n',
          1000,
          T0,
        );
        if (!claim.claimed) throw new Error('expected claim');
        await store.finishDelivery(claim.delivery, { state: 'delivered', sentAt: T0 + 1 }, T0 + 1);
        const archived = await store.archiveCheck(c.clusterId, c.checkId, T0 + 2);
        expect(archived).toMatchObject({ outcome: 'passed', summary: { ok: 3 }, archivedAt: T0 + 2 });
        expect(await store.archiveCheck(c.clusterId, c.checkId, T0 + 3)).toBeUndefined();
        expect((await store.listPending()).checks).toHaveLength(0);
        const view = await store.getCheck(c.clusterId, c.checkId);
        expect(view).toMatchObject({ where: 'history', check: { status: 'Succeeded', summary: { ok: 3 } } });
        expect(view?.deliveries.map((d) => d.state)).toEqual(['delivered']);
        expect(await store.getCheck(c.clusterId, kid(9, 30))).toBeUndefined();
      });

      it('lists checks from pending and history with filters and a limit', async () => {
        const changes: PendingChange[] = [];
        for (let i = 0; i < 6; i++) {
          const outcome = i % 2 === 0 ? 'passed' : undefined;
          changes.push({
            kind: 'putCheck',
            check: checkState(cid(40), kid(i, 40), outcome ? { outcome, status: 'Succeeded' } : {}),
            expectedVersion: 0,
          });
        }
        changes.push({ kind: 'putCheck', check: checkState(cid(41), kid(0, 41)), expectedVersion: 0 });
        await store.applyChanges(changes);
        await store.archiveCheck(cid(40), kid(0, 40), T0);
        expect(await store.listChecks({ clusterId: cid(40) })).toHaveLength(6);
        expect(await store.listChecks({ clusterId: cid(40), where: 'history' })).toHaveLength(1);
        expect(await store.listChecks({ clusterId: cid(40), where: 'pending' })).toHaveLength(5);
        expect(await store.listChecks({ outcome: 'passed' })).toHaveLength(3);
        expect(await store.listChecks({ status: 'running' })).toHaveLength(4);
        expect(await store.listChecks({ limit: 2 })).toHaveLength(2);
        expect(await store.unwatchCheck(cid(41), kid(0, 41))).toBe(true);
        expect(await store.unwatchCheck(cid(41), kid(0, 41))).toBe(false);
      });
    });

    describe('rate windows', () => {
      it('grants no more than the limit across concurrent takers', async () => {
        const grants = await Promise.all(
          Array.from({ length: 10 }, () =>
            store.takeRateTokens('dingtalk-ops', 'm:28333333', 6, 1, 60_000, T0),
          ),
        );
        expect(grants.reduce((a, b) => a + b, 0)).toBe(6);
        expect(await store.takeRateTokens('dingtalk-ops', 'm:28333334', 6, 4, 60_000, T0 + 60_000)).toBe(4);
        expect(await store.takeRateTokens('dingtalk-ops', 'm:28333334', 6, 4, 60_000, T0 + 60_001)).toBe(2);
      });
    });

    if (harness.faultsSupported === true)
      describe('faults', () => {
        const requireFaults = (): FaultControl => {
          if (faults === undefined) throw new Error('harness without faults');
          return faults;
        };

        it('retries a busy batch write and applies every row exactly once', async () => {
          const f = requireFaults();
          f.inject({ kind: 'busy', operation: 'BatchWriteRow', next: 2 });
          const changes: PendingChange[] = Array.from({ length: 250 }, (_, i) => ({
            kind: 'putCheck' as const,
            check: checkState(cid(50), kid(i, 50)),
            expectedVersion: 0,
          }));
          const results = await store.applyChanges(changes);
          expect(results.every((r) => r.ok && r.version === 1)).toBe(true);
          expect((await store.listPending()).checks).toHaveLength(250);
        });

        it('treats a batch write that timed out after applying as applied, not as a conflict', async () => {
          const f = requireFaults();
          const c = checkState(cid(51), kid(1, 51));
          await store.applyChanges([{ kind: 'putCheck', check: c, expectedVersion: 0 }]);
          f.inject({ kind: 'timeoutAfterWrite', operation: 'BatchWriteRow', next: 1 });
          const [r] = await store.applyChanges([
            { kind: 'putCheck', check: { ...c, message: 'moved' }, expectedVersion: 1 },
          ]);
          expect(r).toEqual({ ok: true, version: 2 });
          const pending = await store.listPending();
          expect(pending.checks[0]).toMatchObject({ message: 'moved', version: 2 });
        });

        it('claims a delivery once even when the claim write times out after applying', async () => {
          const f = requireFaults();
          const key = { clusterId: cid(52), checkId: kid(1, 52), channel: 'ops' };
          f.inject({ kind: 'timeoutAfterWrite', next: 1, operation: 'PutRow' });
          f.inject({ kind: 'timeoutAfterWrite', next: 1, operation: 'UpdateRow' });
          const c = await store.claimDelivery(key, 'n1', 30_000, T0);
          expect(c.claimed).toBe(true);
          expect(c.delivery).toMatchObject({ attempts: 1, version: 1, claimedBy: 'n1' });
          const again = await store.claimDelivery(key, 'n2', 30_000, T0 + 1);
          expect(again).toMatchObject({ claimed: false, reason: 'claimed' });
        });

        it('recovers from connection resets and row-operation conflicts on reads and writes', async () => {
          const f = requireFaults();
          f.inject({ kind: 'reset', next: 1 });
          f.inject({ kind: 'conflict', next: 1, operation: 'BatchWriteRow' });
          const r = await store.watchCheck(
            { clusterId: cid(53), checkId: kid(1, 53), region: 'r', routes: ['x'], source: 'watch' },
            T0,
          );
          expect(r.check.version).toBe(1);
          await store.applyChanges([
            { kind: 'putCheck', check: checkState(cid(53), kid(2, 53)), expectedVersion: 0 },
          ]);
          f.inject({ kind: 'reset', next: 1, operation: 'GetRange' });
          expect((await store.listPending()).checks).toHaveLength(2);
        });

        it('surfaces a persistent outage as a retryable STORE_UNAVAILABLE and loses nothing written before', async () => {
          const f = requireFaults();
          await store.watchCheck(
            { clusterId: cid(54), checkId: kid(1, 54), region: 'r', routes: [], source: 'watch' },
            T0,
          );
          const remove = f.inject({ kind: 'busy' });
          const err = await store.listPending().catch((e: unknown) => e);
          expect(errorCode(err)).toBe('STORE_UNAVAILABLE');
          expect((err as StoreError).retryable).toBe(true);
          const [w] = await store.applyChanges([
            { kind: 'putCheck', check: checkState(cid(54), kid(2, 54)), expectedVersion: 0 },
          ]);
          expect(w && !w.ok ? w.error.code : undefined).toBe('STORE_UNAVAILABLE');
          remove();
          const pending = await store.listPending();
          expect(pending.checks.map((c) => c.checkId)).toEqual([kid(1, 54)]);
        });
      });
  });
}
