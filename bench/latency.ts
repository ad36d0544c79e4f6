/**
 * Bench 3 — detection latency, in real time (no scaling): from the moment the simulator finishes a
 * check to the moment the chat fake accepts the message about it.
 *
 * Two pipelines run side by side over the same window, each with its own simulator (20 ms per call),
 * SQLite store, notifier and Standard Webhooks receiver (a webhook channel: the receiver has no rate
 * limit, so platform limits do not dominate the figure; bench 5 covers them):
 * - checkwatch as deployed: a timer fires every 60 s and starts `runPoller` with `deadline = tick + 60 s`
 *   and default settings (inner loop on, default schedule, default margin);
 * - the baseline: the same with the inner loop disabled (`loop: false`: one poll per timer tick).
 * Hand-off is inline dispatch → `createNotifier` → webhook channel → the fake.
 * 200 checks (4 per cluster) start together and finish at uniformly random times over the window.
 */
import { AckClient } from '../lib/ack/client';
import { systemClock } from '../lib/clock';
import { loadConfig } from '../lib/config';
import { createInlineDispatcher } from '../lib/dispatch/inline';
import { silentLogger } from '../lib/log';
import { buildChannels } from '../lib/notify/channels';
import { createNotifier } from '../lib/notify/notifier';
import { POLLER_ACK_RETRY_POLICY, runPoller } from '../lib/poll/cycle';
import { startSimulator } from '../lib/sim/index';
import { createSqliteStore } from '../lib/store/sqlite';
import { startChatFake } from '../test/fakes/chat/index';
import {
  CREDS,
  checkIdFor,
  clusterId,
  quantile,
  round,
  row,
  writeResult,
  type BenchReport,
  type Machine,
} from './common';

export interface LatencyOptions {
  /** Window over which the checks finish, ms (default 180 s). */
  readonly windowMs: number;
  readonly checks: number;
  /** Timer cadence, ms (FC's minimum: 60 s). */
  readonly tickMs: number;
}

export const LATENCY_DEFAULTS: LatencyOptions = { windowMs: 180_000, checks: 200, tickMs: 60_000 };

interface PipelineResult {
  readonly latenciesMs: number[];
  readonly delivered: number;
  readonly missing: number;
  readonly ticks: number;
  readonly iterations: number;
  readonly ackCalls: number;
}

/** A deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface WebhookCheck {
  readonly cluster?: { readonly id?: string };
  readonly check?: { readonly id?: string };
}

/** (cluster, check) keys a webhook payload carries (one check, or a digest). */
function keysOf(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const b = body as { check?: WebhookCheck; checks?: WebhookCheck[] };
  const list = b.checks ?? (b.check === undefined ? [] : [b.check]);
  return list.map((c) => `${c.cluster?.id ?? ''}/${c.check?.id ?? ''}`);
}

