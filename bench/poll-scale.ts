/**
 * Bench 1 — the poll cycle at scale, and bench 2 — the idle cycle.
 *
 * Poll at scale: 10,000 watched checks over 1,000 clusters (10 per cluster), 5 % of them finished in
 * the simulator just before the cycle, simulator latency 20 ms per call, ACK concurrency 16 for both
 * pollers. One cycle (`loop: false`) per fresh process (bench/poll-worker.ts), over SQLite (a file)
 * and over the Tablestore adapter against the Tablestore fake. Baseline in the same run: the naive
 * poller (bench/naive.ts) over the same client, store and data.
 *
 * Seeding goes through the store's own API (`watchCheck`, with the status the simulator reports for a
 * running check, so the cycle sees what a steady-state cycle sees: most checks unchanged) and the
 * simulator's `seedCheck` / `finishCheck`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../lib/clock';
import { runPoller } from '../lib/poll/cycle';
import { startSimulator, type Simulator } from '../lib/sim/index';
import { createSqliteStore } from '../lib/store/sqlite';
import type { Store } from '../lib/store/store';
import { createTablestoreStore } from '../lib/store/tablestore';
import { createInlineDispatcher } from '../lib/dispatch/inline';
import { silentLogger } from '../lib/log';
import { AckClient } from '../lib/ack/client';
import { startTablestoreFake, type TablestoreFake } from '../test/fakes/tablestore/index';
import {
  CREDS,
  ROOT,
  RESULTS_DIR,
  checkIdFor,
  clusterId,
  lastJsonLine,
  mapLimit,
  median,
  round,
  row,
  runChild,
  writeResult,
  type BenchReport,
  type Machine,
  type Row,
} from './common';
import { countingStore } from './counting-store';
import type { PollWorkerResult, PollWorkerSpec } from './poll-worker';

export const SCALE = {
  checks: 10_000,
  clusters: 1_000,
  finishingFraction: 0.05,
  simLatencyMs: 20,
  ackConcurrency: 16,
  shards: 16,
} as const;

type StoreKind = 'sqlite' | 'tablestore';

interface Prepared {
  readonly sim: Simulator;
  readonly ots?: TablestoreFake | undefined;
  readonly sqlitePath?: string | undefined;
  readonly dir: string;
  readonly seedMs: number;
}

/** A deterministic generator (mulberry32), so every run finishes the same checks. */
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

async function openStore(
  kind: StoreKind,
  prepared: { ots?: TablestoreFake; sqlitePath?: string },
): Promise<Store> {
  if (kind === 'sqlite') return createSqliteStore({ path: prepared.sqlitePath ?? '', shards: SCALE.shards });
  const ots = prepared.ots;
  if (ots === undefined) throw new Error('no Tablestore fake');
  const ts = createTablestoreStore({
    endpoint: ots.endpoint,
    instanceName: ots.instanceName,
    credentials: CREDS,
    shards: SCALE.shards,
  });
  await ts.ensureSchema();
  return ts;
}

