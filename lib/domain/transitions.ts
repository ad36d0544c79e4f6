import { classifyStatus, parseAckTime, type CheckSummary } from './check';

/**
 * The poller's decision, as a pure function of what we knew, what ACK said, and `now`
 * (STYLE.md 4). No I/O and no clock: the use case gathers observations and applies decisions.
 */

/** What the store knows about a watched check that is still being polled. */
export interface KnownCheck {
  /** Verbatim ACK status last observed; '' before the first observation. */
  readonly status: string;
  readonly message: string;
  /** When we started watching (epoch ms). */
  readonly watchedAt: number;
  /** ACK's `created_at`, verbatim ('' when unknown). */
  readonly createdAt: string;
}

/** What one poll told us about a check. */
export type Observation =
  /** ACK returned the check (from ListClusterChecks or GetClusterCheck). */
  | { readonly kind: 'seen'; readonly check: CheckSummary }
  /** ACK says the check does not exist (404 on GetClusterCheck, confirmed — never inferred from a List). */
  | { readonly kind: 'missing' }
  /** ACK says the cluster does not exist (404 ErrorClusterNotFound). */
  | { readonly kind: 'cluster-missing' }
  /** The poll failed transiently (throttled, 5xx, network, bad response): we learned nothing. */
  | { readonly kind: 'failed' };

export type Outcome = 'passed' | 'failed' | 'gave_up' | 'vanished';

export type Decision =
  /** Nothing to write. */
  | { readonly kind: 'unchanged' }
  /** Still running, but the status or message moved: record it (and reset the backoff). */
  | { readonly kind: 'progressed'; readonly status: string; readonly message: string }
  /** Terminal in ACK: fetch `check_items` once, then hand off to the notifier. */
  | {
      readonly kind: 'finished';
      readonly outcome: 'passed' | 'failed';
      readonly status: string;
      readonly message: string;
      readonly finishedAt: string;
    }
  /** The check (or its cluster) is gone: report it as its own outcome. */
  | { readonly kind: 'vanished'; readonly reason: 'check-not-found' | 'cluster-not-found' }
  /** Still not finished after the maximum age: stop watching and say so. */
  | { readonly kind: 'gave_up'; readonly status: string; readonly ageMs: number };

export interface DecideOptions {
  /** Stop watching a check that has not finished after this long (default 24 h). */
  readonly maxAgeMs: number;
}

export const DEFAULT_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** Age of a check: from ACK's `created_at` when known, else from when we started watching. */
export function checkAge(prev: KnownCheck, observed: CheckSummary | undefined, now: number): number {
  const created = parseAckTime(observed?.createdAt ?? '') ?? parseAckTime(prev.createdAt) ?? prev.watchedAt;
  return Math.max(0, now - created);
}

/** Decides what a poll result means for a check we are watching. */
export function decide(
  prev: KnownCheck,
  observation: Observation,
  now: number,
  options: DecideOptions,
): Decision {
  switch (observation.kind) {
    case 'missing':
      return { kind: 'vanished', reason: 'check-not-found' };
    case 'cluster-missing':
      return { kind: 'vanished', reason: 'cluster-not-found' };
    case 'failed': {
      const ageMs = checkAge(prev, undefined, now);
      return ageMs > options.maxAgeMs
        ? { kind: 'gave_up', status: prev.status, ageMs }
        : { kind: 'unchanged' };
    }
    case 'seen': {
      const { check } = observation;
      const cls = classifyStatus(check.status);
      if (cls === 'succeeded' || cls === 'failed') {
        return {
          kind: 'finished',
          outcome: cls === 'succeeded' ? 'passed' : 'failed',
          status: check.status,
          message: check.message,
          finishedAt: check.finishedAt,
        };
      }
      const ageMs = checkAge(prev, check, now);
      if (ageMs > options.maxAgeMs) return { kind: 'gave_up', status: check.status, ageMs };
      if (check.status !== prev.status || check.message !== prev.message) {
        return { kind: 'progressed', status: check.status, message: check.message };
      }
      return { kind: 'unchanged' };
    }
    default: {
      const unreachable: never = observation;
      return unreachable;
    }
  }
}

/**
 * Hands-off cluster watches: which listed checks are new to us. `known` holds the baseline taken at
 * subscription plus every check already discovered or watched, so old checks are never replayed, and a
 * check that started and finished between two listings is still returned (once) — the caller watches it
 * and the next decision reports it finished.
 */
export function discover(known: ReadonlySet<string>, listed: readonly CheckSummary[]): CheckSummary[] {
  const seen = new Set<string>();
  const found: CheckSummary[] = [];
  for (const check of listed) {
    if (known.has(check.checkId) || seen.has(check.checkId)) continue;
    seen.add(check.checkId);
    found.push(check);
  }
  return found;
}
