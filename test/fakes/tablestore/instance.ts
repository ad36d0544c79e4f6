/**
 * The fake's instance: its tables and the semantics of every supported API, on decoded protobuf
 * requests. Each handler returns the plain response object the server encodes with the SDK's codec;
 * failures are {@link OtsError}s (whole request) or per-row errors inside batch responses.
 */
import { type ColumnCondition, decodeCondition, evaluate } from './conditions';
import { OtsError, otsErrors } from './errors';
import {
  type CellValue,
  type OutRow,
  type PkBound,
  type PkValue,
  type RawCell,
  type RawRow,
  CellOp,
  PlainBufferError,
  compareBounds,
  comparePk,
  encodeRow,
  encodeRows,
  readRow,
  rowSize,
  valueSize,
} from './plainbuffer';
import {
  type PbBatchGetRowRequest,
  type PbBatchWriteRowRequest,
  type PbCondition,
  type PbCreateIndexRequest,
  type PbCreateTableRequest,
  type PbDeleteRowRequest,
  type PbDropIndexRequest,
  type PbGetRangeRequest,
  type PbGetRowRequest,
  type PbIndexMeta,
  type PbPutRowRequest,
  type PbReadOptions,
  type PbReturnContent,
  type PbTableNameRequest,
  type PbUpdateRowRequest,
  DefinedType,
  Direction,
  IndexSyncPhase,
  OperationType,
  PkType,
  ReturnContentType,
  RowExistence,
  TableStatus,
  has,
  longToNumber,
} from './proto';
import {
  type Cell,
  type PkColumnType,
  type ReadOptions,
  type StoredRow,
  Table,
  type TableSchema,
} from './table';

/** Documented service limits the fake enforces. */
export const LIMITS = {
  tablesPerInstance: 64,
  pkColumnsMax: 4,
  pkStringBytes: 1024,
  cellBytes: 2 * 1024 * 1024,
  columnNameBytes: 255,
  batchGetRows: 100,
  batchWriteRows: 200,
  rangeRows: 5000,
  rangeBytes: 4 * 1024 * 1024,
  indexesPerTable: 5,
  minTtlSeconds: 86400,
} as const;

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;
const CONSUMED_READ = { capacityUnit: { read: 1, write: 0 } };
const CONSUMED_WRITE = { capacityUnit: { read: 0, write: 1 } };

const PK_TYPE_BY_WIRE: Record<number, PkColumnType> = {
  [PkType.INTEGER]: 'integer',
  [PkType.STRING]: 'string',
  [PkType.BINARY]: 'binary',
};
const WIRE_BY_PK_TYPE: Record<PkColumnType, number> = {
  integer: PkType.INTEGER,
  string: PkType.STRING,
  binary: PkType.BINARY,
};
const VALUE_TYPE_BY_DEFINED: Record<number, CellValue['type']> = {
  [DefinedType.INTEGER]: 'integer',
  [DefinedType.DOUBLE]: 'double',
  [DefinedType.BOOLEAN]: 'boolean',
  [DefinedType.STRING]: 'string',
  [DefinedType.BLOB]: 'binary',
};
const VT_NAME: Record<string, string> = {
  integer: 'VT_INTEGER',
  string: 'VT_STRING',
  binary: 'VT_BLOB',
  double: 'VT_DOUBLE',
  boolean: 'VT_BOOLEAN',
  infMin: 'VT_INF_MIN',
  infMax: 'VT_INF_MAX',
  autoIncrement: 'VT_AUTO_INCREMENT',
};

/** Decodes a PlainBuffer field, turning malformed bytes into OTSParameterInvalid. */
function decodeRow(bytes: Uint8Array): RawRow {
  try {
    return readRow(bytes);
  } catch (err) {
    if (err instanceof PlainBufferError)
      throw otsErrors.parameterInvalid(`Invalid PlainBuffer: ${err.message}`);
    throw err;
  }
}

/** Result of one row write, for single and batch operations alike. */
interface WriteResult {
  readonly row: Buffer;
}

/** A parsed row mutation, applied after validation (so a batch can reject duplicates first). */
interface Mutation {
  readonly table: Table;
  readonly pk: readonly PkValue[];
  apply(): WriteResult;
}