/** Starts a simulator and a store holding `checks` watched checks, `finishing` of them finished in ACK. */
async function prepare(kind: StoreKind, checks: number, finishing: number): Promise<Prepared> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'cw-bench-poll-'));
  const sim = await startSimulator({
    seed: 42,
    ...CREDS,
    latencyMs: SCALE.simLatencyMs,
    checkDurationMs: 3_600_000,
  });
  const ots =
    kind === 'tablestore'
      ? await startTablestoreFake({
          accessKeyId: CREDS.accessKeyId,
          accessKeySecret: CREDS.accessKeySecret,
          stsToken: CREDS.securityToken,
        })
      : undefined;
  const sqlitePath = kind === 'sqlite' ? join(dir, 'bench.sqlite') : undefined;
  const store = await openStore(kind, { ...(ots ? { ots } : {}), ...(sqlitePath ? { sqlitePath } : {}) });
  const perCluster = Math.max(1, Math.round(checks / SCALE.clusters));
  const items = Array.from({ length: checks }, (_, i) => {
    const cluster = clusterId(Math.floor(i / perCluster));
    return { cluster, checkId: checkIdFor(cluster, i) };
  });
  const now = Date.now();
  for (const it of items) {
    sim.seedCheck({
      clusterId: it.cluster,
      checkId: it.checkId,
      type: 'ClusterUpgrade',
      createdAt: now - 30_000,
    });
  }
  await mapLimit(items, 32, async (it) => {
    await store.watchCheck(
      {
        clusterId: it.cluster,
        checkId: it.checkId,
        region: 'cn-hangzhou',
        routes: ['ops'],
        source: 'watch',
        type: 'ClusterUpgrade',
        status: 'Running',
        message: 'task running',
      },
      now,
    );
  });
  await store.close();
  const random = rng(7);
  const chosen = new Set<number>();
  while (chosen.size < finishing) chosen.add(Math.floor(random() * checks));
  for (const i of chosen) {
    const it = items[i];
    if (it !== undefined) sim.finishCheck(it.cluster, it.checkId, random() < 0.8 ? 'Succeeded' : 'Failed');
  }
  sim.resetCounters();
  ots?.resetCounters();
  return { sim, ots, sqlitePath, dir, seedMs: performance.now() - started };
}

async function release(p: Prepared): Promise<void> {
  await p.sim.close();
  await p.ots?.close();
  rmSync(p.dir, { recursive: true, force: true });
}

interface PollRun extends PollWorkerResult {
  /** ACK requests the simulator received, by action. */
  readonly simCounters: Record<string, number>;
  /** Requests the Tablestore fake received, by API. */
  readonly otsCounters: Record<string, number>;
  readonly seedMs: number;
}

let bundled: Promise<string> | undefined;

/**
 * The worker bundled like the functions are (esbuild, CommonJS, node20, minified), so the measured
 * process loads what a deployed poller loads — not the TypeScript loader. Written under
 * node_modules/.cache so that better-sqlite3 (external, native) resolves from node_modules.
 */
