/**
 * Typed access to the SDK's own compiled protobuf schema (`tablestore_compiled_proto.js`), so the fake
 * decodes requests and encodes responses with exactly the message definitions the SDK uses.
 * Only the fields the fake reads are typed; proto2 optional scalars read as their default when absent,
 * so presence is tested with {@link has}.
 */
import compiled from 'tablestore/lib/protocol/tablestore_compiled_proto.js';

/** A protobufjs `Long` as decoded for int64 fields. */
export interface LongLike {
  toString(): string;
}

/** The static codec protobufjs generates for one message type. */
export interface MessageCodec<T> {
  decode(data: Uint8Array): T;
  encode(message: object): { finish(): Uint8Array };
}

export interface PbCondition {
  rowExistence: number;
  columnCondition: Uint8Array | null;
}
export interface PbReturnContent {
  returnType: number;
  returnColumnNames: string[];
}
export interface PbTimeRange {
  startTime: LongLike | number | null;
  endTime: LongLike | number | null;
  specificTime: LongLike | number | null;
}
export interface PbIndexMeta {
  name: string;
  primaryKey: string[];
  definedColumn: string[];
  indexUpdateMode: number;
  indexType: number;
}
export interface PbCreateTableRequest {
  tableMeta: {
    tableName: string;
    primaryKey: { name: string; type: number; option: number }[];
    definedColumn: { name: string; type: number }[];
  };
  reservedThroughput: { capacityUnit: { read: number; write: number } };
  tableOptions: {
    timeToLive: number;
    maxVersions: number;
    allowUpdate: boolean;
    deviationCellVersionInSec: LongLike | number;
  } | null;
  indexMetas: PbIndexMeta[];
}
export interface PbTableNameRequest {
  tableName: string;
}
export interface PbCreateIndexRequest {
  mainTableName: string;
  indexMeta: PbIndexMeta;
  includeBaseData: boolean;
}
export interface PbDropIndexRequest {
  mainTableName: string;
  indexName: string;
}
/** Shared shape of GetRowRequest / TableInBatchGetRowRequest / GetRangeRequest read options. */
export interface PbReadOptions {
  columnsToGet: string[];
  timeRange: PbTimeRange | null;
  maxVersions: number;
  filter: Uint8Array | null;
  startColumn: string;
  endColumn: string;
}
export interface PbGetRowRequest extends PbReadOptions {
  tableName: string;
  primaryKey: Uint8Array;
}
export interface PbGetRangeRequest extends PbReadOptions {
  tableName: string;
  direction: number;
  limit: number;
  inclusiveStartPrimaryKey: Uint8Array;
  exclusiveEndPrimaryKey: Uint8Array;
}
export interface PbBatchGetRowRequest {
  tables: (PbReadOptions & { tableName: string; primaryKey: Uint8Array[] })[];
}
export interface PbPutRowRequest {
  tableName: string;
  row: Uint8Array;
  condition: PbCondition;
  returnContent: PbReturnContent | null;
}
export interface PbUpdateRowRequest {
  tableName: string;
  rowChange: Uint8Array;
  condition: PbCondition;
  returnContent: PbReturnContent | null;
}
export interface PbDeleteRowRequest {
  tableName: string;
  primaryKey: Uint8Array;
  condition: PbCondition;
  returnContent: PbReturnContent | null;
}
export interface PbBatchWriteRowRequest {
  tables: {
    tableName: string;
    rows: {
      type: number;
      rowChange: Uint8Array;
      condition: PbCondition;
      returnContent: PbReturnContent | null;
    }[];
  }[];
}
export interface PbFilter {
  type: number;
  filter: Uint8Array;
}
export interface PbSingleColumnValueFilter {
  comparator: number;
  columnName: string;
  columnValue: Uint8Array;
  filterIfMissing: boolean;
  latestVersionOnly: boolean;
}
export interface PbCompositeColumnValueFilter {
  combinator: number;
  subFilters: PbFilter[];
}
export interface PbColumnPaginationFilter {
  offset: number;
  limit: number;
}

const main = compiled.main.proto;
const filter = compiled.filter.proto;

function codec<T>(ns: Record<string, unknown>, name: string): MessageCodec<T> {
  const type = ns[name];
  if (type === undefined) throw new Error(`tablestore compiled proto has no message ${name}`);
  return type as MessageCodec<T>;
}

