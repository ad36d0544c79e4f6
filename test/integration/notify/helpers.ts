import { summarizeCheckItems } from '../../../lib/domain/check-items';
import type { CheckId, ClusterId } from '../../../lib/domain/check';
import type { Outcome } from '../../../lib/domain/message';
import type { Store } from '../../../lib/store/store';
import type { FakeClock } from '../../support/fake-clock';
import type { ChatFake } from '../../fakes/chat/index';

/** ACK's documented check_items shape: one error, one normal item. */
export const ITEMS = {
  ClusterUpgrade: [
    {
      Group: 'Cluster',
      Level: { error: { Message: 'apiserver certificate expires soon', Targets: [{ Target: 'apiserver' }] } },
    },
    { Group: 'Node', Level: { normal: { Message: 'ok', Targets: [] } } },
  ],
};

/**
 * Writes a finished check the way the poller does: a watched row, then the outbox write with outcome
 * and summary.
 */
export async function seedFinished(
  store: Store,
  clusterId: string,
  checkId: string,
  routes: string[],
  now: number,
  outcome: Outcome = 'failed',
): Promise<void> {
  const { check } = await store.watchCheck(
    {
      clusterId: clusterId as ClusterId,
      checkId: checkId as CheckId,
      region: 'cn-hangzhou',
      routes,
      source: 'watch',
      type: 'ClusterUpgrade',
      createdAt: '2024-12-31T23:50:00+08:00',
    },
    now,
  );
  const { version, ...state } = check;
  const [result] = await store.applyChanges([
    {
      kind: 'putCheck',
      check: {
        ...state,
        status: outcome === 'passed' ? 'Succeeded' : 'Failed',
        finishedAt: '2024-12-31T23:54:00+08:00',
        outcome,
        lastChangeAt: now,
        dispatchedAt: now,
        dispatchCount: 1,
      },
      summary: summarizeCheckItems(ITEMS),
      expectedVersion: version,
    },
  ]);
  if (result?.ok !== true) throw new Error('seeding the outbox entry failed');
}

/**
 * Runs `work` while moving the fake clock whenever something sleeps on it (backoff, the next rate
 * slot). Time stands still while only real I/O is in flight.
 */
export async function drive<T>(clock: FakeClock, work: Promise<T>, stepMs = 250): Promise<T> {
  const state = { settled: false };
  const tracked = work.finally(() => {
    state.settled = true;
  });
  while (!state.settled) {
    await new Promise((r) => setTimeout(r, 1));
    // `state.settled` may have changed during the wait above.
    if (clock.waiting > 0) await clock.advance(stepMs);
  }
  return tracked;
}

/** The secret-bearing parts of a fake's URL and its signing secret. */
export function secretsOf(fake: ChatFake): string[] {
  const out: string[] = [];
  const u = new URL(fake.url);
  for (const v of u.searchParams.values()) out.push(v);
  if (fake.platform === 'slack') out.push(u.pathname.replace('/services/', ''));
  if (fake.platform === 'feishu') out.push(u.pathname.split('/').pop() ?? '');
  if (fake.secret !== undefined) out.push(fake.secret);
  return out.filter((s) => s.length >= 6);
}