export class Instance {
  private readonly tables = new Map<string, Table>();

  constructor(private readonly now: () => number) {}

  // ------------------------------------------------------------------------------------- test access

  /** Data tables (not index tables), sorted. */
  tableNames(): string[] {
    return [...this.tables.values()]
      .filter((t) => t.indexOf === undefined)
      .map((t) => t.name)
      .sort();
  }

  /** A table or index table by name, for the fake's assertion helpers. */
  table(name: string): Table | undefined {
    return this.tables.get(name);
  }

  private requireTable(name: string): Table {
    const t = this.tables.get(name);
    if (t === undefined) throw otsErrors.tableNotExist();
    return t;
  }

  // ------------------------------------------------------------------------------------------- DDL

  createTable(req: PbCreateTableRequest): object {
    const meta = req.tableMeta;
    const name = meta.tableName;
    if (!TABLE_NAME.test(name)) throw otsErrors.parameterInvalid(`Invalid table name: '${name}'.`);
    if (this.tables.has(name)) throw otsErrors.tableAlreadyExist();
    if (this.tableNames().length >= LIMITS.tablesPerInstance) {
      throw otsErrors.quotaExhausted('Number of tables exceeded the quota.');
    }
    const n = meta.primaryKey.length;
    if (n < 1 || n > LIMITS.pkColumnsMax) {
      throw otsErrors.parameterInvalid(
        `The number of primary key columns must be in range: [1, ${LIMITS.pkColumnsMax}].`,
      );
    }
    const seen = new Set<string>();
    const primaryKey = meta.primaryKey.map((col) => {
      const type = PK_TYPE_BY_WIRE[col.type];
      if (type === undefined)
        throw otsErrors.parameterInvalid(`Invalid primary key type of column '${col.name}'.`);
      checkColumnName(col.name, seen);
      const autoIncrement = has(col, 'option') && col.option === 1;
      if (autoIncrement && type !== 'integer') {
        throw otsErrors.parameterInvalid('AUTO_INCREMENT primary key column must be INTEGER.');
      }
      return { name: col.name, type, autoIncrement };
    });
    const definedColumns = meta.definedColumn.map((col) => {
      if (VALUE_TYPE_BY_DEFINED[col.type] === undefined) {
        throw otsErrors.parameterInvalid(`Invalid type of defined column '${col.name}'.`);
      }
      checkColumnName(col.name, seen);
      return { name: col.name, type: col.type };
    });
    const opts = req.tableOptions;
    const ttlSeconds = opts !== null && has(opts, 'timeToLive') ? opts.timeToLive : -1;
    if (ttlSeconds !== -1 && ttlSeconds < LIMITS.minTtlSeconds) {
      throw otsErrors.parameterInvalid(
        `time_to_live must be -1 or at least ${LIMITS.minTtlSeconds} seconds.`,
      );
    }
    const maxVersions = opts !== null && has(opts, 'maxVersions') ? opts.maxVersions : 1;
    if (maxVersions < 1) throw otsErrors.parameterInvalid('max_versions must be greater than 0.');
    const schema: TableSchema = {
      name,
      primaryKey,
      definedColumns,
      ttlSeconds,
      maxVersions,
      allowUpdate: opts !== null && has(opts, 'allowUpdate') ? opts.allowUpdate : true,
      deviationSeconds:
        opts !== null && has(opts, 'deviationCellVersionInSec')
          ? longToNumber(opts.deviationCellVersionInSec)
          : 86400,
      reservedRead: req.reservedThroughput.capacityUnit.read,
      reservedWrite: req.reservedThroughput.capacityUnit.write,
      createdAt: this.now(),
    };
    const table = new Table(schema);
    // Validate every index before registering anything, so a bad index leaves no table behind.
    const indexes = req.indexMetas.map((m) => this.buildIndex(table, m));
    this.tables.set(name, table);
    for (const idx of indexes) this.registerIndex(table, idx);
    return {};
  }

  listTable(): object {
    return { tableNames: this.tableNames() };
  }

