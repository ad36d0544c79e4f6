/**
 * Bench 4 — cold start of the bundled functions. For each of dist/poller, dist/notifier and dist/api
 * (built by `node scripts/build.mjs`): bundle bytes, and in 10 fresh `node` processes each the time
 * from process start to the handler being ready (require done) and to one idle invocation done (a
 * timer tick with nothing pending; a notify event for an unknown check; GET /v1/healthz), against the
 * Tablestore fake, the ACK simulator and the FC fake. Baseline in the same run: handlers of the same
 * jobs on the official SDKs, unbundled (bench/baseline/*.ts, transpiled file by file, SDKs required
 * from node_modules). Also: what dominates each bundle (esbuild metafile, top inputs by bytes).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeDispatchEvent } from '../lib/dispatch/dispatch';
import { startSimulator } from '../lib/sim/index';
import { createTablestoreStore } from '../lib/store/tablestore';
import { startFcFake } from '../test/fakes/fc/index';
import { startTablestoreFake } from '../test/fakes/tablestore/index';
import {
  CREDS,
  ROOT,
  lastJsonLine,
  median,
  round,
  row,
  runChild,
  writeResult,
  type BenchReport,
  type Machine,
  type Row,
} from './common';

const FUNCTIONS = ['poller', 'notifier', 'api'] as const;
type Fn = (typeof FUNCTIONS)[number];
const CACHE = join(ROOT, 'node_modules', '.cache', 'checkwatch-bench');

/**
 * Runs in each fresh process: `performance.now()` counts from the process's time origin (its start),
 * so `ready` and `done` include Node's own boot.
 */
const RUNNER = `
const { performance } = require('node:perf_hooks');
const file = process.env.BENCH_MODULE;
const mod = file ? require(file) : { handler: async () => ({}) };
const ready = performance.now();
Promise.resolve()
  .then(() => mod.handler(Buffer.from(process.env.BENCH_EVENT), JSON.parse(process.env.BENCH_CONTEXT)))
  .then(
    (r) => {
      const done = performance.now();
      const s = r && (r.status ?? r.statusCode);
      process.stdout.write(JSON.stringify({ ok: true, ready, done, status: s === undefined ? null : s }) + '\\n');
      process.exit(0);
    },
    (e) => {
      process.stdout.write(JSON.stringify({ ok: false, ready, error: String((e && e.code) || ''), message: String(e && e.message).slice(0, 300) }) + '\\n');
      process.exit(0);
    },
  );
`;

interface Sample {
  readonly ok: boolean;
  readonly ready: number;
  readonly done?: number;
  readonly status?: unknown;
  readonly error?: string;
  readonly message?: string;
}

interface Measured {
  readonly file: string;
  readonly bytes?: number | undefined;
  readonly ok: boolean;
  readonly readyMs: number;
  readonly doneMs: number;
  readonly wallMs: number;
  readonly status?: unknown;
  readonly error?: string | undefined;
}

async function measure(file: string, event: string, env: NodeJS.ProcessEnv, runs: number): Promise<Measured> {
  const samples: Sample[] = [];
  const walls: number[] = [];
  const context = {
    requestId: 'bench-cold',
    credentials: CREDS,
    function: { name: 'checkwatch-bench', timeout: 60, memory: 256 },
    region: 'cn-hangzhou',
    accountId: '1234567890123456',
  };
  for (let i = 0; i < runs; i++) {
    const out = await runChild(process.execPath, ['-e', RUNNER], {
      env: { ...env, BENCH_MODULE: file, BENCH_EVENT: event, BENCH_CONTEXT: JSON.stringify(context) },
      timeoutMs: 30_000,
    });
    samples.push(lastJsonLine(out) as Sample);
    walls.push(out.wallMs);
  }
  // An HTTP answer of 5xx (the API's health check when the store fails) is a failed invocation too.
  const good = (s: Sample): boolean => s.ok && !(typeof s.status === 'number' && s.status >= 500);
  const ok = samples.every(good);
  const failed = samples.find((s) => !good(s));
  return {
    file: file === '' ? '(empty handler)' : file.slice(ROOT.length + 1),
    bytes: file === '' ? undefined : statSync(file).size,
    ok,
    readyMs: round(median(samples.map((s) => s.ready)), 1),
    doneMs: round(median(samples.map((s) => s.done ?? Number.NaN)), 1),
    wallMs: round(median(walls), 1),
    status: samples[0]?.status,
    error:
      failed === undefined
        ? undefined
        : `${failed.error ?? ''} ${failed.message ?? ''}`.trim() || `status ${String(failed.status)}`,
  };
}

