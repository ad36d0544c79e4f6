import type { AckApi } from '../ack/api';
import { isAckError } from '../ack/errors';
import type { Clock } from '../clock';
import type { CheckDetail, CheckId, CheckSummary, ClusterId } from '../domain/check';
import { summarizeCheckItems } from '../domain/check-items';
import { DEFAULT_SCHEDULE, isDue, nextDueAt, pollInterval, type ScheduleOptions } from '../domain/schedule';
import { decide, discover, DEFAULT_MAX_AGE_MS, type Decision, type Observation } from '../domain/transitions';
import type { Dispatcher } from '../dispatch/dispatch';
import { describeError } from '../errors';
import type { Logger } from '../log';
import type {
  CheckState,
  ClusterWatch,
  LeaseState,
  PendingChange,
  PendingCheck,
  PendingSet,
  Store,
  Lease,
} from '../store/store';
import { shardOf } from '../store/rules';
import { AckGate } from './gate';

/**
 * The poll use case (DESIGN.md, "Poll" and "Hand off"), over ports only: a lease so overlapping
 * invocations never poll the same work twice; one read of the pending set; as few ACK calls as possible
 * (one ListClusterChecks per cluster with several due checks or a cluster watch, GetClusterCheck for a
 * lone check and once per finished check); pure decisions; only changed rows written, in batches; an
 * outbox hand-off to the notifier; and a loop inside the invocation so detection takes seconds, not the
 * timer's one-minute floor.
 */

