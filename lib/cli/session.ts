import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { AckApi } from '../ack/api';
import { createWatchService } from '../api/service';
import { systemClock } from '../clock';
import type { Config } from '../config';
import { createInlineDispatcher } from '../dispatch/inline';
import type { Logger } from '../log';
import { buildChannels } from '../notify/channels';
import { createNotifier } from '../notify/notifier';
import { runPoller } from '../poll/cycle';
import { scheduleFor } from '../serve';
import type { Store } from '../store/store';
import type { Backend } from './backend';
import { apiBackend, directBackend } from './backend';
import type { CliContext } from './context';
import type { CliDeps } from './deps';
import type { ConfigFlag } from './direct';
import { addConfigOption, cliLogger, loadCliConfig, openAck, openStore } from './direct';

/**
 * A watch command's session: the backend it talks to and, for `--wait`, how progress is made.
 *
 * Direct mode (the default) opens the configured store and answers through the WatchService in this
 * process. Its `--wait` makes progress by itself: each step runs one pass of the poller — the same
 * `runPoller` the timer function and `serve` run, over the whole pending set, holding the same lease —
 * and drains the notifier inline, so the notification is sent even when nothing else is running. When a
 * `serve` (or a function) holds the poller lease, the pass answers `busy` and the CLI just watches the
 * store. `--api URL` mode talks to a deployed API; the deployment does the polling and notifying.
 */

export const ENV_API_TOKEN = 'CHECKWATCH_API_TOKEN';
export const ENV_API_URL = 'CHECKWATCH_API_URL';

export interface BackendFlags extends ConfigFlag {
  readonly api?: string;
  readonly token?: string;
}

export interface Session {
  readonly backend: Backend;
  /** One unit of progress for `--wait` (a no-op against an API). */
  step(): Promise<void>;
}

/** Adds `--config`, `--api` and `--token`. */
export function addBackendOptions(cmd: Command): Command {
  return addConfigOption(cmd)
    .option(
      '--api <url>',
      `talk to a deployed checkwatch API instead of the configured store (env ${ENV_API_URL})`,
    )
    .option('--token <token>', `API token for --api (env ${ENV_API_TOKEN}; prefer the env variable)`);
}

/** An AckApi that builds the real client on first use: `ls`, `show` and `unwatch` need no credentials. */
function lazyAck(
  open: () => Promise<AckApi & { close(): Promise<void> }>,
): AckApi & { close(): Promise<void> } {
  let client: Promise<AckApi & { close(): Promise<void> }> | undefined;
  const get = (): Promise<AckApi & { close(): Promise<void> }> => (client ??= open());
  return {
    getClusterCheck: async (...args) => (await get()).getClusterCheck(...args),
    listClusterChecks: async (...args) => (await get()).listClusterChecks(...args),
    runClusterCheck: async (...args) => (await get()).runClusterCheck(...args),
    close: async () => {
      if (client !== undefined) await (await client).close();
    },
  };
}

/** Builds the progress step of direct mode: one poller pass, then the notifications it handed off. */
export function directStep(deps: {
  store: Store;
  ack: AckApi;
  config: Config;
  log: Logger;
  holder: string;
  ctx: CliContext;
}): () => Promise<void> {
  const { store, ack, config, log, holder } = deps;
  const notifier = createNotifier({
    store,
    channels: buildChannels(config, { log: log.child({ component: 'channel' }) }),
    config,
    clock: systemClock,
    log: log.child({ component: 'notifier' }),
  });
  const dispatcher = createInlineDispatcher(
    {
      notify: async (clusterId, checkId) => {
        await notifier.notify(clusterId, checkId, { deadline: systemClock.now() + 60_000, holder });
      },
    },
    { log: log.child({ component: 'dispatch' }) },
  );
  return async () => {
    await runPoller(
      { store, ack, dispatch: dispatcher, clock: systemClock, log: log.child({ component: 'poller' }) },
      {
        holder,
        shards: config.defaults.shards,
        deadline: systemClock.now() + 30_000,
        loop: false,
        maxAgeMs: config.defaults.maxAge,
        redispatchAfterMs: config.defaults.redispatchAfter,
        ackConcurrency: config.ack.concurrency,
        ackCallBudgetMs: config.ack.timeout,
        schedule: scheduleFor(undefined),
      },
    );
    await dispatcher.drain();
  };
}

/** Runs `fn` with a session for the command's flags, closing the store and clients afterwards. */
export async function withSession<T>(
  ctx: CliContext,
  deps: CliDeps,
  flags: BackendFlags,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  const env = ctx.io.env;
  const url = flags.api ?? (env[ENV_API_URL]?.trim() || undefined);
  if (url !== undefined) {
    const token = flags.token ?? (env[ENV_API_TOKEN]?.trim() || undefined);
    ctx.redactor.add(token);
    const backend = apiBackend({ url, token, signal: ctx.io.shutdown });
    return fn({ backend, step: () => Promise.resolve() });
  }
  const { config } = loadCliConfig(ctx, flags.config);
  const log = cliLogger(ctx);
  const store = await openStore(ctx, deps, config);
  const ack = lazyAck(() => openAck(ctx, deps, config, log));
  try {
    const service = createWatchService({ store, ack, config, clock: systemClock, log });
    const holder = `cli-${String(process.pid)}-${randomBytes(3).toString('hex')}`;
    const step = directStep({ store, ack, config, log, holder, ctx });
    return await fn({ backend: directBackend(service), step });
  } finally {
    await ack.close();
    await store.close();
  }
}
