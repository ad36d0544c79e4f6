/**
 * Tablestore adapter behaviour beyond the shared contract: the poll-cycle request budget, schema
 * creation, credentials (STS), socket timeouts and the ambiguous-write path, against the loopback fake
 * that the real SDK talks to unchanged.
 */
import http from 'node:http';
import TableStore from 'tablestore';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckId, ClusterId } from '../../../lib/domain/check';
import { createTablestoreStore, type TablestoreStoreOptions } from '../../../lib/store/tablestore';
import type { CheckState, PendingChange } from '../../../lib/store/store';
import { startTablestoreFake, type TablestoreFake } from '../../fakes/tablestore/index';

const T0 = 1_700_000_000_000;
let fake: TablestoreFake | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(
  fakeOptions: Parameters<typeof startTablestoreFake>[0] = {},
  over: Partial<TablestoreStoreOptions> = {},
) {
  const f = await startTablestoreFake(fakeOptions);
  fake = f;
  const ops: string[] = [];
  const store = createTablestoreStore({
    endpoint: f.endpoint,
    instanceName: f.instanceName,
    credentials: { accessKeyId: f.accessKeyId, accessKeySecret: f.accessKeySecret },
    shards: 16,
    retry: { maxAttempts: 4, baseMs: 1, capMs: 5 },
    onRequest: (op) => ops.push(op),
    ...over,
  });
  return { f, store, ops };
}

/** A realistic check id: `<19 digits>-<cluster>-clustercheck-<5>`. */
const clusterId = (i: number): ClusterId => `c${i.toString(16).padStart(31, '0')}` as ClusterId;
const checkId = (c: number, k: number): CheckId =>
  `1697100584236600${String(k).padStart(3, '0')}-${clusterId(c)}-clustercheck-${String(k % 100000).padStart(5, 'a')}` as CheckId;

function check(c: number, k: number, over: Partial<CheckState> = {}): CheckState {
  return {
    clusterId: clusterId(c),
    checkId: checkId(c, k),
    region: 'cn-hangzhou',
    routes: ['ops-dingtalk', 'release-slack'],
    source: 'watch',
    status: 'Running',
    message: '',
    type: 'ClusterUpgrade',
    target: '',
    createdAt: '2023-10-16T08:31:20.292030178Z',
    finishedAt: '',
    watchedAt: T0,
    lastChangeAt: T0,
    lastPolledAt: T0,
    dispatchCount: 0,
    ...over,
  };
}

