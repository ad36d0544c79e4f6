import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxInAnyWindow, planRate, slotAt } from '../../../lib/notify/rate';

describe('planRate', () => {
  it.each([
    // DingTalk / WeCom 20 per minute: 20 s slots of 4 tokens, tolerant of a 10 s send.
    [{ windowMs: 60_000, max: 20 }, 10_000, { slotMs: 20_000, perSlot: 4, safe: true }],
    // Feishu 100 per minute.
    [{ windowMs: 60_000, max: 100 }, 10_000, { slotMs: 10_000, perSlot: 12, safe: true }],
    // Feishu 5 per second: slots shorter than the tolerance, still safe for a one-slot delay.
    [{ windowMs: 1_000, max: 5 }, 10_000, { slotMs: 334, perSlot: 1, safe: false }],
    // Slack ~1 per second: no fixed-window plan is exact; the platform's 429 is the backstop.
    [{ windowMs: 1_000, max: 1 }, 10_000, { slotMs: 1_000, perSlot: 1, safe: false }],
  ])('plans %j with tolerance %d ms', (limit, tolerance, expected) => {
    expect(planRate(limit, tolerance)).toMatchObject(expected);
  });

  it('never lets more than the platform limit arrive in any sliding window', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          { windowMs: 60_000, max: 20 },
          { windowMs: 60_000, max: 100 },
          { windowMs: 1_000, max: 5 },
          { windowMs: 1_000, max: 50 },
        ),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 300_000 }), fc.double({ min: 0, max: 1, noNaN: true })), {
          minLength: 1,
          maxLength: 400,
        }),
        (limit, requests) => {
          const plan = planRate(limit, 10_000);
          // The delay a plan tolerates: the tolerance when it says safe, else one slot.
          const maxDelay = plan.safe ? 10_000 : plan.slotMs;
          const used = new Map<string, number>();
          const arrivals: number[] = [];
          for (const [t, d] of [...requests].sort((a, b) => a[0] - b[0])) {
            const slot = slotAt(plan, t);
            const n = used.get(slot.key) ?? 0;
            if (n >= plan.perSlot) continue;
            used.set(slot.key, n + 1);
            arrivals.push(t + Math.floor(d * maxDelay));
          }
          expect(maxInAnyWindow(arrivals, limit.windowMs)).toBeLessThanOrEqual(limit.max);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('slotAt', () => {
  it('gives one key per slot and the time the slot ends', () => {
    const plan = planRate({ windowMs: 60_000, max: 20 }, 10_000);
    const a = slotAt(plan, 1_735_689_600_000);
    const b = slotAt(plan, 1_735_689_619_999);
    const c = slotAt(plan, 1_735_689_620_000);
    expect(a.key).toBe(b.key);
    expect(c.key).not.toBe(a.key);
    expect(a.endsAt).toBe(1_735_689_620_000);
    expect(a.ttlMs).toBeGreaterThan(plan.slotMs);
  });
});

describe('maxInAnyWindow', () => {
  it('counts arrivals in the densest half-open window', () => {
    expect(maxInAnyWindow([0, 999, 1000, 1500], 1000)).toBe(3);
    expect(maxInAnyWindow([], 1000)).toBe(0);
  });
});
