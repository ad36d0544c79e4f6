/**
 * Per-channel rate limiting through the store's fixed-window counters (`Store.takeRateTokens`), made
 * safe against the platforms' *sliding* windows. Pure: the notifier does the I/O.
 *
 * Why not simply "max per window": two fixed windows back to back let `2·max` messages through within
 * a few seconds of the boundary, and DingTalk answers the 21st message in any minute by blocking the
 * robot for ten minutes. So each platform window `W` (at most `M` messages) is split into `q` slots of
 * `s = W/q`, and at most `k` tokens are granted per slot, with `k·(q+2) ≤ M`:
 * - a sliding window of length `W` touches at most `q+1` slots → at most `k·(q+1) < M` grants;
 * - a message may reach the platform later than its token was granted (the send takes time, up to the
 *   channel's timeout). Arrivals in any `W` come from grants in `W + delay`; while the delay is at most
 *   one slot that is at most `q+2` slots → at most `k·(q+2) ≤ M` arrivals.
 * The plan prefers slots at least as long as the tolerated delay (the channel timeout), then the highest
 * sustained rate `k·q`, then the largest burst `k`.
 */
import type { RateLimit } from '../channels/channel';

export interface RatePlan {
  /** The platform limit the plan enforces. */
  readonly limit: RateLimit;
  readonly slotMs: number;
  /** Tokens granted per slot. */
  readonly perSlot: number;
  /**
   * Whether the plan holds for every delay up to the tolerance asked for. False only for limits too
   * tight to plan safely with fixed windows (Slack's 1 message/second): the platform's own
   * rate-limit reply (HTTP 429 + Retry-After, harmless there) is then the backstop.
   */
  readonly safe: boolean;
}

/** Slots per window are capped so that counters stay coarse (one store row per slot). */
const MAX_SLOTS = 10;

/** Chooses slots and tokens per slot for one platform limit; see the module comment. */
export function planRate(limit: RateLimit, toleranceMs: number): RatePlan {
  const { windowMs: w, max: m } = limit;
  let best: { q: number; k: number; tolerant: boolean } | undefined;
  for (let q = 1; q <= MAX_SLOTS; q++) {
    const k = Math.floor(m / (q + 2));
    if (k < 1) break;
    const tolerant = w / q >= toleranceMs;
    const better =
      best === undefined ||
      (tolerant && !best.tolerant) ||
      (tolerant === best.tolerant && k * q > best.k * best.q);
    if (better) best = { q, k, tolerant };
  }
  if (best === undefined) {
    // max < 3: no split is safe for any delay. One token per window is exact for immediate arrival
    // when max ≥ 2, and the best we can do for max = 1.
    return { limit, slotMs: w, perSlot: 1, safe: m >= 2 && toleranceMs <= 0 };
  }
  return { limit, slotMs: Math.ceil(w / best.q), perSlot: best.k, safe: best.tolerant };
}

/** The counter a token is taken from at `now`, and when that slot ends. */
export function slotAt(plan: RatePlan, now: number): { key: string; endsAt: number; ttlMs: number } {
  const index = Math.floor(now / plan.slotMs);
  return {
    // The window and slot length are part of the key so that a changed plan never reuses a counter.
    key: `${plan.limit.windowMs}/${plan.slotMs}/${index}`,
    endsAt: (index + 1) * plan.slotMs,
    // Kept past the slot's end only so that a slow clock on another instance still finds it.
    ttlMs: plan.slotMs * 2 + 60_000,
  };
}

/**
 * Property checked by the tests: with every grant made through {@link slotAt}/`perSlot` and each
 * arrival at most `delayMs` after its grant, no sliding window of the platform holds more than `max`.
 * Returns the largest number of arrivals found in any window (for the property test).
 */
export function maxInAnyWindow(arrivals: readonly number[], windowMs: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    const t = sorted[end] ?? 0;
    while ((sorted[start] ?? 0) <= t - windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
