/**
 * Shared set-up for the Tablestore fake's fidelity suite: plain SDK clients, as an application would
 * create them, and the decoding of the SDK's errors (trap 1: `err.code` is the HTTP status and
 * `err.message` holds the raw protobuf `Error` bytes).
 */
import TableStore from 'tablestore/index.js';
import type { TablestoreFake } from '../../../fakes/tablestore';

export { TableStore };

/** Anything the untyped SDK takes or returns: the suite calls it exactly as an application would. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Sdk = any;

/** A client for the fake, with SDK retries off so every failure is observed as it happened. */
export function clientFor(
  fake: Pick<TablestoreFake, 'endpoint' | 'instanceName' | 'accessKeyId' | 'accessKeySecret'>,
  overrides: Record<string, unknown> = {},
): Sdk {
  return new TableStore.Client({
    accessKeyId: fake.accessKeyId,
    secretAccessKey: fake.accessKeySecret,
    endpoint: fake.endpoint,
    instancename: fake.instanceName,
    maxRetries: 0,
    ...overrides,
  });
}

/** What an SDK call rejected with: HTTP status (or SDK code) and the OTS code decoded from the body. */
export interface SdkFailure {
  status: unknown;
  otsCode: string | undefined;
  message: string;
}

/** Awaits a call expected to fail and decodes the protobuf `Error{code=1,message=2}` in its message. */
export async function failure(call: Promise<unknown>): Promise<SdkFailure> {
  try {
    await call;
  } catch (err: unknown) {
    const raw = (err as { message?: unknown } | null)?.message;
    const message = typeof raw === 'string' ? raw : '';
    // The message is the body as text: 0x0a, varint length, the code, then 0x12, length, the message.
    const match = /^\n[\s\S]([A-Za-z]+)/.exec(message);
    return { status: (err as { code?: unknown } | null)?.code, otsCode: match?.[1], message };
  }
  throw new Error('expected the call to fail, it succeeded');
}

export const condition = (
  existence: 'IGNORE' | 'EXPECT_EXIST' | 'EXPECT_NOT_EXIST',
  column: unknown = null,
): Sdk => new TableStore.Condition(TableStore.RowExistenceExpectation[existence], column);

/** Creates a table with the given key columns and options, with nothing reserved. */
export async function createTable(
  client: Sdk,
  tableName: string,
  primaryKey: { name: string; type: 'STRING' | 'INTEGER' | 'BINARY' }[],
  options: {
    timeToLive?: number;
    maxVersions?: number;
    definedColumn?: { name: string; type: number }[];
  } = {},
): Promise<void> {
  await client.createTable({
    tableMeta: {
      tableName,
      primaryKey,
      ...(options.definedColumn ? { definedColumn: options.definedColumn } : {}),
    },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive: options.timeToLive ?? -1, maxVersions: options.maxVersions ?? 1 },
  });
}

/** The attributes of an SDK row as `{name: value}` (latest version first wins), numbers made plain. */
export function attrs(row: Sdk): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of row?.attributes ?? []) {
    if (a.columnName in out) continue;
    const v = a.columnValue;
    out[a.columnName] = v instanceof TableStore.Long.fromNumber(0).constructor ? Number(v.toString()) : v;
  }
  return out;
}

/** The key of an SDK row as `{name: value}`, integers made plain. */
export function key(row: Sdk): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of row?.primaryKey ?? []) {
    out[k.name] =
      typeof k.value === 'object' && !Buffer.isBuffer(k.value) ? Number(k.value.toString()) : k.value;
  }
  return out;
}

/** Writes rows through BatchWriteRow in chunks of 200 (the service's limit). */
export async function putMany(
  client: Sdk,
  tableName: string,
  rows: { primaryKey: Sdk[]; attributeColumns: Sdk[] }[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200).map((r) => ({
      type: 'PUT',
      condition: condition('IGNORE'),
      primaryKey: r.primaryKey,
      attributeColumns: r.attributeColumns,
    }));
    const res = await client.batchWriteRow({ tables: [{ tableName, rows: chunk }] });
    const failed = res.tables.filter((t: Sdk) => !t.isOk);
    if (failed.length > 0) throw new Error(`batch write failed: ${failed[0].errorCode}`);
  }
}
