/**
 * The cluster-check model, independent of any transport. Pure: no I/O, no clock.
 * ACK's `status` is a free string (only `Succeeded` is documented; ecctl treats `Failed` as failure).
 * We keep it verbatim and classify it, never reject it (shared/reference/ack-api.md).
 */

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** An ACK cluster id, e.g. `c0123456789abcdef0123456789abcdef`. */
export type ClusterId = Brand<string, 'ClusterId'>;
/** A cluster-check id, e.g. `1697100584236600453-<cluster_id>-clustercheck-lboto`. */
export type CheckId = Brand<string, 'CheckId'>;

/** Cluster ids are lowercase alphanumerics starting with `c` in practice; we accept a safe superset. */
export const CLUSTER_ID_PATTERN = /^[a-z0-9][a-z0-9-]{5,63}$/;
/** Check ids seen: `<19-digit ns>-<cluster>-clustercheck-<5>`; accept a safe superset (no `/`, no spaces). */
export const CHECK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/;

export function isClusterId(value: string): value is ClusterId {
  return CLUSTER_ID_PATTERN.test(value);
}
export function isCheckId(value: string): value is CheckId {
  return CHECK_ID_PATTERN.test(value);
}

/** The check types RunClusterCheck accepts today. Others observed on a cluster are kept verbatim. */
export const CHECK_TYPES = ['ClusterMigrate', 'MasterUpgrade', 'NodePoolUpgrade', 'ClusterUpgrade'] as const;
export type KnownCheckType = (typeof CHECK_TYPES)[number];

/** What ListClusterChecks returns per check (no `check_items`). */
export interface CheckSummary {
  readonly checkId: CheckId;
  readonly type: string;
  /** Verbatim from ACK. */
  readonly status: string;
  readonly message: string;
  /** RFC 3339 with nanoseconds, verbatim (`2023-10-16T08:31:20.292030178Z`), or '' when absent. */
  readonly createdAt: string;
  readonly finishedAt: string;
}

/** What GetClusterCheck returns: the summary plus the free-form `check_items`. */
export interface CheckDetail extends CheckSummary {
  /** Free-form per ACK: `{ [itemName]: Array<Record<string, unknown>> }` in practice, anything in theory. */
  readonly checkItems: unknown;
}

export type StatusClass = 'running' | 'succeeded' | 'failed';

const TERMINAL_FAILURE = new Set(['failed', 'error', 'canceled', 'cancelled']);

/**
 * Classifies a verbatim ACK status, case-insensitively. `Succeeded` passes; `Failed` (and the
 * terminal-looking `Error`, `Canceled`, `Cancelled`) fail; anything else, unknown values included,
 * is still running — the poller gives up after the maximum age instead of guessing.
 */
export function classifyStatus(status: string): StatusClass {
  const s = status.trim().toLowerCase();
  if (s === 'succeeded' || s === 'success') return 'succeeded';
  if (TERMINAL_FAILURE.has(s)) return 'failed';
  return 'running';
}

/** Parses ACK's RFC 3339 timestamps (nanosecond precision) to epoch ms; undefined when absent/invalid. */
export function parseAckTime(value: string): number | undefined {
  if (value === '') return undefined;
  const trimmed = value.replace(/\.(\d{3})\d+/, '.$1');
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) || ms <= 0 ? undefined : ms;
}
