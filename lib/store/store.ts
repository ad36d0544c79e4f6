/**
 * The `Store` port: everything checkwatch remembers — watched checks and clusters, the latest known state
 * of each check, deliveries per (check, channel), leases and shared rate-limit windows.
 * Adapters: `tablestore.ts` (serverless, through the `tablestore` SDK) and `sqlite.ts` (`better-sqlite3`,
 * self-hosted and demo). One contract suite (test/contract/store.*) runs against both.
 *
 * ## Data model (Tablestore; SQLite mirrors it with one table per record kind)
 *
 * All tables are named `<tablePrefix><name>` (default prefix `checkwatch_`). Every row carries `v`
 * (Integer version: 1 on creation, +1 per write; writes are conditional on it) and `w` (write id).
 *
 * | table        | primary key                                   | holds                                        | TTL |
 * |--------------|-----------------------------------------------|----------------------------------------------|-----|
 * | `watch`      | s INTEGER, c STRING, k STRING                 | ONLY pending rows: watched checks, watched clusters, the outbox (finished, undelivered checks), leases | none |
 * | `history`    | cluster_id STRING, check_id STRING            | archived (delivered) checks with their summary, readable columns | 30 d (configurable) |
 * | `deliveries` | cluster_id STRING, check_id STRING, channel STRING | per (check, channel): state, attempts, idempotency_key, claimed_by, claim_until, last_error (the platform's text), sent_at, next_attempt_at, uncertain (Integer 1 while an unknown send outcome is unsettled), digest_key + digest_of (JSON array) when that send was a digest, updated_at | same as history |
 * | `rates`      | channel STRING, window STRING                 | rate-limit token counters: used, expires_at  | 1 d |
 *
 * `watch` is read every cycle, so its rows are packed (short names, one JSON cell): a typical check
 * row is ~360 bytes on the wire (PlainBuffer) against ~720 with one readable column per field.
 * Its rows, told apart by key (ids cannot collide with the sentinels: a cluster id starts with
 * `[a-z0-9]`, a check id with `[A-Za-z0-9]` and never contains `~`):
 * - check:   `(s = shard(cluster), c = cluster id, k = check id with its "-<cluster id>-" infix stored
 *   as "~")` — `j`: JSON array `[1, region, routes, source, status, message, type, target, createdAt,
 *   finishedAt, watchedAt, lastChangeAt, lastPolledAt, outcome, dispatchedAt, dispatchCount]`
 *   (ACK strings verbatim, times in ms, null when absent); `sum`: the summary JSON, written once when
 *   the check finishes and never returned by the range read. `outcome` set ⇒ the row is an outbox entry.
 * - cluster: `(s, c = cluster id, k = '#')` — `j`: `[1, region, routes, watchedAt, lastListedAt,
 *   baseline]` (baseline: check ids known at subscription, so old checks are not replayed).
 * - lease:   `(s = shard, or -1 for a global lease, c = '!', k = name)` — `h` holder, `u` until (ms),
 *   `d` data (JSON left by the last holder). Shard -1 sorts before every shard, so a whole-set range
 *   read returns the global lease first; a per-shard lease sorts first in its shard.
 *
 * `shard` = FNV-1a(cluster_id) mod `shards`, so all rows of one cluster sit in one shard, one shard can be
 * read alone, and the whole pending set is one GetRange over all shards.
 *
 * ## What one poll cycle reads and writes (cost ∝ pending work, never ∝ history)
 * 1. `listPending()` — GetRange over `watch` (≤ 5000 rows per page; `sum` and `w` are left out by
 *    `columnsToGet`). The lease rows come back in the same pages, with their data (e.g. the previous
 *    cycle's time). An idle cycle is this one request.
 * 2. `acquireLease(..., seen)` — one conditional write, using the version read in step 1.
 * 3. `applyChanges()` — only rows that changed, BatchWriteRow in chunks of ≤ 200, each row conditional on
 *    its version, with per-row results.
 * 4. `releaseLease()` — one conditional write carrying the data for the next cycle.
 * Measured against the loopback fake (test/integration/store/tablestore.test.ts): 10,000 watched checks
 * over 1,000 clusters with 500 finishing = 8 requests (3 GetRange pages for 10,001 rows, 1 acquire,
 * 3 BatchWriteRow, 1 release); an idle cycle = 1 GetRange.
 * Unchanged checks are never rewritten: the poller derives due-ness from watched_at / last_change_at /
 * last_polled_at and the previous cycle time in the lease data.
 *
 * ## Concurrency
 * Every record carries `version` (1 on creation, +1 per write). Writes are conditional on it
 * (`expectedVersion: 0` means "must not exist"); a lost race is `StoreConflict`. Every write also stores
 * a fresh write id (`w`): when a retry after an ambiguous failure (timeout, reset) meets a condition
 * failure, the adapter re-reads the row and treats "the row carries my write id" as success, so an
 * ambiguous write is neither lost nor applied twice.
 *
 * ## Lifecycle of a check
 * watch → (poller) progressed… → finished: outcome + summary written, the row stays in `watch` as an
 * outbox entry → (notifier) one claimed delivery per routed channel → `archiveCheck()` copies the row to
 * `history` and deletes it from `watch` (only if its version is unchanged).
 */
