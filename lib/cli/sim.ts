import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliContext } from './context';
import type { CliDeps } from './deps';
import { parseDuration, parseNonNegativeInt, parsePort, parseProbability } from './parse';

/**
 * `checkwatch sim`: the ACK cluster-check simulator (lib/sim) as a process, for the demo, manual
 * testing and end-to-end tests. Prints one JSON line saying how to reach it, then serves until
 * SIGINT/SIGTERM, closes and exits 0.
 */

/** The cluster `--demo` adds, known to scripts/demo.mjs. */
export const DEMO_CLUSTER_ID = 'c0demo0000000000000000000000000001';

/** How long the check seeded by `--demo` keeps running. */
const DEMO_RUNNING_MS = 30 * 60_000;

interface SimCommandOptions {
  readonly port: number;
  readonly host: string;
  readonly seed?: number;
  readonly checkDuration?: number;
  readonly latency?: number;
  readonly failureRate?: number;
  readonly demo?: boolean;
}

/** Resolves when `signal` aborts (immediately when it already has). */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    signal.addEventListener(
      'abort',
      () => {
        resolve();
      },
      { once: true },
    );
  });
}

/** Registers `sim`. */
export function registerSimCommand(program: Command, ctx: CliContext, deps: CliDeps): void {
  program
    .command('sim')
    .description('serve a local ACK cluster-check simulator (no cloud account needed) until interrupted')
    .option('--port <n>', 'port to listen on; 0 picks a free one', parsePort, 0)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option(
      '--seed <n>',
      'seed for the simulated outcomes and ids (same seed, same run)',
      parseNonNegativeInt,
    )
    .addOption(
      new Option('--check-duration <duration>', 'how long a check started by RunClusterCheck runs, e.g. 5s')
        .argParser(parseDuration)
        .default(undefined, '8s'),
    )
    .option('--latency <duration>', 'added to every response, e.g. 50ms', parseDuration)
    .option(
      '--failure-rate <p>',
      'probability (0..1) that a check started by RunClusterCheck fails',
      parseProbability,
    )
    .option('--demo', `add the demo cluster ${DEMO_CLUSTER_ID} with one running check`)
    .addHelpText(
      'after',
      `
Prints one JSON line: {"endpoint","accessKeyId","accessKeySecret"} (with --demo also "clusterId" and
"checkId"), then serves until SIGINT/SIGTERM. Point the other commands at it:

Examples:
  checkwatch sim --port 8787 --demo --check-duration 5s
  ALIBABA_CLOUD_ACCESS_KEY_ID=<accessKeyId> ALIBABA_CLOUD_ACCESS_KEY_SECRET=<accessKeySecret> \\
    checkwatch check list ${DEMO_CLUSTER_ID} --endpoint http://127.0.0.1:8787`,
    )
    .action(async (opts: SimCommandOptions) => {
      const sim = await deps.startSimulator({
        port: opts.port,
        host: opts.host,
        ...(opts.seed === undefined ? {} : { seed: opts.seed }),
        ...(opts.checkDuration === undefined ? {} : { checkDurationMs: opts.checkDuration }),
        ...(opts.latency === undefined ? {} : { latencyMs: opts.latency }),
        ...(opts.failureRate === undefined ? {} : { failureRate: opts.failureRate }),
      });
      try {
        const info: Record<string, string> = {
          endpoint: sim.endpoint,
          accessKeyId: sim.accessKeyId,
          // The simulator's own throwaway key, printed on purpose: it is how clients reach it.
          accessKeySecret: sim.accessKeySecret,
        };
        if (opts.demo === true) {
          sim.addCluster(DEMO_CLUSTER_ID);
          info.clusterId = DEMO_CLUSTER_ID;
          // Someone else's long precheck, still running: what `check list` shows before the demo runs its own.
          info.checkId = sim.seedCheck({
            clusterId: DEMO_CLUSTER_ID,
            type: 'NodePoolUpgrade',
            target: 'np0demo00000000000000000000000001',
            durationMs: DEMO_RUNNING_MS,
          });
        }
        ctx.json(info);
        await aborted(ctx.io.shutdown);
      } finally {
        await sim.close();
      }
    });
}