export function workerBundle(): Promise<string> {
  bundled ??= (async () => {
    const { build } = await import('esbuild');
    const outfile = join(ROOT, 'node_modules', '.cache', 'checkwatch-bench', 'poll-worker.js');
    await build({
      entryPoints: [join(__dirname, 'poll-worker.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      logLevel: 'warning',
      external: ['better-sqlite3', 'proxy-agent'],
      // tsconfig's `strict` implies `alwaysStrict`, which makes esbuild put "use strict" on top of the
      // whole bundle; the tablestore SDK assigns an undeclared `key` (plian_buffer_builder.js) and then
      // throws "key is not defined" in a fresh process. Reported in docs/BENCHMARKS.md.
      tsconfigRaw: { compilerOptions: { alwaysStrict: false } },
    });
    return outfile;
  })();
  return bundled;
}

async function pollOnce(
  kind: StoreKind,
  mode: 'checkwatch' | 'naive',
  opts: { profileDir?: string } = {},
): Promise<PollRun> {
  const finishing = Math.round(SCALE.checks * SCALE.finishingFraction);
  const p = await prepare(kind, SCALE.checks, finishing);
  try {
    const spec: PollWorkerSpec = {
      mode,
      store:
        kind === 'sqlite'
          ? { kind: 'sqlite', path: p.sqlitePath ?? '', shards: SCALE.shards }
          : {
              kind: 'tablestore',
              endpoint: p.ots?.endpoint ?? '',
              instanceName: p.ots?.instanceName ?? '',
              shards: SCALE.shards,
            },
      ackEndpoint: p.sim.endpoint,
      credentials: { ...CREDS },
      ackConcurrency: SCALE.ackConcurrency,
    };
    // The profiled run loads the TypeScript sources through tsx, so frames keep their files and names.
    const nodeArgs =
      opts.profileDir === undefined
        ? [await workerBundle()]
        : [
            '--cpu-prof',
            '--cpu-prof-dir',
            opts.profileDir,
            '--import',
            'tsx',
            join(__dirname, 'poll-worker.ts'),
          ];
    const out = await runChild(process.execPath, nodeArgs, {
      env: { ...process.env, BENCH_POLL_SPEC: JSON.stringify(spec) },
      timeoutMs: 180_000,
    });
    const result = lastJsonLine(out) as PollWorkerResult;
    const { total: _t, rejected: _r, ...sim } = p.sim.counters;
    const { total: _o, ...ots } = p.ots?.counters ?? { total: 0 };
    return { ...result, simCounters: sim, otsCounters: ots, seedMs: Math.round(p.seedMs) };
  } finally {
    await release(p);
  }
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/** Store requests: wire requests for Tablestore, port calls for SQLite. */
const storeReqs = (r: PollRun): number => (r.store === 'tablestore' ? sum(r.otsCounters) : sum(r.storeCalls));

interface Summary {
  readonly runs: number;
  readonly wallMs: number;
  readonly ackCalls: number;
  readonly storeRequests: number;
  readonly rowsWritten: number;
  readonly peakRssMiB: number;
  readonly finished: number;
}

function summarize(runs: readonly PollRun[]): Summary {
  return {
    runs: runs.length,
    wallMs: median(runs.map((r) => r.wallMs)),
    ackCalls: median(runs.map((r) => sum(r.simCounters))),
    storeRequests: median(runs.map(storeReqs)),
    rowsWritten: median(runs.map((r) => r.rowsWritten)),
    peakRssMiB: median(runs.map((r) => r.peakRssMiB)),
    finished: median(runs.map((r) => r.finished)),
  };
}

/** The top frames of a V8 CPU profile by self time, and self time per file/package. */
export function topFrames(
  profilePath: string,
  top = 15,
): {
  totalMs: number;
  frames: { frame: string; selfMs: number; pct: number }[];
  files: { file: string; selfMs: number; pct: number }[];
} {
  interface Node {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }
  const prof = JSON.parse(readFileSync(profilePath, 'utf8')) as {
    nodes: Node[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  prof.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  });
  const shortUrl = (url: string): string => {
    const u = url.replace(/^file:\/\//, '');
    const nm = u.lastIndexOf('node_modules/');
    if (nm >= 0) return u.slice(nm + 'node_modules/'.length);
    return u.startsWith(ROOT) ? u.slice(ROOT.length + 1) : u;
  };
  const frames = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (n === undefined) continue;
    total += us;
    const f = n.callFrame;
    const file = f.url === '' ? f.functionName || '(native)' : shortUrl(f.url);
    const key = `${f.functionName === '' ? '(anonymous)' : f.functionName} ${file}${f.url === '' ? '' : `:${f.lineNumber + 1}`}`;
    frames.set(key, (frames.get(key) ?? 0) + us);
    const pkg =
      file.startsWith('node:') || file.startsWith('(')
        ? file
        : file
            .split('/')
            .slice(
              0,
              file.startsWith('@')
                ? 2
                : file.startsWith('lib/') || file.startsWith('bench/') || file.startsWith('test/')
                  ? 99
                  : 1,
            )
            .join('/');
    files.set(pkg, (files.get(pkg) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => ({ k, selfMs: round(us / 1000, 1), pct: round((us / total) * 100, 1) }));
  return {
    totalMs: round(total / 1000, 0),
    frames: rank(frames).map(({ k, ...r }) => ({ frame: k, ...r })),
    files: rank(files).map(({ k, ...r }) => ({ file: k, ...r })),
  };
}

/** Bench 1: the poll cycle at scale, with its baseline and a CPU profile. */
export async function runPollScaleBench(
  m: Machine,
  opts: { repeats: number; naiveRepeats: number; profile: boolean },
): Promise<BenchReport> {
  const kinds: StoreKind[] = ['sqlite', 'tablestore'];
  const runs: Record<string, PollRun[]> = {};
  for (const kind of kinds) {
    for (const mode of ['checkwatch', 'naive'] as const) {
      const n = mode === 'checkwatch' ? opts.repeats : opts.naiveRepeats;
      const list: PollRun[] = [];
      for (let i = 0; i < n; i++) {
        const r = await pollOnce(kind, mode);
        process.stderr.write(
          `  poll-scale ${kind}/${mode} #${i + 1}: ${r.wallMs} ms, ack ${sum(r.simCounters)}, store ${storeReqs(r)}, rss ${r.peakRssMiB} MiB\n`,
        );
        list.push(r);
      }
      runs[`${kind}/${mode}`] = list;
    }
  }
  let profile: ReturnType<typeof topFrames> | undefined;
  if (opts.profile) {
    const dir = mkdtempSync(join(tmpdir(), 'cw-bench-prof-'));
    await pollOnce('tablestore', 'checkwatch', { profileDir: dir });
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file !== undefined) profile = topFrames(join(dir, file));
    rmSync(dir, { recursive: true, force: true });
  }

  const rows: Row[] = [];
  const summaries: Record<string, Summary> = {};
  const finishing = Math.round(SCALE.checks * SCALE.finishingFraction);
  for (const kind of kinds) {
    const cw = summarize(runs[`${kind}/checkwatch`] ?? []);
    const nv = summarize(runs[`${kind}/naive`] ?? []);
    summaries[`${kind}/checkwatch`] = cw;
    summaries[`${kind}/naive`] = nv;
    const b = `poll-scale ${kind}`;
    rows.push(
      row(b, `wall ms (median of ${cw.runs}; naive ${nv.runs})`, cw.wallMs, {
        baseline: nv.wallMs,
        goal: '≤ 2000',
        met: cw.wallMs <= 2000,
      }),
      row(b, 'ACK calls', cw.ackCalls, {
        baseline: nv.ackCalls,
        goal: `≤ ${SCALE.clusters + finishing}`,
        met: cw.ackCalls <= SCALE.clusters + finishing,
      }),
      row(b, kind === 'tablestore' ? 'Tablestore requests' : 'store port calls', cw.storeRequests, {
        baseline: nv.storeRequests,
        ...(kind === 'tablestore' ? { goal: '≤ 8', met: cw.storeRequests <= 8 } : {}),
      }),
      row(b, 'rows written', cw.rowsWritten, { baseline: nv.rowsWritten }),
      row(b, 'peak RSS MiB (poller process)', cw.peakRssMiB, {
        baseline: nv.peakRssMiB,
        goal: '≤ 150',
        met: cw.peakRssMiB <= 150,
      }),
    );
  }
  if (profile !== undefined) {
    const top = profile.frames[0];
    if (top !== undefined)
      rows.push(row('poll-scale profile', 'top self frame', `${top.frame} (${top.pct} %)`));
  }
  const data = {
    scale: SCALE,
    summaries,
    runs,
    profile,
    notes: [
      'One cycle per fresh child process running bench/poll-worker.ts bundled by esbuild like the functions (minified); peak RSS is that process alone (the simulator and the Tablestore fake run in the parent).',
      'fanOutThreshold is raised so that one invocation polls all 10,000 checks (the default, 4,000, would fan out to shard invocations).',
      'SQLite has no wire: its "store requests" are Store port calls. Tablestore: requests received by the fake.',
    ],
  };
  writeResult('poll-scale', m, data);
  return { name: 'poll-scale', rows, data };
}

/**
 * Bench 2: an idle cycle (nothing due). The store holds 200 outbox entries that are not overdue and
 * nothing running: the cycle must stop after the pending-set read, with no ACK call.
 */
export async function runIdleBench(m: Machine): Promise<BenchReport> {
  const out: Record<string, unknown> = {};
  const rows: Row[] = [];
  for (const kind of ['sqlite', 'tablestore'] as const) {
    const p = await prepare(kind, 0, 0);
    try {
      // A few outbox entries (finished, dispatched just now): present in the pending set, not due.
      const base = await openStore(kind, {
        ...(p.ots ? { ots: p.ots } : {}),
        ...(p.sqlitePath ? { sqlitePath: p.sqlitePath } : {}),
      });
      const now = Date.now();
      for (let i = 0; i < 200; i++) {
        const cluster = clusterId(i, 1);
        const checkId = checkIdFor(cluster, i);
        const { check } = await base.watchCheck(
          { clusterId: cluster, checkId, region: 'cn-hangzhou', routes: ['ops'], source: 'watch' },
          now,
        );
        const { version, ...state } = check;
        await base.applyChanges([
          {
            kind: 'putCheck',
            check: { ...state, status: 'Succeeded', outcome: 'passed', dispatchedAt: now, dispatchCount: 1 },
            expectedVersion: version,
          },
        ]);
      }
      await base.close();
      const wire: Record<string, number> = {};
      const inner =
        kind === 'sqlite'
          ? createSqliteStore({ path: p.sqlitePath ?? '', shards: SCALE.shards })
          : createTablestoreStore({
              endpoint: p.ots?.endpoint ?? '',
              instanceName: p.ots?.instanceName ?? '',
              credentials: CREDS,
              shards: SCALE.shards,
              onRequest: (op) => {
                wire[op] = (wire[op] ?? 0) + 1;
              },
            });
      const { store, calls } = countingStore(inner);
      let ackCalls = 0;
      const ack = new AckClient({
        credentials: CREDS,
        region: 'cn-hangzhou',
        endpoint: p.sim.endpoint,
        onRequest: () => {
          ackCalls += 1;
        },
      });
      const dispatch = createInlineDispatcher({ notify: () => Promise.resolve() });
      p.sim.resetCounters();
      p.ots?.resetCounters();
      const walls: number[] = [];
      let status = '';
      const repeats = 10;
      for (let i = 0; i < repeats; i++) {
        const t = performance.now();
        const r = await runPoller(
          { store, ack, dispatch, clock: systemClock, log: silentLogger },
          { holder: 'bench-idle', shards: SCALE.shards, deadline: Date.now() + 60_000, loop: true },
        );
        walls.push(performance.now() - t);
        status = r.status;
      }
      await store.close();
      await ack.close();
      // Tablestore: requests the fake received; SQLite (no wire): Store port calls.
      const perCycle = (kind === 'tablestore' ? (p.ots?.counters.total ?? 0) : sum(calls)) / repeats;
      // The simulator counts what reached it; the client counts what it sent. Both must be 0.
      const ackPerCycle = Math.max(p.sim.counters.total, ackCalls) / repeats;
      out[kind] = {
        repeats,
        status,
        wallMsMedian: round(median(walls), 2),
        storeRequestsPerCycle: perCycle,
        storeCallsPerCycle: Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, v / repeats])),
        tablestoreRequestsPerCycle: Object.fromEntries(
          Object.entries(wire).map(([k, v]) => [k, v / repeats]),
        ),
        ackCallsPerCycle: ackPerCycle,
      };
      rows.push(
        row(
          `idle ${kind}`,
          kind === 'tablestore' ? 'Tablestore requests / cycle' : 'store port calls / cycle',
          perCycle,
          {
            goal: '≤ 2',
            met: perCycle <= 2,
          },
        ),
        row(`idle ${kind}`, 'ACK calls / cycle', ackPerCycle, { goal: '0', met: ackPerCycle === 0 }),
        row(`idle ${kind}`, `wall ms (median of ${repeats})`, round(median(walls), 2)),
      );
    } finally {
      await release(p);
    }
  }
  const data = {
    setup:
      '200 outbox entries (finished, dispatched just now, not overdue), nothing running; runPoller with loop: true, default settings',
    ...out,
  };
  writeResult('idle', m, data);
  return { name: 'idle', rows, data };
}

export { RESULTS_DIR };