import { AppError } from '../errors';
import type { CheckId, ClusterId } from '../domain/check';

// ─── Records ─────────────────────────────────────────────────────────────────────────────────────────

/** How a check came to be watched. */
export type CheckSource = 'watch' | 'run' | 'cluster';
export const CHECK_SOURCES = ['watch', 'run', 'cluster'] as const satisfies readonly CheckSource[];

/** Set when a check stops being polled; a pending row with an outcome is an outbox entry. */
export type CheckOutcome = 'passed' | 'failed' | 'gave_up' | 'vanished';
export const CHECK_OUTCOMES = [
  'passed',
  'failed',
  'gave_up',
  'vanished',
] as const satisfies readonly CheckOutcome[];

/** What the poller knows about a watched check (everything in a pending row except the summary). */
export interface CheckState {
  readonly clusterId: ClusterId;
  readonly checkId: CheckId;
  /** Region of the cluster, e.g. `cn-hangzhou`. */
  readonly region: string;
  /** Route names (resolved to channels by configuration). */
  readonly routes: readonly string[];
  readonly source: CheckSource;
  /** Verbatim ACK status; '' before the first observation. */
  readonly status: string;
  readonly message: string;
  /** ACK check type (`ClusterUpgrade`, …); '' when unknown. */
  readonly type: string;
  /** Node-pool id for `NodePoolUpgrade`; '' otherwise. */
  readonly target: string;
  /** ACK `created_at` / `finished_at`, verbatim ('' when unknown). */
  readonly createdAt: string;
  readonly finishedAt: string;
  /** Epoch ms: when the watch was created. */
  readonly watchedAt: number;
  /** Epoch ms: when status or message last changed (= watchedAt at first). */
  readonly lastChangeAt: number;
  readonly lastPolledAt?: number | undefined;
  /** Present once the check is finished (then the row is an outbox entry). */
  readonly outcome?: CheckOutcome | undefined;
  /** Epoch ms of the last hand-off to the notifier. */
  readonly dispatchedAt?: number | undefined;
  readonly dispatchCount: number;
}

/** A pending row as read back: its state plus the version to write against. */
export interface PendingCheck extends CheckState {
  readonly version: number;
}

/** A check as the notifier and the API see it: pending or archived, with its summary. */
export interface CheckRecord extends PendingCheck {
  /** Compact JSON summary of `check_items`, opaque to the store. */
  readonly summary?: unknown;
  /** Epoch ms when it was archived (history rows only). */
  readonly archivedAt?: number | undefined;
}

/** A hands-off watch on a whole cluster. */
export interface ClusterState {
  readonly clusterId: ClusterId;
  readonly region: string;
  readonly routes: readonly string[];
  readonly watchedAt: number;
  readonly lastListedAt?: number | undefined;
  /**
   * Check ids already known (at subscription, plus those discovered since), so old checks are never
   * replayed. Keep it small: the poller should drop ids ACK no longer lists (it is read every cycle).
   */
  readonly baseline: readonly string[];
}

export interface ClusterWatch extends ClusterState {
  readonly version: number;
}

/** A lease row as read (from `readLease` or inside a pending set). */
export interface LeaseState {
  readonly name: string;
  /** -1 for a global lease. */
  readonly shard: number;
  /** '' once released. */
  readonly holder: string;
  /** Epoch ms; the lease is free when `until <= now`. */
  readonly until: number;
  /** What the last holder left for the next one (JSON), e.g. `{ cycleAt }`; undefined if never set. */
  readonly data: unknown;
  readonly version: number;
}

/** Proof of holding a lease; pass it to renew and release. */
export interface Lease {
  readonly name: string;
  readonly shard: number;
  readonly holder: string;
  readonly until: number;
  readonly version: number;
}

