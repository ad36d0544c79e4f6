/**
 * SQLite adapter of the Store port (`better-sqlite3` 12.x): the self-hosted and demo default.
 *
 * better-sqlite3 is synchronous, so every method body runs to completion inside one `BEGIN IMMEDIATE`
 * transaction before the returned promise settles: concurrent async callers in one process cannot
 * interleave inside a read-decide-write, and the version checks (the same conditional-write semantics as
 * Tablestore) keep a second process on the same file (WAL mode) from losing or doubling a write.
 */
import Database from 'better-sqlite3';
import type { CheckId, ClusterId } from '../domain/check';
import {
  StoreConflict,
  StoreError,
  StoreInvalid,
  StoreNotFound,
  StoreUnavailable,
  type ChangeResult,
  type CheckOutcome,
  type CheckRecord,
  type CheckSource,
  type CheckState,
  type CheckView,
  type ClaimResult,
  type ClusterWatch,
  type Delivery,
  type DeliveryKey,
  type DeliveryResult,
  type DeliveryState,
  type Lease,
  type LeaseAcquireResult,
  type LeaseState,
  type ListChecksFilter,
  type NewCheckWatch,
  type NewClusterWatch,
  type PendingChange,
  type PendingCheck,
  type PendingScope,
  type PendingSet,
  type Store,
} from './store';
import {
  DEFAULT_SHARDS,
  GLOBAL_LEASE_SHARD,
  MAX_LEASE_DATA_BYTES,
  MAX_SHARDS,
  MAX_SUMMARY_BYTES,
  checkFilter,
  decideClaim,
  decodeJson,
  decodeStringArray,
  encodeJson,
  finishedDelivery,
  idempotencyKeyFor,
  leaseIsFree,
  listLimit,
  mergeRoutes,
  newCheckState,
  rateGrant,
  stripVersion,
  unsettledFields,
  validateChannel,
  validateCheckState,
  validateClusterState,
  validateIds,
  validateLeaseArgs,
  validateRateArgs,
  validateVersion,
  shardOf,
} from './rules';

export interface SqliteStoreOptions {
  /** File path, or ':memory:' (one connection: tests and demos). */
  readonly path: string;
  /** Shard count used to place rows (must match across processes sharing the file). Default 16. */
  readonly shards?: number | undefined;
  /** How long archived checks and their deliveries are kept. Default 30 days. */
  readonly historyTtlMs?: number | undefined;
  /** How long to wait for another process's write lock. Default 5000 ms. */
  readonly busyTimeoutMs?: number | undefined;
}

const DAY_MS = 86_400_000;

/** Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Append only. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE pending_checks (
    cluster_id TEXT NOT NULL, check_id TEXT NOT NULL, shard INTEGER NOT NULL,
    region TEXT NOT NULL, routes TEXT NOT NULL, source TEXT NOT NULL,
    status TEXT NOT NULL, message TEXT NOT NULL, type TEXT NOT NULL, target TEXT NOT NULL,
    created_at TEXT NOT NULL, finished_at TEXT NOT NULL,
    watched_at INTEGER NOT NULL, last_change_at INTEGER NOT NULL, last_polled_at INTEGER,
    outcome TEXT, dispatched_at INTEGER, dispatch_count INTEGER NOT NULL,
    summary TEXT, version INTEGER NOT NULL,
    PRIMARY KEY (cluster_id, check_id)
  ) WITHOUT ROWID;
  CREATE INDEX pending_checks_by_shard ON pending_checks (shard, cluster_id, check_id);
  CREATE TABLE cluster_watches (
    cluster_id TEXT NOT NULL PRIMARY KEY, shard INTEGER NOT NULL,
    region TEXT NOT NULL, routes TEXT NOT NULL, watched_at INTEGER NOT NULL, last_listed_at INTEGER,
    baseline TEXT NOT NULL, version INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX cluster_watches_by_shard ON cluster_watches (shard, cluster_id);
  CREATE TABLE leases (
    shard INTEGER NOT NULL, name TEXT NOT NULL, holder TEXT NOT NULL, until INTEGER NOT NULL,
    data TEXT, version INTEGER NOT NULL,
    PRIMARY KEY (shard, name)
  ) WITHOUT ROWID;
  CREATE TABLE history (
    cluster_id TEXT NOT NULL, check_id TEXT NOT NULL,
    region TEXT NOT NULL, routes TEXT NOT NULL, source TEXT NOT NULL,
    status TEXT NOT NULL, message TEXT NOT NULL, type TEXT NOT NULL, target TEXT NOT NULL,
    created_at TEXT NOT NULL, finished_at TEXT NOT NULL,
    watched_at INTEGER NOT NULL, last_change_at INTEGER NOT NULL, last_polled_at INTEGER,
    outcome TEXT, dispatched_at INTEGER, dispatch_count INTEGER NOT NULL,
    summary TEXT, version INTEGER NOT NULL, archived_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (cluster_id, check_id)
  ) WITHOUT ROWID;
  CREATE INDEX history_expiry ON history (expires_at);
  CREATE TABLE deliveries (
    cluster_id TEXT NOT NULL, check_id TEXT NOT NULL, channel TEXT NOT NULL,
    state TEXT NOT NULL, attempts INTEGER NOT NULL, idempotency_key TEXT NOT NULL,
    claimed_by TEXT, claim_until INTEGER, last_error TEXT, sent_at INTEGER, next_attempt_at INTEGER,
    updated_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, version INTEGER NOT NULL,
    PRIMARY KEY (cluster_id, check_id, channel)
  ) WITHOUT ROWID;
  CREATE INDEX deliveries_expiry ON deliveries (expires_at);
  CREATE TABLE rates (
    channel TEXT NOT NULL, window TEXT NOT NULL, used INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (channel, window)
  ) WITHOUT ROWID;
  CREATE INDEX rates_expiry ON rates (expires_at);
  `,
  // 2: a delivery whose earlier send had an unknown outcome (1), so it is never folded into a digest.
  `ALTER TABLE deliveries ADD COLUMN uncertain INTEGER;`,
  // 3: when that send was a digest, its key and its checks (JSON array), so it is resent whole.
  `ALTER TABLE deliveries ADD COLUMN digest_key TEXT;
   ALTER TABLE deliveries ADD COLUMN digest_of TEXT;`,
];

/** The schema version this code writes; a newer file is refused rather than misread. */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