  deleteTable(req: PbTableNameRequest): object {
    const table = this.requireTable(req.tableName);
    if (table.indexOf !== undefined) {
      throw otsErrors.parameterInvalid(`Table: ${table.name} is an index table, use DropIndex.`);
    }
    for (const idx of table.indexes.keys()) this.tables.delete(idx);
    this.tables.delete(table.name);
    return {};
  }

  describeTable(req: PbTableNameRequest): object {
    const table = this.requireTable(req.tableName);
    const s = table.schema;
    const indexMetas = [...table.indexes.values()].map((idx) => describeIndex(idx));
    return {
      tableMeta: {
        tableName: s.name,
        primaryKey: s.primaryKey.map((c) => ({
          name: c.name,
          type: WIRE_BY_PK_TYPE[c.type],
          ...(c.autoIncrement ? { option: 1 } : {}),
        })),
        definedColumn: s.definedColumns.map((c) => ({ name: c.name, type: c.type })),
      },
      reservedThroughputDetails: {
        capacityUnit: { read: s.reservedRead, write: s.reservedWrite },
        lastIncreaseTime: Math.floor(s.createdAt / 1000),
      },
      tableOptions: {
        timeToLive: s.ttlSeconds,
        maxVersions: s.maxVersions,
        deviationCellVersionInSec: s.deviationSeconds,
        allowUpdate: s.allowUpdate,
      },
      tableStatus: TableStatus.ACTIVE,
      indexMetas,
    };
  }

  createIndex(req: PbCreateIndexRequest): object {
    const base = this.requireTable(req.mainTableName);
    if (base.indexOf !== undefined)
      throw otsErrors.parameterInvalid('Can not create an index on an index table.');
    const idx = this.buildIndex(base, req.indexMeta);
    this.registerIndex(base, idx);
    if (req.includeBaseData) idx.backfill(this.now());
    return {};
  }

  dropIndex(req: PbDropIndexRequest): object {
    const base = this.requireTable(req.mainTableName);
    if (!base.indexes.has(req.indexName)) throw otsErrors.tableNotExist();
    base.indexes.delete(req.indexName);
    this.tables.delete(req.indexName);
    return {};
  }

  private buildIndex(base: Table, meta: PbIndexMeta): Table {
    const s = base.schema;
    if (this.tables.has(meta.name) || meta.name === s.name) throw otsErrors.tableAlreadyExist();
    if (!TABLE_NAME.test(meta.name)) throw otsErrors.parameterInvalid(`Invalid index name: '${meta.name}'.`);
    if (base.indexes.size >= LIMITS.indexesPerTable) {
      throw otsErrors.parameterInvalid(
        `The number of indexes of a table must not exceed ${LIMITS.indexesPerTable}.`,
      );
    }
    if (s.maxVersions !== 1)
      throw otsErrors.parameterInvalid('The max versions of a table with index must be 1.');
    if (s.ttlSeconds !== -1 && s.allowUpdate) {
      throw otsErrors.parameterInvalid(
        'The TTL of a table with index must be -1 unless updates are disallowed.',
      );
    }
    if (meta.primaryKey.length === 0)
      throw otsErrors.parameterInvalid('Index primary key must not be empty.');
    if (meta.indexType === 1 && meta.primaryKey[0] !== s.primaryKey[0]?.name) {
      throw otsErrors.parameterInvalid('The first primary key of a local index must be the partition key.');
    }
    const seen = new Set<string>();
    const primaryKey: { name: string; type: PkColumnType; autoIncrement: boolean }[] = [];
    const addKey = (name: string): void => {
      if (seen.has(name)) throw otsErrors.parameterInvalid(`Duplicated column in index: '${name}'.`);
      seen.add(name);
      const pkCol = s.primaryKey.find((c) => c.name === name);
      if (pkCol !== undefined) {
        primaryKey.push({ name, type: pkCol.type, autoIncrement: false });
        return;
      }
      const defined = s.definedColumns.find((c) => c.name === name);
      const type = defined === undefined ? undefined : VALUE_TYPE_BY_DEFINED[defined.type];
      if (type === undefined) {
        throw otsErrors.parameterInvalid(
          `Index column '${name}' is neither a primary key nor a defined column.`,
        );
      }
      if (type !== 'integer' && type !== 'string' && type !== 'binary') {
        throw otsErrors.parameterInvalid(
          `Index primary key column '${name}' must be INTEGER, STRING or BINARY.`,
        );
      }
      primaryKey.push({ name, type, autoIncrement: false });
    };
    for (const name of meta.primaryKey) addKey(name);
    // The index key ends with the data table's key columns not already in it, so index rows are unique.
    for (const col of s.primaryKey) if (!seen.has(col.name)) addKey(col.name);
    const definedColumns = meta.definedColumn.map((name) => {
      const defined = s.definedColumns.find((c) => c.name === name);
      if (defined === undefined || seen.has(name)) {
        throw otsErrors.parameterInvalid(
          `Index attribute '${name}' must be a defined column not in the index key.`,
        );
      }
      return { name, type: defined.type };
    });
    return new Table(
      {
        name: meta.name,
        primaryKey,
        definedColumns,
        ttlSeconds: -1,
        maxVersions: 1,
        allowUpdate: true,
        deviationSeconds: s.deviationSeconds,
        reservedRead: 0,
        reservedWrite: 0,
        createdAt: this.now(),
      },
      { base, primaryKey: meta.primaryKey, definedColumns: meta.definedColumn, indexType: meta.indexType },
    );
  }

