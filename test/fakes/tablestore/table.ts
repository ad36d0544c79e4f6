/**
 * One table in memory: rows kept in primary-key order in an array (binary search to find, splice to
 * insert — O(log n) compares and one memmove per write, fine for 10^5 rows), cell versions per column,
 * TTL honoured lazily on read, and the read shaping of GetRow/GetRange (columns to get, versions, time
 * range, filter). A global secondary index is itself a `Table`, maintained synchronously by its base.
 */
import { type ColumnCondition, evaluate } from './conditions';
import { otsErrors } from './errors';
import {
  type CellValue,
  type OutRow,
  type PkBound,
  type PkValue,
  compareToBound,
  comparePk,
  compareUtf8,
} from './plainbuffer';

/** One version of one attribute column. `ts` is the cell version in milliseconds. */
export interface Cell {
  readonly value: CellValue;
  readonly ts: number;
}

/** A stored row: PK values in schema order; per column its versions, newest first. */
export interface StoredRow {
  readonly pk: readonly PkValue[];
  readonly columns: Map<string, Cell[]>;
  /** Time of the last write, so a row without attribute columns can expire by TTL too. */
  writtenAt: number;
}

export type PkColumnType = PkValue['type'];

export interface TableSchema {
  readonly name: string;
  readonly primaryKey: readonly {
    readonly name: string;
    readonly type: PkColumnType;
    readonly autoIncrement: boolean;
  }[];
  /** Pre-defined attribute columns (`definedColumn`), wire type numbers (DefinedColumnType). */
  readonly definedColumns: readonly { readonly name: string; readonly type: number }[];
  readonly ttlSeconds: number;
  readonly maxVersions: number;
  readonly allowUpdate: boolean;
  readonly deviationSeconds: number;
  readonly reservedRead: number;
  readonly reservedWrite: number;
  readonly createdAt: number;
}

/** What a secondary index table is: its definition and the table it indexes. */
export interface IndexOf {
  readonly base: Table;
  readonly primaryKey: readonly string[];
  readonly definedColumns: readonly string[];
  /** IndexType on the wire: 0 global, 1 local (both maintained synchronously here). */
  readonly indexType: number;
}

/** How a read shapes a row (GetRow, BatchGetRow, GetRange). */
export interface ReadOptions {
  readonly columnsToGet: readonly string[];
  readonly maxVersions: number;
  readonly timeRange: { readonly start: number; readonly end: number } | undefined;
  readonly filter: ColumnCondition | undefined;
  readonly startColumn: string | undefined;
  readonly endColumn: string | undefined;
}

export class Table {
  readonly rows: StoredRow[] = [];
  /** Index tables of this (base) table, by index name. */
  readonly indexes = new Map<string, Table>();
  private autoIncrement = 0;

  constructor(
    readonly schema: TableSchema,
    readonly indexOf?: IndexOf,
  ) {}

  get name(): string {
    return this.schema.name;
  }

  // ------------------------------------------------------------------------------------------ lookup