type Row = Record<string, unknown>;

function str(row: Row, col: string): string {
  const v = row[col];
  return typeof v === 'string' ? v : '';
}
function int(row: Row, col: string): number {
  const v = row[col];
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
}
function optInt(row: Row, col: string): number | undefined {
  const v = row[col];
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
}
function optStr(row: Row, col: string): string | undefined {
  const v = row[col];
  return typeof v === 'string' ? v : undefined;
}

function toCheck(row: Row, withSummary: boolean): CheckRecord {
  const outcome = optStr(row, 'outcome') as CheckOutcome | undefined;
  const base: CheckRecord = {
    clusterId: str(row, 'cluster_id') as ClusterId,
    checkId: str(row, 'check_id') as CheckId,
    region: str(row, 'region'),
    routes: decodeStringArray(str(row, 'routes')),
    source: str(row, 'source') as CheckSource,
    status: str(row, 'status'),
    message: str(row, 'message'),
    type: str(row, 'type'),
    target: str(row, 'target'),
    createdAt: str(row, 'created_at'),
    finishedAt: str(row, 'finished_at'),
    watchedAt: int(row, 'watched_at'),
    lastChangeAt: int(row, 'last_change_at'),
    dispatchCount: int(row, 'dispatch_count'),
    version: int(row, 'version'),
    ...optional('lastPolledAt', optInt(row, 'last_polled_at')),
    ...optional('outcome', outcome),
    ...optional('dispatchedAt', optInt(row, 'dispatched_at')),
    ...optional('archivedAt', optInt(row, 'archived_at')),
  };
  if (!withSummary) return base;
  const summary = decodeJson(optStr(row, 'summary'));
  return summary === undefined ? base : { ...base, summary };
}

function toCluster(row: Row): ClusterWatch {
  return {
    clusterId: str(row, 'cluster_id') as ClusterId,
    region: str(row, 'region'),
    routes: decodeStringArray(str(row, 'routes')),
    watchedAt: int(row, 'watched_at'),
    baseline: decodeStringArray(str(row, 'baseline')),
    version: int(row, 'version'),
    ...optional('lastListedAt', optInt(row, 'last_listed_at')),
  };
}

function toLease(row: Row): LeaseState {
  return {
    name: str(row, 'name'),
    shard: int(row, 'shard'),
    holder: str(row, 'holder'),
    until: int(row, 'until'),
    data: decodeJson(optStr(row, 'data')),
    version: int(row, 'version'),
  };
}