  private registerIndex(base: Table, idx: Table): void {
    base.indexes.set(idx.name, idx);
    this.tables.set(idx.name, idx);
  }

  // ------------------------------------------------------------------------------------------ reads

  getRow(req: PbGetRowRequest): object {
    const table = this.requireTable(req.tableName);
    const opts = readOptions(req);
    const now = this.now();
    const pk = parseKey(table, decodeRow(req.primaryKey).primaryKey, false, now);
    const row = table.get(pk, now);
    const out = row === undefined ? undefined : table.shape(row, opts, now);
    return { consumed: CONSUMED_READ, row: out === undefined ? Buffer.alloc(0) : encodeRow(out) };
  }

  batchGetRow(req: PbBatchGetRowRequest): object {
    const total = req.tables.reduce((n, t) => n + t.primaryKey.length, 0);
    if (total > LIMITS.batchGetRows) {
      throw otsErrors.parameterInvalid(`Rows count exceeds the upper limit: ${LIMITS.batchGetRows}.`);
    }
    if (req.tables.length === 0)
      throw otsErrors.parameterInvalid('No row specified in the request of BatchGetRow.');
    const now = this.now();
    const prepared = req.tables.map((t) => ({
      t,
      table: this.requireTable(t.tableName),
      opts: readOptions(t),
    }));
    return {
      tables: prepared.map(({ t, table, opts }) => ({
        tableName: t.tableName,
        rows: t.primaryKey.map((bytes) =>
          perRow(() => {
            const pk = parseKey(table, decodeRow(bytes).primaryKey, false, now);
            const row = table.get(pk, now);
            const out = row === undefined ? undefined : table.shape(row, opts, now);
            return {
              isOk: true,
              consumed: CONSUMED_READ,
              row: out === undefined ? Buffer.alloc(0) : encodeRow(out),
            };
          }),
        ),
      })),
    };
  }

  getRange(req: PbGetRangeRequest): object {
    const table = this.requireTable(req.tableName);
    const opts = readOptions(req);
    const now = this.now();
    const start = parseBound(table, decodeRow(req.inclusiveStartPrimaryKey).primaryKey);
    const end = parseBound(table, decodeRow(req.exclusiveEndPrimaryKey).primaryKey);
    const backward = req.direction === Direction.BACKWARD;
    const order = compareBounds(start, end);
    if (!backward && order >= 0)
      throw otsErrors.parameterInvalid('Begin key must less than end key in FORWARD');
    if (backward && order <= 0)
      throw otsErrors.parameterInvalid('Begin key must more than end key in BACKWARD');
    if (has(req, 'limit') && req.limit <= 0)
      throw otsErrors.parameterInvalid('The limit must be greater than 0.');
    const limit = has(req, 'limit') ? Math.min(req.limit, LIMITS.rangeRows) : LIMITS.rangeRows;
    const rows: OutRow[] = [];
    let bytes = 0;
    let next: readonly PkValue[] | undefined;
    for (const row of table.scan(start, end, backward, now)) {
      if (rows.length >= limit || bytes >= LIMITS.rangeBytes) {
        next = row.pk;
        break;
      }
      const out = table.shape(row, opts, now);
      if (out === undefined) continue;
      rows.push(out);
      bytes += rowSize(out);
    }
    return {
      consumed: CONSUMED_READ,
      rows: encodeRows(rows),
      ...(next === undefined
        ? {}
        : { nextStartPrimaryKey: encodeRow({ primaryKey: table.pkColumns(next), cells: [] }) }),
    };
  }