interface TopInput {
  readonly input: string;
  readonly bytes: number;
}

/**
 * dist/<fn> as built, minus the leading "use strict" directive: exactly what building with
 * `alwaysStrict: false` gives (esbuild adds the directive only because tsconfig's `strict` implies it).
 */
function unstrictCopy(fn: Fn): string {
  const from = join(ROOT, 'dist', fn);
  const to = join(CACHE, 'unstrict', fn);
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) {
    const text = readFileSync(join(from, f), 'utf8');
    writeFileSync(join(to, f), f.endsWith('.js') ? text.replace(/^"use strict";/, '') : text);
  }
  return join(to, 'index.js');
}

/**
 * What dominates each function's index.js: esbuild's metafile for a build with the options of
 * scripts/build.mjs (@alicloud/fc2 left out: build.mjs ships it as a separate, lazily loaded fc2.js).
 */
async function buildAnalysed(): Promise<Record<string, { byPackage: TopInput[] }>> {
  const { build } = await import('esbuild');
  const out: Record<string, { byPackage: TopInput[] }> = {};
  for (const fn of FUNCTIONS) {
    const entry = join(ROOT, 'functions', fn, 'index.ts');
    if (!existsSync(entry)) continue;
    const outfile = join(CACHE, 'analysed', fn, 'index.js');
    const res = await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      sourcemap: false,
      legalComments: 'none',
      logLevel: 'warning',
      minify: true,
      external: ['better-sqlite3', 'proxy-agent', '@alicloud/fc2'],
      metafile: true,
      write: false,
    });
    const inputs = Object.values(res.metafile.outputs).flatMap((o) => Object.entries(o.inputs));
    const byPkg = new Map<string, number>();
    for (const [path, info] of inputs) {
      const nm = path.lastIndexOf('node_modules/');
      let key: string;
      if (nm >= 0) {
        const rest = path.slice(nm + 'node_modules/'.length).split('/');
        key = rest[0]?.startsWith('@') === true ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? path);
      } else key = path.split('/').slice(0, 2).join('/');
      byPkg.set(key, (byPkg.get(key) ?? 0) + info.bytesInOutput);
    }
    out[fn] = {
      byPackage: [...byPkg.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10)
        .map(([input, bytes]) => ({ input, bytes })),
    };
  }
  return out;
}

/** Transpiles bench/baseline/*.ts file by file (no bundling: the SDKs load from node_modules). */
async function buildBaselines(): Promise<Record<string, string>> {
  const { build } = await import('esbuild');
  const dir = join(__dirname, 'baseline');
  const outdir = join(CACHE, 'baseline');
  mkdirSync(outdir, { recursive: true });
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  await build({
    entryPoints: files.map((f) => join(dir, f)),
    outdir,
    bundle: false,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
  });
  return Object.fromEntries(
    files.map((f) => [f.replace(/\.ts$/, ''), join(outdir, f.replace(/\.ts$/, '.js'))]),
  );
}

