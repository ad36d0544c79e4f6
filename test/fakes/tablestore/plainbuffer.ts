/**
 * PlainBuffer, the row encoding inside OTS protobuf messages: a reader for what the SDK sends (including
 * the INF_MIN/INF_MAX range bounds and the UpdateRow DELETE/DELETE_ALL/INCREMENT cells the SDK's own
 * decoder cannot read) and a writer for what the SDK decodes (with the CRC8 checksums it verifies).
 *
 * Layout: LE32 header 0x75, then TAG_ROW_PK cells, TAG_ROW_DATA cells, an optional delete marker and
 * TAG_ROW_CHECKSUM. A cell is TAG_CELL, TAG_CELL_NAME (LE32 length + bytes), TAG_CELL_VALUE (LE32 length,
 * type byte, payload), optional TAG_CELL_TYPE and TAG_CELL_TIMESTAMP (LE64), TAG_CELL_CHECKSUM.
 */

const HEADER = 0x75;
const TAG_ROW_PK = 0x1;
const TAG_ROW_DATA = 0x2;
const TAG_CELL = 0x3;
const TAG_CELL_NAME = 0x4;
const TAG_CELL_VALUE = 0x5;
const TAG_CELL_TYPE = 0x6;
const TAG_CELL_TIMESTAMP = 0x7;
const TAG_DELETE_ROW_MARKER = 0x8;
const TAG_ROW_CHECKSUM = 0x9;
const TAG_CELL_CHECKSUM = 0x0a;

const VT_INTEGER = 0x0;
const VT_DOUBLE = 0x1;
const VT_BOOLEAN = 0x2;
const VT_STRING = 0x3;
const VT_BLOB = 0x7;
const VT_INF_MIN = 0x9;
const VT_INF_MAX = 0xa;
const VT_AUTO_INCREMENT = 0xb;

/** Cell operation types of UpdateRow (absent = PUT). */
export const CellOp = { DELETE_ALL_VERSION: 0x1, DELETE_ONE_VERSION: 0x3, INCREMENT: 0x4 } as const;

/** A primary-key value as stored. */
export type PkValue =
  | { readonly type: 'integer'; readonly value: bigint }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'binary'; readonly value: Buffer };

/** A primary-key value in a request: also the range bounds and the auto-increment placeholder. */
export type PkInput =
  PkValue | { readonly type: 'infMin' } | { readonly type: 'infMax' } | { readonly type: 'autoIncrement' };

/** An attribute value as stored (a JS number written by the SDK is a double; integers are Long). */
export type CellValue =
  | { readonly type: 'integer'; readonly value: bigint }
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'binary'; readonly value: Buffer };

/** One cell as read from a request row. */
export interface RawCell {
  readonly name: string;
  readonly value: PkInput | CellValue | undefined;
  /** TAG_CELL_TYPE byte (see {@link CellOp}); undefined for a plain PUT cell. */
  readonly op: number | undefined;
  readonly timestamp: number | undefined;
}

/** A decoded PlainBuffer row. */
export interface RawRow {
  readonly primaryKey: RawCell[];
  readonly attributes: RawCell[];
  readonly deleteMarker: boolean;
}

/** Thrown on bytes that are not a well-formed PlainBuffer row; the server answers OTSParameterInvalid. */
export class PlainBufferError extends Error {}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  atEnd(): boolean {
    return this.pos >= this.buf.length;
  }
  peek(): number | undefined {
    return this.buf[this.pos];
  }
  byte(): number {
    const b = this.buf[this.pos];
    if (b === undefined) throw new PlainBufferError('unexpected end of PlainBuffer');
    this.pos += 1;
    return b;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return v;
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new PlainBufferError('unexpected end of PlainBuffer');
  }
}

