/**
 * Tablestore adapter of the Store port, through the real `tablestore` SDK (data model: store.ts).
 *
 * The SDK's traps (shared/reference/tablestore-sdk.md) are handled here, once:
 * - its retry is disabled (`maxRetries: 0`, a process-global) and replaced by ours: bounded, jittered,
 *   for reads and writes alike, driven by the decoded OTS code, never by the message text;
 * - `err.code` is the HTTP status: the OTS code is decoded from the protobuf body (ots-errors.ts);
 * - a socket timeout is always set, and requests use our own keep-alive agent;
 * - integers are written as `Long` and read back from `Int64LE`;
 * - every conditional write uses `passIfMissing: false` and carries a write id, so a retry after an
 *   ambiguous failure (OTSTimeout, reset) recognises its own earlier write instead of reporting a
 *   conflict or writing twice.
 */
import http from 'node:http';
import https from 'node:https';
import TableStore from 'tablestore';
import type { CheckId, ClusterId } from '../domain/check';
import { backoffDelay, type RetryPolicy } from '../domain/backoff';
import {
  StoreConflict,
  StoreError,
  StoreInvalid,
  StoreUnavailable,
  isStoreConflict,
  type ChangeResult,
  type CheckOutcome,
  type CheckRecord,
  type CheckSource,
  type CheckState,
  type CheckView,
  type ClaimResult,
  type ClusterState,
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
  CLUSTER_ROW_ID,
  DEFAULT_SHARDS,
  GLOBAL_LEASE_SHARD,
  LEASE_ROW_ID,
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
  newWriteId,
  rateGrant,
  shardOf,
  stripVersion,
  unsettledFields,
  validateChannel,
  validateCheckState,
  validateClusterState,
  validateIds,
  validateLeaseArgs,
  validateRateArgs,
  validateVersion,
} from './rules';
import { isAmbiguousOtsCode, otsCodeToStoreError, toStoreError } from './ots-errors';

type Pk = TableStore.PrimaryKeyInput;
type Cols = Record<string, TableStore.ColumnValue>;

export interface TablestoreCredentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** STS token (Function Compute's `context.credentials.securityToken`). */
  readonly securityToken?: string | undefined;
}

export interface TablestoreStoreOptions {
  /** e.g. `https://myinstance.cn-hangzhou.vpc.tablestore.aliyuncs.com`. */
  readonly endpoint: string;
  readonly instanceName: string;
  readonly credentials: TablestoreCredentials;
  /** Default `checkwatch_`. */
  readonly tablePrefix?: string | undefined;
  /** Default 16. Must stay the same for the lifetime of the tables (rows are placed by it). */
  readonly shards?: number | undefined;
  /** Socket idle timeout per request. Default 10 s. */
  readonly socketTimeoutMs?: number | undefined;
  /** Retry policy for every request. Default 4 attempts, 100 ms base, 2 s cap. */
  readonly retry?: RetryPolicy | undefined;
  /** TTL of history and deliveries, in days (Tablestore minimum: 1). Default 30. */
  readonly historyTtlDays?: number | undefined;
  /** Create missing tables on first use (the functions, when allowed). Default false. */
  readonly autoCreate?: boolean | undefined;
  /** Called once per request sent (retries included), with the API name: benchmarks count with it. */
  readonly onRequest?: ((op: string) => void) | undefined;
  /** Sleep between retries (tests inject a fast one). */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  readonly random?: (() => number) | undefined;
  /** Sockets kept per endpoint. Default 64. */
  readonly maxSockets?: number | undefined;
}

export interface SchemaReport {
  readonly created: string[];
  readonly verified: string[];
}

export interface TablestoreStore extends Store {
  /** Creates missing tables, verifies existing ones (primary key schema). Idempotent. */
  ensureSchema(): Promise<SchemaReport>;
  /** Physical table names, by role. */
  readonly tables: Readonly<Record<TableRole, string>>;
}

export type TableRole = 'watch' | 'history' | 'deliveries' | 'rates';

export const DEFAULT_TABLESTORE_RETRY = {
  maxAttempts: 4,
  baseMs: 100,
  capMs: 2000,
} as const satisfies RetryPolicy;

const DAY_S = 86_400;
/** GetRange page size: the service's own maximum per call. */
const RANGE_PAGE = 5000;
const BATCH_WRITE_ROWS = 200;
/** Stay well under the 4 MB BatchWriteRow limit. */
const BATCH_WRITE_BYTES = 3 * 1024 * 1024;
const BATCH_GET_ROWS = 100;
/** Bound on history rows scanned by `listChecks`. */
const HISTORY_SCAN_MAX = 20_000;
/** Re-read-and-decide rounds for read-modify-write operations under contention. */
const RMW_ROUNDS = 16;

const SCHEMAS: Record<TableRole, { name: string; type: 'INTEGER' | 'STRING' }[]> = {
  // Short names: this table is read every cycle, and names are repeated in every row on the wire.
  watch: [
    { name: 's', type: 'INTEGER' },
    { name: 'c', type: 'STRING' },
    { name: 'k', type: 'STRING' },
  ],
  history: [
    { name: 'cluster_id', type: 'STRING' },
    { name: 'check_id', type: 'STRING' },
  ],
  deliveries: [
    { name: 'cluster_id', type: 'STRING' },
    { name: 'check_id', type: 'STRING' },
    { name: 'channel', type: 'STRING' },
  ],
  rates: [
    { name: 'channel', type: 'STRING' },
    { name: 'window', type: 'STRING' },
  ],
};

/** Columns returned by the pending range read: everything except the summary (`sum`) and write id. */
const PENDING_COLUMNS = ['j', 'v', 'h', 'u', 'd'];

/** Readable columns of a history row, for listings (everything but the summary). */
const HISTORY_LIST_COLUMNS = [
  'region',
  'routes',
  'source',
  'status',
  'message',
  'ctype',
  'target',
  'created_at',
  'finished_at',
  'watched_at',
  'last_change_at',
  'last_polled_at',
  'outcome',
  'dispatched_at',
  'dispatch_count',
  'archived_at',
  'v',
];

const long = (n: number): TableStore.Int64 => TableStore.Long.fromNumber(n);

// ─── Row decoding ────────────────────────────────────────────────────────────────────────────────────

class Cells {
  readonly pk = new Map<string, unknown>();
  readonly attrs = new Map<string, unknown>();

  constructor(
    row:
      | TableStore.DecodedRow
      | {
          primaryKey: TableStore.BatchRowResult['primaryKey'];
          attributes: TableStore.BatchRowResult['attributes'];
        },
  ) {
    for (const p of row.primaryKey ?? []) this.pk.set(p.name, p.value);
    for (const a of row.attributes ?? []) this.attrs.set(a.columnName, a.columnValue);
  }

