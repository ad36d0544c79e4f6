/**
 * The baseline of the poll-cycle benchmark: the poller people write first. It enumerates what is
 * watched (one pending-set read, like checkwatch), then for every watched check, `concurrency` at a
 * time: reads the check (`store.getCheck`), asks ACK with one GetClusterCheck, and writes the row back
 * (`store.applyChanges` with one change: status, message, lastPolledAt — always, changed or not), and
 * hands a finished check to the notifier. Same AckClient, same store, same dispatcher as checkwatch.
 */
import type { AckApi } from '../lib/ack/api';
import type { Clock } from '../lib/clock';
import { classifyStatus } from '../lib/domain/check';
import type { Dispatcher } from '../lib/dispatch/dispatch';
import type { CheckOutcome, Store } from '../lib/store/store';
import { mapLimit } from './common';

export interface NaiveStats {
  checks: number;
  ackGet: number;
  ackErrors: number;
  finished: number;
  rowsWritten: number;
  conflicts: number;
  dispatched: number;
}

/** One naive cycle over every watched check. */
export async function runNaivePoller(
  deps: { store: Store; ack: AckApi; dispatch: Dispatcher; clock: Clock },
  concurrency: number,
): Promise<NaiveStats> {
  const { store, ack, dispatch, clock } = deps;
  const stats: NaiveStats = {
    checks: 0,
    ackGet: 0,
    ackErrors: 0,
    finished: 0,
    rowsWritten: 0,
    conflicts: 0,
    dispatched: 0,
  };
  const pending = await store.listPending();
  const running = pending.checks.filter((c) => c.outcome === undefined);
  stats.checks = running.length;
  await mapLimit(running, concurrency, async (listed) => {
    const view = await store.getCheck(listed.clusterId, listed.checkId);
    if (view === undefined || view.where !== 'pending') return;
    const { version, ...state } = view.check;
    stats.ackGet += 1;
    let detail;
    try {
      detail = await ack.getClusterCheck(state.clusterId, state.checkId, { deadline: clock.now() + 10_000 });
    } catch {
      stats.ackErrors += 1;
      return;
    }
    const now = clock.now();
    const cls = classifyStatus(detail.status);
    const finished = cls !== 'running';
    const outcome: CheckOutcome | undefined = finished
      ? cls === 'succeeded'
        ? 'passed'
        : 'failed'
      : undefined;
    const [res] = await store.applyChanges([
      {
        kind: 'putCheck',
        check: {
          clusterId: state.clusterId,
          checkId: state.checkId,
          region: state.region,
          routes: state.routes,
          source: state.source,
          status: detail.status,
          message: detail.message.slice(0, 2000),
          type: state.type,
          target: state.target,
          createdAt: state.createdAt,
          finishedAt: finished ? detail.finishedAt : state.finishedAt,
          watchedAt: state.watchedAt,
          lastChangeAt: detail.status === state.status ? state.lastChangeAt : now,
          lastPolledAt: now,
          ...(outcome === undefined ? {} : { outcome, dispatchedAt: now }),
          dispatchCount: finished ? 1 : state.dispatchCount,
        },
        expectedVersion: version,
      },
    ]);
    if (res?.ok === true) stats.rowsWritten += 1;
    else {
      stats.conflicts += 1;
      return;
    }
    if (finished) {
      stats.finished += 1;
      await dispatch.dispatch({
        kind: 'notify',
        clusterId: state.clusterId,
        checkId: state.checkId,
        generation: 1,
      });
      stats.dispatched += 1;
    }
  });
  return stats;
}
