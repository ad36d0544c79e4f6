import type { Command } from 'commander';
import { Option } from 'commander';
import { systemClock } from '../clock';
import { buildChannels } from '../notify/channels';
import type { ServeHandle } from '../serve';
import { SERVE_DEFAULTS, startServe } from '../serve';
import type { CliContext } from './context';
import type { CliDeps } from './deps';
import type { ConfigFlag } from './direct';
import { addConfigOption, cliLogger, loadCliConfig, openAck, openStore } from './direct';
import { parseDuration, parsePort } from './parse';
import { aborted } from './sim';

/**
 * `checkwatch serve`: the self-hosted deployment in one process — poller loop, inline notifier and the
 * HTTP API over one store (SQLite by default) — until SIGINT/SIGTERM, then a graceful stop.
 */

export interface ServeCommandOptions extends ConfigFlag {
  readonly port: number;
  readonly host: string;
  readonly tick: number;
  readonly clusterInterval?: number;
  readonly json?: boolean;
}

/**
 * Opens the configured store, ACK client and channels, starts serving and hands the running server to
 * `whileRunning`; closes everything (server, notifications in flight, ACK client, store) afterwards.
 * `serve` waits for a signal in `whileRunning`; `demo` drives its scenario there.
 */
export async function runServe<T>(
  ctx: CliContext,
  deps: CliDeps,
  opts: ServeCommandOptions,
  whileRunning: (handle: ServeHandle) => Promise<T>,
): Promise<T> {
  const { config } = loadCliConfig(ctx, opts.config);
  // Serve is a daemon: info lines by default (CHECKWATCH_LOG_LEVEL overrides).
  const log = cliLogger(ctx, 'info').child({ process: 'serve' });
  const ack = await openAck(ctx, deps, config, log);
  try {
    const store = await openStore(ctx, deps, config);
    try {
      const handle = await startServe(
        {
          store,
          ack,
          channels: buildChannels(config, { log: log.child({ component: 'channel' }) }),
          config,
          clock: systemClock,
          log,
        },
        {
          port: opts.port,
          host: opts.host,
          holder: `serve-${String(process.pid)}`,
          tickMs: opts.tick,
          clusterIntervalMs: opts.clusterInterval,
        },
      );
      try {
        return await whileRunning(handle);
      } finally {
        await handle.close();
      }
    } finally {
      await store.close();
    }
  } finally {
    await ack.close();
  }
}

/** Adds the serve options (shared with `demo`). */
export function addServeOptions(cmd: Command): Command {
  return addConfigOption(cmd)
    .option('--port <n>', 'port of the HTTP API; 0 picks a free one', parsePort, 8080)
    .option(
      '--host <host>',
      'address to listen on: 0.0.0.0 in a container (then api.tokens are required)',
      SERVE_DEFAULTS.host,
    )
    .addOption(
      new Option('--tick <duration>', 'time between poller passes')
        .argParser(parseDuration)
        .default(1_000, '1s'),
    )
    .addOption(
      new Option(
        '--cluster-interval <duration>',
        'how often a watched cluster with nothing running is listed for new checks',
      )
        .argParser(parseDuration)
        .default(undefined, '60s'),
    );
}

/** Registers `serve`. */
export function registerServeCommand(program: Command, ctx: CliContext, deps: CliDeps): void {
  addServeOptions(
    program
      .command('serve')
      .description('run the poller, the notifier and the HTTP API in one process (self-hosted, SQLite)'),
  )
    .option('--json', 'print the startup line as JSON ({"url", "store"})')
    .addHelpText(
      'after',
      `
The self-hosted and in-cluster deployment: one process, the store from the configuration (SQLite at
store.path by default), ACK credentials from the standard chain. Logs JSON lines to stderr
(CHECKWATCH_LOG_LEVEL=debug|info|warn|error, default info). SIGINT/SIGTERM stop it gracefully: the
poller stops, notifications in flight finish, the API and the store close.

The API answers without a token only on a loopback address; to listen on 0.0.0.0 (a container),
configure api.tokens (e.g. CHECKWATCH_API_TOKEN_ENVS=CHECKWATCH_TOKEN plus CHECKWATCH_TOKEN=<secret>).

Examples:
  checkwatch serve --config checkwatch.yaml
  checkwatch serve --host 0.0.0.0 --port 8080      # in a container
  checkwatch watch check <cluster-id> <check-id> --api http://127.0.0.1:8080`,
    )
    .action(async (opts: ServeCommandOptions) => {
      await runServe(ctx, deps, opts, async (handle) => {
        if (opts.json === true) ctx.json({ url: handle.url, pid: process.pid });
        else ctx.out(`checkwatch serve: API at ${handle.url} (Ctrl-C to stop)`);
        await aborted(ctx.io.shutdown);
        if (opts.json !== true) ctx.out('checkwatch serve: stopping…');
      });
    });
}
