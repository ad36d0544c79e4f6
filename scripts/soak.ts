/**
 * `npm run soak [-- --seed N --checks N --clusters N --arrival MS --tail MS --max-drain MS --max-age MS
 * --pollers N --notifiers N]`: the full fault soak (test/soak/harness.ts); `SOAK_LOG_FILE=path` keeps
 * every log line for a post-mortem. Prints the seed first, a summary table at the end, and exits 1 when
 * an invariant was violated. docs/RELIABILITY.md records the latest figures.
 */
import { formatReport, runSoak, violations } from '../test/soak/harness';

function flag(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`--${name} expects a non-negative number\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const seed = flag('seed') ?? Math.floor(Math.random() * 2 ** 31);
  const checks = flag('checks') ?? 2_000;
  const clusters = flag('clusters') ?? 200;
  process.stdout.write(`soak seed ${seed} (reproduce: npm run soak -- --seed ${seed})\n`);
  const report = await runSoak({
    seed,
    checks,
    clusters,
    arrivalMs: flag('arrival') ?? 360_000,
    faultTailMs: flag('tail') ?? 15_000,
    maxDrainMs: flag('max-drain') ?? 240_000,
    maxAgeMs: flag('max-age') ?? 60_000,
    pollers: flag('pollers') ?? 3,
    notifiers: flag('notifiers') ?? 8,
    logFile: process.env.SOAK_LOG_FILE,
    progress: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
  });
  process.stdout.write(`\n${formatReport(report)}\n\n`);
  const bad = violations(report);
  if (bad.length === 0) {
    process.stdout.write('every invariant held\n');
    return;
  }
  process.stdout.write(
    `${bad.length} invariant violation(s):\n${bad
      .slice(0, 50)
      .map((b) => `  ${b}`)
      .join('\n')}\n`,
  );
  process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