  // ----------------------------------------------------------------------------------------- writes

  putRow(req: PbPutRowRequest): object {
    const m = this.prepare(req.tableName, OperationType.PUT, req.row, req.condition, req.returnContent);
    return { consumed: CONSUMED_WRITE, row: m.apply().row };
  }

  updateRow(req: PbUpdateRowRequest): object {
    const m = this.prepare(
      req.tableName,
      OperationType.UPDATE,
      req.rowChange,
      req.condition,
      req.returnContent,
    );
    return { consumed: CONSUMED_WRITE, row: m.apply().row };
  }

  deleteRow(req: PbDeleteRowRequest): object {
    const m = this.prepare(
      req.tableName,
      OperationType.DELETE,
      req.primaryKey,
      req.condition,
      req.returnContent,
    );
    return { consumed: CONSUMED_WRITE, row: m.apply().row };
  }

  batchWriteRow(req: PbBatchWriteRowRequest): object {
    const total = req.tables.reduce((n, t) => n + t.rows.length, 0);
    if (total > LIMITS.batchWriteRows) {
      throw otsErrors.parameterInvalid(`Rows count exceeds the upper limit: ${LIMITS.batchWriteRows}.`);
    }
    if (total === 0) throw otsErrors.parameterInvalid('No row specified in the request of BatchWriteRow.');
    for (const t of req.tables) this.requireTable(t.tableName);
    // Validate every row first: a duplicated primary key rejects the whole request, other row errors
    // only their row.
    const prepared = req.tables.map((t) =>
      t.rows.map((r): Mutation | OtsError => {
        try {
          return this.prepare(t.tableName, r.type, r.rowChange, r.condition, r.returnContent);
        } catch (err) {
          if (err instanceof OtsError) return err;
          throw err;
        }
      }),
    );
    for (const rows of prepared) {
      const keys = rows.filter((m): m is Mutation => !(m instanceof OtsError)).map((m) => m.pk);
      keys.sort(comparePk);
      for (let i = 1; i < keys.length; i++) {
        if (comparePk(keys[i - 1] as PkValue[], keys[i] as PkValue[]) === 0) {
          throw otsErrors.parameterInvalid(
            'The input parameter is invalid: duplicated primary key in the request.',
          );
        }
      }
    }
    return {
      tables: req.tables.map((t, ti) => ({
        tableName: t.tableName,
        rows: (prepared[ti] ?? []).map((m) =>
          m instanceof OtsError
            ? { isOk: false, error: { code: m.code, message: m.message } }
            : perRow(() => ({ isOk: true, consumed: CONSUMED_WRITE, row: m.apply().row })),
        ),
      })),
    };
  }