/** Reads a variant (type byte + payload), as in cell values and in column-condition values. */
function readVariant(r: Reader): PkInput | CellValue {
  const type = r.byte();
  switch (type) {
    case VT_INTEGER:
      return { type: 'integer', value: r.i64() };
    case VT_DOUBLE:
      return { type: 'double', value: r.f64() };
    case VT_BOOLEAN:
      return { type: 'boolean', value: r.byte() !== 0 };
    case VT_STRING:
      return { type: 'string', value: r.bytes(r.u32()).toString('utf8') };
    case VT_BLOB:
      return { type: 'binary', value: r.bytes(r.u32()) };
    case VT_INF_MIN:
      return { type: 'infMin' };
    case VT_INF_MAX:
      return { type: 'infMax' };
    case VT_AUTO_INCREMENT:
      return { type: 'autoIncrement' };
    default:
      throw new PlainBufferError(`unknown PlainBuffer value type ${type}`);
  }
}

function readCell(r: Reader): RawCell {
  if (r.byte() !== TAG_CELL_NAME) throw new PlainBufferError('expected TAG_CELL_NAME');
  const name = r.bytes(r.u32()).toString('utf8');
  let value: PkInput | CellValue | undefined;
  let op: number | undefined;
  let timestamp: number | undefined;
  for (;;) {
    const tag = r.byte();
    if (tag === TAG_CELL_VALUE) {
      const length = r.u32();
      const start = r.bytes(length);
      value = readVariant(new Reader(start));
    } else if (tag === TAG_CELL_TYPE) {
      op = r.byte();
    } else if (tag === TAG_CELL_TIMESTAMP) {
      timestamp = Number(r.i64());
    } else if (tag === TAG_CELL_CHECKSUM) {
      r.byte(); // CRC8: the SDK computes it, reading it back verifies nothing the protobuf layer has not
      return { name, value, op, timestamp };
    } else {
      throw new PlainBufferError(`unexpected tag ${tag} in a cell`);
    }
  }
}

