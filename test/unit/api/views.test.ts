import { describe, expect, it } from 'vitest';
import { checkView, clusterView } from '../../../lib/api/http';
import type { CheckId, ClusterId } from '../../../lib/domain/check';
import type { CheckRecord, ClusterWatch, Delivery } from '../../../lib/store/store';

const T0 = Date.UTC(2024, 0, 2, 3, 4, 5);
const record: CheckRecord = {
  clusterId: 'c0123456' as ClusterId,
  checkId: 'k-1' as CheckId,
  region: 'cn-hangzhou',
  routes: ['ops'],
  source: 'run',
  status: '',
  message: '',
  type: '',
  target: '',
  createdAt: '',
  finishedAt: '',
  watchedAt: T0,
  lastChangeAt: T0,
  dispatchCount: 0,
  version: 3,
};

describe('checkView', () => {
  it('uses snake_case, ISO times and null for what is not known yet, and hides the version', () => {
    expect(checkView(record)).toEqual({
      cluster_id: 'c0123456',
      check_id: 'k-1',
      state: 'watching',
      region: 'cn-hangzhou',
      routes: ['ops'],
      source: 'run',
      type: null,
      target: null,
      status: null,
      status_class: null,
      message: '',
      outcome: null,
      created_at: null,
      finished_at: null,
      watched_at: '2024-01-02T03:04:05.000Z',
      last_change_at: '2024-01-02T03:04:05.000Z',
      last_polled_at: null,
      dispatched_at: null,
      archived_at: null,
      summary: null,
    });
  });

  it.each([
    [{}, 'watching'],
    [{ outcome: 'failed' as const }, 'notifying'],
    [{ outcome: 'passed' as const, archivedAt: T0 }, 'done'],
  ])('derives the state from %j', (over, state) => {
    expect(checkView({ ...record, ...over }).state).toBe(state);
  });

  it('lists deliveries with the platform text', () => {
    const d: Delivery = {
      clusterId: record.clusterId,
      checkId: record.checkId,
      channel: 'hook',
      state: 'retry',
      attempts: 2,
      idempotencyKey: 'k',
      lastError: 'errcode 130101: send too fast',
      nextAttemptAt: T0 + 60_000,
      updatedAt: T0,
      version: 2,
    };
    expect(checkView(record, [d]).deliveries).toEqual([
      {
        channel: 'hook',
        state: 'retry',
        attempts: 2,
        last_error: 'errcode 130101: send too fast',
        sent_at: null,
        next_attempt_at: '2024-01-02T03:05:05.000Z',
        updated_at: '2024-01-02T03:04:05.000Z',
      },
    ]);
  });
});

describe('clusterView', () => {
  it('shows the baseline as a count', () => {
    const c: ClusterWatch = {
      clusterId: 'c0123456' as ClusterId,
      region: 'r',
      routes: [],
      watchedAt: T0,
      baseline: ['a', 'b'],
      version: 1,
    };
    expect(clusterView(c)).toEqual({
      cluster_id: 'c0123456',
      region: 'r',
      routes: [],
      watched_at: '2024-01-02T03:04:05.000Z',
      last_listed_at: null,
      baseline_size: 2,
    });
  });
});