  /**
   * Parses and validates one row write (PutRow/UpdateRow/DeleteRow or a BatchWriteRow row) and returns
   * the closure that checks its condition and applies it.
   */
  private prepare(
    tableName: string,
    type: number,
    rowBytes: Uint8Array,
    condition: PbCondition,
    returnContent: PbReturnContent | null,
  ): Mutation {
    const table = this.requireTable(tableName);
    table.assertWritable();
    const now = this.now();
    const raw = decodeRow(rowBytes);
    const pk = parseKey(table, raw.primaryKey, type === OperationType.PUT, now);
    const columnCondition = condition.columnCondition?.length
      ? decodeCondition(condition.columnCondition)
      : undefined;
    if (columnCondition?.kind === 'pagination') {
      throw otsErrors.parameterInvalid('Column pagination filter is not a valid condition.');
    }
    const existence = condition.rowExistence;
    if (
      existence !== RowExistence.IGNORE &&
      existence !== RowExistence.EXPECT_EXIST &&
      existence !== RowExistence.EXPECT_NOT_EXIST
    ) {
      throw otsErrors.parameterInvalid('Invalid row existence expectation.');
    }
    let build: (before: StoredRow | undefined) => Map<string, Cell[]> | undefined;
    switch (type) {
      case OperationType.PUT: {
        const cells = raw.attributes.map((c) => attributeCell(table, c, now));
        build = () => {
          const columns = new Map<string, Cell[]>();
          for (const c of cells) addVersion(columns, c.name, c.cell);
          return columns;
        };
        break;
      }
      case OperationType.UPDATE: {
        if (!table.schema.allowUpdate)
          throw otsErrors.parameterInvalid('The table does not allow UpdateRow.');
        if (raw.attributes.length === 0)
          throw otsErrors.parameterInvalid('No column specified while updating row.');
        const ops = raw.attributes.map((c) => updateOp(table, c, now));
        build = (before) => {
          const columns = table.liveColumns(before, now);
          for (const op of ops) op(columns);
          return columns;
        };
        break;
      }
      case OperationType.DELETE:
        if (existence === RowExistence.EXPECT_NOT_EXIST) {
          throw otsErrors.parameterInvalid('Invalid condition: EXPECT_NOT_EXIST while deleting row.');
        }
        build = () => undefined;
        break;
      default:
        throw otsErrors.parameterInvalid(`Invalid operation type: ${type}.`);
    }
    return {
      table,
      pk,
      apply: (): WriteResult => {
        const before = table.get(pk, now);
        checkCondition(
          existence,
          columnCondition,
          before === undefined ? new Map() : table.liveColumns(before, now),
          before !== undefined,
        );
        const columns = build(before);
        table.write(pk, columns, now);
        return { row: returnRow(table, pk, columns, returnContent) };
      },
    };
  }
}

// ----------------------------------------------------------------------------------------- helpers

/** Runs one row of a batch; an OtsError becomes that row's error, anything else fails the request. */
function perRow(fn: () => object): object {
  try {
    return fn();
  } catch (err) {
    if (err instanceof OtsError) return { isOk: false, error: { code: err.code, message: err.message } };
    throw err;
  }
}

function checkColumnName(name: string, seen: Set<string>): void {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0 || bytes > LIMITS.columnNameBytes || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw otsErrors.parameterInvalid(`Invalid column name: '${name}'.`);
  }
  if (seen.has(name)) throw otsErrors.parameterInvalid(`Duplicated column name: '${name}'.`);
  seen.add(name);
}

function describeIndex(idx: Table): object {
  return {
    name: idx.name,
    primaryKey: idx.indexOf?.primaryKey ?? [],
    definedColumn: idx.indexOf?.definedColumns ?? [],
    indexUpdateMode: 1,
    indexType: idx.indexOf?.indexType ?? 0,
    indexSyncPhase: IndexSyncPhase.ISP_INCR,
  };
}

/** Validates a request key against the schema: count, names, order and types, as the service does. */
function parseKey(
  table: Table,
  cells: readonly RawCell[],
  allowAutoIncrement: boolean,
  now: number,
): PkValue[] {
  const schema = table.schema.primaryKey;
  if (cells.length !== schema.length) {
    throw otsErrors.parameterInvalid(
      `Validate PK size fail. Input: ${cells.length}, Meta: ${schema.length}.`,
    );
  }
  return cells.map((cell, i) => {
    const col = schema[i] as (typeof schema)[number];
    if (cell.name !== col.name) {
      throw otsErrors.parameterInvalid(`Validate PK name fail. Input: ${cell.name}, Meta: ${col.name}.`);
    }
    const v = cell.value;
    if (v?.type === 'autoIncrement' && allowAutoIncrement && col.autoIncrement) {
      return { type: 'integer', value: table.nextAutoIncrement(now) };
    }
    if (v === undefined || v.type !== col.type) {
      throw otsErrors.parameterInvalid(
        `Validate PK type fail. Input: ${VT_NAME[v?.type ?? ''] ?? 'none'}, Meta: ${VT_NAME[col.type] ?? col.type}.`,
      );
    }
    const pkValue = v;
    const size = valueSize(pkValue);
    if (pkValue.type !== 'integer' && size > LIMITS.pkStringBytes) {
      throw otsErrors.parameterInvalid(
        `The length of primary key column: '${col.name}' exceeds the MaxLength:${LIMITS.pkStringBytes} with CurrentLength:${size}.`,
      );
    }
    return pkValue;
  });
}