/** Bench 4. `runs` fresh processes per artefact. */
export async function runColdStartBench(m: Machine, runs = 10): Promise<BenchReport> {
  const built = await runChild(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--quiet']);
  if (built.code !== 0) throw new Error(`node scripts/build.mjs failed: ${built.stderr.slice(-2000)}`);
  const analysed = await buildAnalysed();
  const baselines = await buildBaselines();

  const sim = await startSimulator({ seed: 3, ...CREDS });
  const ots = await startTablestoreFake({
    accessKeyId: CREDS.accessKeyId,
    accessKeySecret: CREDS.accessKeySecret,
    stsToken: CREDS.securityToken,
  });
  const fc = await startFcFake({ ...CREDS, accountId: '1234567890123456' });
  const schema = createTablestoreStore({
    endpoint: ots.endpoint,
    instanceName: ots.instanceName,
    credentials: CREDS,
  });
  await schema.ensureSchema();
  await schema.close();

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
    CHECKWATCH_LOG_LEVEL: 'error',
    CHECKWATCH_STORE: 'tablestore',
    CHECKWATCH_OTS_ENDPOINT: ots.endpoint,
    CHECKWATCH_OTS_INSTANCE: ots.instanceName,
    CHECKWATCH_ACK_ENDPOINT: sim.endpoint,
    CHECKWATCH_DISPATCH: 'fc',
    CHECKWATCH_FC_ENDPOINT: fc.endpoint,
    CHECKWATCH_FC_ACCOUNT_ID: '1234567890123456',
    CHECKWATCH_NOTIFIER_FUNCTION: 'checkwatch-notifier',
    CHECKWATCH_POLLER_FUNCTION: 'checkwatch-poller',
    HOOK_URL: 'http://127.0.0.1:9/hook',
    HOOK_SECRET: 'whsec_YmVuY2gtY29sZC1zdGFydC1zZWNyZXQ=',
    CHECKWATCH_CONFIG: JSON.stringify({
      channels: { hook: { type: 'webhook', url: { env: 'HOOK_URL' }, secret: { env: 'HOOK_SECRET' } } },
      routes: { ops: { channels: ['hook'] } },
      defaults: { routes: ['ops'] },
    }),
  };
  const events: Record<Fn, string> = {
    poller: JSON.stringify({
      triggerTime: new Date().toISOString(),
      triggerName: 'every-minute',
      payload: '{}',
    }),
    notifier: encodeDispatchEvent({
      kind: 'notify',
      clusterId: 'c0000000000000000000000000000cold',
      checkId: '1700000000000000000-c0000000000000000000000000000cold-clustercheck-aaaaa',
      generation: 1,
    }),
    api: JSON.stringify({
      version: 'v1',
      rawPath: '/v1/healthz',
      body: '',
      isBase64Encoded: false,
      headers: {},
      queryParameters: {},
      requestContext: {
        accountId: '1234567890123456',
        domainName: 'bench.cn-hangzhou.fcapp.run',
        http: {
          method: 'GET',
          path: '/v1/healthz',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'bench',
        },
        requestId: 'bench-cold',
        time: new Date().toISOString(),
        timeEpoch: String(Date.now()),
      },
    }),
  };

  const results: Record<string, unknown> = {};
  const rows: Row[] = [];
  try {
    const empty = await measure('', '{}', env, runs);
    results.emptyHandler = empty;
    for (const fn of FUNCTIONS) {
      const dist = join(ROOT, 'dist', fn, 'index.js');
      if (!existsSync(dist)) {
        results[fn] = { missing: true };
        rows.push(row(`cold ${fn}`, 'bundle', 'not built (functions/' + fn + ' missing)'));
        continue;
      }
      const shipped = await measure(dist, events[fn], env, runs);
      const fixed = shipped.ok ? undefined : await measure(unstrictCopy(fn), events[fn], env, runs);
      const base = baselines[fn];
      const baseline = base === undefined ? undefined : await measure(base, events[fn], env, runs);
      results[fn] = { shipped, fixedBuild: fixed, baseline, bundleInputs: analysed[fn]?.byPackage };
      const best = shipped.ok ? shipped : (fixed ?? shipped);
      const label = shipped.ok ? '' : ' (alwaysStrict fix)';
      const kb = round((shipped.bytes ?? 0) / 1024, 1);
      const fc2 = join(ROOT, 'dist', fn, 'fc2.js');
      rows.push(
        row(`cold ${fn}`, 'index.js KiB', kb, { goal: '≤ 1024', met: kb <= 1024 }),
        ...(existsSync(fc2)
          ? [row(`cold ${fn}`, 'fc2.js KiB (loaded on first dispatch)', round(statSync(fc2).size / 1024, 1))]
          : []),
        row(`cold ${fn}`, `ready ms (median of ${runs})`, best.readyMs, {
          ...(baseline ? { baseline: baseline.readyMs } : {}),
          goal: '≤ 0.35× baseline',
          ...(baseline ? { met: best.readyMs <= 0.35 * baseline.readyMs } : {}),
        }),
        row(
          `cold ${fn}`,
          `idle invocation done ms${label}`,
          best.ok ? best.doneMs : `FAILED: ${best.error ?? ''}`,
          {
            ...(baseline ? { baseline: baseline.doneMs } : {}),
            goal: '≤ 0.35× baseline',
            ...(baseline && best.ok ? { met: best.doneMs <= 0.35 * baseline.doneMs } : { met: false }),
          },
        ),
      );
      if (!shipped.ok) {
        rows.push(row(`cold ${fn}`, 'dist bundle as built', `FAILS: ${shipped.error ?? ''}`.slice(0, 90)));
      }
    }
    rows.push(row('cold node', 'empty handler: ready / done ms', `${empty.readyMs} / ${empty.doneMs}`));
  } finally {
    await sim.close();
    await ots.close();
    await fc.close();
  }
  const data = {
    runs,
    method:
      'node -e RUNNER per sample: require(bundle), then handler(event, context); times are performance.now() at require done / handler resolved, i.e. ms since the process time origin (Node boot included). Medians.',
    results,
  };
  writeResult('cold-start', m, data);
  return { name: 'cold-start', rows, data };
}
