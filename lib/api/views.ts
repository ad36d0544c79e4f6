import { classifyStatus } from '../domain/check';
import type { CheckRecord, ClusterWatch, Delivery, PendingCheck } from '../store/store';

/**
 * The API's JSON views: snake_case, our own times as ISO 8601 strings (ACK's `created_at` /
 * `finished_at` verbatim), absent values as `null` so every view has the same keys. Never a secret:
 * routes by name, channels by name, the platform's own error text (the HTTP layer scrubs it again).
 */

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/**
 * Where a check is in its life: `watching` (polled), `notifying` (finished, being delivered),
 * `done` (archived after delivery).
 */
export type CheckLifeState = 'watching' | 'notifying' | 'done';

export function lifeStateOf(
  record: PendingCheck & { readonly archivedAt?: number | undefined },
): CheckLifeState {
  if (record.archivedAt !== undefined) return 'done';
  return record.outcome === undefined ? 'watching' : 'notifying';
}

/** One delivery: the channel's name, how it went, and the platform's text for the last failure. */
export function deliveryView(d: Delivery): Record<string, unknown> {
  return {
    channel: d.channel,
    state: d.state,
    attempts: d.attempts,
    last_error: d.lastError ?? null,
    sent_at: iso(d.sentAt),
    next_attempt_at: iso(d.nextAttemptAt),
    updated_at: iso(d.updatedAt),
  };
}

/** A check as the API shows it; with `deliveries` when they were read. */
export function checkView(record: CheckRecord, deliveries?: Delivery[]): Record<string, unknown> {
  const view: Record<string, unknown> = {
    cluster_id: record.clusterId,
    check_id: record.checkId,
    state: lifeStateOf(record),
    region: record.region,
    routes: [...record.routes],
    source: record.source,
    type: record.type === '' ? null : record.type,
    target: record.target === '' ? null : record.target,
    status: record.status === '' ? null : record.status,
    status_class: record.status === '' ? null : classifyStatus(record.status),
    message: record.message,
    outcome: record.outcome ?? null,
    created_at: record.createdAt === '' ? null : record.createdAt,
    finished_at: record.finishedAt === '' ? null : record.finishedAt,
    watched_at: iso(record.watchedAt),
    last_change_at: iso(record.lastChangeAt),
    last_polled_at: iso(record.lastPolledAt),
    dispatched_at: iso(record.dispatchedAt),
    archived_at: iso(record.archivedAt),
    summary: record.summary ?? null,
  };
  if (deliveries !== undefined) view.deliveries = deliveries.map(deliveryView);
  return view;
}

/** A cluster watch; the baseline as a count (it can hold up to 2,000 ids). */
export function clusterView(cluster: ClusterWatch): Record<string, unknown> {
  return {
    cluster_id: cluster.clusterId,
    region: cluster.region,
    routes: [...cluster.routes],
    watched_at: iso(cluster.watchedAt),
    last_listed_at: iso(cluster.lastListedAt),
    baseline_size: cluster.baseline.length,
  };
}
