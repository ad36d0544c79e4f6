/**
 * A poller test bench: the ACK simulator behind the real AckClient, a real store (SQLite in memory, or
 * the Tablestore adapter against the loopback Tablestore fake) and a real dispatcher (inline, or FC
 * through @alicloud/fc2 against the FC fake). Every variant records what reached the notifier.
 */
import { AckClient } from '../../../lib/ack/client';
import type { AckApi } from '../../../lib/ack/api';
import type { Clock } from '../../../lib/clock';
import { systemClock } from '../../../lib/clock';
import type { CheckId, ClusterId } from '../../../lib/domain/check';
import type { ScheduleOptions } from '../../../lib/domain/schedule';
import { parseDispatchEvent, type DispatchRequest, type Dispatcher } from '../../../lib/dispatch/dispatch';
import { createFcDispatcher } from '../../../lib/dispatch/fc';
import { createInlineDispatcher, type InlineDispatcher } from '../../../lib/dispatch/inline';
import { silentLogger } from '../../../lib/log';
import { POLLER_ACK_RETRY_POLICY, type PollDeps, type PollSettings } from '../../../lib/poll/cycle';
import { startSimulator, type Simulator } from '../../../lib/sim/index';
import { createSqliteStore } from '../../../lib/store/sqlite';
import type { NewCheckWatch, Store } from '../../../lib/store/store';
import { createTablestoreStore } from '../../../lib/store/tablestore';
import { startFcFake, type FcFake } from '../../fakes/fc/index';
import { startTablestoreFake, type TablestoreFake } from '../../fakes/tablestore/index';

export type Variant = 'sqlite+inline' | 'tablestore+fc';
export const VARIANTS: readonly Variant[] = ['sqlite+inline', 'tablestore+fc'];

export const SHARDS = 4;

/** A fast schedule for real-time tests: every check is due every 100 ms, clusters every 200 ms. */
export const FAST_SCHEDULE = {
  steps: [{ afterMs: 0, intervalMs: 100 }],
  clusterIdleMs: 200,
} as const satisfies ScheduleOptions;

let clusterSeq = 0;
/** A fresh, valid cluster id (32 hex chars after `c`). */
export function newClusterId(): ClusterId {
  clusterSeq += 1;
  const rand = Math.floor(Math.random() * 0xffffff)
    .toString(16)
    .padStart(6, '0');
  return `c${rand}${clusterSeq.toString(16).padStart(25, '0')}` as ClusterId;
}

/** A clock whose time runs `factor` times faster than the wall clock (sleeps shrink accordingly). */
export function fastClock(factor: number): Clock {
  const origin = Date.now();
  return {
    now: () => origin + (Date.now() - origin) * factor,
    sleep: (ms, signal) => systemClock.sleep(ms / factor, signal),
  };
}

export interface Notified {
  readonly clusterId: string;
  readonly checkId: string;
  readonly generation?: number | undefined;
}

export interface Bench {
  readonly variant: Variant;
  readonly sim: Simulator;
  readonly store: Store;
  readonly ack: AckApi;
  /** Every dispatch the poller asked for (accepted or not). */
  readonly requested: DispatchRequest[];
  /** ACK calls with the poller-clock time they started, in order. */
  readonly ackCalls: { action: 'get' | 'list'; clusterId: string; at: number }[];
  /** Store requests sent so far (the Tablestore adapter's onRequest; SQLite: 0). */
  storeRequests(): number;
  /** Tablestore fake (tablestore+fc only). */
  readonly ots?: TablestoreFake | undefined;
  /** FC fake (tablestore+fc only). */
  readonly fc?: FcFake | undefined;
  /** Makes the next `n` notify hand-offs fail (the dispatcher throws; nothing reaches the notifier). */
  failNextDispatches(n: number): void;
  /** What reached the notifier side, in order. */
  notified(): Promise<Notified[]>;
  /** Poll-shard invocations that reached the poller side. */
  shardInvocations(): Promise<number[]>;
  /** Builds poll dependencies. */
  deps(over?: Partial<PollDeps>): PollDeps;
  settings(over?: Partial<PollSettings>): PollSettings;
  watch(input: Omit<NewCheckWatch, 'region' | 'routes' | 'source'> & Partial<NewCheckWatch>): Promise<void>;
  close(): Promise<void>;
}

export interface BenchOptions {
  clock?: Clock;
  /** What the notifier does on each hand-off (e.g. archive the check, as the real one does when done). */
  onNotify?: (store: Store, n: Notified) => Promise<void>;
}

const CREDS = {
  accessKeyId: 'STS.testpolleraccesskey',
  accessKeySecret: 'test-poller-secret-0123456789',
  securityToken: 'test-poller-sts-token-abcdef',
};

