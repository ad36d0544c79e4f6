/**
 * Shared pieces of the benchmarks: machine facts, statistics, result files, child processes and ids.
 * Benchmarks report; they never fail on slowness. A bench throws only when it could not run.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { CheckId, ClusterId } from '../lib/domain/check';

/** The repository root (bench/ is one level down). */
export const ROOT = join(__dirname, '..');
export const RESULTS_DIR = join(__dirname, 'results');

/** Test credentials shared by the simulator and the fakes (never real ones). */
export const CREDS = {
  accessKeyId: 'STS.benchaccesskeyid',
  accessKeySecret: 'bench-access-key-secret-0123456789',
  securityToken: 'bench-sts-token-abcdefghij',
} as const;

export interface Machine {
  readonly date: string;
  readonly nproc: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly memGiB: number;
  /** 1, 5 and 15-minute load averages when the run started. */
  readonly loadAtStart: readonly number[];
}

/** What `nproc`, `node -v`, /proc/cpuinfo and /proc/loadavg say right now. */
export function machine(): Machine {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1] !== undefined) cpuModel = m[1].trim();
  } catch {
    // Not Linux: os.cpus() is good enough.
  }
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpuModel,
    node: process.version,
    memGiB: Math.round(totalmem() / 2 ** 30),
    loadAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** The value at quantile `q` (0..1) of `values`, nearest-rank; NaN for an empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** Rounds for display and JSON (figures carry no false precision). */
export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** `a / b`, rounded; undefined when the baseline is zero. */
export function ratio(a: number, b: number): number | undefined {
  return b === 0 ? undefined : round(a / b, 3);
}

/** One line of the summary table. */
export interface Row {
  readonly bench: string;
  readonly metric: string;
  readonly value: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly goal: string;
  /** 'met', 'NOT met', or '' when the figure has no goal. */
  readonly verdict: string;
}

export interface BenchReport {
  readonly name: string;
  readonly rows: Row[];
  /** Everything measured, written to bench/results/<name>.json. */
  readonly data: Record<string, unknown>;
}

/** A summary row; `met` undefined for a figure without a goal. */
export function row(
  bench: string,
  metric: string,
  value: number | string,
  opts: { baseline?: number | string; goal?: string; met?: boolean; unit?: string } = {},
): Row {
  const unit = opts.unit ?? '';
  const fmt = (v: number | string | undefined): string =>
    v === undefined ? '' : typeof v === 'number' ? `${Number.isFinite(v) ? v : 'n/a'}${unit}` : v;
  const r =
    typeof value === 'number' && typeof opts.baseline === 'number' ? ratio(value, opts.baseline) : undefined;
  return {
    bench,
    metric,
    value: fmt(value),
    baseline: fmt(opts.baseline),
    ratio: r === undefined ? '' : `${r}×`,
    goal: opts.goal ?? '',
    verdict: opts.met === undefined ? '' : opts.met ? 'met' : 'NOT met',
  };
}

/** Writes `bench/results/<name>.json` with the machine facts and the run's figures. */
export function writeResult(name: string, m: Machine, data: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, JSON.stringify({ bench: name, machine: m, ...data }, null, 2) + '\n');
  return file;
}

/** Renders rows as a fixed-width text table. */
export function table(rows: readonly Row[]): string {
  const cols = ['bench', 'metric', 'value', 'baseline', 'ratio', 'goal', 'verdict'] as const;
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(width[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    line(cols),
    line(width.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(cols.map((c) => r[c]))),
  ].join('\n');
}

export interface ChildResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit, ms. */
  readonly wallMs: number;
}

/** Runs a process to its end, collecting its output; rejects only when it could not be started. */
export function runChild(
  command: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      cwd: opts.cwd ?? ROOT,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ code, stdout, stderr, wallMs: performance.now() - started });
    });
  });
}

/** The last JSON line a child printed on stdout. */
export function lastJsonLine(out: ChildResult): unknown {
  const lines = out.stdout.trim().split('\n').reverse();
  for (const l of lines) {
    if (l.startsWith('{')) return JSON.parse(l) as unknown;
  }
  throw new Error(
    `child printed no JSON line (exit ${String(out.code)}): ${out.stderr.slice(-2000) || out.stdout.slice(-2000)}`,
  );
}

/** A valid, deterministic cluster id: `c` + 31 hex digits. */
export function clusterId(i: number, tag = 0): ClusterId {
  return `c${tag.toString(16).padStart(4, '0')}${i.toString(16).padStart(27, '0')}` as ClusterId;
}

/** A check id in ACK's format (`<19 digits>-<cluster>-clustercheck-<5>`). */
export function checkIdFor(cluster: string, i: number): CheckId {
  const ts = (1_700_000_000_000_000_000n + BigInt(i)).toString();
  const suffix = i.toString(36).padStart(5, '0').slice(-5);
  return `${ts}-${cluster}-clustercheck-${suffix}` as CheckId;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Peak resident set size of this process so far, MiB. */
export function peakRssMiB(): number {
  return round(process.resourceUsage().maxRSS / 1024, 1);
}
