import { describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULE, isDue, nextDueAt, pollInterval } from '../../../lib/domain/schedule';

describe('pollInterval', () => {
  it.each([
    [0, 2_000],
    [119_999, 2_000],
    [120_000, 5_000],
    [10 * 60_000, 15_000],
    [60 * 60_000, 60_000],
    [48 * 60 * 60_000, 60_000],
  ])('after %i ms of quiet polls every %i ms', (quiet, interval) => {
    expect(pollInterval(quiet, DEFAULT_SCHEDULE)).toBe(interval);
  });
});

describe('isDue', () => {
  it('makes everything due when no previous cycle is known', () => {
    expect(isDue(60_000, 1_000_000, undefined)).toBe(true);
  });

  it('is due once per aligned interval, whatever the cycle cadence', () => {
    // Cycles every second for a 5 s interval: exactly one due cycle per 5 s window.
    let dueCount = 0;
    let previous: number | undefined = 100_000;
    for (let now = 100_500; now <= 130_500; now += 1_000) {
      if (isDue(5_000, now, previous)) dueCount += 1;
      previous = now;
    }
    expect(dueCount).toBe(6);
  });

  it('is not due twice within one interval after a poll', () => {
    expect(isDue(5_000, 10_000, 9_000, 8_000)).toBe(false);
    expect(isDue(5_000, 13_000, 9_000, 8_000)).toBe(true);
  });

  it('treats a previous cycle in the future (clock skew) as unknown', () => {
    expect(isDue(5_000, 10_000, 20_000)).toBe(true);
  });
});

describe('nextDueAt', () => {
  it('is the next aligned boundary', () => {
    expect(nextDueAt(5_000, 12_345)).toBe(15_000);
  });
  it('is one interval after the last poll when known', () => {
    expect(nextDueAt(5_000, 12_345, 11_000)).toBe(16_000);
    expect(nextDueAt(5_000, 12_345, 1_000)).toBe(12_345);
  });
});
