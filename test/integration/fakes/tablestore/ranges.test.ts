import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TablestoreFake, startTablestoreFake } from '../../../fakes/tablestore';
import {
  TableStore,
  attrs,
  clientFor,
  condition,
  createTable,
  failure,
  key,
  putMany,
  type Sdk,
} from './helpers';

const Long = TableStore.Long;
const { INF_MIN, INF_MAX } = TableStore;

/** The SDK returns nextStartPrimaryKey as [{name, value}]; requests take [{name: value}]. */
const asRequestKey = (pk: { name: string; value: unknown }[]): Sdk[] =>
  pk.map((c) => ({ [c.name]: c.value }));

describe('tablestore fake: ranges, batches, indexes and TTL through the real SDK', () => {
  let fake: TablestoreFake;
  let client: Sdk;
  let now = Date.UTC(2026, 0, 1);

  beforeAll(async () => {
    fake = await startTablestoreFake({ clock: { now: () => now } });
    client = clientFor(fake);
    await createTable(client, 'ordered', [
      { name: 'shard', type: 'INTEGER' },
      { name: 'id', type: 'STRING' },
    ]);
    await putMany(
      client,
      'ordered',
      [-5, 3, 0].flatMap((shard) =>
        ['b', 'a', 'é', 'Z'].map((id) => ({
          primaryKey: [{ shard: Long.fromNumber(shard) }, { id }],
          attributeColumns: [{ v: `${shard}/${id}` }],
        })),
      ),
    );
  });
  afterAll(async () => {
    await fake.close();
  });

  it('reads INF_MIN..INF_MAX forward in key order: integers signed, strings bytewise', async () => {
    const res = await client.getRange({
      tableName: 'ordered',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ shard: INF_MIN }, { id: INF_MIN }],
      exclusiveEndPrimaryKey: [{ shard: INF_MAX }, { id: INF_MAX }],
    });
    const ids = res.rows.map((r: Sdk) => attrs(r).v);
    expect(ids).toEqual([
      '-5/Z',
      '-5/a',
      '-5/b',
      '-5/é',
      '0/Z',
      '0/a',
      '0/b',
      '0/é',
      '3/Z',
      '3/a',
      '3/b',
      '3/é',
    ]);
    expect(res.nextStartPrimaryKey).toBeNull();
  });

  it('reads backward from the inclusive start down to the exclusive end', async () => {
    const res = await client.getRange({
      tableName: 'ordered',
      direction: TableStore.Direction.BACKWARD,
      inclusiveStartPrimaryKey: [{ shard: Long.fromNumber(0) }, { id: 'b' }],
      exclusiveEndPrimaryKey: [{ shard: Long.fromNumber(-5) }, { id: 'a' }],
    });
    expect(res.rows.map((r: Sdk) => attrs(r).v)).toEqual(['0/b', '0/a', '0/Z', '-5/é', '-5/b']);
  });

  it('reads one shard with [shard, INF_MIN) .. [shard, INF_MAX)', async () => {
    const res = await client.getRange({
      tableName: 'ordered',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ shard: Long.fromNumber(3) }, { id: INF_MIN }],
      exclusiveEndPrimaryKey: [{ shard: Long.fromNumber(3) }, { id: INF_MAX }],
    });
    expect(res.rows.map((r: Sdk) => key(r))).toEqual(['Z', 'a', 'b', 'é'].map((id) => ({ shard: 3, id })));
  });

  it('stops at `limit` and returns nextStartPrimaryKey to resume from', async () => {
    const first = await client.getRange({
      tableName: 'ordered',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ shard: INF_MIN }, { id: INF_MIN }],
      exclusiveEndPrimaryKey: [{ shard: INF_MAX }, { id: INF_MAX }],
      limit: 5,
    });
    expect(first.rows).toHaveLength(5);
    expect(first.nextStartPrimaryKey.map((c: Sdk) => [c.name, String(c.value)])).toEqual([
      ['shard', '0'],
      ['id', 'a'],
    ]);
    const rest = await client.getRange({
      tableName: 'ordered',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: asRequestKey(first.nextStartPrimaryKey),
      exclusiveEndPrimaryKey: [{ shard: INF_MAX }, { id: INF_MAX }],
    });
    expect(rest.rows).toHaveLength(7);
  });

  it('rejects a forward range whose start is not below its end', async () => {
    const f = await failure(
      client.getRange({
        tableName: 'ordered',
        direction: TableStore.Direction.FORWARD,
        inclusiveStartPrimaryKey: [{ shard: INF_MAX }, { id: INF_MAX }],
        exclusiveEndPrimaryKey: [{ shard: INF_MIN }, { id: INF_MIN }],
      }),
    );
    expect(f).toMatchObject({ status: 400, otsCode: 'OTSParameterInvalid' });
  });

  it('pages a range of more than 5000 rows at 5000 with nextStartPrimaryKey', async () => {
    await createTable(client, 'big', [{ name: 'id', type: 'STRING' }]);
    const n = 12_001;
    await putMany(
      client,
      'big',
      Array.from({ length: n }, (_, i) => ({
        primaryKey: [{ id: `row-${String(i).padStart(6, '0')}` }],
        attributeColumns: [{ i: Long.fromNumber(i) }],
      })),
    );
    const pages: number[] = [];
    let start: Sdk[] = [{ id: INF_MIN }];
    let seen = 0;
    let last = -1;
    for (;;) {
      const res = await client.getRange({
        tableName: 'big',
        direction: TableStore.Direction.FORWARD,
        inclusiveStartPrimaryKey: start,
        exclusiveEndPrimaryKey: [{ id: INF_MAX }],
        limit: 10_000,
      });
      pages.push(res.rows.length);
      for (const r of res.rows) {
        const i = attrs(r).i as number;
        expect(i).toBe(last + 1);
        last = i;
        seen++;
      }
      if (res.nextStartPrimaryKey === null) break;
      start = asRequestKey(res.nextStartPrimaryKey);
    }
    expect(pages).toEqual([5000, 5000, 2001]);
    expect(seen).toBe(n);
    expect(fake.rowCount('big')).toBe(n);
  });

  it('reports BatchWriteRow failures per row with the real string error codes', async () => {
    await createTable(client, 'batch', [{ name: 'id', type: 'STRING' }]);
    await client.putRow({
      tableName: 'batch',
      condition: condition('IGNORE'),
      primaryKey: [{ id: 'taken' }],
      attributeColumns: [{ v: 'old' }],
    });
    const res = await client.batchWriteRow({
      tables: [
        {
          tableName: 'batch',
          rows: [
            {
              type: 'PUT',
              condition: condition('EXPECT_NOT_EXIST'),
              primaryKey: [{ id: 'taken' }],
              attributeColumns: [{ v: 'new' }],
            },
            {
              type: 'PUT',
              condition: condition('EXPECT_NOT_EXIST'),
              primaryKey: [{ id: 'fresh' }],
              attributeColumns: [{ v: 'new' }],
            },
            {
              type: 'UPDATE',
              condition: condition('EXPECT_EXIST'),
              primaryKey: [{ id: 'ghost' }],
              attributeColumns: [{ PUT: [{ v: 'x' }] }],
            },
            {
              type: 'DELETE',
              condition: condition('IGNORE'),
              primaryKey: [{ id: 'nothing' }],
              attributeColumns: [],
            },
          ],
        },
      ],
    });
    expect(res.tables.map((r: Sdk) => [r.isOk, r.errorCode])).toEqual([
      [false, 'OTSConditionCheckFail'],
      [true, null],
      [false, 'OTSConditionCheckFail'],
      [true, null],
    ]);
    expect(fake.rows('batch').map((r) => [r.primaryKey.id, r.attributes.v])).toEqual([
      ['fresh', 'new'],
      ['taken', 'old'],
    ]);
  });

  it('rejects a BatchWriteRow of 201 rows as OTSParameterInvalid and writes none of them', async () => {
    await createTable(client, 'limit201', [{ name: 'id', type: 'STRING' }]);
    const rows = Array.from({ length: 201 }, (_, i) => ({
      type: 'PUT',
      condition: condition('IGNORE'),
      primaryKey: [{ id: `r${i}` }],
      attributeColumns: [{ v: i }],
    }));
    const f = await failure(client.batchWriteRow({ tables: [{ tableName: 'limit201', rows }] }));
    expect(f).toMatchObject({ status: 400, otsCode: 'OTSParameterInvalid' });
    expect(fake.rowCount('limit201')).toBe(0);
  });

  it('rejects a BatchWriteRow that writes one key twice', async () => {
    const rows = ['dup', 'dup'].map((id) => ({
      type: 'PUT',
      condition: condition('IGNORE'),
      primaryKey: [{ id }],
      attributeColumns: [{ v: 1 }],
    }));
    const f = await failure(client.batchWriteRow({ tables: [{ tableName: 'batch', rows }] }));
    expect(f.otsCode).toBe('OTSParameterInvalid');
  });

  it('answers BatchGetRow with isOk:true, primaryKey:null for a missing row, and rejects 101 rows', async () => {
    const res = await client.batchGetRow({
      tables: [{ tableName: 'batch', primaryKey: [[{ id: 'fresh' }], [{ id: 'absent' }]] }],
    });
    const [found, missing] = res.tables[0];
    expect(found).toMatchObject({ isOk: true, tableName: 'batch' });
    expect(attrs(found)).toEqual({ v: 'new' });
    expect(missing).toMatchObject({ isOk: true, primaryKey: null });
    const tooMany = Array.from({ length: 101 }, (_, i) => [{ id: `k${i}` }]);
    const f = await failure(client.batchGetRow({ tables: [{ tableName: 'batch', primaryKey: tooMany }] }));
    expect(f).toMatchObject({ status: 400, otsCode: 'OTSParameterInvalid' });
  });

  it('maintains a sparse global index synchronously and serves GetRange over it', async () => {
    await createTable(
      client,
      'watch',
      [
        { name: 'cluster', type: 'STRING' },
        { name: 'check', type: 'STRING' },
      ],
      {
        definedColumn: [
          { name: 'due_at', type: TableStore.DefinedColumnType.DCT_INTEGER },
          { name: 'status', type: TableStore.DefinedColumnType.DCT_STRING },
        ],
      },
    );
    await client.createIndex({
      mainTableName: 'watch',
      indexMeta: { name: 'watch_due', primaryKey: ['due_at'], definedColumn: ['status'] },
    });
    const described = await client.describeTable({ tableName: 'watch' });
    expect(described.indexMetas.map((m: Sdk) => m.name)).toEqual(['watch_due']);
    const put = (check: string, cols: Sdk[]): Promise<unknown> =>
      client.putRow({
        tableName: 'watch',
        condition: condition('IGNORE'),
        primaryKey: [{ cluster: 'c1' }, { check }],
        attributeColumns: cols,
      });
    await put('k1', [{ due_at: Long.fromNumber(300) }, { status: 'running' }]);
    await put('k2', [{ due_at: Long.fromNumber(100) }, { status: 'running' }]);
    await put('k3', [{ status: 'finished' }]); // no due_at: not in the index
    const readIndex = async (): Promise<unknown[]> => {
      const res = await client.getRange({
        tableName: 'watch_due',
        direction: TableStore.Direction.FORWARD,
        inclusiveStartPrimaryKey: [{ due_at: INF_MIN }, { cluster: INF_MIN }, { check: INF_MIN }],
        exclusiveEndPrimaryKey: [{ due_at: INF_MAX }, { cluster: INF_MAX }, { check: INF_MAX }],
      });
      return res.rows.map((r: Sdk) => ({ ...key(r), ...attrs(r) }));
    };
    expect(await readIndex()).toEqual([
      { due_at: 100, cluster: 'c1', check: 'k2', status: 'running' },
      { due_at: 300, cluster: 'c1', check: 'k1', status: 'running' },
    ]);
    // Moving, dropping the indexed column and deleting the row all update the index at once.
    await client.updateRow({
      tableName: 'watch',
      condition: condition('EXPECT_EXIST'),
      primaryKey: [{ cluster: 'c1' }, { check: 'k1' }],
      updateOfAttributeColumns: [{ PUT: [{ due_at: Long.fromNumber(50) }] }],
    });
    await client.updateRow({
      tableName: 'watch',
      condition: condition('EXPECT_EXIST'),
      primaryKey: [{ cluster: 'c1' }, { check: 'k2' }],
      updateOfAttributeColumns: [{ DELETE_ALL: ['due_at'] }],
    });
    expect(await readIndex()).toEqual([{ due_at: 50, cluster: 'c1', check: 'k1', status: 'running' }]);
    await client.deleteRow({
      tableName: 'watch',
      condition: condition('IGNORE'),
      primaryKey: [{ cluster: 'c1' }, { check: 'k1' }],
    });
    expect(await readIndex()).toEqual([]);
    expect(fake.rowCount('watch_due')).toBe(0);
  });

  it('refuses writes to an index table and indexes on tables with more than one version', async () => {
    const direct = await failure(
      client.putRow({
        tableName: 'watch_due',
        condition: condition('IGNORE'),
        primaryKey: [{ due_at: Long.fromNumber(1) }, { cluster: 'c' }, { check: 'k' }],
        attributeColumns: [],
      }),
    );
    expect(direct.otsCode).toBe('OTSParameterInvalid');
    await createTable(client, 'versions3', [{ name: 'id', type: 'STRING' }], {
      maxVersions: 3,
      definedColumn: [{ name: 'x', type: TableStore.DefinedColumnType.DCT_STRING }],
    });
    const f = await failure(
      client.createIndex({
        mainTableName: 'versions3',
        indexMeta: { name: 'versions3_x', primaryKey: ['x'], definedColumn: [] },
      }),
    );
    expect(f.otsCode).toBe('OTSParameterInvalid');
  });

  it('keeps up to max_versions versions and reads the newest by default', async () => {
    const pk = [{ id: 'multi' }];
    for (const [v, ts] of [
      ['v1', 1_000],
      ['v2', 2_000],
      ['v3', 3_000],
      ['v4', 4_000],
    ] as const) {
      await client.updateRow({
        tableName: 'versions3',
        condition: condition('IGNORE'),
        primaryKey: pk,
        updateOfAttributeColumns: [{ PUT: [{ x: v, timestamp: now - 10_000 + ts }] }],
      });
    }
    const latest = await client.getRow({ tableName: 'versions3', primaryKey: pk });
    expect(latest.row.attributes.map((a: Sdk) => a.columnValue)).toEqual(['v4']);
    const all = await client.getRow({ tableName: 'versions3', primaryKey: pk, maxVersions: 10 });
    expect(all.row.attributes.map((a: Sdk) => a.columnValue)).toEqual(['v4', 'v3', 'v2']);
    // latestVersionOnly:false lets an older version satisfy the condition.
    const anyVersion = new TableStore.SingleColumnCondition(
      'x',
      'v2',
      TableStore.ComparatorType.EQUAL,
      false,
      false,
    );
    await client.updateRow({
      tableName: 'versions3',
      condition: condition('EXPECT_EXIST', anyVersion),
      primaryKey: pk,
      updateOfAttributeColumns: [{ PUT: [{ y: 'ok' }] }],
    });
    const latestOnly = new TableStore.SingleColumnCondition(
      'x',
      'v2',
      TableStore.ComparatorType.EQUAL,
      false,
      true,
    );
    const f = await failure(
      client.updateRow({
        tableName: 'versions3',
        condition: condition('EXPECT_EXIST', latestOnly),
        primaryKey: pk,
        updateOfAttributeColumns: [{ PUT: [{ y: 'no' }] }],
      }),
    );
    expect(f.otsCode).toBe('OTSConditionCheckFail');
  });

  it('hides rows whose data is older than the TTL, lazily on read', async () => {
    await createTable(client, 'ttl', [{ name: 'id', type: 'STRING' }], { timeToLive: 86400 });
    await client.putRow({
      tableName: 'ttl',
      condition: condition('IGNORE'),
      primaryKey: [{ id: 'old' }],
      attributeColumns: [{ v: 1 }],
    });
    now += 43_200_000;
    await client.putRow({
      tableName: 'ttl',
      condition: condition('IGNORE'),
      primaryKey: [{ id: 'young' }],
      attributeColumns: [{ v: 2 }],
    });
    now += 43_200_000 + 1;
    expect((await client.getRow({ tableName: 'ttl', primaryKey: [{ id: 'old' }] })).row).toEqual({});
    expect(attrs((await client.getRow({ tableName: 'ttl', primaryKey: [{ id: 'young' }] })).row)).toEqual({
      v: 2,
    });
    const range = await client.getRange({
      tableName: 'ttl',
      direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ id: INF_MIN }],
      exclusiveEndPrimaryKey: [{ id: INF_MAX }],
    });
    expect(range.rows.map((r: Sdk) => key(r).id)).toEqual(['young']);
    // An expired row no longer exists for a condition either.
    await client.putRow({
      tableName: 'ttl',
      condition: condition('EXPECT_NOT_EXIST'),
      primaryKey: [{ id: 'old' }],
      attributeColumns: [{ v: 3 }],
    });
  });
});