/** Request and response codecs, by message name. Responses are encoded from plain objects. */
export const pb = {
  Error: codec<{ code: string; message: string }>(main, 'Error'),
  CreateTableRequest: codec<PbCreateTableRequest>(main, 'CreateTableRequest'),
  CreateTableResponse: codec<object>(main, 'CreateTableResponse'),
  ListTableRequest: codec<object>(main, 'ListTableRequest'),
  ListTableResponse: codec<object>(main, 'ListTableResponse'),
  DeleteTableRequest: codec<PbTableNameRequest>(main, 'DeleteTableRequest'),
  DeleteTableResponse: codec<object>(main, 'DeleteTableResponse'),
  DescribeTableRequest: codec<PbTableNameRequest>(main, 'DescribeTableRequest'),
  DescribeTableResponse: codec<object>(main, 'DescribeTableResponse'),
  CreateIndexRequest: codec<PbCreateIndexRequest>(main, 'CreateIndexRequest'),
  CreateIndexResponse: codec<object>(main, 'CreateIndexResponse'),
  DropIndexRequest: codec<PbDropIndexRequest>(main, 'DropIndexRequest'),
  DropIndexResponse: codec<object>(main, 'DropIndexResponse'),
  GetRowRequest: codec<PbGetRowRequest>(main, 'GetRowRequest'),
  GetRowResponse: codec<object>(main, 'GetRowResponse'),
  PutRowRequest: codec<PbPutRowRequest>(main, 'PutRowRequest'),
  PutRowResponse: codec<object>(main, 'PutRowResponse'),
  UpdateRowRequest: codec<PbUpdateRowRequest>(main, 'UpdateRowRequest'),
  UpdateRowResponse: codec<object>(main, 'UpdateRowResponse'),
  DeleteRowRequest: codec<PbDeleteRowRequest>(main, 'DeleteRowRequest'),
  DeleteRowResponse: codec<object>(main, 'DeleteRowResponse'),
  GetRangeRequest: codec<PbGetRangeRequest>(main, 'GetRangeRequest'),
  GetRangeResponse: codec<object>(main, 'GetRangeResponse'),
  BatchGetRowRequest: codec<PbBatchGetRowRequest>(main, 'BatchGetRowRequest'),
  BatchGetRowResponse: codec<object>(main, 'BatchGetRowResponse'),
  BatchWriteRowRequest: codec<PbBatchWriteRowRequest>(main, 'BatchWriteRowRequest'),
  BatchWriteRowResponse: codec<object>(main, 'BatchWriteRowResponse'),
  Filter: codec<PbFilter>(filter, 'Filter'),
  SingleColumnValueFilter: codec<PbSingleColumnValueFilter>(filter, 'SingleColumnValueFilter'),
  CompositeColumnValueFilter: codec<PbCompositeColumnValueFilter>(filter, 'CompositeColumnValueFilter'),
  ColumnPaginationFilter: codec<PbColumnPaginationFilter>(filter, 'ColumnPaginationFilter'),
} as const;

/** Whether a proto2 optional field was present on the wire (protobufjs puts defaults on the prototype). */
export function has(message: object, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, field);
}

/** An int64 field (protobufjs `Long` or number) as a JS number; only used for millisecond times. */
export function longToNumber(value: LongLike | number): number {
  return typeof value === 'number' ? value : Number(value.toString());
}

/** Wire values of the enums the fake branches on (from tablestore.proto / tablestore_filter.proto). */
export const RowExistence = { IGNORE: 0, EXPECT_EXIST: 1, EXPECT_NOT_EXIST: 2 } as const;
export const ReturnContentType = { RT_NONE: 0, RT_PK: 1, RT_AFTER_MODIFY: 2 } as const;
export const Direction = { FORWARD: 0, BACKWARD: 1 } as const;
export const OperationType = { PUT: 1, UPDATE: 2, DELETE: 3 } as const;
export const FilterType = { SINGLE: 1, COMPOSITE: 2, PAGINATION: 3 } as const;
export const Comparator = { EQ: 1, NE: 2, GT: 3, GE: 4, LT: 5, LE: 6 } as const;
export const LogicalOp = { NOT: 1, AND: 2, OR: 3 } as const;
export const PkType = { INTEGER: 1, STRING: 2, BINARY: 3 } as const;
export const DefinedType = { INTEGER: 1, DOUBLE: 2, BOOLEAN: 3, STRING: 4, BLOB: 7 } as const;
export const TableStatus = { ACTIVE: 1 } as const;
export const IndexSyncPhase = { ISP_INCR: 2 } as const;