/** Decodes one PlainBuffer row with its header (a request's row, row change or primary key). */
export function readRow(data: Uint8Array): RawRow {
  const r = new Reader(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  if (r.u32() !== HEADER) throw new PlainBufferError('invalid PlainBuffer header');
  const primaryKey: RawCell[] = [];
  const attributes: RawCell[] = [];
  let deleteMarker = false;
  let section: RawCell[] | undefined;
  while (!r.atEnd()) {
    const tag = r.byte();
    if (tag === TAG_ROW_PK) section = primaryKey;
    else if (tag === TAG_ROW_DATA) section = attributes;
    else if (tag === TAG_CELL) {
      if (section === undefined) throw new PlainBufferError('cell outside a row section');
      section.push(readCell(r));
    } else if (tag === TAG_DELETE_ROW_MARKER) deleteMarker = true;
    else if (tag === TAG_ROW_CHECKSUM) {
      r.byte();
      break;
    } else throw new PlainBufferError(`unexpected tag ${tag} in a row`);
  }
  return { primaryKey, attributes, deleteMarker };
}

/** Decodes a column-condition value (`SingleColumnValueFilter.column_value`: type byte + payload). */
export function readConditionValue(data: Uint8Array): CellValue {
  const v = readVariant(new Reader(Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
  if (v.type === 'infMin' || v.type === 'infMax' || v.type === 'autoIncrement') {
    throw new PlainBufferError('a condition value cannot be INF_MIN, INF_MAX or AUTO_INCREMENT');
  }
  return v;
}

// ---------------------------------------------------------------------------------------------- writer

const CRC8_TABLE = ((): Uint8Array => {
  // CRC-8, polynomial 0x07 (the table in the SDK's plain_buffer_crc8.js).
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
    t[i] = c;
  }
  return t;
})();

function crc8(crc: number, byte: number): number {
  return CRC8_TABLE[(crc ^ byte) & 0xff] ?? 0;
}
function crcBytes(crc: number, bytes: Uint8Array): number {
  let c = crc;
  for (const b of bytes) c = crc8(c, b);
  return c;
}
function crcU32(crc: number, v: number): number {
  let c = crc;
  for (let i = 0; i < 4; i++) c = crc8(c, (v >>> (i * 8)) & 0xff);
  return c;
}

/** A growable byte sink. */
class Writer {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }
  get length(): number {
    return this.pos;
  }
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

function int64Bytes(v: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64LE(BigInt.asIntN(64, v));
  return b;
}

/** Writes TAG_CELL_VALUE with its payload; returns the updated cell checksum. */
function writeValue(w: Writer, value: PkValue | CellValue, cellCrc: number): number {
  w.byte(TAG_CELL_VALUE);
  let crc = cellCrc;
  switch (value.type) {
    case 'integer': {
      const bytes = int64Bytes(value.value);
      w.u32(9);
      w.byte(VT_INTEGER);
      w.raw(bytes);
      crc = crcBytes(crc8(crc, VT_INTEGER), bytes);
      break;
    }
    case 'double': {
      const bytes = Buffer.allocUnsafe(8);
      bytes.writeDoubleLE(value.value);
      w.u32(9);
      w.byte(VT_DOUBLE);
      w.raw(bytes);
      crc = crcBytes(crc8(crc, VT_DOUBLE), bytes);
      break;
    }
    case 'boolean':
      w.u32(2);
      w.byte(VT_BOOLEAN);
      w.byte(value.value ? 1 : 0);
      crc = crc8(crc8(crc, VT_BOOLEAN), value.value ? 1 : 0);
      break;
    case 'string':
    case 'binary': {
      const bytes = value.type === 'string' ? Buffer.from(value.value, 'utf8') : value.value;
      const vt = value.type === 'string' ? VT_STRING : VT_BLOB;
      w.u32(5 + bytes.length);
      w.byte(vt);
      w.u32(bytes.length);
      w.raw(bytes);
      crc = crcBytes(crcU32(crc8(crc, vt), bytes.length), bytes);
      break;
    }
  }
  return crc;
}

function writeCell(
  w: Writer,
  name: string,
  value: PkValue | CellValue,
  timestamp: number | undefined,
  rowCrc: number,
): number {
  const nameBytes = Buffer.from(name, 'utf8');
  w.byte(TAG_CELL);
  w.byte(TAG_CELL_NAME);
  w.u32(nameBytes.length);
  w.raw(nameBytes);
  let crc = crcBytes(0, nameBytes);
  crc = writeValue(w, value, crc);
  if (timestamp !== undefined) {
    const ts = int64Bytes(BigInt(timestamp));
    w.byte(TAG_CELL_TIMESTAMP);
    w.raw(ts);
    crc = crcBytes(crc, ts);
  }
  w.byte(TAG_CELL_CHECKSUM);
  w.byte(crc);
  return crc8(rowCrc, crc);
}

/** A row to encode into a response: full primary key, then attribute cells (one per version). */
export interface OutRow {
  readonly primaryKey: readonly { readonly name: string; readonly value: PkValue }[];
  readonly cells: readonly { readonly name: string; readonly value: CellValue; readonly ts: number }[];
}

function writeRowBody(w: Writer, row: OutRow): void {
  let rowCrc = 0;
  w.byte(TAG_ROW_PK);
  for (const pk of row.primaryKey) rowCrc = writeCell(w, pk.name, pk.value, undefined, rowCrc);
  if (row.cells.length > 0) {
    w.byte(TAG_ROW_DATA);
    for (const c of row.cells) rowCrc = writeCell(w, c.name, c.value, c.ts, rowCrc);
  }
  rowCrc = crc8(rowCrc, 0); // no delete marker
  w.byte(TAG_ROW_CHECKSUM);
  w.byte(rowCrc);
}

/** Encodes one row with its header (GetRow `row`, PutRow return content, `next_start_primary_key`). */
export function encodeRow(row: OutRow): Buffer {
  const w = new Writer();
  w.u32(HEADER);
  writeRowBody(w, row);
  return w.finish();
}

/**
 * Encodes GetRange `rows`: the header once, then each row without its header (what the SDK's
 * `readRows` expects). Empty when there are no rows.
 */
export function encodeRows(rows: readonly OutRow[]): Buffer {
  if (rows.length === 0) return Buffer.alloc(0);
  const w = new Writer();
  w.u32(HEADER);
  for (const row of rows) writeRowBody(w, row);
  return w.finish();
}

/** Approximate encoded size of a row, for the 4 MB GetRange page limit. */
export function rowSize(row: OutRow): number {
  let size = 4;
  for (const pk of row.primaryKey) size += pk.name.length + valueSize(pk.value) + 16;
  for (const c of row.cells) size += c.name.length + valueSize(c.value) + 25;
  return size;
}

/** Payload size of a value, as the service counts it for the 2 MB cell limit. */
export function valueSize(v: PkValue | CellValue): number {
  switch (v.type) {
    case 'integer':
    case 'double':
      return 8;
    case 'boolean':
      return 1;
    case 'string':
      return Buffer.byteLength(v.value, 'utf8');
    case 'binary':
      return v.value.length;
  }
}

// ------------------------------------------------------------------------------------------- ordering

/**
 * Compares strings in UTF-8 byte order (= code point order), which the service uses. JS `<` compares
 * UTF-16 code units and differs only between a surrogate and a unit at or above U+E000.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1;
}

/** Compares two values of the same type; `undefined` when the types differ (not comparable). */
export function compareValues(a: PkValue | CellValue, b: PkValue | CellValue): number | undefined {
  if (a.type !== b.type) return undefined;
  switch (a.type) {
    case 'integer': {
      const bv = (b as { value: bigint }).value;
      return a.value < bv ? -1 : a.value > bv ? 1 : 0;
    }
    case 'double': {
      const bv = (b as { value: number }).value;
      return a.value < bv ? -1 : a.value > bv ? 1 : 0;
    }
    case 'boolean': {
      const bv = (b as { value: boolean }).value;
      return a.value === bv ? 0 : a.value ? 1 : -1;
    }
    case 'string':
      return compareUtf8(a.value, (b as { value: string }).value);
    case 'binary':
      return Buffer.compare(a.value, (b as { value: Buffer }).value);
  }
}

/** Primary-key order: column by column; within a column integers signed, strings and binaries bytewise. */
export function comparePk(a: readonly PkValue[], b: readonly PkValue[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareValues(a[i] as PkValue, b[i] as PkValue) ?? 0;
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** A range bound: one entry per PK column, each a value or INF_MIN/INF_MAX. */
export type PkBound = readonly (PkValue | { readonly type: 'infMin' } | { readonly type: 'infMax' })[];

/** Compares a stored key with a range bound (INF_MIN < every value < INF_MAX). */
export function compareToBound(key: readonly PkValue[], bound: PkBound): number {
  for (let i = 0; i < bound.length; i++) {
    const b = bound[i];
    const k = key[i];
    if (b === undefined || k === undefined) break;
    if (b.type === 'infMin') return 1;
    if (b.type === 'infMax') return -1;
    const c = compareValues(k, b) ?? 0;
    if (c !== 0) return c;
  }
  return 0;
}

/** Orders two bounds (for validating that a range is not empty in its direction). */
export function compareBounds(a: PkBound, b: PkBound): number {
  const rank = (v: PkBound[number]): number => (v.type === 'infMin' ? -1 : v.type === 'infMax' ? 1 : 0);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) break;
    const rx = rank(x);
    const ry = rank(y);
    if (rx !== ry) return rx - ry;
    if (rx !== 0) continue;
    const c = compareValues(x as PkValue, y as PkValue) ?? 0;
    if (c !== 0) return c;
  }
  return 0;
}
