/**
 * Adaptive polling, derived rather than stored: a check's poll interval is a function of how long it has
 * been unchanged, and "is it due?" is a function of that interval, the previous cycle's time and `now`.
 * The poller therefore never writes a row just to move its next-poll time (the cost budget: only changed
 * rows are written), yet a fresh check is polled every couple of seconds and a long-running one backs off.
 */

export interface ScheduleOptions {
  /** Interval steps by quiet time (time since the last observed change), ascending by `after`. */
  readonly steps: readonly { readonly afterMs: number; readonly intervalMs: number }[];
  /** A watched cluster with nothing pending is listed this often. */
  readonly clusterIdleMs: number;
}

/**
 * Defaults: ACK checks take 16 s to a few minutes (reference/ack-api.md), so detection is dominated
 * by the interval: 2 s for the first 2 minutes of quiet, then 5 s, 15 s after 10 minutes, 60 s after an hour.
 */
export const DEFAULT_SCHEDULE = {
  steps: [
    { afterMs: 0, intervalMs: 2_000 },
    { afterMs: 2 * 60_000, intervalMs: 5_000 },
    { afterMs: 10 * 60_000, intervalMs: 15_000 },
    { afterMs: 60 * 60_000, intervalMs: 60_000 },
  ],
  clusterIdleMs: 60_000,
} as const satisfies ScheduleOptions;

/** The poll interval for something that has been quiet for `quietMs`. */
export function pollInterval(quietMs: number, options: ScheduleOptions = DEFAULT_SCHEDULE): number {
  let interval = options.steps[0]?.intervalMs ?? 2_000;
  for (const step of options.steps) if (quietMs >= step.afterMs) interval = step.intervalMs;
  return interval;
}

/**
 * Whether an item with `intervalMs` is due in a cycle at `now`, given the previous cycle ran at
 * `previousCycleAt` (undefined: no previous cycle known → everything is due). Due times are aligned to
 * multiples of the interval, so every item is polled once per interval whatever the cycle cadence.
 * `lastPolledAt` (when known) short-circuits: never due earlier than one interval after the last poll;
 * this also catches up items a skipped cycle missed.
 */
export function isDue(
  intervalMs: number,
  now: number,
  previousCycleAt: number | undefined,
  lastPolledAt?: number,
): boolean {
  if (lastPolledAt !== undefined) return now - lastPolledAt >= intervalMs;
  if (previousCycleAt === undefined || previousCycleAt > now) return true;
  return Math.floor(now / intervalMs) > Math.floor(previousCycleAt / intervalMs);
}

/** The earliest time after `now` at which an item with `intervalMs` becomes due (for the inner loop's sleep). */
export function nextDueAt(intervalMs: number, now: number, lastPolledAt?: number): number {
  if (lastPolledAt !== undefined) return Math.max(now, lastPolledAt + intervalMs);
  return (Math.floor(now / intervalMs) + 1) * intervalMs;
}