/** Starts a bench of the given variant. */
export async function startBench(variant: Variant, options: BenchOptions = {}): Promise<Bench> {
  const clock = options.clock ?? systemClock;
  const sim = await startSimulator({ seed: 7, ...CREDS, checkDurationMs: 600_000 });
  const ackClient = new AckClient({
    credentials: CREDS,
    region: 'cn-hangzhou',
    endpoint: sim.endpoint,
    retry: POLLER_ACK_RETRY_POLICY,
  });
  const ackCalls: Bench['ackCalls'] = [];
  const ack: AckApi = {
    getClusterCheck: (clusterId, checkId, opts) => {
      ackCalls.push({ action: 'get', clusterId, at: clock.now() });
      return ackClient.getClusterCheck(clusterId, checkId, opts);
    },
    listClusterChecks: (clusterId, filter, opts) => {
      ackCalls.push({ action: 'list', clusterId, at: clock.now() });
      return ackClient.listClusterChecks(clusterId, filter, opts);
    },
    runClusterCheck: (clusterId, input, opts) => ackClient.runClusterCheck(clusterId, input, opts),
  };

  const requested: DispatchRequest[] = [];
  let failing = 0;
  let storeOps = 0;
  let store: Store;
  let inner: Dispatcher;
  let ots: TablestoreFake | undefined;
  let fc: FcFake | undefined;
  let inline: InlineDispatcher | undefined;
  const inlineNotified: Notified[] = [];
  const inlineShards: number[] = [];
  const ref: { store?: Store } = {};

  if (variant === 'sqlite+inline') {
    store = createSqliteStore({ path: ':memory:', shards: SHARDS });
    inline = createInlineDispatcher({
      notify: async (clusterId, checkId) => {
        const n = { clusterId, checkId };
        inlineNotified.push(n);
        if (options.onNotify !== undefined && ref.store !== undefined) await options.onNotify(ref.store, n);
      },
      pollShard: (shard) => {
        inlineShards.push(shard);
        return Promise.resolve();
      },
    });
    inner = inline;
  } else {
    ots = await startTablestoreFake({
      accessKeyId: CREDS.accessKeyId,
      accessKeySecret: CREDS.accessKeySecret,
      stsToken: CREDS.securityToken,
    });
    const ts = createTablestoreStore({
      endpoint: ots.endpoint,
      instanceName: ots.instanceName,
      credentials: CREDS,
      shards: SHARDS,
      retry: { maxAttempts: 3, baseMs: 1, capMs: 5 },
      onRequest: () => {
        storeOps += 1;
      },
    });
    await ts.ensureSchema();
    store = ts;
    fc = await startFcFake({ ...CREDS });
    const fcFake = fc;
    fc.onInvoke(async (inv) => {
      if (options.onNotify === undefined || ref.store === undefined) return;
      const req = parseDispatchEvent(inv.body);
      if (req.kind === 'notify') await options.onNotify(ref.store, req);
    });
    inner = createFcDispatcher({
      accountId: fcFake.accountId,
      region: 'cn-hangzhou',
      endpoint: fcFake.endpoint,
      notifierFunction: 'checkwatch-notifier',
      pollerFunction: 'checkwatch-poller',
      credentials: CREDS,
      retry: { maxAttempts: 2, baseMs: 1, capMs: 5 },
    });
  }
  ref.store = store;

  const dispatch: Dispatcher = {
    dispatch: (req) => {
      requested.push(req);
      if (req.kind === 'notify' && failing > 0) {
        failing -= 1;
        return Promise.reject(new Error('injected: the invocation was lost'));
      }
      return inner.dispatch(req);
    },
  };

  const bench: Bench = {
    variant,
    sim,
    store,
    ack,
    requested,
    ackCalls,
    ots,
    fc,
    storeRequests: () => storeOps,
    failNextDispatches: (n) => {
      failing = n;
    },
    notified: async () => {
      if (inline !== undefined) {
        await inline.drain();
        return [...inlineNotified];
      }
      await fc?.drain();
      return (fc?.invocations ?? []).flatMap((inv) => {
        if (inv.functionName !== 'checkwatch-notifier') return [];
        const r = parseDispatchEvent(inv.body);
        return r.kind === 'notify'
          ? [{ clusterId: r.clusterId, checkId: r.checkId, generation: r.generation }]
          : [];
      });
    },
    shardInvocations: async () => {
      if (inline !== undefined) {
        await inline.drain();
        return [...inlineShards];
      }
      return (fc?.invocations ?? []).flatMap((inv) => {
        if (inv.functionName !== 'checkwatch-poller') return [];
        const r = parseDispatchEvent(inv.body);
        return r.kind === 'poll-shard' ? [r.shard] : [];
      });
    },
    deps: (over = {}) => ({
      store,
      ack,
      dispatch,
      clock,
      log: silentLogger,
      storeRequests: () => storeOps,
      random: () => 0.5,
      ...over,
    }),
    settings: (over = {}) => ({
      holder: 'test-poller',
      shards: SHARDS,
      deadline: clock.now() + 5_000,
      marginMs: 500,
      loop: false,
      schedule: FAST_SCHEDULE,
      ...over,
    }),
    watch: async (input) => {
      await store.watchCheck(
        {
          region: 'cn-hangzhou',
          routes: ['ops'],
          source: 'watch',
          ...input,
        },
        clock.now(),
      );
    },
    close: async () => {
      await inline?.drain();
      await fc?.drain();
      await store.close();
      await ackClient.close();
      await sim.close();
      await ots?.close();
      await fc?.close();
    },
  };
  return bench;
}

/** Seeds a running check in the simulator and returns its id, typed. */
export function seed(
  sim: Simulator,
  clusterId: ClusterId,
  over: { durationMs?: number; outcome?: string; createdAt?: number; checkItems?: unknown } = {},
): CheckId {
  return sim.seedCheck({ clusterId, durationMs: 600_000, ...over }) as CheckId;
}
