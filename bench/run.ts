/**
 * `npm run bench` (= `tsx bench/run.ts`): runs every benchmark in turn and prints ONE summary table.
 * Each bench also writes bench/results/<name>.json; this entry writes bench/results/summary.json.
 *
 * `npx tsx bench/run.ts [poll-scale] [idle] [latency] [cold-start] [burst]` runs a subset.
 * Environment: BENCH_REPEATS (poll-scale repeats, default 3), BENCH_NAIVE_REPEATS (default 1),
 * BENCH_COLD_RUNS (fresh processes per artefact, default 10), BENCH_NO_PROFILE=1 (skip the CPU profile).
 *
 * Benchmarks report; slowness never fails the run. The exit code is non-zero only when a bench could
 * not run.
 */
import { runBurstBench } from './burst';
import { runColdStartBench } from './cold-start';
import { machine, table, writeResult, type BenchReport, type Row } from './common';
import { runLatencyBench } from './latency';
import { runIdleBench, runPollScaleBench } from './poll-scale';

const ALL = ['poll-scale', 'idle', 'latency', 'cold-start', 'burst'] as const;
type Name = (typeof ALL)[number];

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined ? fallback : Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}

async function main(): Promise<void> {
  const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = asked.filter((a) => !(ALL as readonly string[]).includes(a));
  if (unknown.length > 0) throw new Error(`unknown bench: ${unknown.join(', ')} (known: ${ALL.join(', ')})`);
  const names: readonly Name[] = asked.length === 0 ? ALL : (asked as Name[]);
  const m = machine();
  process.stderr.write(
    `checkwatch benchmarks — ${m.date}, ${m.nproc} CPU (${m.cpuModel}), node ${m.node}, load ${m.loadAtStart.join(' ')}\n`,
  );
  const started = performance.now();
  const reports: BenchReport[] = [];
  const failures: string[] = [];
  const timings: Record<string, number> = {};
  for (const name of names) {
    const t = performance.now();
    process.stderr.write(`▶ ${name}\n`);
    try {
      switch (name) {
        case 'poll-scale':
          reports.push(
            await runPollScaleBench(m, {
              repeats: Math.max(1, intEnv('BENCH_REPEATS', 3)),
              naiveRepeats: Math.max(1, intEnv('BENCH_NAIVE_REPEATS', 1)),
              profile: process.env.BENCH_NO_PROFILE !== '1',
            }),
          );
          break;
        case 'idle':
          reports.push(await runIdleBench(m));
          break;
        case 'latency':
          reports.push(await runLatencyBench(m));
          break;
        case 'cold-start':
          reports.push(await runColdStartBench(m, Math.max(1, intEnv('BENCH_COLD_RUNS', 10))));
          break;
        case 'burst':
          reports.push(await runBurstBench(m));
          break;
        default: {
          const never: never = name;
          throw new Error(`unknown bench ${String(never)}`);
        }
      }
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    timings[name] = Math.round((performance.now() - t) / 1000);
    process.stderr.write(`  ${name} took ${timings[name]} s\n`);
  }
  const rows: Row[] = reports.flatMap((r) => r.rows);
  const totalS = Math.round((performance.now() - started) / 1000);
  process.stdout.write(`\n${table(rows)}\n\ntotal ${totalS} s; results in bench/results/\n`);
  if (names.length === ALL.length) {
    writeResult('summary', m, {
      command: 'npm run bench',
      totalSeconds: totalS,
      secondsPerBench: timings,
      rows,
      failures,
    });
  }
  if (failures.length > 0) {
    process.stderr.write(`\ncould not run:\n${failures.join('\n')}\n`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
