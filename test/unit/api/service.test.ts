import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { baselineOf, createWatchService, type WatchService } from '../../../lib/api/service';
import type { CheckId, CheckSummary } from '../../../lib/domain/check';
import { InputError } from '../../../lib/errors';
import { silentLogger } from '../../../lib/log';
import { MAX_BASELINE } from '../../../lib/store/rules';
import { createSqliteStore } from '../../../lib/store/sqlite';
import type { Store } from '../../../lib/store/store';
import { FakeAck, unitConfig } from './fakes';

const C = 'c0123456789abcdef0123456789abcdef';
const BEIJING = 'cbeijing000000000000000000000001';
const T0 = 1_700_000_000_000;

function summary(
  i: number,
  status: string,
  createdAt = `2024-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`,
): CheckSummary {
  return {
    checkId: `id-${i}` as CheckId,
    type: 'ClusterUpgrade',
    status,
    message: '',
    createdAt,
    finishedAt: '',
  };
}

describe('baselineOf', () => {
  it('keeps finished checks and leaves running ones for the poller to discover', () => {
    const ids = baselineOf([
      summary(1, 'Succeeded'),
      summary(2, 'Running'),
      summary(3, 'failed'),
      summary(4, 'SomethingNew'),
      summary(1, 'Succeeded'),
    ]);
    expect(ids).toEqual(['id-1', 'id-3']);
  });

  it('keeps the newest ids when ACK lists more than the store can hold', () => {
    const listed = Array.from({ length: MAX_BASELINE + 5 }, (_, i) =>
      summary(i, 'Succeeded', new Date(T0 + i * 1000).toISOString()),
    );
    const ids = baselineOf(listed);
    expect(ids).toHaveLength(MAX_BASELINE);
    expect(ids).toContain(`id-${MAX_BASELINE + 4}`);
    expect(ids).not.toContain('id-0');
  });
});

describe('the watch service', () => {
  let store: Store;
  let ack: FakeAck;
  let service: WatchService;
  let now: number;

  beforeEach(() => {
    store = createSqliteStore({ path: ':memory:' });
    ack = new FakeAck();
    now = T0;
    service = createWatchService({
      store,
      ack,
      config: unitConfig(),
      clock: { now: () => now, sleep: () => Promise.resolve() },
      log: silentLogger,
      ackDeadlineMs: 4_000,
    });
  });
  afterEach(async () => {
    await store.close();
  });

  it('gives every ACK call the region and a deadline', async () => {
    const [c] = ack.add(C, [{ status: 'Running' }]);
    await service.watchCheck({ clusterId: C, checkId: c?.checkId as string });
    expect(ack.calls[0]?.options).toEqual({ region: 'cn-hangzhou', deadline: T0 + 4_000 });
  });

  it('takes the region of a cluster from configuration unless one is given', async () => {
    ack.add(BEIJING);
    await service.watchCluster({ clusterId: BEIJING });
    expect(ack.calls[0]?.options?.region).toBe('cn-beijing');
    await service.watchCluster({ clusterId: BEIJING, region: 'cn-shanghai' });
    expect(ack.calls[1]?.options?.region).toBe('cn-shanghai');
  });

  it('applies the default routes when none are named, and de-duplicates named ones', async () => {
    const [a, b] = ack.add(C, [{}, {}]);
    const first = await service.watchCheck({ clusterId: C, checkId: a?.checkId as string });
    expect(first.check.routes).toEqual(['ops']);
    const second = await service.watchCheck({
      clusterId: C,
      checkId: b?.checkId as string,
      routes: ['release', 'release'],
    });
    expect(second.check.routes).toEqual(['release']);
  });

  it('records the state ACK reports when a check is watched', async () => {
    const [c] = ack.add(C, [{ status: 'Failed', message: 'x'.repeat(5_000), type: 'NodePoolUpgrade' }]);
    const r = await service.watchCheck({ clusterId: C, checkId: c?.checkId as string });
    expect(r.created).toBe(true);
    expect(r.check).toMatchObject({
      status: 'Failed',
      type: 'NodePoolUpgrade',
      source: 'watch',
      watchedAt: T0,
    });
    expect(r.check.message.length).toBeLessThanOrEqual(2_000);
  });

  it('passes type, target and options to RunClusterCheck and watches the new id', async () => {
    ack.add(C);
    const r = await service.runAndWatch({
      clusterId: C,
      type: 'NodePoolUpgrade',
      target: 'np-1',
      options: { next_version: '1.32' },
    });
    expect(ack.calls[0]?.input).toEqual({
      type: 'NodePoolUpgrade',
      target: 'np-1',
      options: { next_version: '1.32' },
    });
    expect(r.check).toMatchObject({
      checkId: r.checkId,
      source: 'run',
      type: 'NodePoolUpgrade',
      target: 'np-1',
      status: '',
    });
    expect(r.requestId).toMatch(/^req-/);
  });

  it.each([
    ['a bad cluster id', () => service.watchCheck({ clusterId: 'NOPE!', checkId: 'x' }), 'cluster_id'],
    ['a bad check id', () => service.getCheck(C, 'a b'), 'check_id'],
    ['an unknown route', () => service.watchCluster({ clusterId: C, routes: ['ops', 'ghost'] }), 'routes.1'],
    ['a missing target', () => service.runAndWatch({ clusterId: C, type: 'NodePoolUpgrade' }), 'target'],
    ['an unknown type', () => service.runAndWatch({ clusterId: C, type: 'Everything' }), 'type'],
    ['a bad limit', () => service.listChecks({ limit: 0 }), 'limit'],
    ['a bad region', () => service.watchCluster({ clusterId: C, region: 'Hangzhou' }), 'region'],
  ])('refuses %s with an InputError naming the API field, before calling ACK', async (_name, act, path) => {
    const err = await act().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const fields = (err as InputError).details.fields as { path: string }[];
    expect(fields.map((f) => f.path)).toContain(path);
    expect(ack.calls).toEqual([]);
  });

  it('filters by place, by outcome and by ACK status', async () => {
    const [running, failed] = ack.add(C, [{ status: 'Running' }, { status: 'Failed' }]);
    await service.watchCheck({ clusterId: C, checkId: running?.checkId as string });
    await service.watchCheck({ clusterId: C, checkId: failed?.checkId as string });
    const ids = async (status?: string) =>
      (await service.listChecks({ clusterId: C, status })).map((c) => c.checkId as string);
    expect((await ids()).sort()).toEqual([running?.checkId, failed?.checkId].sort());
    expect(await ids('RUNNING')).toEqual([running?.checkId]);
    expect(await ids('failed')).toEqual([failed?.checkId]);
    expect((await ids('pending')).length).toBe(2);
    expect(await ids('history')).toEqual([]);
    expect(await ids('gave_up')).toEqual([]);
  });

  it('reports unwatching something that is not watched as false', async () => {
    expect(await service.unwatchCheck(C, 'id-1')).toBe(false);
    expect(await service.unwatchCluster(C)).toBe(false);
  });
});