function toDelivery(row: Row): Delivery {
  return {
    clusterId: str(row, 'cluster_id') as ClusterId,
    checkId: str(row, 'check_id') as CheckId,
    channel: str(row, 'channel'),
    state: str(row, 'state') as DeliveryState,
    attempts: int(row, 'attempts'),
    idempotencyKey: str(row, 'idempotency_key'),
    updatedAt: int(row, 'updated_at'),
    version: int(row, 'version'),
    ...optional('claimedBy', optStr(row, 'claimed_by')),
    ...optional('claimUntil', optInt(row, 'claim_until')),
    ...optional('lastError', optStr(row, 'last_error')),
    ...optional('sentAt', optInt(row, 'sent_at')),
    ...optional('nextAttemptAt', optInt(row, 'next_attempt_at')),
    ...optional('uncertain', optInt(row, 'uncertain') === 1 ? true : undefined),
    ...digestOfRow(optStr(row, 'digest_key'), optStr(row, 'digest_of')),
  };
}

/** The digest fields of a delivery row (both or neither). */
function digestOfRow(
  key: string | undefined,
  of: string | undefined,
): { digestKey?: string; digestOf?: string[] } {
  return key === undefined || key === '' ? {} : { digestKey: key, digestOf: decodeStringArray(of) };
}

/**
 * A retry keeps (or gains) `uncertain` when this send or an earlier one had an unknown outcome, so a
 * later resend reuses the delivery's own idempotency key; `delivered` / `failed` settle it.
 */

/** `{ [key]: value }` when defined, `{}` otherwise (exactOptionalPropertyTypes-friendly spreading). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

function checkParams(c: CheckState): Record<string, unknown> {
  return {
    cluster_id: c.clusterId,
    check_id: c.checkId,
    region: c.region,
    routes: JSON.stringify(c.routes),
    source: c.source,
    status: c.status,
    message: c.message,
    type: c.type,
    target: c.target,
    created_at: c.createdAt,
    finished_at: c.finishedAt,
    watched_at: c.watchedAt,
    last_change_at: c.lastChangeAt,
    last_polled_at: c.lastPolledAt ?? null,
    outcome: c.outcome ?? null,
    dispatched_at: c.dispatchedAt ?? null,
    dispatch_count: c.dispatchCount,
  };
}

const CHECK_COLUMNS =
  'region, routes, source, status, message, type, target, created_at, finished_at, watched_at, ' +
  'last_change_at, last_polled_at, outcome, dispatched_at, dispatch_count';
const CHECK_VALUES =
  '@region, @routes, @source, @status, @message, @type, @target, @created_at, @finished_at, @watched_at, ' +
  '@last_change_at, @last_polled_at, @outcome, @dispatched_at, @dispatch_count';
const CHECK_SET = CHECK_COLUMNS.split(', ')
  .map((c) => `${c} = @${c}`)
  .join(', ');

/** Translates a better-sqlite3 failure into a StoreError (by its stable `code`, never its message). */
function toStoreError(err: unknown, operation: string): StoreError {
  if (err instanceof StoreError) return err;
  const code =
    typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string'
      ? (err as { code: string }).code
      : undefined;
  const details = { vendorCode: code, operation };
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_IOERR') {
    return new StoreUnavailable('SQLite database is busy', { cause: err, details });
  }
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return new StoreConflict('row already exists', { cause: err, details });
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_NOTADB') {
    return new StoreNotFound('SQLite database cannot be opened', { cause: err, details });
  }
  if (err instanceof TypeError || err instanceof RangeError) {
    return new StoreInvalid(err.message, { cause: err, details });
  }
  return new StoreError('STORE_UNAVAILABLE', 'SQLite operation failed', {
    retryable: false,
    cause: err,
    details,
  });
}

/** Opens (creating and migrating as needed) a SQLite-backed Store. */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const shards = options.shards ?? DEFAULT_SHARDS;
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new StoreInvalid(`shards must be an integer in 1..${MAX_SHARDS}`);
  }
  const historyTtlMs = options.historyTtlMs ?? 30 * DAY_MS;
  let db: Database.Database;
  try {
    db = new Database(options.path);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    if (options.path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    migrate(db);
  } catch (err) {
    throw toStoreError(err, 'open');
  }
  return new SqliteStore(db, shards, historyTtlMs);
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new StoreInvalid(
      `database schema version ${current} is newer than this checkwatch (${MIGRATIONS.length})`,
    );
  }
  const apply = db.transaction(() => {
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v] ?? '');
      db.pragma(`user_version = ${v + 1}`);
    }
  });
  apply.immediate();
}

