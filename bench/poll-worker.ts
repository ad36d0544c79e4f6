/**
 * One poll cycle in a fresh process, so that its peak RSS is the poller's alone (the simulator and the
 * Tablestore fake live in the parent, bench/poll-scale.ts). Reads its job from the BENCH_POLL_SPEC
 * environment variable (JSON), prints one JSON line with what it measured, and exits.
 *
 * The parent bundles it with esbuild first (as the functions are bundled) and runs the bundle with
 * `node` (with `--cpu-prof` for the profile).
 */
import { AckClient } from '../lib/ack/client';
import { systemClock } from '../lib/clock';
import { createInlineDispatcher } from '../lib/dispatch/inline';
import { silentLogger } from '../lib/log';
import { POLLER_ACK_RETRY_POLICY, runPoller } from '../lib/poll/cycle';
import { createSqliteStore } from '../lib/store/sqlite';
import type { Store } from '../lib/store/store';
import { createTablestoreStore } from '../lib/store/tablestore';
import { countingStore } from './counting-store';
import { runNaivePoller } from './naive';

export interface PollWorkerSpec {
  readonly mode: 'checkwatch' | 'naive';
  readonly store:
    | { readonly kind: 'sqlite'; readonly path: string; readonly shards: number }
    | {
        readonly kind: 'tablestore';
        readonly endpoint: string;
        readonly instanceName: string;
        readonly shards: number;
      };
  readonly ackEndpoint: string;
  readonly credentials: { accessKeyId: string; accessKeySecret: string; securityToken: string };
  readonly ackConcurrency: number;
}

export interface PollWorkerResult {
  readonly mode: PollWorkerSpec['mode'];
  readonly store: PollWorkerSpec['store']['kind'];
  readonly wallMs: number;
  /** ACK requests sent by the client (attempts), by action. */
  readonly ackCalls: Record<string, number>;
  /** Wire requests by Tablestore API (empty for SQLite). */
  readonly storeRequests: Record<string, number>;
  /** Store port calls by method (both stores). */
  readonly storeCalls: Record<string, number>;
  readonly rowsWritten: number;
  readonly finished: number;
  readonly dispatched: number;
  readonly rssBeforeMiB: number;
  readonly peakRssMiB: number;
  readonly heapUsedMiB: number;
  readonly totals: Record<string, unknown>;
}

const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

async function main(): Promise<void> {
  const raw = process.env.BENCH_POLL_SPEC;
  if (raw === undefined) throw new Error('BENCH_POLL_SPEC is not set');
  const spec = JSON.parse(raw) as PollWorkerSpec;
  const rssBeforeMiB = mib(process.memoryUsage().rss);

  const storeRequests: Record<string, number> = {};
  let inner: Store;
  if (spec.store.kind === 'sqlite') {
    inner = createSqliteStore({ path: spec.store.path, shards: spec.store.shards });
  } else {
    inner = createTablestoreStore({
      endpoint: spec.store.endpoint,
      instanceName: spec.store.instanceName,
      credentials: spec.credentials,
      shards: spec.store.shards,
      onRequest: (op) => {
        storeRequests[op] = (storeRequests[op] ?? 0) + 1;
      },
    });
  }
  const { store, calls: storeCalls } = countingStore(inner);
  const ackCalls: Record<string, number> = {};
  const ack = new AckClient({
    credentials: spec.credentials,
    region: 'cn-hangzhou',
    endpoint: spec.ackEndpoint,
    retry: POLLER_ACK_RETRY_POLICY,
    onRequest: ({ action }) => {
      ackCalls[action] = (ackCalls[action] ?? 0) + 1;
    },
  });
  let dispatched = 0;
  // The notifier side is out of scope here: the hand-off is counted and returns at once.
  const dispatch = createInlineDispatcher({
    notify: () => {
      dispatched += 1;
      return Promise.resolve();
    },
  });

  const started = performance.now();
  let rowsWritten: number;
  let finished: number;
  let totals: Record<string, unknown>;
  if (spec.mode === 'checkwatch') {
    const r = await runPoller(
      { store, ack, dispatch, clock: systemClock, log: silentLogger },
      {
        holder: `bench-${process.pid}`,
        shards: spec.store.shards,
        deadline: Date.now() + 120_000,
        loop: false,
        ackConcurrency: spec.ackConcurrency,
        // One invocation over the whole set: the benchmark measures one cycle, not the fan-out.
        fanOutThreshold: Number.MAX_SAFE_INTEGER,
      },
    );
    rowsWritten = r.totals.rowsWritten;
    finished = r.totals.finished;
    totals = { status: r.status, ...r.totals };
  } else {
    const r = await runNaivePoller({ store, ack, dispatch, clock: systemClock }, spec.ackConcurrency);
    rowsWritten = r.rowsWritten;
    finished = r.finished;
    totals = { ...r };
  }
  await dispatch.drain();
  const wallMs = performance.now() - started;
  const result: PollWorkerResult = {
    mode: spec.mode,
    store: spec.store.kind,
    wallMs: Math.round(wallMs),
    ackCalls,
    storeRequests,
    storeCalls,
    rowsWritten,
    finished,
    dispatched,
    rssBeforeMiB,
    peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
    heapUsedMiB: mib(process.memoryUsage().heapUsed),
    totals,
  };
  await store.close();
  await ack.close();
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(
    `poll worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
