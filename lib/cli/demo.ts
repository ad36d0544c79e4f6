import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { systemClock } from '../clock';
import type { SinkMessage } from '../sink/chat-sink';
import { startChatSink } from '../sink/chat-sink';
import type { ApiCheck, Backend } from './backend';
import { apiBackend } from './backend';
import type { CliContext } from './context';
import { CliExit, createContext, EXIT } from './context';
import type { CliDeps } from './deps';
import { runServe } from './serve';
import { DEMO_CLUSTER_ID } from './sim';
import { progressLine } from './wait';
import { formatLs } from './watch';

/**
 * `checkwatch demo`: the whole product on one machine, no cloud account. It starts the ACK simulator
 * (short checks), a local chat sink with a DingTalk robot (signed) and a Slack webhook, and `serve` on a
 * temporary SQLite store — the production composition (lib/serve.ts), configured through a real config
 * file. It then subscribes through the HTTP API exactly as `checkwatch … --api` does: a check run and
 * watched (passes), someone else's precheck (fails, with failing items), and a cluster watch that
 * discovers a check started after it. It prints the progress and every message the chat sink accepted,
 * then exits 0 — or 1 if anything is not delivered within the time limit.
 *
 * The chat sink lives in lib/sink (small, no test code in lib): it verifies DingTalk's timestamp and
 * HMAC sign and Slack's secret hook path like the platforms do, and prints what a person would see.
 */

/** A second cluster, watched as a whole. */
export const DEMO_WATCHED_CLUSTER_ID = 'c0demo0000000000000000000000000002';
const CHECK_DURATION_MS = 6_000;
const FAILING_DURATION_MS = 9_000;
const DISCOVERED_DURATION_MS = 5_000;
const DEMO_LIMIT_MS = 55_000;

interface DemoOptions {
  readonly seed?: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return systemClock.sleep(ms, signal).then(
    () => true,
    () => false,
  );
}

/** The demo's configuration: one route to both chat channels, secrets by env reference. */
function demoConfig(endpoint: string, sqlitePath: string): Record<string, unknown> {
  return {
    region: 'cn-hangzhou',
    ack: { endpoint },
    store: { type: 'sqlite', path: sqlitePath },
    channels: {
      'team-dingtalk': {
        type: 'dingtalk',
        url: { env: 'DEMO_DINGTALK_URL' },
        secret: { env: 'DEMO_DINGTALK_SECRET' },
      },
      'team-slack': { type: 'slack', url: { env: 'DEMO_SLACK_URL' } },
    },
    routes: { team: { channels: ['team-dingtalk', 'team-slack'] } },
    defaults: { routes: ['team'] },
    clusters: {
      [DEMO_CLUSTER_ID]: { name: 'demo-prod' },
      [DEMO_WATCHED_CLUSTER_ID]: { name: 'demo-staging' },
    },
  };
}

/** The env the demo's serve sees: the user's, minus anything that would point it at real resources. */
function demoEnv(env: NodeJS.ProcessEnv, extra: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('CHECKWATCH_') && !k.startsWith('ALIBABA_CLOUD_')) out[k] = v;
  }
  out.CHECKWATCH_LOG_LEVEL = env.CHECKWATCH_LOG_LEVEL ?? 'warn';
  return { ...out, ...extra };
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    │ ${l}`)
    .join('\n');
}

/** Registers `demo`. */
export function registerDemoCommand(program: Command, ctx: CliContext, deps: CliDeps): void {
  program
    .command('demo')
    .description('checkwatch end to end on this machine: ACK simulator, serve, chat sink (no cloud account)')
    .option('--seed <n>', 'seed for the simulator', (v) => Number.parseInt(v, 10))
    .addHelpText(
      'after',
      `
