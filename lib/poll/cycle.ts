import type { AckApi } from '../ack/api';
import { isAckError } from '../ack/errors';
import type { Clock } from '../clock';
import { backoffDelay, type RetryPolicy } from '../domain/backoff';
import type { CheckDetail, CheckId, CheckSummary, ClusterId } from '../domain/check';
import { parseAckTime } from '../domain/check';
import { summarizeCheckItems } from '../domain/check-items';
import { DEFAULT_SCHEDULE, isDue, nextDueAt, pollInterval, type ScheduleOptions } from '../domain/schedule';
import { decide, discover, DEFAULT_MAX_AGE_MS, type Decision, type Observation } from '../domain/transitions';
import type { Dispatcher } from '../dispatch/dispatch';
import { describeError } from '../errors';
import type { Logger } from '../log';
import { MAX_BASELINE, MAX_MESSAGE_CHARS, shardOf, truncate } from '../store/rules';
import {
  isStoreConflict,
  type CheckState,
  type ClusterWatch,
  type Lease,
  type LeaseState,
  type PendingChange,
  type PendingCheck,
  type PendingSet,
  type Store,
} from '../store/store';
import { AckGate } from './gate';

/**
 * The poll use case (DESIGN.md, "Poll" and "Hand off"), over ports only: a lease so overlapping
 * invocations never poll the same work twice; one read of the pending set; as few ACK calls as possible
 * (one ListClusterChecks per cluster with several due checks or a cluster watch, GetClusterCheck for a
 * lone check and once per finished check); pure decisions; only changed rows written, in batches; an
 * outbox hand-off to the notifier; and a loop inside the invocation so detection takes seconds, not the
 * timer's one-minute floor.
 *
 * ## Scale: when the timer fans out, and the arithmetic behind the default threshold
 *
 * One invocation's throughput toward ACK is bounded by its gate: `C` concurrent calls (config
 * `ack.concurrency`, default 8) of latency `L` (≈ 0.1–0.3 s for ACK from the same region; the
 * simulator answers in ≈ 2 ms). One cycle therefore issues at most `R = C · T / L` calls in `T` seconds:
 * with `C = 8`, `L = 0.2 s` and the 2 s cadence of a fresh check, **R ≈ 80 calls per cycle**.
 *
 * Calls per cycle depend on clusters, not checks: one List per cluster with due work (or one Get for a
 * lone check), plus one Get per check that finished in that cycle. Checks back off (schedule.ts: 2 s for
 * the first 2 min, 5 s to 10 min, 15 s to 1 h, then 60 s), and ACK checks run 16 s to a few minutes, so
 * at a steady arrival rate most watched checks sit in the 2 s and 5 s tiers. A conservative estimate of
 * the cycle's due clusters is `N / k · f`, for `N` watched checks spread over clusters holding `k` each
 * (k ≈ 4–20 for upgrade prechecks across node pools) and a due fraction `f ≈ 0.5`:
 *
 *   N = 4,000 checks, k = 20 → 200 clusters → ≈ 100 calls per cycle ≈ one cycle of `R` (2.5 s).
 *
 * Above that, the cycle stretches beyond the 2 s tier and latency grows, so the default
 * {@link POLL_DEFAULTS.fanOutThreshold} is **4,000 watched checks**: above it the timer invocation
 * dispatches one `poll-shard` invocation per shard that has pending rows (`defaults.shards`, default 16,
 * rows placed by FNV-1a(cluster) mod shards, so a cluster's rows never straddle shards). Each shard
 * invocation has its own gate and lease, so total throughput is `shards · R` (16 · 80 ≈ 1,300 calls per
 * 2 s cycle, ≈ 640 calls/s toward ACK — above that, the account's ACK API quota in Quota Center, not
 * checkwatch, is the limit, and the throttle brake slows every shard down). Per shard that is
 * `N / shards` checks: 64,000 checks → 4,000 per shard, the same load as one unsharded invocation at the
 * threshold. Lower the threshold when checks are spread one per cluster (k = 1: ≈ 160 checks fill a cycle).
 */