class SqliteStore implements Store {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly shards: number,
    private readonly historyTtlMs: number,
  ) {
    this.s = {
      pendingAll: db.prepare('SELECT * FROM pending_checks ORDER BY shard, cluster_id, check_id'),
      pendingShard: db.prepare('SELECT * FROM pending_checks WHERE shard = ? ORDER BY cluster_id, check_id'),
      pendingCluster: db.prepare('SELECT * FROM pending_checks WHERE cluster_id = ? ORDER BY check_id'),
      pendingOne: db.prepare('SELECT * FROM pending_checks WHERE cluster_id = ? AND check_id = ?'),
      clustersAll: db.prepare('SELECT * FROM cluster_watches ORDER BY shard, cluster_id'),
      clustersShard: db.prepare('SELECT * FROM cluster_watches WHERE shard = ? ORDER BY cluster_id'),
      clusterOne: db.prepare('SELECT * FROM cluster_watches WHERE cluster_id = ?'),
      leasesAll: db.prepare('SELECT * FROM leases ORDER BY shard, name'),
      leasesShard: db.prepare('SELECT * FROM leases WHERE shard = ? ORDER BY name'),
      leaseOne: db.prepare('SELECT * FROM leases WHERE shard = ? AND name = ?'),
      insertCheck: db.prepare(
        `INSERT INTO pending_checks (cluster_id, check_id, shard, ${CHECK_COLUMNS}, summary, version)
         VALUES (@cluster_id, @check_id, @shard, ${CHECK_VALUES}, @summary, 1)`,
      ),
      updateCheck: db.prepare(
        `UPDATE pending_checks SET ${CHECK_SET}, version = version + 1
         WHERE cluster_id = @cluster_id AND check_id = @check_id AND version = @expected`,
      ),
      updateCheckSummary: db.prepare(
        `UPDATE pending_checks SET ${CHECK_SET}, summary = @summary, version = version + 1
         WHERE cluster_id = @cluster_id AND check_id = @check_id AND version = @expected`,
      ),
      deleteCheck: db.prepare(
        'DELETE FROM pending_checks WHERE cluster_id = ? AND check_id = ? AND version = ?',
      ),
      deleteCheckAny: db.prepare('DELETE FROM pending_checks WHERE cluster_id = ? AND check_id = ?'),
      insertCluster: db.prepare(
        `INSERT INTO cluster_watches (cluster_id, shard, region, routes, watched_at, last_listed_at, baseline, version)
         VALUES (@cluster_id, @shard, @region, @routes, @watched_at, @last_listed_at, @baseline, 1)`,
      ),
      updateCluster: db.prepare(
        `UPDATE cluster_watches SET region = @region, routes = @routes, watched_at = @watched_at,
           last_listed_at = @last_listed_at, baseline = @baseline, version = version + 1
         WHERE cluster_id = @cluster_id AND version = @expected`,
      ),
      deleteCluster: db.prepare('DELETE FROM cluster_watches WHERE cluster_id = ? AND version = ?'),
      deleteClusterAny: db.prepare('DELETE FROM cluster_watches WHERE cluster_id = ?'),
      insertLease: db.prepare(
        'INSERT INTO leases (shard, name, holder, until, data, version) VALUES (?, ?, ?, ?, NULL, 1)',
      ),
      takeLease: db.prepare(
        'UPDATE leases SET holder = ?, until = ?, version = version + 1 WHERE shard = ? AND name = ? AND version = ?',
      ),
      releaseLease: db.prepare(
        `UPDATE leases SET holder = '', until = ?, data = ?, version = version + 1
         WHERE shard = ? AND name = ? AND version = ? AND holder = ?`,
      ),
      historyOne: db.prepare('SELECT * FROM history WHERE cluster_id = ? AND check_id = ?'),
      historyAll: db.prepare('SELECT * FROM history ORDER BY cluster_id, check_id'),
      historyCluster: db.prepare('SELECT * FROM history WHERE cluster_id = ? ORDER BY check_id'),
      putHistory: db.prepare(
        `INSERT OR REPLACE INTO history (cluster_id, check_id, ${CHECK_COLUMNS}, summary, version, archived_at, expires_at)
         VALUES (@cluster_id, @check_id, ${CHECK_VALUES}, @summary, @version, @archived_at, @expires_at)`,
      ),
      purgeHistory: db.prepare(
        `DELETE FROM history WHERE (cluster_id, check_id) IN
           (SELECT cluster_id, check_id FROM history WHERE expires_at <= ? LIMIT 100)`,
      ),
      purgeDeliveries: db.prepare(
        `DELETE FROM deliveries WHERE (cluster_id, check_id, channel) IN
           (SELECT cluster_id, check_id, channel FROM deliveries WHERE expires_at <= ? LIMIT 100)`,
      ),
      purgeRates: db.prepare(
        `DELETE FROM rates WHERE (channel, window) IN
           (SELECT channel, window FROM rates WHERE expires_at <= ? LIMIT 100)`,
      ),
      deliveries: db.prepare(
        'SELECT * FROM deliveries WHERE cluster_id = ? AND check_id = ? ORDER BY channel',
      ),
      deliveryOne: db.prepare(
        'SELECT * FROM deliveries WHERE cluster_id = ? AND check_id = ? AND channel = ?',
      ),
      insertDelivery: db.prepare(
        `INSERT INTO deliveries (cluster_id, check_id, channel, state, attempts, idempotency_key, claimed_by,
           claim_until, last_error, sent_at, next_attempt_at, uncertain, digest_key, digest_of, updated_at,
           expires_at, version)
         VALUES (@cluster_id, @check_id, @channel, @state, @attempts, @idempotency_key, @claimed_by,
           @claim_until, @last_error, @sent_at, @next_attempt_at, @uncertain, @digest_key, @digest_of,
           @updated_at, @expires_at, 1)`,
      ),
      updateDelivery: db.prepare(
        `UPDATE deliveries SET state = @state, attempts = @attempts, claimed_by = @claimed_by,
           claim_until = @claim_until, last_error = @last_error, sent_at = @sent_at,
           next_attempt_at = @next_attempt_at, uncertain = @uncertain, digest_key = @digest_key,
           digest_of = @digest_of, updated_at = @updated_at,
           expires_at = @expires_at,
           version = version + 1
         WHERE cluster_id = @cluster_id AND check_id = @check_id AND channel = @channel AND version = @expected`,
      ),
      rateOne: db.prepare('SELECT * FROM rates WHERE channel = ? AND window = ?'),
      putRate: db.prepare(
        'INSERT OR REPLACE INTO rates (channel, window, used, expires_at) VALUES (?, ?, ?, ?)',
      ),
    };
  }

  /** Runs `fn` in one IMMEDIATE transaction and settles a promise with its result or a StoreError. */
  private tx<T>(operation: string, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(this.db.transaction(fn).immediate());
    } catch (err) {
      return Promise.reject(toStoreError(err, operation));
    }
  }

  listPending(scope: PendingScope = {}): Promise<PendingSet> {
    return this.tx('listPending', () => {
      if (scope.clusterId !== undefined) {
        validateIds(scope.clusterId);
        const cluster = this.s.clusterOne.get(scope.clusterId) as Row | undefined;
        return {
          checks: (this.s.pendingCluster.all(scope.clusterId) as Row[]).map((r) => toCheck(r, false)),
          clusters: cluster === undefined ? [] : [toCluster(cluster)],
          leases: [],
        };
      }
      if (scope.shard !== undefined) {
        if (
          !Number.isInteger(scope.shard) ||
          scope.shard < GLOBAL_LEASE_SHARD ||
          scope.shard >= this.shards
        ) {
          throw new StoreInvalid(`shard must be in -1..${this.shards - 1}`);
        }
        return {
          checks: (this.s.pendingShard.all(scope.shard) as Row[]).map((r) => toCheck(r, false)),
          clusters: (this.s.clustersShard.all(scope.shard) as Row[]).map(toCluster),
          leases: (this.s.leasesShard.all(scope.shard) as Row[]).map(toLease),
        };
      }
      return {
        checks: (this.s.pendingAll.all() as Row[]).map((r) => toCheck(r, false)),
        clusters: (this.s.clustersAll.all() as Row[]).map(toCluster),
        leases: (this.s.leasesAll.all() as Row[]).map(toLease),
      };
    });
  }

  applyChanges(changes: readonly PendingChange[]): Promise<ChangeResult[]> {
    return this.tx('applyChanges', () => changes.map((c) => this.applyOne(c)));
  }

  private applyOne(change: PendingChange): ChangeResult {
    try {
      validateVersion(change.expectedVersion);
      const version = this.applyOrThrow(change);
      return { ok: true, version };
    } catch (err) {
      return { ok: false, error: toStoreError(err, 'applyChanges') };
    }
  }

  /** Applies one change, returning the new version, or throws StoreConflict / StoreInvalid. */
  private applyOrThrow(change: PendingChange): number {
    const conflict = (what: string): never => {
      throw new StoreConflict(
        `${what} changed since it was read (expected version ${change.expectedVersion})`,
      );
    };
    switch (change.kind) {
      case 'putCheck': {
        validateCheckState(change.check);
        const summary = encodeJson('summary', change.summary, MAX_SUMMARY_BYTES);
        const params = {
          ...checkParams(change.check),
          shard: shardOf(change.check.clusterId, this.shards),
          summary: summary ?? null,
          expected: change.expectedVersion,
        };
        if (change.expectedVersion === 0) {
          if (this.s.pendingOne.get(change.check.clusterId, change.check.checkId) !== undefined)
            conflict('check');
          this.s.insertCheck.run(params);
          return 1;
        }
        const stmt = summary === undefined ? this.s.updateCheck : this.s.updateCheckSummary;
        if (stmt.run(params).changes !== 1) conflict('check');
        return change.expectedVersion + 1;
      }
      case 'putCluster': {
        validateClusterState(change.cluster);
        const c = change.cluster;
        const params = {
          cluster_id: c.clusterId,
          shard: shardOf(c.clusterId, this.shards),
          region: c.region,
          routes: JSON.stringify(c.routes),
          watched_at: c.watchedAt,
          last_listed_at: c.lastListedAt ?? null,
          baseline: JSON.stringify(c.baseline),
          expected: change.expectedVersion,
        };
        if (change.expectedVersion === 0) {
          if (this.s.clusterOne.get(c.clusterId) !== undefined) conflict('cluster watch');
          this.s.insertCluster.run(params);
          return 1;
        }
        if (this.s.updateCluster.run(params).changes !== 1) conflict('cluster watch');
        return change.expectedVersion + 1;
      }
      case 'deleteCheck':
        validateIds(change.clusterId, change.checkId);
        if (this.s.deleteCheck.run(change.clusterId, change.checkId, change.expectedVersion).changes !== 1) {
          conflict('check');
        }
        return 0;
      case 'deleteCluster':
        validateIds(change.clusterId);
        if (this.s.deleteCluster.run(change.clusterId, change.expectedVersion).changes !== 1) {
          conflict('cluster watch');
        }
        return 0;
      default: {
        const unreachable: never = change;
        return unreachable;
      }
    }
  }

  readLease(name: string, shard = GLOBAL_LEASE_SHARD): Promise<LeaseState | undefined> {
    return this.tx('readLease', () => {
      const row = this.s.leaseOne.get(shard, name) as Row | undefined;
      return row === undefined ? undefined : toLease(row);
    });
  }

  acquireLease(
    name: string,
    holder: string,
    ttlMs: number,
    now: number,
    options: { readonly shard?: number | undefined; readonly seen?: LeaseState | null | undefined } = {},
  ): Promise<LeaseAcquireResult> {
    const shard = options.shard ?? GLOBAL_LEASE_SHARD;
    return this.tx('acquireLease', (): LeaseAcquireResult => {
      validateLeaseArgs(name, holder, ttlMs);
      const row = this.s.leaseOne.get(shard, name) as Row | undefined;
      const current = row === undefined ? undefined : toLease(row);
      // `seen` is what the caller's range read showed; the Tablestore adapter writes against it without
      // a read. Here the read is free, so decide on the current row: the outcome is the same.
      if (!leaseIsFree(current, holder, now)) {
        return { acquired: false, holder: current?.holder ?? '', until: current?.until ?? 0 };
      }
      const until = now + ttlMs;
      if (current === undefined) {
        this.s.insertLease.run(shard, name, holder, until);
        return { acquired: true, lease: { name, shard, holder, until, version: 1 }, previousData: undefined };
      }
      this.s.takeLease.run(holder, until, shard, name, current.version);
      return {
        acquired: true,
        lease: { name, shard, holder, until, version: current.version + 1 },
        previousData: current.data,
      };
    });
  }

  renewLease(lease: Lease, ttlMs: number, now: number): Promise<Lease> {
    return this.tx('renewLease', () => {
      validateLeaseArgs(lease.name, lease.holder, ttlMs);
      const until = now + ttlMs;
      const r = this.s.takeLease.run(lease.holder, until, lease.shard, lease.name, lease.version);
      if (r.changes !== 1) throw new StoreConflict(`lease ${lease.name} was lost`);
      return { ...lease, until, version: lease.version + 1 };
    });
  }

  releaseLease(lease: Lease, data: unknown, now: number): Promise<boolean> {
    return this.tx('releaseLease', () => {
      const text = encodeJson('lease data', data, MAX_LEASE_DATA_BYTES) ?? null;
      const r = this.s.releaseLease.run(now, text, lease.shard, lease.name, lease.version, lease.holder);
      return r.changes === 1;
    });
  }

  getCheck(clusterId: ClusterId, checkId: CheckId): Promise<CheckView | undefined> {
    return this.tx('getCheck', (): CheckView | undefined => {
      validateIds(clusterId, checkId);
      const deliveries = (this.s.deliveries.all(clusterId, checkId) as Row[]).map(toDelivery);
      const pending = this.s.pendingOne.get(clusterId, checkId) as Row | undefined;
      if (pending !== undefined) return { where: 'pending', check: toCheck(pending, true), deliveries };
      const history = this.s.historyOne.get(clusterId, checkId) as Row | undefined;
      if (history !== undefined) return { where: 'history', check: toCheck(history, true), deliveries };
      return undefined;
    });
  }

  listDeliveries(clusterId: ClusterId, checkId: CheckId): Promise<Delivery[]> {
    return this.tx('listDeliveries', () => {
      validateIds(clusterId, checkId);
      return (this.s.deliveries.all(clusterId, checkId) as Row[]).map(toDelivery);
    });
  }

  claimDelivery(key: DeliveryKey, holder: string, claimMs: number, now: number): Promise<ClaimResult> {
    return this.tx('claimDelivery', (): ClaimResult => {
      validateIds(key.clusterId, key.checkId);
      validateChannel(key.channel);
      if (holder === '' || !Number.isSafeInteger(claimMs) || claimMs <= 0) {
        throw new StoreInvalid('claim needs a holder and a positive claimMs');
      }
      const row = this.s.deliveryOne.get(key.clusterId, key.checkId, key.channel) as Row | undefined;
      const current = row === undefined ? undefined : toDelivery(row);
      const decision = decideClaim(current, now);
      if (!decision.claim) {
        // decideClaim only refuses an existing row.
        return { claimed: false, reason: decision.reason, delivery: current as Delivery };
      }
      const next: Delivery = {
        clusterId: key.clusterId,
        checkId: key.checkId,
        channel: key.channel,
        state: 'claimed',
        attempts: (current?.attempts ?? 0) + 1,
        idempotencyKey: current?.idempotencyKey ?? idempotencyKeyFor(key),
        claimedBy: holder,
        claimUntil: now + claimMs,
        updatedAt: now,
        version: (current?.version ?? 0) + 1,
        ...optional('lastError', current?.lastError),
        // An unknown outcome stays known across the claim: the resend must use the same key (its own,
        // or the digest's it went out in).
        ...unsettledFields(current),
      };
      const params = this.deliveryParams(next, current?.version ?? 0);
      if (current === undefined) this.s.insertDelivery.run(params);
      else this.s.updateDelivery.run(params);
      return { claimed: true, delivery: next };
    });
  }

  finishDelivery(claimed: Delivery, result: DeliveryResult, now: number): Promise<Delivery> {
    return this.tx('finishDelivery', () => {
      const next = finishedDelivery(claimed, result, now);
      const r = this.s.updateDelivery.run(this.deliveryParams(next, claimed.version));
      if (r.changes !== 1) {
        throw new StoreConflict(`delivery ${claimed.channel} was claimed by someone else meanwhile`);
      }
      return next;
    });
  }

  private deliveryParams(d: Delivery, expected: number): Record<string, unknown> {
    return {
      cluster_id: d.clusterId,
      check_id: d.checkId,
      channel: d.channel,
      state: d.state,
      attempts: d.attempts,
      idempotency_key: d.idempotencyKey,
      claimed_by: d.claimedBy ?? null,
      claim_until: d.claimUntil ?? null,
      last_error: d.lastError ?? null,
      sent_at: d.sentAt ?? null,
      next_attempt_at: d.nextAttemptAt ?? null,
      uncertain: d.uncertain === true ? 1 : null,
      digest_key: d.digestKey ?? null,
      digest_of: d.digestKey === undefined ? null : JSON.stringify(d.digestOf ?? []),
      updated_at: d.updatedAt,
      expires_at: d.updatedAt + this.historyTtlMs,
      expected,
    };
  }

  archiveCheck(clusterId: ClusterId, checkId: CheckId, now: number): Promise<CheckRecord | undefined> {
    return this.tx('archiveCheck', (): CheckRecord | undefined => {
      validateIds(clusterId, checkId);
      this.s.purgeHistory.run(now);
      this.s.purgeDeliveries.run(now);
      const row = this.s.pendingOne.get(clusterId, checkId) as Row | undefined;
      if (row === undefined) return undefined;
      const record = { ...toCheck(row, true), archivedAt: now };
      this.s.putHistory.run({
        ...checkParams(record),
        summary: optStr(row, 'summary') ?? null,
        version: record.version,
        archived_at: now,
        expires_at: now + this.historyTtlMs,
      });
      this.s.deleteCheckAny.run(clusterId, checkId);
      return record;
    });
  }

  takeRateTokens(
    channel: string,
    windowKey: string,
    limit: number,
    n: number,
    ttlMs: number,
    now: number,
  ): Promise<number> {
    return this.tx('takeRateTokens', () => {
      validateRateArgs(channel, windowKey, limit, n, ttlMs);
      this.s.purgeRates.run(now);
      const row = this.s.rateOne.get(channel, windowKey) as Row | undefined;
      const live = row !== undefined && int(row, 'expires_at') > now;
      const used = live ? int(row, 'used') : 0;
      const granted = rateGrant(used, limit, n);
      if (granted > 0) {
        const expiresAt = live ? Math.max(int(row, 'expires_at'), now + ttlMs) : now + ttlMs;
        this.s.putRate.run(channel, windowKey, used + granted, expiresAt);
      }
      return granted;
    });
  }

  watchCheck(input: NewCheckWatch, now: number): Promise<{ created: boolean; check: PendingCheck }> {
    return this.tx('watchCheck', () => {
      const state = newCheckState(input, now);
      validateCheckState(state);
      const row = this.s.pendingOne.get(input.clusterId, input.checkId) as Row | undefined;
      if (row === undefined) {
        this.applyOrThrow({ kind: 'putCheck', check: state, expectedVersion: 0 });
        return { created: true, check: { ...state, version: 1 } };
      }
      const existing = toCheck(row, false);
      const routes = mergeRoutes(existing.routes, input.routes);
      if (routes.length === existing.routes.length) return { created: false, check: existing };
      const updated = { ...stripVersion(existing), routes };
      const version = this.applyOrThrow({
        kind: 'putCheck',
        check: updated,
        expectedVersion: existing.version,
      });
      return { created: false, check: { ...updated, version } };
    });
  }

  watchCluster(input: NewClusterWatch, now: number): Promise<{ created: boolean; cluster: ClusterWatch }> {
    return this.tx('watchCluster', () => {
      const state = { ...input, watchedAt: now };
      validateClusterState(state);
      const row = this.s.clusterOne.get(input.clusterId) as Row | undefined;
      if (row === undefined) {
        this.applyOrThrow({ kind: 'putCluster', cluster: state, expectedVersion: 0 });
        return { created: true, cluster: { ...state, version: 1 } };
      }
      const existing = toCluster(row);
      const routes = mergeRoutes(existing.routes, input.routes);
      if (routes.length === existing.routes.length) return { created: false, cluster: existing };
      const { version: _v, ...rest } = existing;
      const updated = { ...rest, routes };
      const version = this.applyOrThrow({
        kind: 'putCluster',
        cluster: updated,
        expectedVersion: existing.version,
      });
      return { created: false, cluster: { ...updated, version } };
    });
  }

  unwatchCheck(clusterId: ClusterId, checkId: CheckId): Promise<boolean> {
    return this.tx('unwatchCheck', () => {
      validateIds(clusterId, checkId);
      return this.s.deleteCheckAny.run(clusterId, checkId).changes === 1;
    });
  }

  unwatchCluster(clusterId: ClusterId): Promise<boolean> {
    return this.tx('unwatchCluster', () => {
      validateIds(clusterId);
      return this.s.deleteClusterAny.run(clusterId).changes === 1;
    });
  }

  listChecks(filter: ListChecksFilter = {}): Promise<CheckRecord[]> {
    return this.tx('listChecks', () => {
      if (filter.clusterId !== undefined) validateIds(filter.clusterId);
      const limit = listLimit(filter.limit);
      const where = filter.where ?? 'all';
      const keep = checkFilter(filter);
      const out: CheckRecord[] = [];
      const scan = (rows: Iterable<unknown>): void => {
        for (const r of rows) {
          if (out.length >= limit) return;
          const c = toCheck(r as Row, false);
          if (keep(c)) out.push(c);
        }
      };
      if (where !== 'history') {
        scan(
          filter.clusterId === undefined
            ? this.s.pendingAll.iterate()
            : this.s.pendingCluster.iterate(filter.clusterId),
        );
      }
      if (where !== 'pending' && out.length < limit) {
        scan(
          filter.clusterId === undefined
            ? this.s.historyAll.iterate()
            : this.s.historyCluster.iterate(filter.clusterId),
        );
      }
      return out;
    });
  }

  close(): Promise<void> {
    try {
      if (this.db.open) this.db.close();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(toStoreError(err, 'close'));
    }
  }
}