  get exists(): boolean {
    return this.pk.size > 0;
  }
  pkStr(name: string): string {
    const v = this.pk.get(name);
    return typeof v === 'string' ? v : '';
  }
  pkInt(name: string): number {
    return toNumber(this.pk.get(name)) ?? 0;
  }
  str(name: string): string {
    const v = this.attrs.get(name);
    return typeof v === 'string' ? v : '';
  }
  optStr(name: string): string | undefined {
    const v = this.attrs.get(name);
    return typeof v === 'string' ? v : undefined;
  }
  int(name: string): number {
    return toNumber(this.attrs.get(name)) ?? 0;
  }
  optInt(name: string): number | undefined {
    return toNumber(this.attrs.get(name));
  }
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { toNumber?: unknown }).toNumber === 'function') {
    return (v as TableStore.Int64).toNumber();
  }
  return undefined;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

/** A history row (readable columns). */
function historyFromCells(c: Cells, withSummary: boolean): CheckRecord {
  const base: CheckRecord = {
    clusterId: c.pkStr('cluster_id') as ClusterId,
    checkId: c.pkStr('check_id') as CheckId,
    region: c.str('region'),
    routes: decodeStringArray(c.str('routes')),
    source: c.str('source') as CheckSource,
    status: c.str('status'),
    message: c.str('message'),
    type: c.str('ctype'),
    target: c.str('target'),
    createdAt: c.str('created_at'),
    finishedAt: c.str('finished_at'),
    watchedAt: c.int('watched_at'),
    lastChangeAt: c.int('last_change_at'),
    dispatchCount: c.int('dispatch_count'),
    version: c.int('v'),
    ...optional('lastPolledAt', c.optInt('last_polled_at')),
    ...optional('outcome', c.optStr('outcome') as CheckOutcome | undefined),
    ...optional('dispatchedAt', c.optInt('dispatched_at')),
    ...optional('archivedAt', c.optInt('archived_at')),
  };
  if (!withSummary) return base;
  const summary = decodeJson(c.optStr('summary'));
  return summary === undefined ? base : { ...base, summary };
}

/** A pending check row: the packed state `j`, version `v`, summary `sum`. */
function pendingCheckFromCells(c: Cells, withSummary: boolean): CheckRecord {
  const clusterId = c.pkStr('c') as ClusterId;
  const state = unpackCheck(c.str('j'), clusterId, unpackCheckKey(clusterId, c.pkStr('k')) as CheckId);
  const base: CheckRecord = { ...state, version: c.int('v') };
  if (!withSummary) return base;
  const summary = decodeJson(c.optStr('sum'));
  return summary === undefined ? base : { ...base, summary };
}

function clusterFromCells(c: Cells): ClusterWatch {
  return { ...unpackCluster(c.str('j'), c.pkStr('c') as ClusterId), version: c.int('v') };
}

function leaseFromCells(c: Cells): LeaseState {
  return {
    name: c.pkStr('k'),
    shard: c.pkInt('s'),
    holder: c.str('h'),
    until: c.int('u'),
    data: decodeJson(c.optStr('d')),
    version: c.int('v'),
  };
}

function deliveryFromCells(c: Cells): Delivery {
  return {
    clusterId: c.pkStr('cluster_id') as ClusterId,
    checkId: c.pkStr('check_id') as CheckId,
    channel: c.pkStr('channel'),
    state: c.str('state') as DeliveryState,
    attempts: c.int('attempts'),
    idempotencyKey: c.str('idempotency_key'),
    updatedAt: c.int('updated_at'),
    version: c.int('v'),
    ...optional('claimedBy', c.optStr('claimed_by')),
    ...optional('claimUntil', c.optInt('claim_until')),
    ...optional('lastError', c.optStr('last_error')),
    ...optional('sentAt', c.optInt('sent_at')),
    ...optional('nextAttemptAt', c.optInt('next_attempt_at')),
    ...optional('uncertain', isTrueCell(c.attrs.get('uncertain')) ? true : undefined),
    ...digestOfCells(c.optStr('digest_key'), c.optStr('digest_of')),
  };
}

/** The digest fields of a delivery row (both or neither). */
function digestOfCells(
  key: string | undefined,
  of: string | undefined,
): { digestKey?: string; digestOf?: string[] } {
  return key === undefined || key === '' ? {} : { digestKey: key, digestOf: decodeStringArray(of) };
}

/** `uncertain` is written as Integer 1; a Boolean true (hand-written or a future writer) reads the same. */
function isTrueCell(v: unknown): boolean {
  return v === true || toNumber(v) === 1;
}

/**
 * A retry keeps (or gains) `uncertain` when this send or an earlier one had an unknown outcome, so a
 * later resend reuses the delivery's own idempotency key; `delivered` / `failed` settle it.
 */

// ─── Packed pending rows ─────────────────────────────────────────────────────────────────────────────
//
// A pending row is read every cycle, so it is packed: one positional JSON array (`j`, first element the
// format number) instead of ~15 cells of ~15 bytes overhead each, and the check id's `-<cluster_id>-`
// infix — redundant with the `c` key column — is stored as `~` (a character no check id contains).

const PACK_FORMAT = 1;

/** The `k` key of a check row. */
export function packCheckKey(clusterId: string, checkId: string): string {
  const infix = `-${clusterId}-`;
  const i = checkId.indexOf(infix);
  return i < 0 ? checkId : `${checkId.slice(0, i)}~${checkId.slice(i + infix.length)}`;
}

export function unpackCheckKey(clusterId: string, key: string): string {
  const i = key.indexOf('~');
  return i < 0 ? key : `${key.slice(0, i)}-${clusterId}-${key.slice(i + 1)}`;
}

function packCheck(c: CheckState): string {
  return JSON.stringify([
    PACK_FORMAT,
    c.region,
    c.routes,
    c.source,
    c.status,
    c.message,
    c.type,
    c.target,
    c.createdAt,
    c.finishedAt,
    c.watchedAt,
    c.lastChangeAt,
    c.lastPolledAt ?? null,
    c.outcome ?? null,
    c.dispatchedAt ?? null,
    c.dispatchCount,
  ]);
}