export interface PollDeps {
  readonly store: Store;
  readonly ack: AckApi;
  readonly dispatch: Dispatcher;
  readonly clock: Clock;
  readonly log: Logger;
  /** A monotonic count of store requests sent (e.g. the Tablestore adapter's `onRequest`), for the cycle line. */
  readonly storeRequests?: (() => number) | undefined;
  /** Jitter for in-cycle retries (tests make it deterministic). */
  readonly random?: (() => number) | undefined;
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
  readonly marginMs?: number | undefined;
  /** Keep polling inside the invocation while checks are running (default true). */
  readonly loop?: boolean | undefined;
  readonly maxAgeMs?: number | undefined;
  /** A finished check whose notifier has not confirmed delivery is dispatched again after this long. */
  readonly redispatchAfterMs?: number | undefined;
  readonly ackConcurrency?: number | undefined;
  readonly schedule?: ScheduleOptions | undefined;
  readonly leaseTtlMs?: number | undefined;
  /** Above this many watched checks, the timer invocation fans out to one invocation per shard. */
  readonly fanOutThreshold?: number | undefined;
  /** Time allowed for one ACK call, in-cycle retries included. */
  readonly ackCallBudgetMs?: number | undefined;
  /**
   * The loop ends instead of sleeping longer than this: the next timer tick (every minute) picks the
   * work up, and an invocation that mostly sleeps is billed for nothing.
   */
  readonly maxSleepMs?: number | undefined;
}

export const POLL_DEFAULTS = {
  marginMs: 5_000,
  maxAgeMs: DEFAULT_MAX_AGE_MS,
  redispatchAfterMs: 120_000,
  ackConcurrency: 8,
  leaseTtlMs: 30_000,
  fanOutThreshold: 4_000,
  ackCallBudgetMs: 10_000,
  maxSleepMs: 20_000,
} as const;

/**
 * The retry policy to give the poller's `AckClient`: no retries inside the client. The cycle retries
 * through its {@link AckGate} instead, so a throttled reply brakes every worker (honouring
 * `x-acs-retry-after`) rather than each worker sleeping and retrying on its own, and anything else
 * transient is simply polled again in the next cycle, seconds later.
 */
export const POLLER_ACK_RETRY_POLICY = {
  maxAttempts: 1,
  baseMs: 200,
  capMs: 1_000,
} as const satisfies RetryPolicy;

/** In-cycle retries of one ACK call: throttled replies wait behind the gate's brake; other transient ones back off briefly. */
const CALL_RETRY = { throttledAttempts: 3, transientAttempts: 2, defaultRetryAfterMs: 1_000 } as const;
const TRANSIENT_BACKOFF = { maxAttempts: 2, baseMs: 200, capMs: 1_000 } as const satisfies RetryPolicy;
/** Shortest pause between two iterations, so no path can spin. */
const MIN_LOOP_SLEEP_MS = 20;
/**
 * A check ACK says was created this long before its cluster watch began is never "new": the baseline
 * taken at subscription covers it, and this guard keeps a pruned baseline from replaying it (the slack
 * absorbs clock skew between ACK and us).
 */
const DISCOVERY_SKEW_MS = 10 * 60_000;

/** Baseline ids ACK no longer lists are kept until the baseline grows past this many. */
const BASELINE_PRUNE_ABOVE = 200;

/** Counters for one iteration, logged as one structured line. */
export interface CycleStats {
  pending: number;
  due: number;
  clustersListed: number;
  ackGet: number;
  ackList: number;
  ackErrors: number;
  throttled: number;
  throttledWaits: number;
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
  storeRequests: number;
  durationMs: number;
}

