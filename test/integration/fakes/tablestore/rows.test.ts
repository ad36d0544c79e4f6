import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TablestoreFake, startTablestoreFake } from '../../../fakes/tablestore';
import { TableStore, attrs, clientFor, condition, createTable, failure, key, type Sdk } from './helpers';

const Long = TableStore.Long;

describe('tablestore fake: tables and single rows through the real SDK', () => {
  let fake: TablestoreFake;
  let client: Sdk;

  beforeAll(async () => {
    fake = await startTablestoreFake();
    client = clientFor(fake);
    await createTable(client, 'items', [
      { name: 'pk', type: 'STRING' },
      { name: 'n', type: 'INTEGER' },
    ]);
  });
  afterAll(async () => {
    await fake.close();
  });

  it('creates, lists, describes and deletes a table with defined columns, TTL and max versions', async () => {
    await createTable(client, 'ddl_demo', [{ name: 'id', type: 'STRING' }], {
      timeToLive: 86400 * 30,
      maxVersions: 3,
      definedColumn: [{ name: 'due_at', type: TableStore.DefinedColumnType.DCT_INTEGER }],
    });
    const listed = await client.listTable({});
    expect(listed.tableNames).toContain('ddl_demo');
    const described = await client.describeTable({ tableName: 'ddl_demo' });
    expect(described.tableMeta.tableName).toBe('ddl_demo');
    expect(described.tableMeta.primaryKey.map((c: Sdk) => [c.name, c.type])).toEqual([['id', 2]]);
    expect(described.tableMeta.definedColumn.map((c: Sdk) => [c.name, c.type])).toEqual([['due_at', 1]]);
    expect(described.tableOptions.timeToLive).toBe(86400 * 30);
    expect(described.tableOptions.maxVersions).toBe(3);
    expect(described.tableStatus).toBe(1);
    await client.deleteTable({ tableName: 'ddl_demo' });
    expect(fake.tableNames()).not.toContain('ddl_demo');
  });

  it('answers OTSObjectAlreadyExist (409) for a second CreateTable and OTSObjectNotExist (404) for a missing table', async () => {
    const again = await failure(createTable(client, 'items', [{ name: 'pk', type: 'STRING' }]));
    expect(again).toMatchObject({ status: 409, otsCode: 'OTSObjectAlreadyExist' });
    const missing = await failure(client.describeTable({ tableName: 'nope' }));
    expect(missing).toMatchObject({ status: 404, otsCode: 'OTSObjectNotExist' });
    const missingRow = await failure(
      client.getRow({ tableName: 'nope', primaryKey: [{ pk: 'a' }, { n: Long.fromNumber(1) }] }),
    );
    expect(missingRow).toMatchObject({ status: 404, otsCode: 'OTSObjectNotExist' });
  });

  it('rejects a TTL below one day as OTSParameterInvalid', async () => {
    const f = await failure(
      createTable(client, 'short_ttl', [{ name: 'id', type: 'STRING' }], { timeToLive: 60 }),
    );
    expect(f).toMatchObject({ status: 400, otsCode: 'OTSParameterInvalid' });
  });

  it('round-trips Long, double, string, boolean and binary columns with their types', async () => {
    await client.putRow({
      tableName: 'items',
      condition: condition('IGNORE'),
      primaryKey: [{ pk: 'types' }, { n: Long.fromNumber(1) }],
      attributeColumns: [
        { count: Long.fromNumber(42) },
        { ratio: 42 },
        { name: 'héllo' },
        { ok: true },
        { blob: Buffer.from([0, 255, 7]) },
      ],
    });
    const got = await client.getRow({
      tableName: 'items',
      primaryKey: [{ pk: 'types' }, { n: Long.fromNumber(1) }],
    });
    expect(key(got.row)).toEqual({ pk: 'types', n: 1 });
    const byName = Object.fromEntries(got.row.attributes.map((a: Sdk) => [a.columnName, a]));
    // A Long comes back as an Int64LE object, a JS number as a double.
    expect(typeof byName.count.columnValue).toBe('object');
    expect(byName.count.columnValue.toString()).toBe('42');
    expect(byName.ratio.columnValue).toBe(42);
    expect(byName.name.columnValue).toBe('héllo');
    expect(byName.ok.columnValue).toBe(true);
    expect(Buffer.compare(byName.blob.columnValue, Buffer.from([0, 255, 7]))).toBe(0);
    // Every returned cell carries its version timestamp.
    expect(Number(byName.name.timestamp.toString())).toBeGreaterThan(1_600_000_000_000);
    // Attribute columns come back in name order.
    expect(got.row.attributes.map((a: Sdk) => a.columnName)).toEqual([
      'blob',
      'count',
      'name',
      'ok',
      'ratio',
    ]);
  });

  it('returns row: {} for a missing row', async () => {
    const got = await client.getRow({
      tableName: 'items',
      primaryKey: [{ pk: 'absent' }, { n: Long.fromNumber(1) }],
    });
    expect(got.row).toEqual({});
  });

  it('returns only columns_to_get, and nothing when none of them exist', async () => {
    await client.putRow({
      tableName: 'items',
      condition: condition('IGNORE'),
      primaryKey: [{ pk: 'cols' }, { n: Long.fromNumber(1) }],
      attributeColumns: [{ a: 'A' }, { b: 'B' }],
    });
    const pk = [{ pk: 'cols' }, { n: Long.fromNumber(1) }];
    const some = await client.getRow({ tableName: 'items', primaryKey: pk, columnsToGet: ['b'] });
    expect(attrs(some.row)).toEqual({ b: 'B' });
    const none = await client.getRow({ tableName: 'items', primaryKey: pk, columnsToGet: ['zzz'] });
    expect(none.row).toEqual({});
  });

  it('rejects a key that does not match the schema as OTSParameterInvalid', async () => {
    const wrongType = await failure(
      client.getRow({ tableName: 'items', primaryKey: [{ pk: 'x' }, { n: 'not-an-int' }] }),
    );
    expect(wrongType).toMatchObject({ status: 400, otsCode: 'OTSParameterInvalid' });
    expect(wrongType.message).toContain('Validate PK type fail');
    const wrongSize = await failure(client.getRow({ tableName: 'items', primaryKey: [{ pk: 'x' }] }));
    expect(wrongSize.message).toContain('Validate PK size fail');
  });

  it('fails EXPECT_NOT_EXIST on an existing row with OTSConditionCheckFail (403) and leaves it unchanged', async () => {
    const pk = [{ pk: 'cond' }, { n: Long.fromNumber(1) }];
    await client.putRow({
      tableName: 'items',
      condition: condition('EXPECT_NOT_EXIST'),
      primaryKey: pk,
      attributeColumns: [{ v: 'first' }],
    });
    const f = await failure(
      client.putRow({
        tableName: 'items',
        condition: condition('EXPECT_NOT_EXIST'),
        primaryKey: pk,
        attributeColumns: [{ v: 'second' }],
      }),
    );
    expect(f).toMatchObject({ status: 403, otsCode: 'OTSConditionCheckFail' });
    expect(f.message).toContain('Condition check failed.');
    const got = await client.getRow({ tableName: 'items', primaryKey: pk });
    expect(attrs(got.row)).toEqual({ v: 'first' });
  });

  it('fails EXPECT_EXIST on a missing row', async () => {
    const f = await failure(
      client.updateRow({
        tableName: 'items',
        condition: condition('EXPECT_EXIST'),
        primaryKey: [{ pk: 'ghost' }, { n: Long.fromNumber(1) }],
        updateOfAttributeColumns: [{ PUT: [{ v: 'x' }] }],
      }),
    );
    expect(f).toMatchObject({ status: 403, otsCode: 'OTSConditionCheckFail' });
    expect(fake.rows('items').some((r) => r.primaryKey.pk === 'ghost')).toBe(false);
  });

  it('passes a single column condition on a missing column by default (passIfMissing defaults to true)', async () => {
    const pk = [{ pk: 'pim' }, { n: Long.fromNumber(1) }];
    await client.putRow({
      tableName: 'items',
      condition: condition('IGNORE'),
      primaryKey: pk,
      attributeColumns: [{ other: 'x' }],
    });
    const defaultCond = new TableStore.SingleColumnCondition(
      'version',
      Long.fromNumber(3),
      TableStore.ComparatorType.EQUAL,
    );
    await client.updateRow({
      tableName: 'items',
      condition: condition('EXPECT_EXIST', defaultCond),
      primaryKey: pk,
      updateOfAttributeColumns: [{ PUT: [{ version: Long.fromNumber(1) }] }],
    });
    const strictCond = new TableStore.SingleColumnCondition(
      'missing',
      Long.fromNumber(3),
      TableStore.ComparatorType.EQUAL,
      false,
    );
    const f = await failure(
      client.updateRow({
        tableName: 'items',
        condition: condition('EXPECT_EXIST', strictCond),
        primaryKey: pk,
        updateOfAttributeColumns: [{ PUT: [{ version: Long.fromNumber(2) }] }],
      }),
    );
    expect(f.otsCode).toBe('OTSConditionCheckFail');
  });

  it('checks a version column with passIfMissing false: the matching write wins, the stale one fails', async () => {
    const pk = [{ pk: 'ver' }, { n: Long.fromNumber(1) }];
    await client.putRow({
      tableName: 'items',
      condition: condition('IGNORE'),
      primaryKey: pk,
      attributeColumns: [{ version: Long.fromNumber(1) }],
    });
    const expectVersion = (v: number): Sdk =>
      condition(
        'EXPECT_EXIST',
        new TableStore.SingleColumnCondition(
          'version',
          Long.fromNumber(v),
          TableStore.ComparatorType.EQUAL,
          false,
        ),
      );
    await client.updateRow({
      tableName: 'items',
      condition: expectVersion(1),
      primaryKey: pk,
      updateOfAttributeColumns: [{ PUT: [{ version: Long.fromNumber(2) }] }],
    });
    const stale = await failure(
      client.updateRow({
        tableName: 'items',
        condition: expectVersion(1),
        primaryKey: pk,
        updateOfAttributeColumns: [{ PUT: [{ version: Long.fromNumber(3) }] }],
      }),
    );
    expect(stale.otsCode).toBe('OTSConditionCheckFail');
    expect(attrs((await client.getRow({ tableName: 'items', primaryKey: pk })).row)).toEqual({ version: 2 });
  });

  it('never matches a condition whose value type differs from the stored column (double vs Long)', async () => {
    const pk = [{ pk: 'typed' }, { n: Long.fromNumber(1) }];
    await client.putRow({
      tableName: 'items',
      condition: condition('IGNORE'),
      primaryKey: pk,
      attributeColumns: [{ version: Long.fromNumber(1) }],
    });
    const asDouble = new TableStore.SingleColumnCondition(
      'version',
      1,
      TableStore.ComparatorType.EQUAL,
      false,
    );
    const f = await failure(
      client.deleteRow({ tableName: 'items', condition: condition('IGNORE', asDouble), primaryKey: pk }),
    );
    expect(f.otsCode).toBe('OTSConditionCheckFail');
  });

  it('evaluates composite conditions (AND, OR, NOT)', async () => {
    const pk = [{ pk: 'comp' }, { n: Long.fromNumber(1) }];
    await client.putRow({
      tableName: 'items',
      condition: condition('IGNORE'),
      primaryKey: pk,
      attributeColumns: [{ state: 'claimed' }, { until: Long.fromNumber(100) }],
    });
    const C = TableStore.ComparatorType;
    const single = (name: string, v: unknown, cmp: number): Sdk =>
      new TableStore.SingleColumnCondition(name, v, cmp, false);
    const composite = (op: number, ...subs: Sdk[]): Sdk => {
      const c = new TableStore.CompositeCondition(op);
      for (const s of subs) c.addSubCondition(s);
      return c;
    };
    const put = (cond: Sdk): Promise<unknown> =>
      client.updateRow({
        tableName: 'items',
        condition: condition('EXPECT_EXIST', cond),
        primaryKey: pk,
        updateOfAttributeColumns: [{ PUT: [{ touched: true }] }],
      });
    // claimed AND until < 200 → passes
    await put(
      composite(
        TableStore.LogicalOperator.AND,
        single('state', 'claimed', C.EQUAL),
        single('until', Long.fromNumber(200), C.LESS_THAN),
      ),
    );
    // delivered OR until > 500 → fails
    const orFail = await failure(
      put(
        composite(
          TableStore.LogicalOperator.OR,
          single('state', 'delivered', C.EQUAL),
          single('until', Long.fromNumber(500), C.GREATER_THAN),
        ),
      ),
    );
    expect(orFail.otsCode).toBe('OTSConditionCheckFail');
    // NOT (state == delivered) → passes
    await put(composite(TableStore.LogicalOperator.NOT, single('state', 'delivered', C.EQUAL)));
  });

  it('applies UpdateRow PUT, DELETE (one version), DELETE_ALL and INCREMENT, creating the row when absent', async () => {
    const pk = [{ pk: 'upd' }, { n: Long.fromNumber(1) }];
    await client.updateRow({
      tableName: 'items',
      condition: condition('IGNORE'),
      primaryKey: pk,
      updateOfAttributeColumns: [
        { PUT: [{ a: 'A' }, { b: 'B' }, { c: 'C', timestamp: 1_700_000_000_000 }] },
        { INCREMENT: [{ hits: Long.fromNumber(5) }] },
      ],
    });
    expect(attrs((await client.getRow({ tableName: 'items', primaryKey: pk })).row)).toEqual({
      a: 'A',
      b: 'B',
      c: 'C',
      hits: 5,
    });
    const res = await client.updateRow({
      tableName: 'items',
      condition: condition('EXPECT_EXIST'),
      primaryKey: pk,
      updateOfAttributeColumns: [
        { DELETE_ALL: ['a'] },
        { DELETE: [{ c: Long.fromNumber(1_700_000_000_000) }] },
        { INCREMENT: [{ hits: Long.fromNumber(-2) }] },
      ],
      returnContent: { returnType: TableStore.ReturnType.AfterModify, returnColumns: ['hits'] },
    });
    expect(attrs(res.row)).toEqual({ hits: 3 });
    expect(attrs((await client.getRow({ tableName: 'items', primaryKey: pk })).row)).toEqual({
      b: 'B',
      hits: 3,
    });
  });

  it('answers OTSParameterInvalid for INCREMENT of a non-integer column', async () => {
    const pk = [{ pk: 'incr' }, { n: Long.fromNumber(1) }];
    await client.putRow({
      tableName: 'items',
      condition: condition('IGNORE'),
      primaryKey: pk,
      attributeColumns: [{ s: 'text' }],
    });
    const f = await failure(
      client.updateRow({
        tableName: 'items',
        condition: condition('IGNORE'),
        primaryKey: pk,
        updateOfAttributeColumns: [{ INCREMENT: [{ s: Long.fromNumber(1) }] }],
      }),
    );
    expect(f).toMatchObject({ status: 400, otsCode: 'OTSParameterInvalid' });
  });

  it('deletes a row only when its condition holds', async () => {
    const pk = [{ pk: 'del' }, { n: Long.fromNumber(1) }];
    await client.putRow({
      tableName: 'items',
      condition: condition('IGNORE'),
      primaryKey: pk,
      attributeColumns: [{ state: 'claimed' }],
    });
    const notDelivered = new TableStore.SingleColumnCondition(
      'state',
      'delivered',
      TableStore.ComparatorType.EQUAL,
      false,
    );
    const f = await failure(
      client.deleteRow({
        tableName: 'items',
        condition: condition('EXPECT_EXIST', notDelivered),
        primaryKey: pk,
      }),
    );
    expect(f.otsCode).toBe('OTSConditionCheckFail');
    const claimed = new TableStore.SingleColumnCondition(
      'state',
      'claimed',
      TableStore.ComparatorType.EQUAL,
      false,
    );
    await client.deleteRow({
      tableName: 'items',
      condition: condition('EXPECT_EXIST', claimed),
      primaryKey: pk,
    });
    expect((await client.getRow({ tableName: 'items', primaryKey: pk })).row).toEqual({});
    const again = await failure(
      client.deleteRow({ tableName: 'items', condition: condition('EXPECT_EXIST'), primaryKey: pk }),
    );
    expect(again.otsCode).toBe('OTSConditionCheckFail');
  });

  it('returns the primary key of a PutRow with ReturnType.Primarykey', async () => {
    const res = await client.putRow({
      tableName: 'items',
      condition: condition('IGNORE'),
      primaryKey: [{ pk: 'ret' }, { n: Long.fromNumber(7) }],
      attributeColumns: [{ v: 1 }],
      returnContent: { returnType: TableStore.ReturnType.Primarykey },
    });
    expect(key(res.row)).toEqual({ pk: 'ret', n: 7 });
  });
});
