/**
 * The parts of the `tablestore` SDK (5.6.x) that lib/store/tablestore.ts uses, typed from the SDK's source
 * (@types/tablestore is incomplete and wrong in places; see shared/reference/tablestore-sdk.md).
 * Note what the SDK really returns: errors carry the HTTP status as a number in `code`; a missing row is
 * `row: {}`; integers come back as `Int64LE` objects.
 */
declare module 'tablestore' {
  import type { Agent } from 'node:http';

  namespace TableStore {
    /** `int64-buffer`'s Int64LE: what `Long.fromNumber` makes and what integer cells decode to. */
    interface Int64 {
      toNumber(): number;
      toString(radix?: number): string;
    }
    /** `INF_MIN` / `INF_MAX`: compared by identity by the encoder. */
    interface InfBound {
      readonly __tablestoreInfBound: never;
    }
    type PrimaryKeyValue = string | Int64 | Buffer | InfBound;
    /** `[{ name: value }, …]`, one single-key object per PK column, in schema order. */
    type PrimaryKeyInput = Record<string, PrimaryKeyValue>[];
    type ColumnValue = string | number | boolean | Buffer | Int64;
    /** `[{ name: value }, …]`. */
    type AttributeColumns = Record<string, ColumnValue>[];
    type UpdateColumns = ({ PUT: Record<string, ColumnValue>[] } | { DELETE_ALL: string[] })[];

    interface DecodedRow {
      primaryKey?: { name: string; value: unknown }[];
      attributes?: { columnName: string; columnValue: unknown; timestamp?: unknown }[];
    }

    interface ClientConfig {
      accessKeyId: string;
      accessKeySecret: string;
      stsToken?: string;
      endpoint: string;
      instancename: string;
      /** Written to a process-global static on every request: always pass 0 and retry yourself. */
      maxRetries?: number;
      httpOptions?: { timeout?: number; maxSockets?: number; agent?: Agent };
    }

    class ColumnCondition {
      protected constructor();
      getType(): number;
    }
    class SingleColumnCondition extends ColumnCondition {
      constructor(
        columnName: string,
        columnValue: ColumnValue,
        comparator: number,
        passIfMissing?: boolean,
        latestVersionOnly?: boolean,
      );
    }
    class CompositeCondition extends ColumnCondition {
      constructor(combinator: number);
      addSubCondition(condition: ColumnCondition): void;
    }
    class Condition {
      constructor(rowExistenceExpectation: number, columnCondition?: ColumnCondition | null);
      readonly rowExistenceExpectation: number;
    }

    interface WriteRowParams {
      tableName: string;
      primaryKey: PrimaryKeyInput;
      condition: Condition;
    }
    interface PutRowParams extends WriteRowParams {
      attributeColumns: AttributeColumns;
    }
    interface UpdateRowParams extends WriteRowParams {
      updateOfAttributeColumns: UpdateColumns;
    }
    interface GetRowParams {
      tableName: string;
      primaryKey: PrimaryKeyInput;
      columnsToGet?: string[];
      maxVersions?: number;
    }
    interface GetRangeParams {
      tableName: string;
      direction: 'FORWARD' | 'BACKWARD';
      inclusiveStartPrimaryKey: PrimaryKeyInput;
      exclusiveEndPrimaryKey: PrimaryKeyInput;
      limit?: number;
      columnsToGet?: string[];
      maxVersions?: number;
    }
    interface BatchRowResult {
      isOk: boolean;
      errorCode: string | null;
      errorMessage: string | null;
      tableName: string;
      primaryKey: { name: string; value: unknown }[] | null;
      attributes: { columnName: string; columnValue: unknown }[] | null;
    }
    type BatchWriteRow =
      | {
          type: 'PUT';
          primaryKey: PrimaryKeyInput;
          attributeColumns: AttributeColumns;
          condition: Condition;
        }
      | { type: 'UPDATE'; primaryKey: PrimaryKeyInput; attributeColumns: UpdateColumns; condition: Condition }
      | { type: 'DELETE'; primaryKey: PrimaryKeyInput; attributeColumns: []; condition: Condition };

    interface CreateTableParams {
      tableMeta: { tableName: string; primaryKey: { name: string; type: 'INTEGER' | 'STRING' | 'BINARY' }[] };
      reservedThroughput: { capacityUnit: { read: number; write: number } };
      tableOptions: { timeToLive: number; maxVersions: number };
    }
    interface DescribeTableResult {
      tableMeta: { tableName: string; primaryKey: { name: string; type: number }[] };
      tableOptions?: { timeToLive?: number; maxVersions?: number };
    }

    class Client {
      constructor(config: ClientConfig);
      getRow(params: GetRowParams): Promise<{ row: DecodedRow }>;
      putRow(params: PutRowParams): Promise<unknown>;
      updateRow(params: UpdateRowParams): Promise<unknown>;
      deleteRow(params: WriteRowParams): Promise<unknown>;
      getRange(
        params: GetRangeParams,
      ): Promise<{ rows: DecodedRow[]; nextStartPrimaryKey: { name: string; value: unknown }[] | null }>;
      batchGetRow(params: {
        tables: {
          tableName: string;
          primaryKey: PrimaryKeyInput[];
          columnsToGet?: string[];
          maxVersions?: number;
        }[];
      }): Promise<{ tables: BatchRowResult[][] }>;
      batchWriteRow(params: {
        tables: { tableName: string; rows: BatchWriteRow[] }[];
      }): Promise<{ tables: BatchRowResult[] }>;
      listTable(params: Record<string, never>): Promise<{ tableNames: string[] }>;
      createTable(params: CreateTableParams): Promise<unknown>;
      describeTable(params: { tableName: string }): Promise<DescribeTableResult>;
      deleteTable(params: { tableName: string }): Promise<unknown>;
    }

    const Long: { fromNumber(n: number): Int64; fromString(s: string): Int64 };
    const INF_MIN: InfBound;
    const INF_MAX: InfBound;
    const RowExistenceExpectation: {
      readonly IGNORE: number;
      readonly EXPECT_EXIST: number;
      readonly EXPECT_NOT_EXIST: number;
    };
    const ComparatorType: {
      readonly EQUAL: number;
      readonly NOT_EQUAL: number;
      readonly GREATER_THAN: number;
      readonly GREATER_EQUAL: number;
      readonly LESS_THAN: number;
      readonly LESS_EQUAL: number;
    };
    const LogicalOperator: { readonly NOT: number; readonly AND: number; readonly OR: number };
    const PrimaryKeyType: { readonly INTEGER: number; readonly STRING: number; readonly BINARY: number };
  }

  export = TableStore;
}