describe('Tablestore poll-cycle cost', () => {
  it('reads an idle pending set with one request, and a 10,000-check cycle with ≤ 8', async () => {
    const { f, store, ops } = await setup();
    await store.ensureSchema();

    ops.length = 0;
    const idle = await store.listPending();
    expect(idle.checks).toHaveLength(0);
    expect(ops).toEqual(['GetRange']);

    // 10,000 watched checks over 1,000 clusters, plus last cycle's lease row with its data.
    const seed: PendingChange[] = [];
    for (let i = 0; i < 10_000; i++) {
      seed.push({ kind: 'putCheck', check: check(i % 1000, i), expectedVersion: 0 });
    }
    const seeded = await store.applyChanges(seed);
    expect(seeded.every((r) => r.ok)).toBe(true);
    const first = await store.acquireLease('poller', 'previous', 50_000, T0);
    if (!first.acquired) throw new Error('lease');
    await store.releaseLease(first.lease, { cycleAt: T0 }, T0 + 1_000);

    // Every pending row is compact: measured with the SDK's own PlainBuffer encoder (the wire format),
    // as GetRange returns it (summary and write id left out).
    const rows = f.rows('checkwatch_watch');
    // The SDK's own size computation (untyped internals): the bytes this row costs inside a GetRange page.
    const builder = (
      TableStore as unknown as {
        PlainBufferBuilder: { computePutRowSize(pk: unknown, attrs: unknown): number };
      }
    ).PlainBufferBuilder;
    const sizes = rows.map((r) => {
      const pk = Object.entries(r.primaryKey).map(([k, v]) => ({
        [k]: typeof v === 'bigint' ? TableStore.Long.fromString(v.toString()) : v,
      }));
      const attrs = Object.entries(r.attributes)
        .filter(([k]) => k !== 'w' && k !== 'sum')
        .map(([k, v]) => ({ [k]: typeof v === 'bigint' ? TableStore.Long.fromString(v.toString()) : v }));
      return builder.computePutRowSize(pk, attrs);
    });
    expect(Math.max(...sizes)).toBeLessThan(400);
    console.info(`pending row size (PlainBuffer): max ${Math.max(...sizes)} B`);

    f.resetCounters();
    ops.length = 0;
    const now = T0 + 60_000;
    const pending = await store.listPending();
    expect(pending.checks).toHaveLength(10_000);
    const seen = pending.leases.find((l) => l.name === 'poller');
    expect(seen?.data).toEqual({ cycleAt: T0 });
    const lease = await store.acquireLease('poller', 'cycle-2', 50_000, now, { seen: seen ?? null });
    if (!lease.acquired) throw new Error('lease');
    expect(lease.previousData).toEqual({ cycleAt: T0 });
    // 5 % finish this cycle: outcome + summary written, everything else untouched.
    const changes: PendingChange[] = pending.checks
      .filter((_, i) => i % 20 === 0)
      .map((c) => {
        const { version, ...state } = c;
        return {
          kind: 'putCheck' as const,
          check: {
            ...state,
            status: 'Succeeded',
            outcome: 'passed' as const,
            finishedAt: '2023-10-16T08:40:00Z',
            lastChangeAt: now,
          },
          summary: { passed: 42, failed: [] },
          expectedVersion: version,
        };
      });
    expect(changes).toHaveLength(500);
    const results = await store.applyChanges(changes);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await store.releaseLease(lease.lease, { cycleAt: now }, now + 500)).toBe(true);

    const counts = ops.reduce<Record<string, number>>(
      (acc, op) => ({ ...acc, [op]: (acc[op] ?? 0) + 1 }),
      {},
    );
    // 10,001 rows → 3 pages of ≤ 5000; 500 rows → 3 batches of ≤ 200; one acquire, one release.
    expect(counts).toEqual({ GetRange: 3, UpdateRow: 2, BatchWriteRow: 3 });
    expect(ops.length).toBeLessThanOrEqual(8);
    expect(f.counters.total).toBe(ops.length);
  });
});

describe('Tablestore schema', () => {
  it('creates the tables once and verifies them on later calls', async () => {
    const { f, store } = await setup({}, { tablePrefix: 'cw_' });
    expect(await store.ensureSchema()).toEqual({
      created: ['cw_watch', 'cw_history', 'cw_deliveries', 'cw_rates'],
      verified: [],
    });
    const again = createTablestoreStore({
      endpoint: f.endpoint,
      instanceName: f.instanceName,
      credentials: { accessKeyId: f.accessKeyId, accessKeySecret: f.accessKeySecret },
      tablePrefix: 'cw_',
    });
    expect((await again.ensureSchema()).verified).toHaveLength(4);
    expect(f.tableNames()).toEqual(['cw_deliveries', 'cw_history', 'cw_rates', 'cw_watch']);
  });

  it('refuses a table whose primary key does not match instead of misreading it', async () => {
    const { f, store } = await setup({}, { tablePrefix: 'x_' });
    const sdk = new TableStore.Client({
      accessKeyId: f.accessKeyId,
      accessKeySecret: f.accessKeySecret,
      endpoint: f.endpoint,
      instancename: f.instanceName,
      maxRetries: 0,
    });
    await sdk.createTable({
      tableMeta: { tableName: 'x_watch', primaryKey: [{ name: 'cluster_id', type: 'STRING' }] },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
      tableOptions: { timeToLive: -1, maxVersions: 1 },
    });
    await expect(store.ensureSchema()).rejects.toMatchObject({
      code: 'STORE_INVALID',
      details: { table: 'x_watch' },
    });
  });

  it('creates missing tables on first use when autoCreate is on', async () => {
    const { f, store } = await setup({}, { autoCreate: true });
    const r = await store.watchCheck(
      { clusterId: clusterId(1), checkId: checkId(1, 1), region: 'r', routes: [], source: 'watch' },
      T0,
    );
    expect(r.created).toBe(true);
    expect(f.tableNames()).toContain('checkwatch_watch');
  });

  it('reports a missing table as STORE_NOT_FOUND when autoCreate is off', async () => {
    const { store } = await setup();
    await expect(store.listPending()).rejects.toMatchObject({ code: 'STORE_NOT_FOUND', retryable: false });
  });
});