async function pipeline(
  loop: boolean,
  opts: LatencyOptions,
  t0: number,
  tag: number,
): Promise<PipelineResult> {
  const sim = await startSimulator({ seed: 5, ...CREDS, latencyMs: 20, checkDurationMs: 3_600_000 });
  const hook = await startChatFake({ platform: 'webhook' });
  const loaded = loadConfig({
    env: {
      HOOK_URL: hook.url,
      HOOK_SECRET: hook.secret ?? '',
      CHECKWATCH_CONFIG: JSON.stringify({
        channels: { hook: { type: 'webhook', url: { env: 'HOOK_URL' }, secret: { env: 'HOOK_SECRET' } } },
        routes: { ops: { channels: ['hook'] } },
        defaults: { routes: ['ops'] },
      }),
    },
  });
  const store = createSqliteStore({ path: ':memory:' });
  let ackCalls = 0;
  const ack = new AckClient({
    credentials: CREDS,
    region: 'cn-hangzhou',
    endpoint: sim.endpoint,
    retry: POLLER_ACK_RETRY_POLICY,
    onRequest: () => {
      ackCalls += 1;
    },
  });
  const notifier = createNotifier({
    store,
    channels: buildChannels(loaded.config, { log: silentLogger }),
    config: loaded.config,
    clock: systemClock,
    log: silentLogger,
  });
  const dispatch = createInlineDispatcher({
    notify: async (cid, chk) => {
      await notifier.notify(cid, chk, { deadline: Date.now() + 60_000, holder: `notifier-${cid}-${chk}` });
    },
  });

  const random = rng(tag === 0 ? 11 : 11);
  const keys: { cluster: string; checkId: string }[] = [];
  for (let i = 0; i < opts.checks; i++) {
    const cluster = clusterId(Math.floor(i / 4), 0x200 + tag);
    const checkId = checkIdFor(cluster, i);
    // Finish times spread over the window (not in its first second, so the first tick sees them running).
    const durationMs = 1_000 + random() * (opts.windowMs - 1_000);
    sim.seedCheck({ clusterId: cluster, checkId, createdAt: t0, durationMs, outcome: 'Succeeded' });
    await store.watchCheck(
      {
        clusterId: cluster,
        checkId: checkId,
        region: 'cn-hangzhou',
        routes: ['ops'],
        source: 'watch',
      },
      Date.now(),
    );
    keys.push({ cluster, checkId });
  }

  const runs: Promise<void>[] = [];
  let ticks = 0;
  let iterations = 0;
  const tick = (): void => {
    ticks += 1;
    const start = Date.now();
    runs.push(
      runPoller(
        { store, ack, dispatch, clock: systemClock, log: silentLogger },
        { holder: `tick-${ticks}`, shards: 16, deadline: start + opts.tickMs, loop },
      ).then(
        (r) => {
          iterations += r.iterations;
        },
        (err: unknown) => {
          process.stderr.write(`latency: poller failed: ${String(err)}\n`);
        },
      ),
    );
  };
  // A tick at t0, then every tickMs until the window has closed (the tick at the window's end
  // detects what finished during the last minute).
  const lastTickAt = t0 + Math.ceil(opts.windowMs / opts.tickMs) * opts.tickMs;
  for (let at = t0; at <= lastTickAt; at += opts.tickMs) {
    await systemClock.sleep(Math.max(0, at - Date.now()));
    tick();
  }
  await Promise.all(runs);
  await dispatch.drain();

  const acceptedAt = new Map<string, number>();
  for (const m of hook.accepted)
    for (const k of keysOf(m.body)) if (!acceptedAt.has(k)) acceptedAt.set(k, m.at);
  const latenciesMs: number[] = [];
  let missing = 0;
  for (const k of keys) {
    const finished = sim.finishedAt(k.cluster, k.checkId);
    const at = acceptedAt.get(`${k.cluster}/${k.checkId}`);
    if (finished === undefined || at === undefined) missing += 1;
    else latenciesMs.push(at - finished);
  }
  await store.close();
  await ack.close();
  await sim.close();
  await hook.close();
  return { latenciesMs, delivered: latenciesMs.length, missing, ticks, iterations, ackCalls };
}

const stats = (l: readonly number[]): { p50: number; p90: number; p99: number; max: number } => ({
  p50: round(quantile(l, 0.5) / 1000, 2),
  p90: round(quantile(l, 0.9) / 1000, 2),
  p99: round(quantile(l, 0.99) / 1000, 2),
  max: round(quantile(l, 1) / 1000, 2),
});

/** Bench 3: detection latency with the inner loop, and without it (baseline), in the same window. */
export async function runLatencyBench(
  m: Machine,
  opts: LatencyOptions = LATENCY_DEFAULTS,
): Promise<BenchReport> {
  // Both pipelines are seeded relative to the same t0, a little ahead so seeding is done by then.
  const t0 = Date.now() + 3_000;
  const [withLoop, noLoop] = await Promise.all([pipeline(true, opts, t0, 0), pipeline(false, opts, t0, 1)]);
  const a = stats(withLoop.latenciesMs);
  const b = stats(noLoop.latenciesMs);
  const rows = [
    row('latency', 'p50 s (loop on)', a.p50, { baseline: b.p50, goal: '≤ 3', met: a.p50 <= 3 }),
    row('latency', 'p90 s', a.p90, { baseline: b.p90 }),
    row('latency', 'p99 s', a.p99, { baseline: b.p99, goal: '≤ 8', met: a.p99 <= 8 }),
    row('latency', 'delivered / checks', `${withLoop.delivered}/${opts.checks}`, {
      baseline: `${noLoop.delivered}/${opts.checks}`,
      goal: 'all',
      met: withLoop.missing === 0,
    }),
    row('latency', 'ACK calls', withLoop.ackCalls, { baseline: noLoop.ackCalls }),
  ];
  const data = {
    options: opts,
    setup:
      'real time, unscaled; 200 checks over 50 clusters, finishing uniformly over the window; timer every 60 s starting runPoller with deadline = tick + 60 s, default settings; inline dispatch → notifier → webhook channel → Standard Webhooks fake (no rate limit); simulator latency 20 ms',
    withLoop: { ...a, ...withLoop },
    baselineNoLoop: { ...b, ...noLoop },
  };
  writeResult('latency', m, data);
  return { name: 'latency', rows, data };
}