export type LeaseAcquireResult =
  | { readonly acquired: true; readonly lease: Lease; readonly previousData: unknown }
  | { readonly acquired: false; readonly holder: string; readonly until: number };

/** What the poller reads each cycle. */
export interface PendingSet {
  /** Without `summary` (kept out of the range read to keep rows compact). */
  readonly checks: PendingCheck[];
  readonly clusters: ClusterWatch[];
  /** Lease rows stored in the range read (all of them for a whole-set read; none for a cluster read). */
  readonly leases: LeaseState[];
}

export type PendingScope =
  /** The whole pending set, every shard. */
  | { readonly shard?: undefined; readonly clusterId?: undefined }
  /** One shard (see `shardOf`). */
  | { readonly shard: number; readonly clusterId?: undefined }
  /** One cluster's rows. */
  | { readonly clusterId: ClusterId; readonly shard?: undefined };

/**
 * One write in `applyChanges`. `expectedVersion` is the version read (0: the row must not exist).
 * `putCheck` replaces every field of the row except `summary`, which is written only when given
 * (the range read does not return it, so omitting it must not erase it).
 */
export type PendingChange =
  | {
      readonly kind: 'putCheck';
      readonly check: CheckState;
      readonly summary?: unknown;
      readonly expectedVersion: number;
    }
  | { readonly kind: 'putCluster'; readonly cluster: ClusterState; readonly expectedVersion: number }
  | {
      readonly kind: 'deleteCheck';
      readonly clusterId: ClusterId;
      readonly checkId: CheckId;
      readonly expectedVersion: number;
    }
  | { readonly kind: 'deleteCluster'; readonly clusterId: ClusterId; readonly expectedVersion: number };

/** Per-change result, in the order of the changes. `version` is the new version (0 after a delete). */
export type ChangeResult =
  { readonly ok: true; readonly version: number } | { readonly ok: false; readonly error: StoreError };

export type DeliveryState = 'claimed' | 'delivered' | 'failed' | 'retry';
export const DELIVERY_STATES = [
  'claimed',
  'delivered',
  'failed',
  'retry',
] as const satisfies readonly DeliveryState[];

export interface DeliveryKey {
  readonly clusterId: ClusterId;
  readonly checkId: CheckId;
  /** Channel name from configuration. */
  readonly channel: string;
}

export interface Delivery extends DeliveryKey {
  readonly state: DeliveryState;
  /** Number of claims so far (each claim is one send attempt). */
  readonly attempts: number;
  /** Stable per (check, channel): send it as `msgUuid` / `webhook-id` so a resend can be deduplicated. */
  readonly idempotencyKey: string;
  readonly claimedBy?: string | undefined;
  readonly claimUntil?: number | undefined;
  /** The platform's own text for the last failure. */
  readonly lastError?: string | undefined;
  readonly sentAt?: number | undefined;
  readonly nextAttemptAt?: number | undefined;
  /**
   * Some earlier send's outcome is unknown (e.g. a timeout after the platform may have accepted it).
   * A resend must reuse this delivery's own `idempotencyKey`, so it must not be folded into a digest
   * (sent under another key). Kept until the delivery is `delivered` or `failed`.
   */
  readonly uncertain?: boolean | undefined;
  /**
   * Set with `uncertain` when the send of unknown outcome was a digest: that digest's idempotency key.
   * The resend must be the same digest under this key (never this check alone under its own key), so
   * the receiver can deduplicate it. Kept until the delivery is `delivered` or `failed`.
   */
  readonly digestKey?: string | undefined;
  /** With `digestKey`: every check of that digest as `clusterId/checkId`, in the order it was sent. */
  readonly digestOf?: readonly string[] | undefined;
  readonly updatedAt: number;
  readonly version: number;
}

export type ClaimResult =
  | { readonly claimed: true; readonly delivery: Delivery }
  | {
      readonly claimed: false;
      /** `claimed`: someone else holds a live claim; `not-due`: in retry, `nextAttemptAt` not reached. */
      readonly reason: 'delivered' | 'failed' | 'claimed' | 'not-due';
      readonly delivery: Delivery;
    };