function field(a: readonly unknown[], i: number): unknown {
  return a[i];
}
function fStr(a: readonly unknown[], i: number): string {
  const v = field(a, i);
  return typeof v === 'string' ? v : '';
}
function fNum(a: readonly unknown[], i: number): number | undefined {
  const v = field(a, i);
  return typeof v === 'number' ? v : undefined;
}
function fStrings(a: readonly unknown[], i: number): string[] {
  const v = field(a, i);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function unpackCheck(text: string, clusterId: ClusterId, checkId: CheckId): CheckState {
  const parsed = decodeJson(text);
  const a: readonly unknown[] = Array.isArray(parsed) ? parsed : [];
  return {
    clusterId,
    checkId,
    region: fStr(a, 1),
    routes: fStrings(a, 2),
    source: fStr(a, 3) as CheckSource,
    status: fStr(a, 4),
    message: fStr(a, 5),
    type: fStr(a, 6),
    target: fStr(a, 7),
    createdAt: fStr(a, 8),
    finishedAt: fStr(a, 9),
    watchedAt: fNum(a, 10) ?? 0,
    lastChangeAt: fNum(a, 11) ?? 0,
    ...optional('lastPolledAt', fNum(a, 12)),
    ...optional('outcome', (field(a, 13) ?? undefined) as CheckOutcome | undefined),
    ...optional('dispatchedAt', fNum(a, 14)),
    dispatchCount: fNum(a, 15) ?? 0,
  };
}

function packCluster(c: ClusterState): string {
  return JSON.stringify([PACK_FORMAT, c.region, c.routes, c.watchedAt, c.lastListedAt ?? null, c.baseline]);
}

function unpackCluster(text: string, clusterId: ClusterId): ClusterState {
  const parsed = decodeJson(text);
  const a: readonly unknown[] = Array.isArray(parsed) ? parsed : [];
  return {
    clusterId,
    region: fStr(a, 1),
    routes: fStrings(a, 2),
    watchedAt: fNum(a, 3) ?? 0,
    ...optional('lastListedAt', fNum(a, 4)),
    baseline: fStrings(a, 5),
  };
}

// ─── Row encoding ────────────────────────────────────────────────────────────────────────────────────

/** Columns of a check row (without version/wid/summary); `absent` lists optional columns to delete. */
function checkColumns(c: CheckState): { put: Cols; absent: string[] } {
  const put: Cols = {
    region: c.region,
    routes: JSON.stringify(c.routes),
    source: c.source,
    status: c.status,
    message: c.message,
    ctype: c.type,
    target: c.target,
    created_at: c.createdAt,
    finished_at: c.finishedAt,
    watched_at: long(c.watchedAt),
    last_change_at: long(c.lastChangeAt),
    dispatch_count: long(c.dispatchCount),
  };
  const absent: string[] = [];
  const opt = (name: string, v: TableStore.ColumnValue | undefined): void => {
    if (v === undefined) absent.push(name);
    else put[name] = v;
  };
  opt('last_polled_at', c.lastPolledAt === undefined ? undefined : long(c.lastPolledAt));
  opt('outcome', c.outcome);
  opt('dispatched_at', c.dispatchedAt === undefined ? undefined : long(c.dispatchedAt));
  return { put, absent };
}

function deliveryColumns(d: Delivery, wid: string): TableStore.AttributeColumns {
  const cols: TableStore.AttributeColumns = [
    { state: d.state },
    { attempts: long(d.attempts) },
    { idempotency_key: d.idempotencyKey },
    { updated_at: long(d.updatedAt) },
    { v: long(d.version) },
    { w: wid },
  ];
  if (d.claimedBy !== undefined) cols.push({ claimed_by: d.claimedBy });
  if (d.claimUntil !== undefined) cols.push({ claim_until: long(d.claimUntil) });
  if (d.lastError !== undefined) cols.push({ last_error: d.lastError });
  if (d.sentAt !== undefined) cols.push({ sent_at: long(d.sentAt) });
  if (d.nextAttemptAt !== undefined) cols.push({ next_attempt_at: long(d.nextAttemptAt) });
  if (d.uncertain === true) cols.push({ uncertain: long(1) });
  if (d.digestKey !== undefined) {
    cols.push({ digest_key: d.digestKey }, { digest_of: JSON.stringify(d.digestOf ?? []) });
  }
  return cols;
}

function toList(cols: Cols): TableStore.AttributeColumns {
  return Object.entries(cols).map(([k, v]) => ({ [k]: v }));
}

function updateColumns(put: Cols, absent: readonly string[]): TableStore.UpdateColumns {
  const out: TableStore.UpdateColumns = [{ PUT: toList(put) }];
  if (absent.length > 0) out.push({ DELETE_ALL: [...absent] });
  return out;
}

/** Rough encoded size of a row, for chunking batches under the request size limit. */
function approxSize(cols: Cols): number {
  let n = 64;
  for (const [k, v] of Object.entries(cols))
    n += k.length + (typeof v === 'string' ? Buffer.byteLength(v) : 8) + 8;
  return n;
}

/** Condition "row at exactly this version" (0: must not exist). `passIfMissing: false` is essential. */
function versionCondition(expected: number): TableStore.Condition {
  if (expected === 0)
    return new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null);
  return new TableStore.Condition(
    TableStore.RowExistenceExpectation.EXPECT_EXIST,
    new TableStore.SingleColumnCondition('v', long(expected), TableStore.ComparatorType.EQUAL, false),
  );
}

// ─── The adapter ─────────────────────────────────────────────────────────────────────────────────────

/** One row of an applyChanges batch, tracked across retries. */
interface BatchItem {
  readonly index: number;
  readonly row: TableStore.BatchWriteRow;
  readonly pk: Pk;
  readonly wid: string;
  readonly isDelete: boolean;
  readonly newVersion: number;
  readonly size: number;
  ambiguous: boolean;
}

/** Builds a Store over Tablestore. Does not touch the network until the first call. */
export function createTablestoreStore(options: TablestoreStoreOptions): TablestoreStore {
  return new TablestoreAdapter(options);
}

class TablestoreAdapter implements TablestoreStore {
  readonly tables: Readonly<Record<TableRole, string>>;
  private readonly client: TableStore.Client;
  private readonly agent: http.Agent;
  private readonly shards: number;
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly historyTtlDays: number;
  private schemaReady: Promise<SchemaReport> | undefined;