Starts the ACK simulator, a local DingTalk + Slack sink and \`checkwatch serve\` on a temporary SQLite
store; runs a check, watches a failing one and a whole cluster through the HTTP API; prints progress
and every delivered message; exits 0 when all were delivered (well under a minute).`,
    )
    .action(async (opts: DemoOptions) => {
      const started = ctx.now();
      const say = (line = ''): void => {
        ctx.out(line === '' ? '' : `[${((ctx.now() - started) / 1000).toFixed(1).padStart(4)}s] ${line}`);
      };
      const dir = mkdtempSync(join(tmpdir(), 'checkwatch-demo-'));
      const sim = await deps.startSimulator({
        seed: opts.seed ?? 1,
        checkDurationMs: CHECK_DURATION_MS,
        failureRate: 0,
        clusters: [DEMO_CLUSTER_ID, DEMO_WATCHED_CLUSTER_ID],
      });
      const printed: SinkMessage[] = [];
      const sink = await startChatSink({
        onMessage: (msg) => {
          printed.push(msg);
          const who = msg.platform === 'dingtalk' ? 'DingTalk (team-dingtalk)' : 'Slack (team-slack)';
          say(`${who} shows:`);
          ctx.out(indent(msg.text));
        },
      });
      try {
        const configPath = join(dir, 'checkwatch.yaml');
        writeFileSync(configPath, toYaml(demoConfig(sim.endpoint, join(dir, 'checkwatch.sqlite'))));
        const env = demoEnv(ctx.io.env, {
          ALIBABA_CLOUD_ACCESS_KEY_ID: sim.accessKeyId,
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: sim.accessKeySecret,
          DEMO_DINGTALK_URL: sink.dingtalkUrl,
          DEMO_DINGTALK_SECRET: sink.dingtalkSecret,
          DEMO_SLACK_URL: sink.slackUrl,
        });
        // serve gets its own context (the demo's env), sharing this one's output and shutdown signal.
        const serveCtx = createContext({ ...ctx.io, env });
        say(
          `ACK simulator at ${sim.endpoint}; chat sink (DingTalk robot with sign, Slack webhook) on loopback`,
        );
        await runServe(
          serveCtx,
          deps,
          { config: configPath, port: 0, host: '127.0.0.1', tick: 500, clusterInterval: 2_000 },
          async (handle) => {
            say(`checkwatch serve: API at ${handle.url}, SQLite store in ${dir}`);
            const api = apiBackend({ url: handle.url, signal: ctx.io.shutdown });
            const ok = await scenario(ctx, say, api, sim, printed);
            if (!ok) throw new CliExit(ctx.io.shutdown.aborted ? EXIT.interrupted : EXIT.failed);
            say('$ checkwatch ls --api ' + handle.url);
            const watches = await api.listWatches();
            ctx.out(formatLs(watches.clusters, await api.listChecks({})));
          },
        );
        say(`Demo done: ${String(printed.length)} messages delivered.`);
      } finally {
        await sink.close();
        await sim.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

  async function scenario(
    ctx: CliContext,
    say: (line?: string) => void,
    api: Backend,
    sim: Awaited<ReturnType<CliDeps['startSimulator']>>,
    printed: readonly SinkMessage[],
  ): Promise<boolean> {
    // Someone else's upgrade precheck, already running on the prod cluster; it will fail.
    const failingId = sim.seedCheck({
      clusterId: DEMO_CLUSTER_ID,
      type: 'MasterUpgrade',
      durationMs: FAILING_DURATION_MS,
      outcome: 'Failed',
    });

    say(`$ checkwatch run ${DEMO_CLUSTER_ID} --type ClusterUpgrade --next-version 1.32.1-aliyun.1`);
    const run = await api.runAndWatch({
      clusterId: DEMO_CLUSTER_ID,
      type: 'ClusterUpgrade',
      options: { next_version: '1.32.1-aliyun.1' },
    });
    say(`  started ${run.checkId}, watching it (route: team)`);

    say(`$ checkwatch watch check ${DEMO_CLUSTER_ID} ${failingId}`);
    await api.watchCheck({ clusterId: DEMO_CLUSTER_ID, checkId: failingId });
    say('  watching it (route: team)');

    say(`$ checkwatch watch cluster ${DEMO_WATCHED_CLUSTER_ID}`);
    await api.watchCluster({ clusterId: DEMO_WATCHED_CLUSTER_ID });
    say('  watching every new check on it');
    // Later, someone starts a node-pool precheck from the console: nobody subscribed to it by id.
    const discoveredId = sim.seedCheck({
      clusterId: DEMO_WATCHED_CLUSTER_ID,
      type: 'NodePoolUpgrade',
      target: 'np0demo00000000000000000000000002',
      durationMs: DISCOVERED_DURATION_MS,
    });
    say(`  (someone starts a NodePoolUpgrade check on ${DEMO_WATCHED_CLUSTER_ID} from the console)`);
    ctx.out('');

    const keys = [
      { clusterId: DEMO_CLUSTER_ID, checkId: run.checkId },
      { clusterId: DEMO_CLUSTER_ID, checkId: failingId },
      { clusterId: DEMO_WATCHED_CLUSTER_ID, checkId: discoveredId },
    ];
    const last = new Map<string, string>();
    const deadline = ctx.now() + DEMO_LIMIT_MS;
    for (;;) {
      const views: (ApiCheck | undefined)[] = [];
      for (const k of keys) views.push(await api.getCheck(k.clusterId, k.checkId));
      views.forEach((v, i) => {
        const id = keys[i]?.checkId ?? '';
        if (v === undefined) return;
        const { key, text } = progressLine(v, ctx.now());
        if (last.get(id) !== key) {
          last.set(id, key);
          say(`${id.slice(-24)}  ${text}`);
        }
      });
      // Two channels per check: every check archived and six messages shown means all were delivered.
      if (views.every((v) => v?.state === 'done') && printed.length >= keys.length * 2) return true;
      if (ctx.now() > deadline) {
        ctx.io.stderr(
          `checkwatch demo: not everything was delivered within ${String(DEMO_LIMIT_MS / 1000)}s\n`,
        );
        return false;
      }
      if (!(await sleep(250, ctx.io.shutdown))) return false;
    }
  }
}
