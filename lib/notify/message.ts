/**
 * A stored check as the message model every channel renders (lib/domain/message.ts). Lenient about the
 * stored summary: a row written by an older version, or a corrupt one, still gives a true message.
 */
import { emptySummary, ITEM_LEVELS, type CheckItemsSummary, type ItemLevel } from '../domain/check-items';
import { consoleUrl, type CheckMessage, type Outcome } from '../domain/message';
import type { CheckRecord } from '../store/store';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The stored summary when it has the shape `summarizeCheckItems` writes; otherwise an empty one. */
export function summaryOf(raw: unknown): CheckItemsSummary {
  if (!isRecord(raw)) return emptySummary();
  const counts = raw.counts;
  if (
    typeof raw.total !== 'number' ||
    typeof raw.omitted !== 'number' ||
    typeof raw.recognised !== 'boolean' ||
    !Array.isArray(raw.failing) ||
    !isRecord(counts) ||
    !ITEM_LEVELS.every((l) => typeof counts[l] === 'number')
  ) {
    return emptySummary();
  }
  const failing = raw.failing.filter(
    (f): f is CheckItemsSummary['failing'][number] =>
      isRecord(f) &&
      typeof f.name === 'string' &&
      typeof f.message === 'string' &&
      typeof f.level === 'string' &&
      (ITEM_LEVELS as readonly string[]).includes(f.level) &&
      Array.isArray(f.targets) &&
      f.targets.every((t) => typeof t === 'string'),
  );
  const levelCounts = Object.fromEntries(ITEM_LEVELS.map((l) => [l, Number(counts[l])])) as Record<
    ItemLevel,
    number
  >;
  return {
    total: raw.total,
    counts: levelCounts,
    failing,
    omitted: raw.omitted,
    recognised: raw.recognised,
  };
}

const orUndefined = (s: string): string | undefined => (s === '' ? undefined : s);

/**
 * The message for a finished check. `outcome` must be set (an outbox entry); `clusterNames` supplies
 * the display name configuration gives the cluster.
 */
export function checkMessageOf(
  check: CheckRecord & { readonly outcome: Outcome },
  clusterNames: Readonly<Record<string, string>> = {},
): CheckMessage {
  return {
    outcome: check.outcome,
    clusterId: check.clusterId,
    clusterName: Object.hasOwn(clusterNames, check.clusterId) ? clusterNames[check.clusterId] : undefined,
    region: check.region,
    checkId: check.checkId,
    // A check that vanished before its first observation has no type: say "check" rather than nothing.
    type: check.type === '' ? 'check' : check.type,
    target: orUndefined(check.target),
    status: check.status === '' ? 'unknown' : check.status,
    message: orUndefined(check.message),
    createdAt: orUndefined(check.createdAt),
    finishedAt: orUndefined(check.finishedAt),
    // ACK gives no end time for a check we stopped watching: show how long we watched instead.
    durationMs:
      check.outcome === 'gave_up' && check.lastChangeAt >= check.watchedAt
        ? check.lastChangeAt - check.watchedAt
        : undefined,
    summary: summaryOf(check.summary),
    consoleUrl: consoleUrl(check.region, check.clusterId),
  };
}