export interface PollRunResult {
  /**
   * `busy`: another invocation holds the lease; `idle`: nothing due before the deadline;
   * `fanned-out`: shard invocations dispatched; `lost-lease`: the lease was taken over mid-run.
   */
  readonly status: 'polled' | 'idle' | 'busy' | 'fanned-out' | 'lost-lease';
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
    throttledWaits: 0,
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
    storeRequests: 0,
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

const keyOf = (clusterId: string, checkId: string): string => `${clusterId}\n${checkId}`;

/**
 * Runs the poller for one invocation: reads the pending set (an idle cycle stops there: one store
 * request, no ACK call), takes the lease, then polls in a loop while checks are running and the time
 * budget allows, and releases the lease with the time of its last cycle.
 */
export async function runPoller(deps: PollDeps, settings: PollSettings): Promise<PollRunResult> {
  const { store, clock, log } = deps;
  const cfg = resolveSettings(settings);
  const totals = emptyStats();
  const { name: leaseName, shard: leaseShard } = leaseNameFor(settings.shard);
  const scope = settings.shard === undefined ? {} : { shard: settings.shard };
  const requestsNow = (): number => deps.storeRequests?.() ?? 0;
  const requestsAtStart = requestsNow();

  let pending = await store.listPending(scope);
  const idle = (): PollRunResult => {
    totals.storeRequests = requestsNow() - requestsAtStart;
    log.info('poll cycle', { shard: settings.shard, status: 'idle', ...totals });
    return { status: 'idle', iterations: 0, totals, shardsDispatched: 0 };
  };
  if (pending.checks.length === 0 && pending.clusters.length === 0) return idle();

  if (settings.shard === undefined && settings.shards > 1 && pending.checks.length > cfg.fanOutThreshold) {
    const shardsDispatched = await fanOut(deps, pending, settings.shards);
    log.info('poll fan-out', { watched: pending.checks.length, shardsDispatched });
    return { status: 'fanned-out', iterations: 0, totals, shardsDispatched };
  }

  const seen = pending.leases.find((l) => l.name === leaseName && l.shard === leaseShard) ?? null;
  // Nothing due now and nothing before the deadline: stop before the lease write (an idle cycle costs
  // the one range read). The previous cycle's time is in the lease row the range read returned.
  {
    const now = clock.now();
    const plan = planCycle(pending, cfg, now, cycleAtOf(seen?.data));
    if (!plan.hasWork) {
      const wake = nextWake(pending, cfg, now, new Map(), plan.skip);
      if (wake === undefined || wake > settings.deadline - cfg.marginMs) return idle();
    }
  }

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
  let status: PollRunResult['status'] = 'polled';

  try {
    for (;;) {
      const started = clock.now();
      const requestsBefore = requestsNow();
      const waitsBefore = gate.throttledWaits;
      const { stats, written } = await pollOnce(deps, cfg, settings, pending, previousCycleAt, gate);
      stats.durationMs = clock.now() - started;
      stats.throttledWaits = gate.throttledWaits - waitsBefore;
      stats.storeRequests = requestsNow() - requestsBefore;
      addStats(totals, stats);
      iterations += 1;
      previousCycleAt = started;
      log.info('poll cycle', { shard: settings.shard, iteration: iterations, ...stats });

      if (settings.loop === false) break;
      const now = clock.now();
      const planned = nextWake(pending, cfg, now, written, skipFor(pending, cfg, now));
      if (planned === undefined) break;
      const wake = Math.max(planned, now + MIN_LOOP_SLEEP_MS);
      if (wake > settings.deadline - cfg.marginMs || wake - now > cfg.maxSleepMs) break;
      // Keep the lease across the sleep and the next cycle, so the next timer tick finds it busy.
      if (lease.until < wake + cfg.leaseTtlMs / 2) {
        try {
          lease = await store.renewLease(lease, wake - now + cfg.leaseTtlMs, now);
        } catch (err) {
          if (!isStoreConflict(err)) throw err;
          log.warn('poller lease was taken over; stopping', { lease: lease.name });
          status = 'lost-lease';
          break;
        }
      }
      await clock.sleep(Math.max(0, wake - clock.now()));
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
  return { status, iterations, totals, shardsDispatched: 0 };
}

/**
 * The earliest moment something pending needs a cycle again, or undefined when no check is running
 * (outbox entries and idle cluster watches alone do not keep an invocation alive: the next timer tick
 * serves them). `written` holds the rows this cycle stored, which supersede the stale `pending` read.
 */
function nextWake(
  pending: PendingSet,
  cfg: ResolvedSettings,
  now: number,
  written: ReadonlyMap<string, CheckState>,
  skip: ReadonlySet<number>,
): number | undefined {
  const schedule = cfg.schedule ?? DEFAULT_SCHEDULE;
  const inScope = (clusterId: string): boolean =>
    skip.size === 0 || !skip.has(shardOf(clusterId, cfg.shards));
  let wake: number | undefined;
  let running = 0;
  const consider = (t: number): void => {
    wake = wake === undefined ? t : Math.min(wake, t);
  };
  const seen = new Set<string>();
  const visit = (c: CheckState): void => {
    if (!inScope(c.clusterId)) return;
    if (c.outcome !== undefined) {
      consider((c.dispatchedAt ?? now) + cfg.redispatchAfterMs);
      return;
    }
    running += 1;
    consider(nextDueAt(pollInterval(now - c.lastChangeAt, schedule), now));
  };
  for (const c of pending.checks) {
    const key = keyOf(c.clusterId, c.checkId);
    seen.add(key);
    visit(written.get(key) ?? c);
  }
  // Rows created this cycle (discovered on a cluster watch).
  for (const [key, c] of written) if (!seen.has(key)) visit(c);
  for (const cluster of pending.clusters) {
    if (inScope(cluster.clusterId)) consider(nextDueAt(schedule.clusterIdleMs, now));
  }
  return running > 0 ? wake : undefined;
}

/** Dispatches one poller invocation per shard that has pending rows (generation: the current minute). */
async function fanOut(deps: PollDeps, pending: PendingSet, shards: number): Promise<number> {
  const present = new Set<number>();
  for (const c of pending.checks) present.add(shardOf(c.clusterId, shards));
  for (const c of pending.clusters) present.add(shardOf(c.clusterId, shards));
  const generation = Math.floor(deps.clock.now() / 60_000);
  const sorted = [...present].sort((a, b) => a - b);
  const results = await Promise.all(
    sorted.map(async (shard) => {
      try {
        await deps.dispatch.dispatch({ kind: 'poll-shard', shard, generation });
        return 1;
      } catch (err) {
        deps.log.warn('shard dispatch failed; the next tick retries', { shard, error: describeError(err) });
        return 0;
      }
    }),
  );
  return results.reduce<number>((a, b) => a + b, 0);
}

/** Shards whose own lease is held by a fan-out invocation: the global poller leaves them alone. */
function busyShards(leases: readonly LeaseState[], now: number): Set<number> {
  const busy = new Set<number>();
  for (const l of leases)
    if (l.name.startsWith('poller-') && l.holder !== '' && l.until > now) busy.add(l.shard);
  return busy;
}

/** Shards the global poller leaves alone in this cycle (a fan-out invocation holds their lease). */
function skipFor(pending: PendingSet, cfg: ResolvedSettings, now: number): Set<number> {
  return cfg.shard === undefined ? busyShards(pending.leases, now) : new Set<number>();
}

interface ClusterWork {
  readonly clusterId: ClusterId;
  region: string;
  /** Running checks due in this cycle. */
  readonly due: PendingCheck[];
  /** Every running check of the cluster (a listing answers for all of them at no extra cost). */
  readonly running: PendingCheck[];
  watch?: ClusterWatch;
  watchDue: boolean;
  /** Ids of this cluster's pending checks (running or in the outbox): never rediscovered. */
  readonly pendingIds: Set<string>;
}

interface CyclePlan {
  readonly work: Map<string, ClusterWork>;
  /** Outbox entries whose hand-off is overdue. */
  readonly overdue: PendingCheck[];
  readonly skip: Set<number>;
  readonly hasWork: boolean;
}

/** What is due at `now`: pure over the pending set, so the idle check and the cycle agree. */
function planCycle(
  pending: PendingSet,
  cfg: ResolvedSettings,
  now: number,
  previousCycleAt: number | undefined,
): CyclePlan {
  const schedule = cfg.schedule ?? DEFAULT_SCHEDULE;
  const skip = skipFor(pending, cfg, now);
  const inScope = (clusterId: string): boolean =>
    skip.size === 0 || !skip.has(shardOf(clusterId, cfg.shards));
  const work = new Map<string, ClusterWork>();
  const workFor = (clusterId: ClusterId, region: string): ClusterWork => {
    let w = work.get(clusterId);
    if (w === undefined) {
      w = { clusterId, region, due: [], running: [], pendingIds: new Set(), watchDue: false };
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
    w.running.push(check);
    const neverObserved = check.status === '' && check.lastPolledAt === undefined;
    const interval = pollInterval(now - check.lastChangeAt, schedule);
    if (neverObserved || isDue(interval, now, previousCycleAt)) w.due.push(check);
  }
  for (const cluster of pending.clusters) {
    if (!inScope(cluster.clusterId)) continue;
    const w = workFor(cluster.clusterId, cluster.region);
    w.watch = cluster;
    w.region = cluster.region;
    w.watchDue = cluster.lastListedAt === undefined || isDue(schedule.clusterIdleMs, now, previousCycleAt);
  }
  // Finished-but-undelivered checks of a watched cluster are known too: never rediscover them.
  for (const check of pending.checks) work.get(check.clusterId)?.pendingIds.add(check.checkId);
  let hasWork = overdue.length > 0;
  for (const w of work.values()) if (w.due.length > 0 || w.watchDue) hasWork = true;
  return { work, overdue, skip, hasWork };
}

interface Handoff {
  readonly clusterId: ClusterId;
  readonly checkId: CheckId;
  readonly generation: number;
}

interface PlannedChange {
  readonly change: PendingChange;
  readonly dispatchAfter?: Handoff | undefined;
  /** Set for rows first written by this cycle (cluster-watch discoveries). */
  readonly discoveredOn?: ClusterId | undefined;
}

/** One pass over the pending set: poll what is due, write what changed, hand off what finished. */
async function pollOnce(
  deps: PollDeps,
  cfg: ResolvedSettings,
  settings: PollSettings,
  pending: PendingSet,
  previousCycleAt: number | undefined,
  gate: AckGate,
): Promise<{ stats: CycleStats; written: Map<string, CheckState> }> {
  const { clock, log } = deps;
  const random = deps.random ?? Math.random;
  const stats = emptyStats();
  const now = clock.now();
  const plan = planCycle(pending, cfg, now, previousCycleAt);
  stats.pending = pending.checks.length;

  const changes: PlannedChange[] = [];
  const discoveries: { cluster: ClusterWatch; listedIds: string[]; found: CheckSummary[] }[] = [];

  const ackDeadline = (): number =>
    Math.min(settings.deadline - cfg.marginMs / 2, clock.now() + cfg.ackCallBudgetMs);

  /**
   * One ACK call through the gate. A throttled reply brakes every caller (not just this one) for the
   * server's `x-acs-retry-after`, then the call queues behind the brake; other transient failures get
   * one short retry. All of it inside the call's deadline.
   */
  const call = async <T>(kind: 'get' | 'list', fn: (deadline: number) => Promise<T>): Promise<T> => {
    const deadline = ackDeadline();
    let transient = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await gate.run(async () => {
          // Counted here, not before the gate: a call the brake kept back never reached ACK.
          if (kind === 'get') stats.ackGet += 1;
          else stats.ackList += 1;
          try {
            return await fn(deadline);
          } catch (err) {
            // Brake before this call's slot is released, so no queued call slips out meanwhile.
            const throttle = findThrottle(err);
            if (throttle !== undefined) {
              stats.throttled += 1;
              gate.throttled(throttle.retryAfterMs ?? CALL_RETRY.defaultRetryAfterMs);
            }
            throw err;
          }
        }, deadline);
        gate.succeeded();
        return out;
      } catch (err) {
        const throttle = findThrottle(err);
        if (throttle !== undefined) {
          const waitMs = throttle.retryAfterMs ?? CALL_RETRY.defaultRetryAfterMs;
          if (attempt < CALL_RETRY.throttledAttempts && clock.now() + waitMs < deadline) continue;
          throw err;
        }
        if (isAckError(err) && err.retryable) {
          transient += 1;
          const delay = backoffDelay(transient - 1, TRANSIENT_BACKOFF, random);
          if (transient < CALL_RETRY.transientAttempts && clock.now() + delay < deadline) {
            await clock.sleep(delay);
            continue;
          }
        }
        throw err;
      }
    }
  };

  const regionOpt = (w: ClusterWork): string | undefined => (w.region === '' ? undefined : w.region);

  const getDetail = async (
    w: ClusterWork,
    checkId: CheckId,
  ): Promise<{ obs: Observation; detail?: CheckDetail }> => {
    try {
      const detail = await call('get', (deadline) =>
        deps.ack.getClusterCheck(w.clusterId, checkId, { region: regionOpt(w), deadline }),
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
    discoveredOn?: ClusterId,
  ): Promise<void> => {
    let decision = decide(check, obs, now, { maxAgeMs: cfg.maxAgeMs });
    let summary: unknown;
    let observed = obs.kind === 'seen' ? obs.check : undefined;
    if (decision.kind === 'finished') {
      // check_items come only from GetClusterCheck: fetch them once, when the check finishes.
      let d = detail;
      if (d === undefined) {
        const got = await getDetail(w, check.checkId);
        if (got.obs.kind === 'failed') {
          // Decided again next cycle; a discovery is still recorded (as running) so it is not lost.
          if (discoveredOn !== undefined) changes.push({ change: newRow(check), discoveredOn });
          return;
        }
        d = got.detail;
        if (got.obs.kind !== 'seen') decision = decide(check, got.obs, now, { maxAgeMs: cfg.maxAgeMs });
      }
      if (d !== undefined) {
        summary = summarizeCheckItems(d.checkItems);
        observed = d;
        decision = decide(check, { kind: 'seen', check: d }, now, { maxAgeMs: cfg.maxAgeMs });
      }
    }
    const planned = changeFor(check, decision, observed, summary, now);
    if (planned !== undefined) changes.push({ ...planned, discoveredOn });
    else if (discoveredOn !== undefined) changes.push({ change: newRow(check), discoveredOn });
    countDecision(stats, decision);
  };

  const clusterTasks: Promise<void>[] = [];
  for (const w of plan.work.values()) {
    if (w.due.length === 0 && !w.watchDue) continue;
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
        stats.clustersListed += 1;
        let listed: CheckSummary[];
        try {
          listed = await call('list', (deadline) =>
            deps.ack.listClusterChecks(w.clusterId, {}, { region: regionOpt(w), deadline }),
          );
        } catch (err) {
          stats.ackErrors += 1;
          const obs = observationFromError(err, log, w.clusterId);
          // A missing cluster ends every check on it; a transient failure only touches the due ones
          // (for which `decide` may give up after the maximum age).
          const affected = obs.kind === 'cluster-missing' ? w.running : w.due;
          await Promise.all(affected.map((c) => handleCheck(w, c, obs, undefined)));
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
        const due = new Set(w.due);
        await Promise.all(
          w.running.map(async (check) => {
            const summary = byId.get(check.checkId);
            // The listing answers for every running check of the cluster, due or not, for free.
            if (summary !== undefined)
              return handleCheck(w, check, { kind: 'seen', check: summary }, undefined);
            if (!due.has(check)) return;
            // Not in the listing: only a GetClusterCheck 404 proves that a check vanished.
            const { obs, detail } = await getDetail(w, check.checkId);
            return handleCheck(w, check, obs, detail);
          }),
        );
        if (w.watch !== undefined) {
          const watch = w.watch;
          const known = new Set([...watch.baseline, ...w.pendingIds]);
          const notBefore = watch.watchedAt - DISCOVERY_SKEW_MS;
          const found = discover(known, listed).filter((c) => {
            const created = parseAckTime(c.createdAt);
            return created === undefined || created >= notBefore;
          });
          discoveries.push({ cluster: watch, listedIds: listed.map((c) => c.checkId), found });
          // A discovered check is decided at once from this listing: a check that started and finished
          // between two listings is reported in this cycle, with its check_items.
          await Promise.all(
            found.map((summary) =>
              handleCheck(
                w,
                discoveredRow(watch, summary, now),
                { kind: 'seen', check: summary },
                undefined,
                w.clusterId,
              ),
            ),
          );
        }
      })(),
    );
  }
  await Promise.all(clusterTasks);

  // Re-dispatch overdue outbox entries: claim the next generation with a conditional write first, so
  // two overlapping pollers never dispatch the same entry twice.
  for (const check of plan.overdue) {
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

  // One batch for every row change, discoveries included: the store chunks it (≤ 200 rows per request).
  const results = await writeChanges(
    deps.store,
    changes.map((c) => c.change),
    log,
  );
  stats.rowsWritten += results.ok;
  stats.conflicts += results.conflicts;
  const written = new Map<string, CheckState>();
  const storedDiscoveries = new Set<string>();
  changes.forEach((c, i) => {
    const ok = results.okAt.has(i);
    if (ok && c.change.kind === 'putCheck') {
      written.set(keyOf(c.change.check.clusterId, c.change.check.checkId), c.change.check);
    }
    if (c.discoveredOn !== undefined && c.change.kind === 'putCheck') {
      // A conflict means the row exists already (watched another way): known either way.
      if (ok || results.conflictAt.has(i))
        storedDiscoveries.add(keyOf(c.discoveredOn, c.change.check.checkId));
      if (ok) stats.discovered += 1;
    }
  });

  // The cluster's baseline: every listed id we know (old baseline, pending rows, stored discoveries),
  // so a check is never rediscovered once its row is archived. Written only when it changed. Ids ACK no
  // longer lists are dropped only once the baseline grows past BASELINE_PRUNE_ABOVE (the row is read
  // every cycle: keep it small), never on every listing: one glitchy empty listing must not wipe it.
  const clusterChanges: PendingChange[] = [];
  for (const d of discoveries) {
    const w = plan.work.get(d.cluster.clusterId);
    const old = new Set(d.cluster.baseline);
    const listed = new Set(d.listedIds);
    const known = (id: string): boolean =>
      old.has(id) ||
      (w?.pendingIds.has(id) ?? false) ||
      storedDiscoveries.has(keyOf(d.cluster.clusterId, id));
    let ids = [...new Set([...d.cluster.baseline, ...d.listedIds.filter(known)])];
    if (ids.length > BASELINE_PRUNE_ABOVE) ids = ids.filter((id) => listed.has(id));
    const baseline = ids.slice(-MAX_BASELINE);
    const same = baseline.length === d.cluster.baseline.length && baseline.every((id) => old.has(id));
    if (same && d.cluster.lastListedAt !== undefined) continue;
    clusterChanges.push({
      kind: 'putCluster',
      cluster: { ...clusterStateOf(d.cluster), baseline, lastListedAt: now },
      expectedVersion: d.cluster.version,
    });
  }
  if (clusterChanges.length > 0) {
    const cr = await writeChanges(deps.store, clusterChanges, log);
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
  return { stats, written };
}

/** The pending row of a check first seen on a watched cluster, before any observation. */
function discoveredRow(cluster: ClusterWatch, found: CheckSummary, now: number): PendingCheck {
  return {
    clusterId: cluster.clusterId,
    checkId: found.checkId,
    region: cluster.region,
    routes: cluster.routes,
    source: 'cluster',
    status: '',
    message: '',
    type: clip(found.type, 256),
    target: '',
    createdAt: clip(found.createdAt, 256),
    finishedAt: '',
    watchedAt: now,
    lastChangeAt: now,
    dispatchCount: 0,
    version: 0,
  };
}

/** Writes a discovered row as is (`expectedVersion: 0`: it must not exist yet). */
function newRow(check: PendingCheck): PendingChange {
  return { kind: 'putCheck', check: stateOf(check), expectedVersion: 0 };
}

/**
 * Writes changes (batched by the store) and counts per-row outcomes. A conflict means someone else
 * wrote the row first; any other failure leaves the row as it was, so the next cycle decides again.
 */
async function writeChanges(
  store: Store,
  changes: readonly PendingChange[],
  log: Logger,
): Promise<{ ok: number; conflicts: number; okAt: Set<number>; conflictAt: Set<number> }> {
  const okAt = new Set<number>();
  const conflictAt = new Set<number>();
  if (changes.length === 0) return { ok: 0, conflicts: 0, okAt, conflictAt };
  const results = await store.applyChanges(changes);
  results.forEach((r, i) => {
    if (r.ok) okAt.add(i);
    else if (r.error.code === 'STORE_CONFLICT') conflictAt.add(i);
    else
      log.warn('pending row not written; retried next cycle', {
        kind: changes[i]?.kind,
        error: describeError(r.error),
      });
  });
  return { ok: okAt.size, conflicts: conflictAt.size, okAt, conflictAt };
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

/** ACK strings are stored verbatim but bounded: a row the store refuses would be retried forever. */
function clip(text: string, max: number): string {
  return truncate(text, max);
}

/** The row write a decision needs, if any; finished-like decisions carry their hand-off. */
function changeFor(
  check: PendingCheck,
  decision: Decision,
  observed: CheckSummary | undefined,
  summary: unknown,
  now: number,
): { change: PendingChange; dispatchAfter?: Handoff } | undefined {
  const base: CheckState = {
    ...stateOf(check),
    type: observed?.type !== undefined && observed.type !== '' ? clip(observed.type, 256) : check.type,
    createdAt:
      observed?.createdAt !== undefined && observed.createdAt !== ''
        ? clip(observed.createdAt, 256)
        : check.createdAt,
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
          check: {
            ...base,
            status: clip(decision.status, 256),
            message: clip(decision.message, MAX_MESSAGE_CHARS),
            lastChangeAt: now,
          },
          expectedVersion: check.version,
        },
      };
    case 'finished':
      return {
        change: {
          kind: 'putCheck',
          check: {
            ...base,
            status: clip(decision.status, 256),
            message: clip(decision.message, MAX_MESSAGE_CHARS),
            finishedAt: clip(decision.finishedAt, 256),
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
            status: decision.kind === 'gave_up' ? clip(decision.status, 256) : check.status,
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
    maxSleepMs: settings.maxSleepMs ?? POLL_DEFAULTS.maxSleepMs,
  };
}