/** Validates a GetRange bound: the full key, each column a value of its type or INF_MIN/INF_MAX. */
function parseBound(table: Table, cells: readonly RawCell[]): PkBound {
  const schema = table.schema.primaryKey;
  if (cells.length !== schema.length) {
    throw otsErrors.parameterInvalid(
      `Validate PK size fail. Input: ${cells.length}, Meta: ${schema.length}.`,
    );
  }
  return cells.map((cell, i) => {
    const col = schema[i] as (typeof schema)[number];
    if (cell.name !== col.name) {
      throw otsErrors.parameterInvalid(`Validate PK name fail. Input: ${cell.name}, Meta: ${col.name}.`);
    }
    const v = cell.value;
    if (v?.type === 'infMin' || v?.type === 'infMax') return v;
    if (v === undefined || v.type !== col.type) {
      throw otsErrors.parameterInvalid(
        `Validate PK type fail. Input: ${VT_NAME[v?.type ?? ''] ?? 'none'}, Meta: ${VT_NAME[col.type] ?? col.type}.`,
      );
    }
    return v;
  });
}

/** Validates an attribute value: a real column value within size limits and of its defined type. */
function attributeValue(table: Table, cell: RawCell): CellValue {
  const v = cell.value;
  if (v === undefined || v.type === 'infMin' || v.type === 'infMax' || v.type === 'autoIncrement') {
    throw otsErrors.parameterInvalid(`Invalid value of attribute column '${cell.name}'.`);
  }
  const size = valueSize(v);
  if (size > LIMITS.cellBytes) {
    throw otsErrors.parameterInvalid(
      `The length of attribute column: '${cell.name}' exceeded the MaxLength:${LIMITS.cellBytes} with CurrentLength:${size}.`,
    );
  }
  // With an index, pre-defined column types are enforced (the index key must be well typed).
  if (table.indexes.size > 0) {
    const defined = table.schema.definedColumns.find((c) => c.name === cell.name);
    if (defined !== undefined && VALUE_TYPE_BY_DEFINED[defined.type] !== v.type) {
      throw otsErrors.parameterInvalid(`Type of defined column '${cell.name}' mismatch.`);
    }
  }
  return v;
}

function checkAttributeName(table: Table, name: string): void {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0 || bytes > LIMITS.columnNameBytes) {
    throw otsErrors.parameterInvalid(`Invalid column name: '${name}'.`);
  }
  if (table.schema.primaryKey.some((c) => c.name === name)) {
    throw otsErrors.parameterInvalid(`Attribute column '${name}' has the name of a primary key column.`);
  }
}

function attributeCell(table: Table, cell: RawCell, now: number): { name: string; cell: Cell } {
  checkAttributeName(table, cell.name);
  if (cell.op !== undefined) throw otsErrors.parameterInvalid('Cell type is not allowed in PutRow.');
  return { name: cell.name, cell: { value: attributeValue(table, cell), ts: cell.timestamp ?? now } };
}

/** Inserts a version, replacing one with the same timestamp (a same-version write overwrites). */
function addVersion(columns: Map<string, Cell[]>, name: string, cell: Cell): void {
  const versions = columns.get(name) ?? [];
  const i = versions.findIndex((c) => c.ts === cell.ts);
  if (i >= 0) versions[i] = cell;
  else versions.push(cell);
  versions.sort((a, b) => b.ts - a.ts);
  columns.set(name, versions);
}

