/**
 * The poll use case end to end against the ACK simulator, a real store and a real dispatcher — once
 * with SQLite + inline dispatch, once with the Tablestore adapter over the Tablestore fake + FC dispatch
 * over the FC fake. One cycle at a time (`loop: false`) unless a test is about the loop.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckId, ClusterId } from '../../../lib/domain/check';
import { runPoller, type PollRunResult } from '../../../lib/poll/cycle';
import type { PendingCheck } from '../../../lib/store/store';
import { FakeClock } from '../../support/fake-clock';
import { newClusterId, seed, startBench, VARIANTS, type Bench } from './helpers';

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

async function pendingCheck(
  b: Bench,
  clusterId: ClusterId,
  checkId: CheckId,
): Promise<PendingCheck | undefined> {
  const set = await b.store.listPending({ clusterId });
  return set.checks.find((c) => c.checkId === checkId);
}

describe.each(VARIANTS)('poll cycle (%s)', (variant) => {
  it('records progress, then reports a passed check once with its check_items summary', async () => {
    const clock = new FakeClock(Date.now());
    const b = (bench = await startBench(variant, { clock }));
    const cluster = newClusterId();
    const checkId = seed(b.sim, cluster, {
      checkItems: {
        Nodes: [
          { Group: 'Node', Level: { error: { Message: 'disk full', Targets: [{ Target: 'node-1' }] } } },
        ],
      },
    });
    await b.watch({ clusterId: cluster, checkId });

    const first = await runPoller(b.deps(), b.settings());
    expect(first.totals.progressed).toBe(1);
    expect((await pendingCheck(b, cluster, checkId))?.status).toBe('Running');

    b.sim.finishCheck(cluster, checkId, 'Succeeded');
    await clock.advance(1_000);
    const second = await runPoller(b.deps(), b.settings());
    expect(second.totals.finished).toBe(1);
    expect(second.totals.dispatched).toBe(1);

    const view = await b.store.getCheck(cluster, checkId);
    expect(view?.check.outcome).toBe('passed');
    expect(view?.check.status).toBe('Succeeded');
    expect(JSON.stringify(view?.check.summary)).toContain('disk full');
    expect(await b.notified()).toEqual([expect.objectContaining({ clusterId: cluster, checkId })]);

    // A later cycle does not report it again (it is an outbox entry now, not yet overdue).
    await clock.advance(1_000);
    const third = await runPoller(b.deps(), b.settings());
    expect(third.totals.dispatched + third.totals.redispatched).toBe(0);
    expect(await b.notified()).toHaveLength(1);
  });

  it('reports a failed check as failed', async () => {
    const b = (bench = await startBench(variant, { clock: new FakeClock(Date.now()) }));
    const cluster = newClusterId();
    const checkId = seed(b.sim, cluster);
    b.sim.finishCheck(cluster, checkId, 'Failed');
    await b.watch({ clusterId: cluster, checkId });

    const r = await runPoller(b.deps(), b.settings());
    expect(r.totals.finished).toBe(1);
    expect((await b.store.getCheck(cluster, checkId))?.check.outcome).toBe('failed');
    expect(await b.notified()).toHaveLength(1);
  });

  it('reports a check that ACK no longer knows (404 on GetClusterCheck) as vanished', async () => {
    const b = (bench = await startBench(variant, { clock: new FakeClock(Date.now()) }));
    const cluster = newClusterId();
    const checkId = seed(b.sim, cluster);
    await b.watch({ clusterId: cluster, checkId });
    b.sim.removeCheck(cluster, checkId);

    const r = await runPoller(b.deps(), b.settings());
    expect(r.totals.vanished).toBe(1);
    expect((await b.store.getCheck(cluster, checkId))?.check.outcome).toBe('vanished');
    expect(await b.notified()).toHaveLength(1);
  });

  it('gives up on a check still running after the maximum age, and says so once', async () => {
    const b = (bench = await startBench(variant, { clock: new FakeClock(Date.now()) }));
    const cluster = newClusterId();
    const checkId = seed(b.sim, cluster, { createdAt: Date.now() - 60_000 });
    await b.watch({ clusterId: cluster, checkId });

    const r = await runPoller(b.deps(), b.settings({ maxAgeMs: 30_000 }));
    expect(r.totals.gaveUp).toBe(1);
    const row = (await b.store.getCheck(cluster, checkId))?.check;
    expect(row?.outcome).toBe('gave_up');
    expect(row?.status).toBe('Running');
    expect(await b.notified()).toHaveLength(1);
  });

  it('asks ACK once per cluster (List) and once per finished check (Get): 3 clusters × 4 checks', async () => {
    const b = (bench = await startBench(variant, { clock: new FakeClock(Date.now()) }));
    const clusters = [newClusterId(), newClusterId(), newClusterId()];
    const finished: CheckId[] = [];
    for (const cluster of clusters) {
      for (let i = 0; i < 4; i++) {
        const checkId = seed(b.sim, cluster);
        await b.watch({ clusterId: cluster, checkId });
        if (i === 0 && cluster !== clusters[2]) {
          b.sim.finishCheck(cluster, checkId, 'Succeeded');
          finished.push(checkId);
        }
      }
    }
    b.sim.resetCounters();

    const r = await runPoller(b.deps(), b.settings());
    expect(b.sim.counters.ListClusterChecks).toBe(3);
    expect(b.sim.counters.GetClusterCheck).toBe(finished.length);
    expect(r.totals.finished).toBe(2);
    expect(r.totals.progressed).toBe(10);
    expect((await b.notified()).map((n) => n.checkId).sort()).toEqual([...finished].sort());
  });

  it('asks ACK with one GetClusterCheck for a lone check, and writes nothing when nothing changed', async () => {
    const clock = new FakeClock(Date.now());
    const b = (bench = await startBench(variant, { clock }));
    const cluster = newClusterId();
    const checkId = seed(b.sim, cluster);
    await b.watch({ clusterId: cluster, checkId });
    b.sim.resetCounters();

    await runPoller(b.deps(), b.settings());
    expect(b.sim.counters).toMatchObject({ GetClusterCheck: 1, ListClusterChecks: 0 });

    const before = await pendingCheck(b, cluster, checkId);
    await clock.advance(1_000);
    const again = await runPoller(b.deps(), b.settings());
    expect(b.sim.counters).toMatchObject({ GetClusterCheck: 2, ListClusterChecks: 0 });
    expect(again.totals.rowsWritten).toBe(0);
    expect((await pendingCheck(b, cluster, checkId))?.version).toBe(before?.version);
  });

  it('costs one store request and no ACK call when nothing is pending', async () => {
    const b = (bench = await startBench(variant, { clock: new FakeClock(Date.now()) }));
    const storeBefore = b.storeRequests();
    const otsBefore = b.ots?.counters.total ?? 0;
    b.sim.resetCounters();

    const r = await runPoller(b.deps(), b.settings({ loop: true }));
    expect(r.status).toBe('idle');
    expect(b.sim.counters.total).toBe(0);
    if (b.ots !== undefined) {
      expect((b.ots.counters.total ?? 0) - otsBefore).toBeLessThanOrEqual(2);
      expect(b.storeRequests() - storeBefore).toBe(1);
    }
    expect(r.totals.storeRequests).toBe(variant === 'tablestore+fc' ? 1 : 0);
  });

  it('costs at most 2 store requests and no ACK call when only a fresh outbox entry is pending', async () => {
    const clock = new FakeClock(Date.now());
    const b = (bench = await startBench(variant, { clock }));
    const cluster = newClusterId();
    const checkId = seed(b.sim, cluster);
    b.sim.finishCheck(cluster, checkId);
    await b.watch({ clusterId: cluster, checkId });
    await runPoller(b.deps(), b.settings()); // finishes and dispatches it; the notifier has not archived it
    await clock.advance(1_000);

    b.sim.resetCounters();
    const otsBefore = b.ots?.counters.total ?? 0;
    const r = await runPoller(b.deps(), b.settings({ loop: true }));
    expect(r.status).toBe('idle');
    expect(b.sim.counters.total).toBe(0);
    if (b.ots !== undefined) expect((b.ots.counters.total ?? 0) - otsBefore).toBeLessThanOrEqual(2);
  });

  it('lets only one of two overlapping pollers take the lease, and dispatches once', async () => {
    const b = (bench = await startBench(variant));
    const cluster = newClusterId();
    const checkId = seed(b.sim, cluster);
    b.sim.finishCheck(cluster, checkId);
    await b.watch({ clusterId: cluster, checkId });

    const [a, c] = await Promise.all([
      runPoller(b.deps(), b.settings({ holder: 'poller-a' })),
      runPoller(b.deps(), b.settings({ holder: 'poller-b' })),
    ]);
    expect([a.status, c.status].sort()).toEqual(['busy', 'polled']);
    expect(await b.notified()).toHaveLength(1);
  });

  it('dispatches once when the lease expired under a slow poller: the conditional write decides', async () => {
    const b = (bench = await startBench(variant));
    const cluster = newClusterId();
    const checkId = seed(b.sim, cluster);
    b.sim.finishCheck(cluster, checkId);
    await b.watch({ clusterId: cluster, checkId });

    // Both pollers read the same row version before either writes: the barrier holds their writes.
    let arrived = 0;
    let release!: () => void;
    const bothThere = new Promise<void>((r) => (release = r));
    const barrierStore = Object.create(b.store) as typeof b.store;
    barrierStore.applyChanges = async (changes) => {
      arrived += 1;
      if (arrived === 2) release();
      await bothThere;
      return b.store.applyChanges(changes);
    };
    // Poller B runs 10 minutes ahead: to it, A's 30 s lease has long expired.
    const ahead = {
      now: () => Date.now() + 600_000,
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    };
    const results: PollRunResult[] = await Promise.all([
      runPoller(b.deps({ store: barrierStore }), b.settings({ holder: 'poller-a' })),
      runPoller(
        b.deps({ store: barrierStore, clock: ahead }),
        b.settings({ holder: 'poller-b', deadline: ahead.now() + 5_000 }),
      ),
    ]);
    expect(results.map((r) => r.status)).toEqual(['polled', 'polled']);
    expect(results.reduce((n, r) => n + r.totals.conflicts, 0)).toBe(1);
    expect(results.reduce((n, r) => n + r.totals.dispatched, 0)).toBe(1);
    expect(await b.notified()).toHaveLength(1);
  });

  it('re-dispatches a finished check whose hand-off was lost, once it is overdue', async () => {
    const clock = new FakeClock(Date.now());
    const b = (bench = await startBench(variant, { clock }));
    const cluster = newClusterId();
    const checkId = seed(b.sim, cluster);
    b.sim.finishCheck(cluster, checkId);
    await b.watch({ clusterId: cluster, checkId });

    b.failNextDispatches(1);
    const first = await runPoller(b.deps(), b.settings({ redispatchAfterMs: 60_000 }));
    expect(first.totals.dispatchErrors).toBe(1);
    expect(await b.notified()).toHaveLength(0);

    await clock.advance(30_000);
    const early = await runPoller(b.deps(), b.settings({ redispatchAfterMs: 60_000 }));
    expect(early.totals.redispatched).toBe(0);

    await clock.advance(31_000);
    const late = await runPoller(b.deps(), b.settings({ redispatchAfterMs: 60_000 }));
    expect(late.totals.redispatched).toBe(1);
    const notified = await b.notified();
    expect(notified).toHaveLength(1);
    if (variant === 'tablestore+fc') expect(notified[0]?.generation).toBe(2);
    expect((await pendingCheck(b, cluster, checkId))?.dispatchCount).toBe(2);
  });

  it('re-dispatches after a crash between the outbox write and the hand-off', async () => {
    const clock = new FakeClock(Date.now());
    const b = (bench = await startBench(variant, { clock }));
    const cluster = newClusterId();
    const checkId = seed(b.sim, cluster);
    await b.watch({ clusterId: cluster, checkId });
    const row = await pendingCheck(b, cluster, checkId);
    if (row === undefined) throw new Error('row missing');
    // What a poller leaves behind when it dies right after writing the finished state.
    const { version, ...state } = row;
    const [written] = await b.store.applyChanges([
      {
        kind: 'putCheck',
        check: {
          ...state,
          status: 'Succeeded',
          outcome: 'passed',
          dispatchedAt: clock.now() - 300_000,
          dispatchCount: 1,
        },
        expectedVersion: version,
      },
    ]);
    expect(written?.ok).toBe(true);
    b.sim.resetCounters();

    const r = await runPoller(b.deps(), b.settings());
    expect(r.totals.redispatched).toBe(1);
    expect(b.sim.counters.total).toBe(0);
    expect(await b.notified()).toEqual([expect.objectContaining({ clusterId: cluster, checkId })]);
  });

  it('discovers new checks on a watched cluster, never replays the baseline, and reports a quick check once', async () => {
    const clock = new FakeClock(Date.now());
    const b = (bench = await startBench(variant, {
      clock,
      // The notifier archives what it delivered, as the real one does: the row leaves the pending set.
      onNotify: async (store, n) => {
        await store.archiveCheck(n.clusterId as ClusterId, n.checkId as CheckId, clock.now());
      },
    }));
    const cluster = newClusterId();
    const old = seed(b.sim, cluster);
    b.sim.finishCheck(cluster, old, 'Failed');
    const oldRunning = seed(b.sim, cluster);
    await b.store.watchCluster(
      { clusterId: cluster, region: 'cn-hangzhou', routes: ['ops'], baseline: [old, oldRunning] },
      clock.now(),
    );

    const first = await runPoller(b.deps(), b.settings());
    expect(first.totals.discovered).toBe(0);
    expect(await b.notified()).toHaveLength(0);

    // A check that starts and finishes between two listings.
    const quick = seed(b.sim, cluster, { createdAt: Date.now(), durationMs: 10 });
    b.sim.finishCheck(cluster, quick, 'Succeeded');
    const slow = seed(b.sim, cluster);
    await clock.advance(1_000);
    const second = await runPoller(b.deps(), b.settings());
    expect(second.totals.discovered).toBe(2);
    expect(second.totals.finished).toBe(1);
    const notified = await b.notified();
    expect(notified.map((n) => n.checkId)).toEqual([quick]);
    const quickRow = await b.store.getCheck(cluster, quick);
    expect(quickRow?.check.source).toBe('cluster');
    expect(quickRow?.check.routes).toEqual(['ops']);

    // Later cycles: the quick check is archived now; it must not come back, nor the baseline.
    expect(await pendingCheck(b, cluster, quick)).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      await clock.advance(1_000);
      await runPoller(b.deps(), b.settings());
    }
    expect((await b.notified()).map((n) => n.checkId)).toEqual([quick]);
    b.sim.finishCheck(cluster, slow, 'Failed');
    await clock.advance(1_000);
    await runPoller(b.deps(), b.settings());
    expect((await b.notified()).map((n) => n.checkId)).toEqual([quick, slow]);
    const watches = (await b.store.listPending({ clusterId: cluster })).clusters;
    expect(watches[0]?.baseline).toEqual(expect.arrayContaining([old, oldRunning, quick, slow]));
  });

  it('fans out one poll-shard invocation per shard with pending rows above the threshold', async () => {
    const b = (bench = await startBench(variant, { clock: new FakeClock(Date.now()) }));
    for (let i = 0; i < 6; i++) {
      const cluster = newClusterId();
      await b.watch({ clusterId: cluster, checkId: seed(b.sim, cluster) });
    }
    b.sim.resetCounters();
    const r = await runPoller(b.deps(), b.settings({ fanOutThreshold: 5 }));
    expect(r.status).toBe('fanned-out');
    expect(b.sim.counters.total).toBe(0);
    const shards = await b.shardInvocations();
    expect(shards.length).toBe(r.shardsDispatched);
    expect(new Set(shards).size).toBe(shards.length);
    expect(shards.length).toBeGreaterThan(0);

    // Each shard invocation polls only its own rows, under its own lease.
    let polled = 0;
    for (const shard of shards) {
      const s = await runPoller(
        b.deps(),
        b.settings({ shard, holder: `shard-${shard}`, fanOutThreshold: 5 }),
      );
      expect(s.status).toBe('polled');
      polled += s.totals.progressed;
    }
    expect(polled).toBe(6);
  });
});