/** How a claimed send ended. */
export type DeliveryResult =
  | { readonly state: 'delivered'; readonly sentAt: number }
  | { readonly state: 'failed'; readonly lastError: string }
  | {
      readonly state: 'retry';
      readonly lastError: string;
      readonly nextAttemptAt: number;
      /**
       * The last send's outcome is unknown: a resend must reuse this delivery's own idempotency key, so
       * it must not be folded into a digest. Once set, the store keeps it until `delivered` or `failed`.
       */
      readonly uncertain?: boolean | undefined;
      /**
       * The send of unknown outcome was a digest (see `Delivery.digestKey` / `digestOf`): its resend is
       * that same digest under the same key. Once set, the store keeps both until `delivered` or `failed`.
       */
      readonly digestKey?: string | undefined;
      readonly digestOf?: readonly string[] | undefined;
    };

export interface NewCheckWatch {
  readonly clusterId: ClusterId;
  readonly checkId: CheckId;
  readonly region: string;
  readonly routes: readonly string[];
  readonly source: CheckSource;
  readonly type?: string | undefined;
  readonly target?: string | undefined;
  readonly status?: string | undefined;
  readonly message?: string | undefined;
  readonly createdAt?: string | undefined;
}

export interface NewClusterWatch {
  readonly clusterId: ClusterId;
  readonly region: string;
  readonly routes: readonly string[];
  readonly baseline: readonly string[];
}

export interface CheckView {
  readonly where: 'pending' | 'history';
  readonly check: CheckRecord;
  readonly deliveries: Delivery[];
}

export interface ListChecksFilter {
  readonly clusterId?: ClusterId | undefined;
  /** 'pending' (the watch table), 'history' (archived), or both (default; pending first). */
  readonly where?: 'pending' | 'history' | 'all' | undefined;
  /** Keep only checks with this verbatim status (case-insensitive) or this outcome. */
  readonly status?: string | undefined;
  readonly outcome?: CheckOutcome | undefined;
  /** Maximum number of checks returned (default 100, max 1000). */
  readonly limit?: number | undefined;
}

// ─── The port ────────────────────────────────────────────────────────────────────────────────────────

/**
 * Everything checkwatch remembers. All methods are safe to call concurrently from one process; writes
 * are conditional, so concurrent processes (overlapping FC invocations) never lose or double a write.
 * Failures are `StoreError`s; `StoreConflict` means "re-read and decide again".
 */
export interface Store {
  // Poller
  /** The pending set (watched checks, the outbox, watched clusters, lease rows) for a scope. */
  listPending(scope?: PendingScope): Promise<PendingSet>;
  /** Writes changed pending rows, each conditional on its version; never throws for a per-row failure. */
  applyChanges(changes: readonly PendingChange[]): Promise<ChangeResult[]>;

  // Leases (per name; `shard` places the row so that a shard's range read returns it, default -1: global)
  readLease(name: string, shard?: number): Promise<LeaseState | undefined>;
  /**
   * Takes the lease if it is free (`until <= now`), expired, or already ours. With `seen` (the lease as
   * read by `listPending`, or `null` when it was not there) it costs one conditional write; without, a
   * read first. Returns the data left by the previous holder.
   */
  acquireLease(
    name: string,
    holder: string,
    ttlMs: number,
    now: number,
    options?: { readonly shard?: number | undefined; readonly seen?: LeaseState | null | undefined },
  ): Promise<LeaseAcquireResult>;
  /** Extends a held lease; throws `StoreConflict` if it was lost (stolen after expiry). */
  renewLease(lease: Lease, ttlMs: number, now: number): Promise<Lease>;
  /** Frees the lease and leaves `data` for the next holder; false if it was no longer ours. */
  releaseLease(lease: Lease, data: unknown, now: number): Promise<boolean>;

  // Notifier
  /** A check from pending or history, with its summary and deliveries; undefined if unknown. */
  getCheck(clusterId: ClusterId, checkId: CheckId): Promise<CheckView | undefined>;
  listDeliveries(clusterId: ClusterId, checkId: CheckId): Promise<Delivery[]>;
  /**
   * Claims the right to send (check, channel) for `claimMs`. Succeeds when there is no row, the row is
   * in `retry` and due, or a `claimed` row's claim expired (a crashed sender). Never for `delivered`
   * or `failed`. Conditional: of concurrent claimers exactly one wins.
   */
  claimDelivery(key: DeliveryKey, holder: string, claimMs: number, now: number): Promise<ClaimResult>;
  /** Records how a claimed send ended; throws `StoreConflict` if the claim was lost meanwhile. */
  finishDelivery(claimed: Delivery, result: DeliveryResult, now: number): Promise<Delivery>;
  /**
   * Moves a pending check to history (copy, then delete the pending row if its version is unchanged).
   * Idempotent; returns the archived record, or undefined when the check is not pending.
   */
  archiveCheck(clusterId: ClusterId, checkId: CheckId, now: number): Promise<CheckRecord | undefined>;
  /**
   * Takes up to `n` tokens from the (channel, window) counter capped at `limit`; returns how many were
   * granted (0..n). `ttlMs` bounds how long the counter row is kept.
   */
  takeRateTokens(
    channel: string,
    windowKey: string,
    limit: number,
    n: number,
    ttlMs: number,
    now: number,
  ): Promise<number>;

