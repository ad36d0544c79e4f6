/** Retry policy as data (STYLE.md 11). */
export interface RetryPolicy {
  /** Total attempts, the first one included. */
  readonly maxAttempts: number;
  /** Delay scale for the first retry, in ms. */
  readonly baseMs: number;
  /** Upper bound of any single delay, in ms. */
  readonly capMs: number;
}

/** ecctl's policy for ACK calls: 6 attempts, base 0.5 s, cap 10 s (reference/ack-api.md). */
export const ACK_RETRY_POLICY = { maxAttempts: 6, baseMs: 500, capMs: 10_000 } as const satisfies RetryPolicy;

/**
 * Delay before retry number `retry` (0 for the first retry), with exponential growth and full jitter:
 * uniform in [0, min(cap, base·2^retry)]. `random` is injected so the function stays pure and testable.
 * A server hint (`Retry-After`, `x-acs-retry-after`) is a floor: we never come back earlier than asked.
 */
export function backoffDelay(
  retry: number,
  policy: RetryPolicy,
  random: () => number,
  hintMs?: number,
): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, retry));
  const jittered = Math.floor(random() * ceiling);
  return hintMs !== undefined && hintMs > jittered ? Math.ceil(hintMs) : jittered;
}