describe('Tablestore credentials and transport', () => {
  it('signs with an STS token and is refused without it, as STORE_AUTH', async () => {
    const { f, store } = await setup({ stsToken: 'sts-token-value' }, {});
    await expect(store.ensureSchema()).rejects.toMatchObject({ code: 'STORE_AUTH', retryable: false });
    const withToken = createTablestoreStore({
      endpoint: f.endpoint,
      instanceName: f.instanceName,
      credentials: {
        accessKeyId: f.accessKeyId,
        accessKeySecret: f.accessKeySecret,
        securityToken: 'sts-token-value',
      },
    });
    expect((await withToken.ensureSchema()).created).toHaveLength(4);
  });

  it('does not put the secret or the token in the error it raises', async () => {
    const { f } = await setup({ stsToken: 'the-sts-token' });
    const store = createTablestoreStore({
      endpoint: f.endpoint,
      instanceName: f.instanceName,
      credentials: {
        accessKeyId: f.accessKeyId,
        accessKeySecret: 'wrong-secret-value',
        securityToken: 'the-sts-token',
      },
    });
    const err: unknown = await store.ensureSchema().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_AUTH' });
    const text = JSON.stringify(err) + String(err);
    expect(text).not.toContain('wrong-secret-value');
    expect(text).not.toContain('the-sts-token');
  });

  it('leaves the process-wide HTTP agent settings alone', async () => {
    const original = http.globalAgent.maxSockets;
    http.globalAgent.maxSockets = 17;
    try {
      const { store } = await setup();
      await store.ensureSchema();
      await store.listPending();
      // Left to itself, the SDK would have set 300 here.
      expect(http.globalAgent.maxSockets).toBe(17);
    } finally {
      http.globalAgent.maxSockets = original;
    }
  });

  it('times out a hung request and surfaces it as retryable STORE_UNAVAILABLE', async () => {
    const { f, store, ops } = await setup(
      {},
      { socketTimeoutMs: 100, retry: { maxAttempts: 2, baseMs: 1, capMs: 1 } },
    );
    await store.ensureSchema();
    f.injectFault({ kind: 'latency', latencyMs: 1_000, operation: 'GetRange' });
    ops.length = 0;
    const started = Date.now();
    const err: unknown = await store.listPending().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
    expect(ops).toEqual(['GetRange', 'GetRange']);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('re-reads its own write id after a timed-out conditional write instead of writing twice', async () => {
    const { f, store, ops } = await setup();
    await store.ensureSchema();
    const r = await store.watchCheck(
      { clusterId: clusterId(2), checkId: checkId(2, 1), region: 'r', routes: ['a'], source: 'watch' },
      T0,
    );
    f.injectFault({ kind: 'timeoutAfterWrite', operation: 'UpdateRow', next: 1 });
    ops.length = 0;
    const merged = await store.watchCheck(
      { clusterId: clusterId(2), checkId: checkId(2, 1), region: 'r', routes: ['b'], source: 'watch' },
      T0 + 1,
    );
    // read, write (applied, then OTSTimeout), write again (condition fails), re-read: it was ours.
    expect(ops).toEqual(['GetRow', 'UpdateRow', 'UpdateRow', 'GetRow']);
    expect(merged.check).toMatchObject({ routes: ['a', 'b'], version: r.check.version + 1 });
    const pending = await store.listPending();
    expect(pending.checks[0]).toMatchObject({ routes: ['a', 'b'], version: 2 });
  });

  it('verifies ambiguous batch rows with one BatchGetRow', async () => {
    const { f, store, ops } = await setup();
    await store.ensureSchema();
    const changes: PendingChange[] = Array.from({ length: 30 }, (_, i) => ({
      kind: 'putCheck' as const,
      check: check(3, i),
      expectedVersion: 0,
    }));
    f.injectFault({ kind: 'timeoutAfterWrite', operation: 'BatchWriteRow', next: 1 });
    ops.length = 0;
    const results = await store.applyChanges(changes);
    expect(results.every((r) => r.ok && r.version === 1)).toBe(true);
    expect(ops).toEqual(['BatchWriteRow', 'BatchWriteRow', 'BatchGetRow']);
    expect(f.rowCount('checkwatch_watch')).toBe(30);
  });
});