  // API
  /**
   * Watches a check. Idempotent: the same (cluster, check) twice keeps one row and the routes are merged
   * (union, existing first); the state of an existing row is left alone. A check that is only in
   * history gets a new pending row: routed channels already delivered are not sent again (their
   * delivery rows say `delivered`), new routes are.
   */
  watchCheck(input: NewCheckWatch, now: number): Promise<{ created: boolean; check: PendingCheck }>;
  /** Watches a cluster; idempotent like `watchCheck` (routes merged, the first baseline kept). */
  watchCluster(input: NewClusterWatch, now: number): Promise<{ created: boolean; cluster: ClusterWatch }>;
  /** Stops watching a check (drops its pending row, outbox entry included); false if it was not pending. */
  unwatchCheck(clusterId: ClusterId, checkId: CheckId): Promise<boolean>;
  unwatchCluster(clusterId: ClusterId): Promise<boolean>;
  /** Checks from pending and/or history, filtered; history is scanned, bounded by `limit`. */
  listChecks(filter?: ListChecksFilter): Promise<CheckRecord[]>;

  /** Releases sockets / the database handle. */
  close(): Promise<void>;
}

// ─── Errors ──────────────────────────────────────────────────────────────────────────────────────────

export type StoreErrorCode =
  'STORE_CONFLICT' | 'STORE_UNAVAILABLE' | 'STORE_AUTH' | 'STORE_INVALID' | 'STORE_NOT_FOUND';

/** Context that is safe to log: never a credential. */
export interface StoreErrorDetails {
  /** The vendor's code (`OTSServerBusy`, `SQLITE_BUSY`, …). */
  readonly vendorCode?: string | undefined;
  readonly httpStatus?: number | undefined;
  readonly requestId?: string | undefined;
  readonly operation?: string | undefined;
  readonly table?: string | undefined;
}

export class StoreError extends AppError {
  declare readonly code: StoreErrorCode;
  constructor(
    code: StoreErrorCode,
    message: string,
    options: { retryable?: boolean; cause?: unknown; details?: StoreErrorDetails } = {},
  ) {
    super(code, message, {
      retryable: options.retryable ?? false,
      cause: options.cause,
      details: stripUndefined(options.details ?? {}),
    });
  }
}

/** A conditional write lost: the row changed (or appeared / vanished) since it was read. */
export class StoreConflict extends StoreError {
  constructor(message: string, options: { cause?: unknown; details?: StoreErrorDetails } = {}) {
    super('STORE_CONFLICT', message, { ...options, retryable: false });
  }
}

/** The store could not be reached or was busy; retrying later may succeed. */
export class StoreUnavailable extends StoreError {
  constructor(message: string, options: { cause?: unknown; details?: StoreErrorDetails } = {}) {
    super('STORE_UNAVAILABLE', message, { ...options, retryable: true });
  }
}

/** Credentials were rejected (wrong key, expired STS token, no permission). */
export class StoreAuthError extends StoreError {
  constructor(message: string, options: { cause?: unknown; details?: StoreErrorDetails } = {}) {
    super('STORE_AUTH', message, { ...options, retryable: false });
  }
}

/** The request was malformed or a value is out of bounds (our bug or bad input; do not retry). */
export class StoreInvalid extends StoreError {
  constructor(message: string, options: { cause?: unknown; details?: StoreErrorDetails } = {}) {
    super('STORE_INVALID', message, { ...options, retryable: false });
  }
}

/** A table or instance does not exist (run `checkwatch init`). */
export class StoreNotFound extends StoreError {
  constructor(message: string, options: { cause?: unknown; details?: StoreErrorDetails } = {}) {
    super('STORE_NOT_FOUND', message, { ...options, retryable: false });
  }
}

export function isStoreConflict(err: unknown): err is StoreConflict {
  return err instanceof StoreError && err.code === 'STORE_CONFLICT';
}

function stripUndefined(details: StoreErrorDetails): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) if (v !== undefined) out[k] = v;
  return out;
}