  constructor(private readonly options: TablestoreStoreOptions) {
    const prefix = options.tablePrefix ?? 'checkwatch_';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,200}$/.test(prefix))
      throw new StoreInvalid(`invalid table prefix: ${prefix}`);
    this.tables = {
      watch: `${prefix}watch`,
      history: `${prefix}history`,
      deliveries: `${prefix}deliveries`,
      rates: `${prefix}rates`,
    };
    this.shards = options.shards ?? DEFAULT_SHARDS;
    if (!Number.isInteger(this.shards) || this.shards < 1 || this.shards > MAX_SHARDS) {
      throw new StoreInvalid(`shards must be an integer in 1..${MAX_SHARDS}`);
    }
    this.historyTtlDays = options.historyTtlDays ?? 30;
    if (!Number.isInteger(this.historyTtlDays) || this.historyTtlDays < 1) {
      throw new StoreInvalid('historyTtlDays must be an integer ≥ 1');
    }
    this.retry = options.retry ?? DEFAULT_TABLESTORE_RETRY;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    const secure = options.endpoint.startsWith('https:');
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
    this.agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.client = new TableStore.Client({
      accessKeyId: options.credentials.accessKeyId,
      accessKeySecret: options.credentials.accessKeySecret,
      ...(options.credentials.securityToken === undefined
        ? {}
        : { stsToken: options.credentials.securityToken }),
      endpoint: options.endpoint,
      instancename: options.instanceName,
      // The SDK would retry reads up to 20 times with its own delays, and never writes: we own retries.
      maxRetries: 0,
      // The SDK writes `http(s).globalAgent.maxSockets` on every request; handing it the current value
      // makes that a no-op. Our own agent carries the connections.
      httpOptions: {
        timeout: options.socketTimeoutMs ?? 10_000,
        agent: this.agent,
        maxSockets: (secure ? https : http).globalAgent.maxSockets,
      },
    });
  }

  // ── Transport: one request with bounded, jittered retries ────────────────────────────────────────

  /**
   * Sends one API call, retrying retryable failures. `onAmbiguous` is told when an attempt failed in a
   * way that may have applied a write. Missing tables are created first when `autoCreate` is on.
   */
  private async request<T>(
    op: string,
    table: string,
    send: () => Promise<T>,
    onAmbiguous?: () => void,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.options.onRequest?.(op);
        return await send();
      } catch (raw) {
        const err = toStoreError(raw, { operation: op, table });
        const vendor = err.details.vendorCode as string | undefined;
        if (
          err.code === 'STORE_NOT_FOUND' &&
          vendor === 'OTSObjectNotExist' &&
          this.options.autoCreate === true
        ) {
          if (this.schemaReady === undefined) {
            await this.ensureSchema();
            continue;
          }
        }
        if (isAmbiguousOtsCode(vendor)) onAmbiguous?.();
        if (!err.retryable || attempt + 1 >= this.retry.maxAttempts) throw err;
        await this.sleep(backoffDelay(attempt, this.retry, this.random));
      }
    }
  }

  /**
   * A conditional single-row write. If an earlier attempt was ambiguous and a retry then fails its
   * condition, the row is re-read: carrying our write id (or, for a delete, being gone) means the
   * earlier attempt applied, which is success — not a conflict, and not a second write.
   */
  private async writeRow(
    op: 'PutRow' | 'UpdateRow' | 'DeleteRow',
    table: string,
    pk: Pk,
    wid: string,
    send: () => Promise<unknown>,
  ): Promise<void> {
    const attempts = { ambiguous: false };
    try {
      await this.request(op, table, send, () => {
        attempts.ambiguous = true;
      });
    } catch (err) {
      if (!(attempts.ambiguous && isStoreConflict(err))) throw err;
      const row = await this.getRow(table, pk, ['w']);
      const applied = op === 'DeleteRow' ? !row.exists : row.str('w') === wid;
      if (!applied) throw err;
    }
  }

  private async getRow(table: string, pk: Pk, columnsToGet?: string[]): Promise<Cells> {
    const res = await this.request('GetRow', table, () =>
      this.client.getRow({
        tableName: table,
        primaryKey: pk,
        maxVersions: 1,
        ...(columnsToGet === undefined ? {} : { columnsToGet }),
      }),
    );
    return new Cells(res.row);
  }

  /** Reads a whole key range, page by page (≤ 5000 rows per request, the service's maximum). */
  private async getRange(
    table: string,
    start: Pk,
    end: Pk,
    options: { columnsToGet?: string[]; maxRows?: number; onPage?: (rows: Cells[]) => boolean } = {},
  ): Promise<Cells[]> {
    const out: Cells[] = [];
    let from: Pk | null = start;
    while (from !== null) {
      const page: {
        rows: TableStore.DecodedRow[];
        nextStartPrimaryKey: { name: string; value: unknown }[] | null;
      } = await this.request('GetRange', table, () =>
        this.client.getRange({
          tableName: table,
          direction: 'FORWARD',
          inclusiveStartPrimaryKey: from ?? start,
          exclusiveEndPrimaryKey: end,
          limit: Math.min(RANGE_PAGE, options.maxRows ?? RANGE_PAGE),
          maxVersions: 1,
          ...(options.columnsToGet === undefined ? {} : { columnsToGet: options.columnsToGet }),
        }),
      );
      const rows = page.rows.map((r) => new Cells(r));
      out.push(...rows);
      if (options.onPage !== undefined && !options.onPage(rows)) break;
      if (options.maxRows !== undefined && out.length >= options.maxRows) break;
      from =
        page.nextStartPrimaryKey === null || page.nextStartPrimaryKey.length === 0
          ? null
          : page.nextStartPrimaryKey.map((p) => ({ [p.name]: p.value as TableStore.PrimaryKeyValue }));
    }
    return out;
  }

  // ── Keys ────────────────────────────────────────────────────────────────────────────────────────────

  private checkPk(clusterId: string, checkId: string): Pk {
    return [
      { s: long(shardOf(clusterId, this.shards)) },
      { c: clusterId },
      { k: packCheckKey(clusterId, checkId) },
    ];
  }
  private clusterPk(clusterId: string): Pk {
    return [{ s: long(shardOf(clusterId, this.shards)) }, { c: clusterId }, { k: CLUSTER_ROW_ID }];
  }
  private leasePk(name: string, shard: number): Pk {
    return [{ s: long(shard) }, { c: LEASE_ROW_ID }, { k: name }];
  }

  // ── Schema ──────────────────────────────────────────────────────────────────────────────────────────

  ensureSchema(): Promise<SchemaReport> {
    this.schemaReady ??= this.createOrVerify().catch((err: unknown) => {
      this.schemaReady = undefined;
      throw err;
    });
    return this.schemaReady;
  }

  private async createOrVerify(): Promise<SchemaReport> {
    const listed = await this.request('ListTable', '', () => this.client.listTable({}));
    const existing = new Set(listed.tableNames);
    const created: string[] = [];
    const verified: string[] = [];
    const ttl = (role: TableRole): number =>
      role === 'history' || role === 'deliveries'
        ? this.historyTtlDays * DAY_S
        : role === 'rates'
          ? DAY_S
          : -1;
    for (const role of Object.keys(SCHEMAS) as TableRole[]) {
      const tableName = this.tables[role];
      const schema = SCHEMAS[role];
      if (!existing.has(tableName)) {
        try {
          await this.request('CreateTable', tableName, () =>
            this.client.createTable({
              tableMeta: { tableName, primaryKey: schema },
              reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
              tableOptions: { timeToLive: ttl(role), maxVersions: 1 },
            }),
          );
          created.push(tableName);
          continue;
        } catch (err) {
          // Another process created it between our ListTable and CreateTable: verify it instead.
          if (!(err instanceof StoreError && err.details.vendorCode === 'OTSObjectAlreadyExist')) throw err;
        }
      }
      const desc = await this.request('DescribeTable', tableName, () =>
        this.client.describeTable({ tableName }),
      );
      const actual = desc.tableMeta.primaryKey.map((p) => `${p.name}:${p.type}`).join(',');
      const wanted = schema.map((p) => `${p.name}:${TableStore.PrimaryKeyType[p.type]}`).join(',');
      if (actual !== wanted) {
        throw new StoreInvalid(
          `table ${tableName} exists with primary key (${actual}), expected (${wanted})`,
          {
            details: { table: tableName, operation: 'DescribeTable' },
          },
        );
      }
      verified.push(tableName);
    }
    return { created, verified };
  }

  // ── Poll cycle ──────────────────────────────────────────────────────────────────────────────────────

  async listPending(scope: PendingScope = {}): Promise<PendingSet> {
    const { INF_MIN, INF_MAX } = TableStore;
    let start: Pk;
    let end: Pk;
    if (scope.clusterId !== undefined) {
      validateIds(scope.clusterId);
      const shard = long(shardOf(scope.clusterId, this.shards));
      start = [{ s: shard }, { c: scope.clusterId }, { k: INF_MIN }];
      end = [{ s: shard }, { c: scope.clusterId }, { k: INF_MAX }];
    } else if (scope.shard !== undefined) {
      if (!Number.isInteger(scope.shard) || scope.shard < GLOBAL_LEASE_SHARD || scope.shard >= this.shards) {
        throw new StoreInvalid(`shard must be in -1..${this.shards - 1}`);
      }
      const shard = long(scope.shard);
      start = [{ s: shard }, { c: INF_MIN }, { k: INF_MIN }];
      end = [{ s: shard }, { c: INF_MAX }, { k: INF_MAX }];
    } else {
      start = [{ s: INF_MIN }, { c: INF_MIN }, { k: INF_MIN }];
      end = [{ s: INF_MAX }, { c: INF_MAX }, { k: INF_MAX }];
    }
    const rows = await this.getRange(this.tables.watch, start, end, { columnsToGet: PENDING_COLUMNS });
    const set: PendingSet = { checks: [], clusters: [], leases: [] };
    for (const row of rows) {
      if (row.pkStr('c') === LEASE_ROW_ID) set.leases.push(leaseFromCells(row));
      else if (row.pkStr('k') === CLUSTER_ROW_ID) set.clusters.push(clusterFromCells(row));
      else set.checks.push(pendingCheckFromCells(row, false));
    }
    return set;
  }

  async applyChanges(changes: readonly PendingChange[]): Promise<ChangeResult[]> {
    const results: (ChangeResult | undefined)[] = new Array<ChangeResult | undefined>(changes.length);
    const items: BatchItem[] = [];
    changes.forEach((change, index) => {
      try {
        items.push(this.batchItem(change, index));
      } catch (err) {
        results[index] = { ok: false, error: toStoreError(err, { operation: 'applyChanges' }) };
      }
    });
    // One BatchWriteRow may not name a row twice (OTSParameterInvalid for the whole request): a second
    // change to the same row goes into a later round, so changes apply in the order given.
    const rounds: BatchItem[][] = [];
    const occurrences = new Map<string, number>();
    for (const item of items) {
      const key = JSON.stringify(item.pk.map((p) => Object.values(p).map(String)));
      const k = occurrences.get(key) ?? 0;
      occurrences.set(key, k + 1);
      (rounds[k] ??= []).push(item);
    }
    for (const round of rounds) {
      for (const chunk of chunkItems(round)) {
        for (const [index, result] of await this.writeChunk(chunk)) results[index] = result;
      }
    }
    return results.map(
      (r) =>
        r ?? {
          ok: false,
          error: new StoreUnavailable('change was not attempted', { details: { operation: 'applyChanges' } }),
        },
    );
  }

  private batchItem(change: PendingChange, index: number): BatchItem {
    validateVersion(change.expectedVersion);
    const wid = newWriteId();
    const condition = versionCondition(change.expectedVersion);
    const base = { index, wid, ambiguous: false };
    switch (change.kind) {
      case 'putCheck': {
        validateCheckState(change.check);
        const summary = encodeJson('summary', change.summary, MAX_SUMMARY_BYTES);
        // UPDATE, not PUT: a write without a summary must keep the one written when the check finished.
        const put: Cols = { j: packCheck(change.check), v: long(change.expectedVersion + 1), w: wid };
        if (summary !== undefined) put.sum = summary;
        const pk = this.checkPk(change.check.clusterId, change.check.checkId);
        const cols = updateColumns(put, []);
        return {
          ...base,
          pk,
          isDelete: false,
          newVersion: change.expectedVersion + 1,
          size: approxSize(put),
          row: { type: 'UPDATE', primaryKey: pk, attributeColumns: cols, condition },
        };
      }
      case 'putCluster': {
        validateClusterState(change.cluster);
        const put: Cols = { j: packCluster(change.cluster), v: long(change.expectedVersion + 1), w: wid };
        const pk = this.clusterPk(change.cluster.clusterId);
        const cols = updateColumns(put, []);
        return {
          ...base,
          pk,
          isDelete: false,
          newVersion: change.expectedVersion + 1,
          size: approxSize(put),
          row: { type: 'UPDATE', primaryKey: pk, attributeColumns: cols, condition },
        };
      }
      case 'deleteCheck':
      case 'deleteCluster': {
        if (change.expectedVersion === 0) throw new StoreInvalid('a delete needs the version it read');
        const pk =
          change.kind === 'deleteCheck'
            ? (validateIds(change.clusterId, change.checkId), this.checkPk(change.clusterId, change.checkId))
            : (validateIds(change.clusterId), this.clusterPk(change.clusterId));
        return {
          ...base,
          pk,
          isDelete: true,
          newVersion: 0,
          size: 128,
          row: { type: 'DELETE', primaryKey: pk, attributeColumns: [], condition },
        };
      }
      default: {
        const unreachable: never = change;
        return unreachable;
      }
    }
  }

  /** Writes one chunk (≤ 200 rows), retrying failed rows; returns a result per item index. */
  private async writeChunk(chunk: BatchItem[]): Promise<Map<number, ChangeResult>> {
    const table = this.tables.watch;
    const done = new Map<number, ChangeResult>();
    const toVerify: { item: BatchItem; error: StoreError }[] = [];
    let pending = chunk;
    for (let attempt = 0; pending.length > 0; attempt++) {
      const retryRows: BatchItem[] = [];
      let lastError: StoreError | undefined;
      try {
        const rows = pending.map((i) => i.row);
        const res = await this.request(
          'BatchWriteRow',
          table,
          () => this.client.batchWriteRow({ tables: [{ tableName: table, rows }] }),
          () => {
            for (const i of pending) i.ambiguous = true;
          },
        );
        pending.forEach((item, pos) => {
          const r = res.tables[pos];
          if (r?.isOk === true) {
            done.set(item.index, { ok: true, version: item.newVersion });
            return;
          }
          const code = r?.errorCode ?? undefined;
          const error = otsCodeToStoreError(code, r?.errorMessage ?? 'no per-row result', {
            operation: 'BatchWriteRow',
            table,
          });
          if (isAmbiguousOtsCode(code)) item.ambiguous = true;
          if (isStoreConflict(error) && item.ambiguous) toVerify.push({ item, error });
          else if (error.retryable) {
            retryRows.push(item);
            lastError = error;
          } else done.set(item.index, { ok: false, error });
        });
      } catch (err) {
        // The whole request failed after our own retries: every row shares the error.
        const error = toStoreError(err, { operation: 'BatchWriteRow', table });
        for (const item of pending) done.set(item.index, { ok: false, error });
        break;
      }
      if (retryRows.length > 0 && attempt + 1 >= this.retry.maxAttempts) {
        for (const item of retryRows) {
          done.set(item.index, { ok: false, error: lastError ?? new StoreUnavailable('row not written') });
        }
        break;
      }
      if (retryRows.length > 0) await this.sleep(backoffDelay(attempt, this.retry, this.random));
      pending = retryRows;
    }
    if (toVerify.length > 0) {
      const seen = await this.batchGet(
        table,
        toVerify.map((v) => v.item.pk),
        ['w'],
      );
      toVerify.forEach(({ item, error }, i) => {
        const row = seen[i];
        const applied = item.isDelete ? row?.exists !== true : row?.str('w') === item.wid;
        done.set(item.index, applied ? { ok: true, version: item.newVersion } : { ok: false, error });
      });
    }
    return done;
  }

  /** BatchGetRow in chunks of 100; returns one Cells per key, in order (empty when missing). */
  private async batchGet(table: string, pks: Pk[], columnsToGet?: string[]): Promise<Cells[]> {
    const out: Cells[] = [];
    for (let i = 0; i < pks.length; i += BATCH_GET_ROWS) {
      const keys = pks.slice(i, i + BATCH_GET_ROWS);
      let pendingKeys = keys.map((_, k) => k);
      const page = new Array<Cells | undefined>(keys.length);
      for (let attempt = 0; pendingKeys.length > 0; attempt++) {
        const res = await this.request('BatchGetRow', table, () =>
          this.client.batchGetRow({
            tables: [
              {
                tableName: table,
                primaryKey: pendingKeys.map((k) => keys[k] ?? []),
                maxVersions: 1,
                ...(columnsToGet === undefined ? {} : { columnsToGet }),
              },
            ],
          }),
        );
        const rows = res.tables[0] ?? [];
        const again: number[] = [];
        let lastError: StoreError | undefined;
        pendingKeys.forEach((k, pos) => {
          const r = rows[pos];
          if (r?.isOk === true) {
            page[k] = new Cells({ primaryKey: r.primaryKey, attributes: r.attributes });
            return;
          }
          const err = otsCodeToStoreError(r?.errorCode ?? undefined, r?.errorMessage ?? '', {
            operation: 'BatchGetRow',
            table,
          });
          if (!err.retryable) throw err;
          lastError = err;
          again.push(k);
        });
        if (again.length > 0 && attempt + 1 >= this.retry.maxAttempts)
          throw lastError ?? new StoreUnavailable('read failed');
        if (again.length > 0) await this.sleep(backoffDelay(attempt, this.retry, this.random));
        pendingKeys = again;
      }
      for (const c of page) out.push(c ?? new Cells({}));
    }
    return out;
  }

  // ── Leases ──────────────────────────────────────────────────────────────────────────────────────────

  async readLease(name: string, shard = GLOBAL_LEASE_SHARD): Promise<LeaseState | undefined> {
    const row = await this.getRow(this.tables.watch, this.leasePk(name, shard));
    return row.exists ? leaseFromCells(row) : undefined;
  }

  async acquireLease(
    name: string,
    holder: string,
    ttlMs: number,
    now: number,
    options: { readonly shard?: number | undefined; readonly seen?: LeaseState | null | undefined } = {},
  ): Promise<LeaseAcquireResult> {
    validateLeaseArgs(name, holder, ttlMs);
    const shard = options.shard ?? GLOBAL_LEASE_SHARD;
    const pk = this.leasePk(name, shard);
    let known: LeaseState | null | undefined = options.seen;
    for (let round = 0; round < RMW_ROUNDS; round++) {
      const current = known === undefined ? await this.readLease(name, shard) : (known ?? undefined);
      if (!leaseIsFree(current, holder, now)) {
        return { acquired: false, holder: current?.holder ?? '', until: current?.until ?? 0 };
      }
      const version = (current?.version ?? 0) + 1;
      const until = now + ttlMs;
      const wid = newWriteId();
      try {
        await this.writeRow('UpdateRow', this.tables.watch, pk, wid, () =>
          this.client.updateRow({
            tableName: this.tables.watch,
            primaryKey: pk,
            updateOfAttributeColumns: [
              { PUT: [{ h: holder }, { u: long(until) }, { v: long(version) }, { w: wid }] },
            ],
            condition: versionCondition(current?.version ?? 0),
          }),
        );
        return {
          acquired: true,
          lease: { name, shard, holder, until, version },
          previousData: current?.data,
        };
      } catch (err) {
        if (!isStoreConflict(err)) throw err;
        known = undefined; // what we read is stale: read again and decide again
      }
    }
    throw new StoreConflict(`lease ${name} is contended`);
  }

  async renewLease(lease: Lease, ttlMs: number, now: number): Promise<Lease> {
    validateLeaseArgs(lease.name, lease.holder, ttlMs);
    const pk = this.leasePk(lease.name, lease.shard);
    const until = now + ttlMs;
    const wid = newWriteId();
    await this.writeRow('UpdateRow', this.tables.watch, pk, wid, () =>
      this.client.updateRow({
        tableName: this.tables.watch,
        primaryKey: pk,
        updateOfAttributeColumns: [
          {
            PUT: [{ h: lease.holder }, { u: long(until) }, { v: long(lease.version + 1) }, { w: wid }],
          },
        ],
        condition: versionCondition(lease.version),
      }),
    );
    return { ...lease, until, version: lease.version + 1 };
  }

  async releaseLease(lease: Lease, data: unknown, now: number): Promise<boolean> {
    const text = encodeJson('lease data', data, MAX_LEASE_DATA_BYTES);
    const pk = this.leasePk(lease.name, lease.shard);
    const wid = newWriteId();
    const put: Cols = { h: '', u: long(now), v: long(lease.version + 1), w: wid };
    if (text !== undefined) put.d = text;
    try {
      await this.writeRow('UpdateRow', this.tables.watch, pk, wid, () =>
        this.client.updateRow({
          tableName: this.tables.watch,
          primaryKey: pk,
          updateOfAttributeColumns: updateColumns(put, text === undefined ? ['d'] : []),
          condition: versionCondition(lease.version),
        }),
      );
      return true;
    } catch (err) {
      if (isStoreConflict(err)) return false;
      throw err;
    }
  }

  // ── Notifier ────────────────────────────────────────────────────────────────────────────────────────

  async getCheck(clusterId: ClusterId, checkId: CheckId): Promise<CheckView | undefined> {
    validateIds(clusterId, checkId);
    const [pending, deliveries] = await Promise.all([
      this.getRow(this.tables.watch, this.checkPk(clusterId, checkId)),
      this.listDeliveries(clusterId, checkId),
    ]);
    if (pending.exists) return { where: 'pending', check: pendingCheckFromCells(pending, true), deliveries };
    const history = await this.getRow(this.tables.history, [
      { cluster_id: clusterId },
      { check_id: checkId },
    ]);
    if (history.exists) return { where: 'history', check: historyFromCells(history, true), deliveries };
    return undefined;
  }

  async listDeliveries(clusterId: ClusterId, checkId: CheckId): Promise<Delivery[]> {
    validateIds(clusterId, checkId);
    const { INF_MIN, INF_MAX } = TableStore;
    const rows = await this.getRange(
      this.tables.deliveries,
      [{ cluster_id: clusterId }, { check_id: checkId }, { channel: INF_MIN }],
      [{ cluster_id: clusterId }, { check_id: checkId }, { channel: INF_MAX }],
    );
    return rows.map(deliveryFromCells);
  }

  private deliveryPk(key: DeliveryKey): Pk {
    return [{ cluster_id: key.clusterId }, { check_id: key.checkId }, { channel: key.channel }];
  }

  private async readDelivery(key: DeliveryKey): Promise<Delivery | undefined> {
    const row = await this.getRow(this.tables.deliveries, this.deliveryPk(key));
    return row.exists ? deliveryFromCells(row) : undefined;
  }

  private async putDelivery(next: Delivery, expected: number): Promise<void> {
    const pk = this.deliveryPk(next);
    const wid = newWriteId();
    await this.writeRow('PutRow', this.tables.deliveries, pk, wid, () =>
      this.client.putRow({
        tableName: this.tables.deliveries,
        primaryKey: pk,
        attributeColumns: deliveryColumns(next, wid),
        condition: versionCondition(expected),
      }),
    );
  }

  async claimDelivery(key: DeliveryKey, holder: string, claimMs: number, now: number): Promise<ClaimResult> {
    validateIds(key.clusterId, key.checkId);
    validateChannel(key.channel);
    if (holder === '' || !Number.isSafeInteger(claimMs) || claimMs <= 0) {
      throw new StoreInvalid('claim needs a holder and a positive claimMs');
    }
    for (let round = 0; round < RMW_ROUNDS; round++) {
      const current = await this.readDelivery(key);
      const decision = decideClaim(current, now);
      if (!decision.claim) return { claimed: false, reason: decision.reason, delivery: current as Delivery };
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
      try {
        await this.putDelivery(next, current?.version ?? 0);
        return { claimed: true, delivery: next };
      } catch (err) {
        if (!isStoreConflict(err)) throw err;
        // Someone else wrote first: re-read and report their claim (or take an expired one).
      }
    }
    throw new StoreConflict(`delivery ${key.channel} is contended`);
  }

  async finishDelivery(claimed: Delivery, result: DeliveryResult, now: number): Promise<Delivery> {
    const next = finishedDelivery(claimed, result, now);
    await this.putDelivery(next, claimed.version);
    return next;
  }

  async archiveCheck(clusterId: ClusterId, checkId: CheckId, now: number): Promise<CheckRecord | undefined> {
    validateIds(clusterId, checkId);
    const pk = this.checkPk(clusterId, checkId);
    for (let round = 0; round < RMW_ROUNDS; round++) {
      const row = await this.getRow(this.tables.watch, pk);
      if (!row.exists) return undefined;
      const record: CheckRecord = { ...pendingCheckFromCells(row, true), archivedAt: now };
      const { put } = checkColumns(record);
      const summary = row.optStr('sum');
      if (summary !== undefined) put.summary = summary;
      put.v = long(record.version);
      put.archived_at = long(now);
      const historyPk: Pk = [{ cluster_id: clusterId }, { check_id: checkId }];
      // An unconditional put: archiving twice (a retry, a crash before the delete) writes the same row.
      await this.request('PutRow', this.tables.history, () =>
        this.client.putRow({
          tableName: this.tables.history,
          primaryKey: historyPk,
          attributeColumns: toList(put),
          condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
        }),
      );
      try {
        await this.writeRow('DeleteRow', this.tables.watch, pk, '', () =>
          this.client.deleteRow({
            tableName: this.tables.watch,
            primaryKey: pk,
            condition: versionCondition(record.version),
          }),
        );
        return record;
      } catch (err) {
        if (!isStoreConflict(err)) throw err;
        // The pending row moved on (e.g. a re-dispatch was recorded): archive its latest state.
      }
    }
    throw new StoreConflict(`check ${checkId} is contended`);
  }

  async takeRateTokens(
    channel: string,
    windowKey: string,
    limit: number,
    n: number,
    ttlMs: number,
    now: number,
  ): Promise<number> {
    validateRateArgs(channel, windowKey, limit, n, ttlMs);
    const table = this.tables.rates;
    const pk: Pk = [{ channel }, { window: windowKey }];
    for (let round = 0; round < RMW_ROUNDS * 2; round++) {
      const row = await this.getRow(table, pk);
      const live = row.exists && row.int('expires_at') > now;
      const used = live ? row.int('used') : 0;
      const granted = rateGrant(used, limit, n);
      if (granted === 0) return 0;
      const expiresAt = live ? Math.max(row.int('expires_at'), now + ttlMs) : now + ttlMs;
      const version = row.exists ? row.int('v') : 0;
      const wid = newWriteId();
      try {
        await this.writeRow('PutRow', table, pk, wid, () =>
          this.client.putRow({
            tableName: table,
            primaryKey: pk,
            attributeColumns: [
              { used: long(used + granted) },
              { expires_at: long(expiresAt) },
              { v: long(version + 1) },
              { w: wid },
            ],
            condition: versionCondition(version),
          }),
        );
        return granted;
      } catch (err) {
        if (!isStoreConflict(err)) throw err;
        await this.sleep(
          backoffDelay(Math.min(round, 4), { maxAttempts: 1, baseMs: 5, capMs: 100 }, this.random),
        );
      }
    }
    throw new StoreConflict(`rate window ${channel}/${windowKey} is contended`);
  }

  // ── API ─────────────────────────────────────────────────────────────────────────────────────────────

  async watchCheck(input: NewCheckWatch, now: number): Promise<{ created: boolean; check: PendingCheck }> {
    const state = newCheckState(input, now);
    validateCheckState(state);
    const pk = this.checkPk(input.clusterId, input.checkId);
    for (let round = 0; round < RMW_ROUNDS; round++) {
      const row = await this.getRow(this.tables.watch, pk, PENDING_COLUMNS);
      const wid = newWriteId();
      try {
        if (!row.exists) {
          const put: Cols = { j: packCheck(state), v: long(1), w: wid };
          await this.writeRow('UpdateRow', this.tables.watch, pk, wid, () =>
            this.client.updateRow({
              tableName: this.tables.watch,
              primaryKey: pk,
              updateOfAttributeColumns: updateColumns(put, []),
              condition: versionCondition(0),
            }),
          );
          return { created: true, check: { ...state, version: 1 } };
        }
        const existing = pendingCheckFromCells(row, false);
        const routes = mergeRoutes(existing.routes, input.routes);
        if (routes.length === existing.routes.length) return { created: false, check: existing };
        const version = existing.version + 1;
        const updated = { ...stripVersion(existing), routes };
        await this.writeRow('UpdateRow', this.tables.watch, pk, wid, () =>
          this.client.updateRow({
            tableName: this.tables.watch,
            primaryKey: pk,
            updateOfAttributeColumns: [
              { PUT: [{ j: packCheck(updated) }, { v: long(version) }, { w: wid }] },
            ],
            condition: versionCondition(existing.version),
          }),
        );
        return { created: false, check: { ...updated, version } };
      } catch (err) {
        if (!isStoreConflict(err)) throw err;
      }
    }
    throw new StoreConflict(`check ${input.checkId} is contended`);
  }

  async watchCluster(
    input: NewClusterWatch,
    now: number,
  ): Promise<{ created: boolean; cluster: ClusterWatch }> {
    const state: ClusterState = { ...input, watchedAt: now };
    validateClusterState(state);
    const pk = this.clusterPk(input.clusterId);
    for (let round = 0; round < RMW_ROUNDS; round++) {
      const row = await this.getRow(this.tables.watch, pk);
      const wid = newWriteId();
      try {
        if (!row.exists) {
          const put: Cols = { j: packCluster(state), v: long(1), w: wid };
          await this.writeRow('UpdateRow', this.tables.watch, pk, wid, () =>
            this.client.updateRow({
              tableName: this.tables.watch,
              primaryKey: pk,
              updateOfAttributeColumns: updateColumns(put, []),
              condition: versionCondition(0),
            }),
          );
          return { created: true, cluster: { ...state, version: 1 } };
        }
        const existing = clusterFromCells(row);
        const routes = mergeRoutes(existing.routes, input.routes);
        if (routes.length === existing.routes.length) return { created: false, cluster: existing };
        const version = existing.version + 1;
        const { version: _v, ...rest } = existing;
        const updated: ClusterState = { ...rest, routes };
        await this.writeRow('UpdateRow', this.tables.watch, pk, wid, () =>
          this.client.updateRow({
            tableName: this.tables.watch,
            primaryKey: pk,
            updateOfAttributeColumns: [
              { PUT: [{ j: packCluster(updated) }, { v: long(version) }, { w: wid }] },
            ],
            condition: versionCondition(existing.version),
          }),
        );
        return { created: false, cluster: { ...updated, version } };
      } catch (err) {
        if (!isStoreConflict(err)) throw err;
      }
    }
    throw new StoreConflict(`cluster watch ${input.clusterId} is contended`);
  }

  private async deleteIfExists(pk: Pk): Promise<boolean> {
    try {
      await this.writeRow('DeleteRow', this.tables.watch, pk, '', () =>
        this.client.deleteRow({
          tableName: this.tables.watch,
          primaryKey: pk,
          condition: new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST, null),
        }),
      );
      return true;
    } catch (err) {
      if (isStoreConflict(err)) return false;
      throw err;
    }
  }

  unwatchCheck(clusterId: ClusterId, checkId: CheckId): Promise<boolean> {
    validateIds(clusterId, checkId);
    return this.deleteIfExists(this.checkPk(clusterId, checkId));
  }

  unwatchCluster(clusterId: ClusterId): Promise<boolean> {
    validateIds(clusterId);
    return this.deleteIfExists(this.clusterPk(clusterId));
  }

  async listChecks(filter: ListChecksFilter = {}): Promise<CheckRecord[]> {
    if (filter.clusterId !== undefined) validateIds(filter.clusterId);
    const limit = listLimit(filter.limit);
    const where = filter.where ?? 'all';
    const keep = checkFilter(filter);
    const out: CheckRecord[] = [];
    if (where !== 'history') {
      const pending = await this.listPending(
        filter.clusterId === undefined ? {} : { clusterId: filter.clusterId },
      );
      for (const c of pending.checks) if (out.length < limit && keep(c)) out.push(c);
    }
    if (where !== 'pending' && out.length < limit) {
      const { INF_MIN, INF_MAX } = TableStore;
      const c = filter.clusterId;
      await this.getRange(
        this.tables.history,
        [{ cluster_id: c ?? INF_MIN }, { check_id: INF_MIN }],
        [{ cluster_id: c ?? INF_MAX }, { check_id: INF_MAX }],
        {
          columnsToGet: HISTORY_LIST_COLUMNS,
          maxRows: HISTORY_SCAN_MAX,
          onPage: (rows) => {
            for (const r of rows) {
              if (out.length >= limit) return false;
              const check = historyFromCells(r, false);
              if (keep(check)) out.push(check);
            }
            return out.length < limit;
          },
        },
      );
    }
    return out;
  }

  close(): Promise<void> {
    this.agent.destroy();
    return Promise.resolve();
  }
}

/** Splits batch items into BatchWriteRow requests: ≤ 200 rows and ≤ ~3 MB each. */
function chunkItems(items: readonly BatchItem[]): BatchItem[][] {
  const chunks: BatchItem[][] = [];
  let current: BatchItem[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length > 0 && (current.length >= BATCH_WRITE_ROWS || bytes + item.size > BATCH_WRITE_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