export interface PollDeps {
  readonly store: Store;
  readonly ack: AckApi;
  readonly dispatch: Dispatcher;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface PollSettings {
  /** Who holds the lease (the FC request id, or a process id for `serve`). */
  readonly holder: string;
  /** Poll one shard (a fan-out invocation); undefined: the whole pending set (the timer invocation). */
  readonly shard?: number | undefined;
  /** Shards the store partitions pending rows into (config `defaults.shards`). */
  readonly shards: number;
  /** Epoch ms by which the invocation must have returned; the loop stops `marginMs` before it. */
  readonly deadline: number;
  readonly marginMs?: number;
  /** Keep polling inside the invocation while work is pending (default true). */
  readonly loop?: boolean;
  readonly maxAgeMs?: number;
  /** A finished check whose notifier has not confirmed delivery is dispatched again after this long. */
  readonly redispatchAfterMs?: number;
  readonly ackConcurrency?: number;
  readonly schedule?: ScheduleOptions;
  readonly leaseTtlMs?: number;
  /** Above this many watched checks, the timer invocation fans out to one invocation per shard. */
  readonly fanOutThreshold?: number;
  /** Time allowed for one ACK call, retries included. */
  readonly ackCallBudgetMs?: number;
}

export const POLL_DEFAULTS = {
  marginMs: 5_000,
  maxAgeMs: DEFAULT_MAX_AGE_MS,
  redispatchAfterMs: 120_000,
  ackConcurrency: 8,
  leaseTtlMs: 30_000,
  fanOutThreshold: 4_000,
  ackCallBudgetMs: 10_000,
} as const;

/** Counters for one iteration, logged as one structured line. */
export interface CycleStats {
  pending: number;
  due: number;
  clustersListed: number;
  ackGet: number;
  ackList: number;
  ackErrors: number;
  throttled: number;
  progressed: number;
  finished: number;
  vanished: number;
  gaveUp: number;
  discovered: number;
  dispatched: number;
  redispatched: number;
  dispatchErrors: number;
  conflicts: number;
  rowsWritten: number;
  durationMs: number;
}

export interface PollRunResult {
  /** `busy`: another invocation holds the lease; `idle`: nothing pending; `fanned-out`: shards dispatched. */
  readonly status: 'polled' | 'idle' | 'busy' | 'fanned-out';
  readonly iterations: number;
  readonly totals: CycleStats;
  readonly shardsDispatched: number;
}

function emptyStats(): CycleStats {
  return {
    pending: 0,
    due: 0,
    clustersListed: 0,
    ackGet: 0,
    ackList: 0,
    ackErrors: 0,
    throttled: 0,
    progressed: 0,
    finished: 0,
    vanished: 0,
    gaveUp: 0,
    discovered: 0,
    dispatched: 0,
    redispatched: 0,
    dispatchErrors: 0,
    conflicts: 0,
    rowsWritten: 0,
    durationMs: 0,
  };
}

function addStats(into: CycleStats, add: CycleStats): void {
  for (const key of Object.keys(into) as (keyof CycleStats)[]) into[key] += add[key];
}

/** The lease name for a scope: one global lease for the whole set, one per shard for fan-out runs. */
export function leaseNameFor(shard: number | undefined): { name: string; shard: number } {
  return shard === undefined ? { name: 'poller', shard: -1 } : { name: `poller-${shard}`, shard };
}

interface LeaseData {
  readonly cycleAt?: number | undefined;
}

function cycleAtOf(data: unknown): number | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const v = (data as LeaseData).cycleAt;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Runs the poller for one invocation: takes the lease, then polls in a loop until nothing is pending or
 * the time budget is spent, and releases the lease with the time of its last cycle.
 */
export async function runPoller(deps: PollDeps, settings: PollSettings): Promise<PollRunResult> {
  const { store, clock, log } = deps;
  const cfg = resolveSettings(settings);
  const totals = emptyStats();
  const { name: leaseName, shard: leaseShard } = leaseNameFor(settings.shard);
  const scope = settings.shard === undefined ? {} : { shard: settings.shard };

  let pending = await store.listPending(scope);
  if (pending.checks.length === 0 && pending.clusters.length === 0) {
    // Idle: one store request, no lease, no ACK call.
    log.info('poll cycle', { shard: settings.shard, status: 'idle', ...totals });
    return { status: 'idle', iterations: 0, totals, shardsDispatched: 0 };
  }

  if (settings.shard === undefined && settings.shards > 1 && pending.checks.length > cfg.fanOutThreshold) {
    const shardsDispatched = await fanOut(deps, pending, settings.shards);
    log.info('poll fan-out', { watched: pending.checks.length, shardsDispatched });
    return { status: 'fanned-out', iterations: 0, totals, shardsDispatched };
  }

  const seen = pending.leases.find((l) => l.name === leaseName && l.shard === leaseShard) ?? null;
  const acquired = await store.acquireLease(leaseName, settings.holder, cfg.leaseTtlMs, clock.now(), {
    shard: leaseShard,
    seen,
  });
  if (!acquired.acquired) {
    log.info('poll cycle', { shard: settings.shard, status: 'busy', holder: acquired.holder });
    return { status: 'busy', iterations: 0, totals, shardsDispatched: 0 };
  }
  let lease: Lease = acquired.lease;
  let previousCycleAt = cycleAtOf(acquired.previousData);
  const gate = new AckGate(cfg.ackConcurrency, clock);
  let iterations = 0;

  try {
    for (;;) {
      const started = clock.now();
      const stats = await pollOnce(deps, cfg, settings, pending, previousCycleAt, gate);
      stats.durationMs = clock.now() - started;
      addStats(totals, stats);
      iterations += 1;
      previousCycleAt = started;
      log.info('poll cycle', { shard: settings.shard, iteration: iterations, ...stats });

      if (settings.loop === false) break;
      const wake = nextWake(pending, cfg, clock.now());
      if (wake === undefined || wake > settings.deadline - cfg.marginMs) break;
      await clock.sleep(Math.max(0, wake - clock.now()));
      if (lease.until - clock.now() < cfg.leaseTtlMs / 2) {
        lease = await store.renewLease(lease, cfg.leaseTtlMs, clock.now());
      }
      pending = await store.listPending(scope);
      if (pending.checks.length === 0 && pending.clusters.length === 0) break;
    }
  } finally {
    // Leave the time of the last cycle for the next holder: it anchors the adaptive schedule.
    await store
      .releaseLease(lease, { cycleAt: previousCycleAt } satisfies LeaseData, clock.now())
      .catch((err: unknown) => {
        log.warn('lease release failed; it expires on its own', { error: describeError(err) });
      });
  }
  return { status: 'polled', iterations, totals, shardsDispatched: 0 };
}

/** The earliest moment something pending needs attention again, or undefined when nothing does. */
function nextWake(pending: PendingSet, cfg: ResolvedSettings, now: number): number | undefined {
  const schedule = cfg.schedule ?? DEFAULT_SCHEDULE;
  let wake: number | undefined;
  const consider = (t: number): void => {
    wake = wake === undefined ? t : Math.min(wake, t);
  };
  for (const c of pending.checks) {
    if (c.outcome !== undefined) consider((c.dispatchedAt ?? now) + cfg.redispatchAfterMs);
    else consider(nextDueAt(pollInterval(now - c.lastChangeAt, schedule), now));
  }
  for (const _cluster of pending.clusters) consider(nextDueAt(schedule.clusterIdleMs, now));
  return wake;
}

/** Dispatches one poller invocation per shard that has pending rows (generation: the current minute). */
async function fanOut(deps: PollDeps, pending: PendingSet, shards: number): Promise<number> {
  const present = new Set<number>();
  for (const c of pending.checks) present.add(shardOf(c.clusterId, shards));
  for (const c of pending.clusters) present.add(shardOf(c.clusterId, shards));
  const generation = Math.floor(deps.clock.now() / 60_000);
  let dispatched = 0;
  for (const shard of [...present].sort((a, b) => a - b)) {
    try {
      await deps.dispatch.dispatch({ kind: 'poll-shard', shard, generation });
      dispatched += 1;
    } catch (err) {
      deps.log.warn('shard dispatch failed; the next tick retries', { shard, error: describeError(err) });
    }
  }
  return dispatched;
}

/** Shards whose own lease is held by a fan-out invocation: the global poller leaves them alone. */
function busyShards(leases: readonly LeaseState[], now: number): Set<number> {
  const busy = new Set<number>();
  for (const l of leases)
    if (l.name.startsWith('poller-') && l.holder !== '' && l.until > now) busy.add(l.shard);
  return busy;
}

interface ClusterWork {
  readonly clusterId: ClusterId;
  region: string;
  readonly due: PendingCheck[];
  watch?: ClusterWatch;
  /** Ids of this cluster's pending checks (due or not): never rediscovered. */
  readonly pendingIds: Set<string>;
}

/** One pass over the pending set: poll what is due, write what changed, hand off what finished. */
async function pollOnce(
  deps: PollDeps,
  cfg: ResolvedSettings,
  settings: PollSettings,
  pending: PendingSet,
  previousCycleAt: number | undefined,
  gate: AckGate,
): Promise<CycleStats> {
  const { clock, log } = deps;
  const stats = emptyStats();
  const now = clock.now();
  const schedule = cfg.schedule ?? DEFAULT_SCHEDULE;
  const skip = settings.shard === undefined ? busyShards(pending.leases, now) : new Set<number>();
  const inScope = (clusterId: string): boolean =>
    skip.size === 0 || !skip.has(shardOf(clusterId, settings.shards));

  stats.pending = pending.checks.length;
  const work = new Map<string, ClusterWork>();
  const workFor = (clusterId: ClusterId, region: string): ClusterWork => {
    let w = work.get(clusterId);
    if (w === undefined) {
      w = { clusterId, region, due: [], pendingIds: new Set() };
      work.set(clusterId, w);
    }
    return w;
  };

  const overdue: PendingCheck[] = [];
  for (const check of pending.checks) {
    if (!inScope(check.clusterId)) continue;
    if (check.outcome !== undefined) {
      if (check.dispatchedAt === undefined || now - check.dispatchedAt >= cfg.redispatchAfterMs)
        overdue.push(check);
      continue;
    }
    const w = workFor(check.clusterId, check.region);
    w.pendingIds.add(check.checkId);
    const neverObserved = check.status === '' && check.lastPolledAt === undefined;
    const interval = pollInterval(now - check.lastChangeAt, schedule);
    if (neverObserved || isDue(interval, now, previousCycleAt)) w.due.push(check);
  }
  for (const cluster of pending.clusters) {
    if (!inScope(cluster.clusterId)) continue;
    const w = workFor(cluster.clusterId, cluster.region);
    w.watch = cluster;
    w.region = cluster.region;
  }
  // Checks of a watched cluster that are finished but undelivered are still known: never rediscover them.
  for (const check of pending.checks) work.get(check.clusterId)?.pendingIds.add(check.checkId);

  const changes: {
    change: PendingChange;
    dispatchAfter?: { clusterId: ClusterId; checkId: CheckId; generation: number };
  }[] = [];
  const discoveries: { cluster: ClusterWatch; found: CheckSummary[]; listedIds: Set<string> }[] = [];

  const ackDeadline = (): number =>
    Math.min(settings.deadline - cfg.marginMs / 2, clock.now() + cfg.ackCallBudgetMs);

  /** One ACK call through the gate; a throttled answer brakes every caller, not just this one. */
  const call = async <T>(fn: () => Promise<T>): Promise<T> =>
    gate.run(async () => {
      try {
        const out = await fn();
        gate.succeeded();
        return out;
      } catch (err) {
        const throttle = findThrottle(err);
        if (throttle !== undefined) {
          stats.throttled += 1;
          gate.throttled(throttle.retryAfterMs ?? 1_000);
        }
        throw err;
      }
    });

  const getDetail = async (
    w: ClusterWork,
    checkId: CheckId,
  ): Promise<{ obs: Observation; detail?: CheckDetail }> => {
    stats.ackGet += 1;
    try {
      const detail = await call(() =>
        deps.ack.getClusterCheck(w.clusterId, checkId, { region: w.region, deadline: ackDeadline() }),
      );
      return { obs: { kind: 'seen', check: detail }, detail };
    } catch (err) {
      stats.ackErrors += 1;
      return { obs: observationFromError(err, log, w.clusterId, checkId) };
    }
  };

  const handleCheck = async (
    w: ClusterWork,
    check: PendingCheck,
    obs: Observation,
    detail: CheckDetail | undefined,
  ): Promise<void> => {
    let decision = decide(check, obs, now, { maxAgeMs: cfg.maxAgeMs });
    let summary: unknown;
    if (decision.kind === 'finished') {
      // check_items come only from GetClusterCheck: fetch them once, when the check finishes.
      let d = detail;
      if (d === undefined) {
        const got = await getDetail(w, check.checkId);
        if (got.obs.kind === 'failed') return; // try again next cycle; the check stays pending
        d = got.detail;
        if (got.obs.kind !== 'seen') decision = decide(check, got.obs, now, { maxAgeMs: cfg.maxAgeMs });
      }
      if (d !== undefined) summary = summarizeCheckItems(d.checkItems);
    }
    const observed = obs.kind === 'seen' ? obs.check : undefined;
    const change = changeFor(check, decision, observed, summary, now);
    if (change !== undefined) changes.push(change);
    countDecision(stats, decision);
  };

  const clusterTasks: Promise<void>[] = [];
  for (const w of work.values()) {
    const watchDue = w.watch !== undefined && isDue(schedule.clusterIdleMs, now, previousCycleAt);
    if (w.due.length === 0 && !watchDue) continue;
    stats.due += w.due.length;
    const useList = w.watch !== undefined || w.due.length > 1;
    clusterTasks.push(
      (async () => {
        if (!useList) {
          const check = w.due[0];
          if (check === undefined) return;
          const { obs, detail } = await getDetail(w, check.checkId);
          await handleCheck(w, check, obs, detail);
          return;
        }
        stats.ackList += 1;
        stats.clustersListed += 1;
        let listed: CheckSummary[];
        try {
          listed = await call(() =>
            deps.ack.listClusterChecks(w.clusterId, {}, { region: w.region, deadline: ackDeadline() }),
          );
        } catch (err) {
          stats.ackErrors += 1;
          const obs = observationFromError(err, log, w.clusterId);
          await Promise.all(w.due.map((c) => handleCheck(w, c, obs, undefined)));
          if (obs.kind === 'cluster-missing' && w.watch !== undefined) {
            log.warn('watched cluster no longer exists; dropping the cluster watch', {
              clusterId: w.clusterId,
            });
            changes.push({
              change: { kind: 'deleteCluster', clusterId: w.clusterId, expectedVersion: w.watch.version },
            });
          }
          return;
        }
        const byId = new Map(listed.map((c) => [c.checkId as string, c]));
        await Promise.all(
          w.due.map(async (check) => {
            const summary = byId.get(check.checkId);
            if (summary !== undefined)
              return handleCheck(w, check, { kind: 'seen', check: summary }, undefined);
            // Not in the listing: only a GetClusterCheck 404 proves that a check vanished.
            const { obs, detail } = await getDetail(w, check.checkId);
            return handleCheck(w, check, obs, detail);
          }),
        );
        if (w.watch !== undefined) {
          const known = new Set([...w.watch.baseline, ...w.pendingIds]);
          const found = discover(known, listed);
          const listedIds = new Set<string>(listed.map((c) => c.checkId));
          const pruned = w.watch.baseline.filter((id) => byId.has(id));
          if (found.length > 0 || pruned.length !== w.watch.baseline.length) {
            discoveries.push({ cluster: w.watch, found, listedIds });
          }
        }
      })(),
    );
  }
  await Promise.all(clusterTasks);

  // Re-dispatch overdue outbox entries: claim the next generation with a conditional write first, so
  // two overlapping pollers never dispatch the same entry twice.
  for (const check of overdue) {
    const generation = check.dispatchCount + 1;
    changes.push({
      change: {
        kind: 'putCheck',
        check: { ...stateOf(check), dispatchedAt: now, dispatchCount: generation },
        expectedVersion: check.version,
      },
      dispatchAfter: { clusterId: check.clusterId, checkId: check.checkId, generation },
    });
  }

  // New checks found on watched clusters: write them first; the cluster's baseline only records the
  // ones whose row now exists, so a failed write is rediscovered next cycle rather than lost.
  const newRows: { change: PendingChange; clusterId: ClusterId; checkId: string }[] = [];
  for (const d of discoveries) {
    for (const found of d.found) {
      newRows.push({
        clusterId: d.cluster.clusterId,
        checkId: found.checkId,
        change: {
          kind: 'putCheck',
          check: {
            clusterId: d.cluster.clusterId,
            checkId: found.checkId,
            region: d.cluster.region,
            routes: d.cluster.routes,
            source: 'cluster',
            // Left unobserved on purpose: the next pass polls it at once and decides (a check found
            // already finished is then reported, with its check_items, like any other).
            status: '',
            message: '',
            type: found.type,
            target: '',
            createdAt: found.createdAt,
            finishedAt: '',
            watchedAt: now,
            lastChangeAt: now,
            dispatchCount: 0,
          },
          expectedVersion: 0,
        },
      });
    }
  }

  const results = await writeChanges(
    deps.store,
    changes.map((c) => c.change),
    log,
  );
  stats.rowsWritten += results.ok;
  stats.conflicts += results.conflicts;

  const stored = new Set<string>();
  if (newRows.length > 0) {
    const r = await deps.store.applyChanges(newRows.map((n) => n.change));
    r.forEach((res, i) => {
      const row = newRows[i];
      if (row === undefined) return;
      // A conflict means the row exists already (watched another way): known either way.
      if (res.ok || res.error.code === 'STORE_CONFLICT') stored.add(`${row.clusterId}\n${row.checkId}`);
      if (res.ok) stats.discovered += 1;
    });
    stats.rowsWritten += stats.discovered;
  }
  if (discoveries.length > 0) {
    const cr = await writeChanges(
      deps.store,
      discoveries.map((d) => ({
        kind: 'putCluster',
        cluster: {
          ...clusterStateOf(d.cluster),
          // Drop ids ACK no longer lists (the row is read every cycle: keep it small), add the new ones.
          baseline: [
            ...d.cluster.baseline.filter((id) => d.listedIds.has(id)),
            ...d.found
              .filter((f) => stored.has(`${d.cluster.clusterId}\n${f.checkId}`))
              .map((f) => f.checkId),
          ],
          lastListedAt: now,
        },
        expectedVersion: d.cluster.version,
      })),
      log,
    );
    stats.rowsWritten += cr.ok;
    stats.conflicts += cr.conflicts;
  }

  // Hand off: only after the finished state is stored (the outbox), and only for rows we wrote.
  const handoffs = changes.flatMap((c, i) =>
    c.dispatchAfter !== undefined && results.okAt.has(i) ? [c.dispatchAfter] : [],
  );
  await Promise.all(
    handoffs.map(async (h) => {
      try {
        const res = await deps.dispatch.dispatch({ kind: 'notify', ...h });
        if (h.generation > 1) stats.redispatched += 1;
        else stats.dispatched += 1;
        if (res.status === 'duplicate') log.debug('notifier already dispatched', { ...h });
      } catch (err) {
        stats.dispatchErrors += 1;
        // The row says dispatched-at-now: a later cycle re-dispatches it after `redispatchAfterMs`.
        log.warn('notifier dispatch failed; will re-dispatch', { ...h, error: describeError(err) });
      }
    }),
  );
  return stats;
}

/**
 * Writes changes (batched by the store) and counts per-row outcomes. A conflict means someone else
 * wrote the row first; any other failure leaves the row as it was, so the next cycle decides again.
 */
async function writeChanges(
  store: Store,
  changes: readonly PendingChange[],
  log: Logger,
): Promise<{ ok: number; conflicts: number; okAt: Set<number> }> {
  const okAt = new Set<number>();
  if (changes.length === 0) return { ok: 0, conflicts: 0, okAt };
  const results = await store.applyChanges(changes);
  let conflicts = 0;
  results.forEach((r, i) => {
    if (r.ok) okAt.add(i);
    else if (r.error.code === 'STORE_CONFLICT') conflicts += 1;
    else
      log.warn('pending row not written; retried next cycle', {
        kind: changes[i]?.kind,
        error: describeError(r.error),
      });
  });
  return { ok: okAt.size, conflicts, okAt };
}

function findThrottle(err: unknown): { retryAfterMs?: number | undefined } | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e instanceof Error; i++) {
    if (isAckError(e) && e.code === 'ACK_THROTTLED') return e;
    e = e.cause;
  }
  return undefined;
}

