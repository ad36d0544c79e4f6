/**
 * The loop inside one invocation and the throttle brake, in (accelerated) real time: the default
 * adaptive schedule, a clock running 10× faster than the wall clock, the simulator, SQLite + inline.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runPoller } from '../../../lib/poll/cycle';
import { systemClock } from '../../../lib/clock';
import { fastClock, newClusterId, seed, startBench, type Bench } from './helpers';

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

/** Fast enough to keep the suite quick, slow enough that a 2 s slot is 500 ms of real time (a loaded CI box stalls for 100s of ms). */
const SPEED = 4;

describe('the poll loop inside one invocation', () => {
  it('polls a fresh check about every 2 s and hands it off within one interval of finishing', async () => {
    const clock = fastClock(SPEED);
    let notifiedAt: number | undefined;
    const b = (bench = await startBench('sqlite+inline', {
      clock,
      onNotify: () => {
        notifiedAt ??= clock.now();
        return Promise.resolve();
      },
    }));
    const cluster = newClusterId();
    const checkId = seed(b.sim, cluster);
    await b.watch({ clusterId: cluster, checkId });

    let finishedAt = 0;
    const finisher = clock.sleep(11_000).then(() => {
      b.sim.finishCheck(cluster, checkId);
      finishedAt = clock.now();
    });
    const start = clock.now();
    const run = await runPoller(
      b.deps(),
      b.settings({ loop: true, schedule: undefined, deadline: start + 60_000, marginMs: 5_000 }),
    );
    await finisher;
    await b.notified();

    expect(run.status).toBe('polled');
    expect(run.totals.finished).toBe(1);
    // It stopped once nothing was running, long before its deadline.
    expect(clock.now() - start).toBeLessThan(20_000);
    const gets = b.ackCalls.filter((c) => c.action === 'get').map((c) => c.at);
    expect(gets.length).toBeGreaterThanOrEqual(6);
    // The first poll is immediate; later ones fall on the 2 s grid. The last Get fetched check_items.
    const polls = gets.slice(1, -1);
    const gaps = polls.slice(1).map((t, i) => t - (polls[i] ?? 0));
    // On the 2 s grid; a stalled event loop (CI) may push one poll into the next slot, never further.
    for (const gap of gaps) {
      expect(gap).toBeGreaterThan(1_000);
      expect(gap).toBeLessThan(4_100);
    }
    const median = [...gaps].sort((x, y) => x - y)[Math.floor(gaps.length / 2)] ?? 0;
    expect(median).toBeGreaterThan(1_800);
    expect(median).toBeLessThan(2_400);
    expect(notifiedAt).toBeDefined();
    expect((notifiedAt ?? Infinity) - finishedAt).toBeLessThan(4_100);
  });

  it('stops looping a margin before its deadline while checks are still running', async () => {
    const clock = fastClock(SPEED);
    const b = (bench = await startBench('sqlite+inline', { clock }));
    for (let i = 0; i < 2; i++) {
      const cluster = newClusterId();
      await b.watch({ clusterId: cluster, checkId: seed(b.sim, cluster) });
    }
    const start = clock.now();
    const deadline = start + 24_000;
    const run = await runPoller(
      b.deps(),
      b.settings({ loop: true, schedule: undefined, deadline, marginMs: 6_000 }),
    );
    const ended = clock.now();
    expect(run.status).toBe('polled');
    expect(run.iterations).toBeGreaterThanOrEqual(7);
    expect(ended).toBeLessThanOrEqual(deadline - 6_000 + 1_000);
    expect(ended).toBeGreaterThan(deadline - 6_000 - 2_500);
    // The lease is free again for the next timer tick.
    const lease = await b.store.readLease('poller');
    expect(lease?.holder).toBe('');
  });
});

describe('throttling', () => {
  it('brakes every worker for the retry-after hint instead of hammering ACK, and still polls everything', async () => {
    const b = (bench = await startBench('sqlite+inline', { clock: systemClock }));
    for (let i = 0; i < 12; i++) {
      const cluster = newClusterId();
      await b.watch({ clusterId: cluster, checkId: seed(b.sim, cluster) });
    }
    b.sim.injectFault({ kinds: ['throttle'], next: 4, retryAfterMs: 400 });
    const run = await runPoller(b.deps(), b.settings({ ackConcurrency: 4, deadline: Date.now() + 10_000 }));

    expect(run.totals.progressed).toBe(12);
    expect(run.totals.throttled).toBe(4);
    expect(run.totals.throttledWaits).toBeGreaterThan(0);
    const starts = b.ackCalls.map((c) => c.at).sort((x, y) => x - y);
    expect(starts).toHaveLength(16);
    const firstWave = starts.slice(0, 4);
    const rest = starts.slice(4);
    // Nothing else went out while ACK asked us to wait.
    for (const t of rest) expect(t - (firstWave[0] ?? 0)).toBeGreaterThanOrEqual(380);
    expect(run.totals.durationMs).toBeGreaterThanOrEqual(400);
  });

  it('does not sleep past its deadline when the retry-after outlasts it', async () => {
    const b = (bench = await startBench('sqlite+inline', { clock: systemClock }));
    const cluster = newClusterId();
    await b.watch({ clusterId: cluster, checkId: seed(b.sim, cluster) });
    b.sim.injectFault({ kinds: ['throttle'], retryAfterMs: 60_000 });
    const started = Date.now();
    const run = await runPoller(b.deps(), b.settings({ deadline: started + 1_500, marginMs: 500 }));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(run.totals.throttled).toBe(1);
    expect(run.totals.progressed).toBe(0);
    expect(b.ackCalls).toHaveLength(1);
  });
});
