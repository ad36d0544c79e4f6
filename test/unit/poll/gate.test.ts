import { describe, expect, it } from 'vitest';
import { AckGate } from '../../../lib/poll/gate';
import { FakeClock } from '../../support/fake-clock';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('AckGate', () => {
  it('never runs more calls at once than its concurrency', async () => {
    const gate = new AckGate(3, new FakeClock());
    let running = 0;
    let peak = 0;
    const blockers = Array.from({ length: 10 }, () => deferred());
    const runs = blockers.map((b) =>
      gate.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        await b.promise;
        running -= 1;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(running).toBe(3);
    blockers.forEach((b) => {
      b.resolve();
    });
    await Promise.all(runs);
    expect(peak).toBe(3);
  });

  it('holds every new call until the retry-after hint has passed once throttled', async () => {
    const clock = new FakeClock();
    const gate = new AckGate(4, clock);
    gate.throttled(5_000);
    expect(gate.concurrency).toBe(2);
    let started = 0;
    const run = gate.run(() => {
      started += 1;
      return Promise.resolve();
    });
    await clock.advance(4_999);
    expect(started).toBe(0);
    await clock.advance(1);
    await run;
    expect(started).toBe(1);
    expect(gate.throttledWaits).toBe(1);
  });

  it('recovers concurrency one slot per success after a throttle', () => {
    const gate = new AckGate(8, new FakeClock());
    gate.throttled(0);
    gate.throttled(0);
    expect(gate.concurrency).toBe(2);
    gate.succeeded();
    gate.succeeded();
    expect(gate.concurrency).toBe(4);
    for (let i = 0; i < 10; i++) gate.succeeded();
    expect(gate.concurrency).toBe(8);
  });

  it('fails a call at once with ACK_DEADLINE when the brake outlasts its deadline', async () => {
    const clock = new FakeClock();
    const gate = new AckGate(2, clock);
    gate.throttled(60_000);
    let ran = false;
    await expect(
      gate.run(() => {
        ran = true;
        return Promise.resolve();
      }, clock.now() + 5_000),
    ).rejects.toMatchObject({ code: 'ACK_DEADLINE' });
    expect(ran).toBe(false);
    expect(clock.waiting).toBe(0);
  });

  it('waits out a brake that ends before the deadline', async () => {
    const clock = new FakeClock();
    const gate = new AckGate(2, clock);
    gate.throttled(1_000);
    let ran = false;
    const run = gate.run(() => {
      ran = true;
      return Promise.resolve();
    }, clock.now() + 5_000);
    await clock.advance(1_000);
    await run;
    expect(ran).toBe(true);
  });
});