function observationFromError(err: unknown, log: Logger, clusterId: string, checkId?: string): Observation {
  if (isAckError(err)) {
    if (err.code === 'ACK_CHECK_NOT_FOUND') return { kind: 'missing' };
    if (err.code === 'ACK_CLUSTER_NOT_FOUND') return { kind: 'cluster-missing' };
  }
  log.warn('ACK call failed; will retry next cycle', { clusterId, checkId, error: describeError(err) });
  return { kind: 'failed' };
}

function countDecision(stats: CycleStats, decision: Decision): void {
  switch (decision.kind) {
    case 'unchanged':
      return;
    case 'progressed':
      stats.progressed += 1;
      return;
    case 'finished':
      stats.finished += 1;
      return;
    case 'vanished':
      stats.vanished += 1;
      return;
    case 'gave_up':
      stats.gaveUp += 1;
      return;
    default: {
      const unreachable: never = decision;
      return unreachable;
    }
  }
}

function stateOf(check: PendingCheck): CheckState {
  const { version: _version, ...state } = check;
  return state;
}

function clusterStateOf(cluster: ClusterWatch): Omit<ClusterWatch, 'version'> {
  const { version: _version, ...state } = cluster;
  return state;
}

/** The row write a decision needs, if any; finished-like decisions carry their hand-off. */
function changeFor(
  check: PendingCheck,
  decision: Decision,
  observed: CheckSummary | undefined,
  summary: unknown,
  now: number,
):
  | { change: PendingChange; dispatchAfter?: { clusterId: ClusterId; checkId: CheckId; generation: number } }
  | undefined {
  const base: CheckState = {
    ...stateOf(check),
    type: observed?.type !== undefined && observed.type !== '' ? observed.type : check.type,
    createdAt:
      observed?.createdAt !== undefined && observed.createdAt !== '' ? observed.createdAt : check.createdAt,
    lastPolledAt: now,
  };
  const handoff = { clusterId: check.clusterId, checkId: check.checkId, generation: 1 };
  switch (decision.kind) {
    case 'unchanged':
      return undefined;
    case 'progressed':
      return {
        change: {
          kind: 'putCheck',
          check: { ...base, status: decision.status, message: decision.message, lastChangeAt: now },
          expectedVersion: check.version,
        },
      };
    case 'finished':
      return {
        change: {
          kind: 'putCheck',
          check: {
            ...base,
            status: decision.status,
            message: decision.message,
            finishedAt: decision.finishedAt,
            outcome: decision.outcome,
            lastChangeAt: now,
            dispatchedAt: now,
            dispatchCount: 1,
          },
          summary,
          expectedVersion: check.version,
        },
        dispatchAfter: handoff,
      };
    case 'vanished':
    case 'gave_up':
      return {
        change: {
          kind: 'putCheck',
          check: {
            ...base,
            status: decision.kind === 'gave_up' ? decision.status : check.status,
            outcome: decision.kind,
            lastChangeAt: now,
            dispatchedAt: now,
            dispatchCount: 1,
          },
          expectedVersion: check.version,
        },
        dispatchAfter: handoff,
      };
    default: {
      const unreachable: never = decision;
      return unreachable;
    }
  }
}

type ResolvedSettings = PollSettings & { readonly [K in keyof typeof POLL_DEFAULTS]: number };

function resolveSettings(settings: PollSettings): ResolvedSettings {
  return {
    ...settings,
    marginMs: settings.marginMs ?? POLL_DEFAULTS.marginMs,
    maxAgeMs: settings.maxAgeMs ?? POLL_DEFAULTS.maxAgeMs,
    redispatchAfterMs: settings.redispatchAfterMs ?? POLL_DEFAULTS.redispatchAfterMs,
    ackConcurrency: settings.ackConcurrency ?? POLL_DEFAULTS.ackConcurrency,
    leaseTtlMs: settings.leaseTtlMs ?? POLL_DEFAULTS.leaseTtlMs,
    fanOutThreshold: settings.fanOutThreshold ?? POLL_DEFAULTS.fanOutThreshold,
    ackCallBudgetMs: settings.ackCallBudgetMs ?? POLL_DEFAULTS.ackCallBudgetMs,
  };
}