  /** Index of the first row whose key is >= `pk`, and whether it is equal. */
  private locate(pk: readonly PkValue[]): { index: number; found: boolean } {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const row = this.rows[mid] as StoredRow;
      if (comparePk(row.pk, pk) < 0) lo = mid + 1;
      else hi = mid;
    }
    const at = this.rows[lo];
    return { index: lo, found: at !== undefined && comparePk(at.pk, pk) === 0 };
  }

  /** First index whose row compares to `bound` with a result > `threshold` (-1: >= bound, 0: > bound). */
  private boundIndex(bound: PkBound, threshold: number): number {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareToBound((this.rows[mid] as StoredRow).pk, bound) > threshold) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The row at `pk` if it exists and has not expired. */
  get(pk: readonly PkValue[], now: number): StoredRow | undefined {
    const { index, found } = this.locate(pk);
    if (!found) return undefined;
    const row = this.rows[index] as StoredRow;
    return this.isLive(row, now) ? row : undefined;
  }

  /** Rows in `[start, end)` forward, or `(end, start]` backward, skipping expired rows. */
  *scan(start: PkBound, end: PkBound, backward: boolean, now: number): Generator<StoredRow> {
    if (!backward) {
      for (let i = this.boundIndex(start, -1); i < this.rows.length; i++) {
        const row = this.rows[i] as StoredRow;
        if (compareToBound(row.pk, end) >= 0) return;
        if (this.isLive(row, now)) yield row;
      }
    } else {
      for (let i = this.boundIndex(start, 0) - 1; i >= 0; i--) {
        const row = this.rows[i] as StoredRow;
        if (compareToBound(row.pk, end) <= 0) return;
        if (this.isLive(row, now)) yield row;
      }
    }
  }

  /** Number of stored rows (expired rows still count until they are read or overwritten). */
  get size(): number {
    return this.rows.length;
  }

  // ------------------------------------------------------------------------------------------ TTL

  private cellLive(cell: Cell, now: number): boolean {
    return this.schema.ttlSeconds < 0 || cell.ts > now - this.schema.ttlSeconds * 1000;
  }

  private isLive(row: StoredRow, now: number): boolean {
    if (this.schema.ttlSeconds < 0) return true;
    for (const versions of row.columns.values()) {
      if (versions.some((c) => this.cellLive(c, now))) return true;
    }
    return row.writtenAt > now - this.schema.ttlSeconds * 1000;
  }

  /** The row's unexpired versions per column (a copy the caller may modify). */
  liveColumns(row: StoredRow | undefined, now: number): Map<string, Cell[]> {
    const out = new Map<string, Cell[]>();
    if (row === undefined) return out;
    for (const [name, versions] of row.columns) {
      const live = versions.filter((c) => this.cellLive(c, now));
      if (live.length > 0) out.set(name, live);
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------ writes

  /** Next value for an AUTO_INCREMENT primary-key column: increasing, like the service's. */
  nextAutoIncrement(now: number): bigint {
    this.autoIncrement = Math.max(this.autoIncrement + 1, now * 1000);
    return BigInt(this.autoIncrement);
  }

  /**
   * Replaces the row at `pk` with `columns` (or deletes it when `columns` is undefined), caps versions
   * at the table's max versions, and keeps every index in step before returning — the fake's global
   * indexes are synchronous, where the service's are eventually consistent (milliseconds).
   */
  write(pk: readonly PkValue[], columns: Map<string, Cell[]> | undefined, now: number): void {
    const { index, found } = this.locate(pk);
    const before = found ? (this.rows[index] as StoredRow) : undefined;
    let after: StoredRow | undefined;
    if (columns === undefined) {
      if (found) this.rows.splice(index, 1);
    } else {
      for (const [name, versions] of columns) {
        versions.sort((a, b) => b.ts - a.ts);
        if (versions.length > this.schema.maxVersions) versions.length = this.schema.maxVersions;
        if (versions.length === 0) columns.delete(name);
      }
      after = { pk, columns, writtenAt: now };
      if (found) this.rows[index] = after;
      else this.rows.splice(index, 0, after);
    }
    for (const idx of this.indexes.values()) idx.maintain(before, after, now);
  }

  /** Applies a base-table change to this index table. */
  private maintain(before: StoredRow | undefined, after: StoredRow | undefined, now: number): void {
    const oldKey = before === undefined ? undefined : this.indexKey(before);
    const newKey = after === undefined ? undefined : this.indexKey(after);
    if (oldKey !== undefined && (newKey === undefined || comparePk(oldKey, newKey) !== 0)) {
      const { index, found } = this.locate(oldKey);
      if (found) this.rows.splice(index, 1);
    }
    if (newKey !== undefined && after !== undefined) {
      const columns = new Map<string, Cell[]>();
      for (const name of this.indexOf?.definedColumns ?? []) {
        const versions = after.columns.get(name);
        if (versions !== undefined && versions.length > 0) columns.set(name, versions.slice(0, 1));
      }
      const row: StoredRow = { pk: newKey, columns, writtenAt: now };
      const { index, found } = this.locate(newKey);
      if (found) this.rows[index] = row;
      else this.rows.splice(index, 0, row);
    }
  }

  /**
   * A base row's key in this index, or undefined when an indexed column is missing or has a type that
   * cannot be a key (a sparse index: such rows are simply not in it).
   */
  private indexKey(row: StoredRow): PkValue[] | undefined {
    const def = this.indexOf;
    if (def === undefined) return undefined;
    const basePk = def.base.schema.primaryKey;
    const key: PkValue[] = [];
    for (const col of this.schema.primaryKey) {
      const pkPos = basePk.findIndex((c) => c.name === col.name);
      if (pkPos >= 0) {
        key.push(row.pk[pkPos] as PkValue);
        continue;
      }
      const v = row.columns.get(col.name)?.[0]?.value;
      if (v === undefined || v.type !== col.type) return undefined;
      key.push(v);
    }
    return key;
  }

  /** Rebuilds this index from its base table (CreateIndex with `includeBaseData`). */
  backfill(now: number): void {
    const base = this.indexOf?.base;
    if (base === undefined) return;
    for (const row of base.rows) if (base.isLive(row, now)) this.maintain(undefined, row, now);
  }

  // ------------------------------------------------------------------------------------------ reads

  /**
   * Shapes a stored row for a read response, or undefined when nothing of it is to be returned (filter
   * rejects it, or none of the requested columns exist).
   */
  shape(row: StoredRow, opts: ReadOptions, now: number): OutRow | undefined {
    const live = this.liveColumns(row, now);
    const wanted = opts.columnsToGet.length > 0 ? new Set(opts.columnsToGet) : undefined;
    let visible = live;
    if (wanted !== undefined) {
      visible = new Map([...live].filter(([name]) => wanted.has(name)));
    }
    // The service evaluates a read filter on the columns it reads, so a filter column that is not in
    // columns_to_get counts as missing.
    if (opts.filter !== undefined && opts.filter.kind !== 'pagination' && !evaluate(opts.filter, visible)) {
      return undefined;
    }
    const names = [...visible.keys()]
      .filter(
        (n) =>
          (opts.startColumn === undefined || compareUtf8(n, opts.startColumn) >= 0) &&
          (opts.endColumn === undefined || compareUtf8(n, opts.endColumn) < 0),
      )
      .sort(compareUtf8);
    let cells: { name: string; value: CellValue; ts: number }[] = [];
    for (const name of names) {
      let versions = visible.get(name) ?? [];
      const range = opts.timeRange;
      if (range !== undefined) versions = versions.filter((c) => c.ts >= range.start && c.ts < range.end);
      for (const c of versions.slice(0, opts.maxVersions)) cells.push({ name, value: c.value, ts: c.ts });
    }
    if (opts.filter?.kind === 'pagination') {
      const { offset, limit } = opts.filter;
      const kept = new Set(
        names.filter((n) => cells.some((c) => c.name === n)).slice(offset, offset + limit),
      );
      cells = cells.filter((c) => kept.has(c.name));
    }
    const pkWanted = wanted === undefined || this.schema.primaryKey.some((c) => wanted.has(c.name));
    if (cells.length === 0 && !pkWanted) return undefined;
    return { primaryKey: this.pkColumns(row.pk), cells };
  }

  /** The row's key as named columns, for encoding. */
  pkColumns(pk: readonly PkValue[]): { name: string; value: PkValue }[] {
    return this.schema.primaryKey.map((col, i) => ({ name: col.name, value: pk[i] as PkValue }));
  }

  /** Throws OTSParameterInvalid when this is an index table (indexes are written through their base). */
  assertWritable(): void {
    if (this.indexOf !== undefined) {
      throw otsErrors.parameterInvalid(`Index table: ${this.name} can not be written directly.`);
    }
  }
}