/** One UpdateRow cell as a function on the row's columns. */
function updateOp(table: Table, cell: RawCell, now: number): (columns: Map<string, Cell[]>) => void {
  checkAttributeName(table, cell.name);
  const name = cell.name;
  switch (cell.op) {
    case undefined: {
      const c: Cell = { value: attributeValue(table, cell), ts: cell.timestamp ?? now };
      return (columns) => {
        addVersion(columns, name, c);
      };
    }
    case CellOp.DELETE_ALL_VERSION:
      return (columns) => {
        columns.delete(name);
      };
    case CellOp.DELETE_ONE_VERSION: {
      const ts = cell.timestamp;
      if (ts === undefined) throw otsErrors.parameterInvalid('Timestamp is required to delete one version.');
      return (columns) => {
        const versions = columns.get(name);
        if (versions === undefined) return;
        const kept = versions.filter((v) => v.ts !== ts);
        if (kept.length > 0) columns.set(name, kept);
        else columns.delete(name);
      };
    }
    case CellOp.INCREMENT: {
      const delta = cell.value;
      if (delta?.type !== 'integer') throw otsErrors.parameterInvalid('Increment value must be an integer.');
      if (cell.timestamp !== undefined)
        throw otsErrors.parameterInvalid('Timestamp is not allowed with INCREMENT.');
      return (columns) => {
        const current = columns.get(name)?.[0]?.value;
        if (current !== undefined && current.type !== 'integer') {
          throw otsErrors.parameterInvalid(`Column '${name}' to increment is not an integer.`);
        }
        const sum = BigInt.asIntN(64, (current?.value ?? 0n) + delta.value);
        addVersion(columns, name, { value: { type: 'integer', value: sum }, ts: now });
      };
    }
    default:
      throw otsErrors.parameterInvalid(`Invalid cell type: ${cell.op}.`);
  }
}

function checkCondition(
  existence: number,
  columnCondition: ColumnCondition | undefined,
  columns: ReadonlyMap<string, readonly Cell[]>,
  exists: boolean,
): void {
  if (existence === RowExistence.EXPECT_EXIST && !exists) throw otsErrors.conditionCheckFail();
  if (existence === RowExistence.EXPECT_NOT_EXIST && exists) throw otsErrors.conditionCheckFail();
  if (columnCondition !== undefined && !evaluate(columnCondition, columns))
    throw otsErrors.conditionCheckFail();
}

/** The `row` of a write response: empty, the key (RT_PK), or the key and named columns after the write. */
function returnRow(
  table: Table,
  pk: readonly PkValue[],
  columns: Map<string, Cell[]> | undefined,
  rc: PbReturnContent | null,
): Buffer {
  if (rc === null || !has(rc, 'returnType') || rc.returnType === ReturnContentType.RT_NONE)
    return Buffer.alloc(0);
  const cells: { name: string; value: CellValue; ts: number }[] = [];
  if (rc.returnType === ReturnContentType.RT_AFTER_MODIFY && columns !== undefined) {
    for (const name of rc.returnColumnNames) {
      const latest = columns.get(name)?.[0];
      if (latest !== undefined) cells.push({ name, value: latest.value, ts: latest.ts });
    }
  }
  return encodeRow({ primaryKey: table.pkColumns(pk), cells });
}

/** Read options shared by GetRow, BatchGetRow and GetRange. */
function readOptions(req: PbReadOptions): ReadOptions {
  const range = req.timeRange;
  let timeRange: ReadOptions['timeRange'];
  if (range !== null) {
    if (has(range, 'specificTime') && range.specificTime !== null) {
      const t = longToNumber(range.specificTime);
      timeRange = { start: t, end: t + 1 };
    } else if (
      has(range, 'startTime') &&
      has(range, 'endTime') &&
      range.startTime !== null &&
      range.endTime !== null
    ) {
      timeRange = { start: longToNumber(range.startTime), end: longToNumber(range.endTime) };
    } else {
      throw otsErrors.parameterInvalid('Invalid time range.');
    }
  }
  const hasVersions = has(req, 'maxVersions');
  if (!hasVersions && timeRange === undefined) {
    throw otsErrors.parameterInvalid('Neither column_versions nor time_range is set.');
  }
  if (hasVersions && req.maxVersions <= 0)
    throw otsErrors.parameterInvalid('max_versions must be greater than 0.');
  return {
    columnsToGet: req.columnsToGet,
    maxVersions: hasVersions ? req.maxVersions : Number.MAX_SAFE_INTEGER,
    timeRange,
    filter: req.filter?.length ? decodeCondition(req.filter) : undefined,
    startColumn: has(req, 'startColumn') ? req.startColumn : undefined,
    endColumn: has(req, 'endColumn') ? req.endColumn : undefined,
  };
}
