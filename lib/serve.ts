/**
 * The composition root of the self-hosted deployment (`checkwatch serve`, the in-cluster Deployment and
 * the demo): the same use cases the functions run — the poller, the notifier, the HTTP API — wired in one
 * process over one store (SQLite by default) with the inline dispatcher in place of FC async invocation.
 *
 * - The poller runs once per tick (default 1 s) with `loop: false`: a tick is one pending-set read, and
 *   a watch created through the API is picked up on the next tick instead of after the in-invocation
 *   loop's next wake-up. The lease (holder = this process) keeps a second `serve` or a `--wait` CLI on
 *   the same store from polling the same work at the same time.
 * - A finished check is handed to the notifier through the inline dispatcher, exactly as FC would run
 *   the notifier function: in the background, deduplicated by task id, re-dispatched by a later cycle
 *   if the delivery was not confirmed.
 * - `close()` stops the tick loop (a sleeping poller wakes at once), closes the HTTP server, then drains
 *   the notifications in flight. The caller closes the store and the ACK client it passed in.
 */
import type { AckApi } from './ack/api';
import { createApiHandler } from './api/http';
import { startApiServer } from './api/server';
import type { WatchService } from './api/service';
import { createWatchService } from './api/service';
import type { Channel } from './channels/channel';
import type { Clock } from './clock';
import type { Config } from './config';
import type { ScheduleOptions } from './domain/schedule';
import { DEFAULT_SCHEDULE } from './domain/schedule';
import type { InlineDispatcher } from './dispatch/inline';
import { createInlineDispatcher } from './dispatch/inline';
import { ConfigError, describeError } from './errors';
import type { Logger } from './log';
import { createNotifier } from './notify/notifier';
import type { PollRunResult } from './poll/cycle';
import { runPoller } from './poll/cycle';
import type { Store } from './store/store';

export interface ServeDeps {
  readonly store: Store;
  readonly ack: AckApi;
  readonly channels: ReadonlyMap<string, Channel>;
  readonly config: Config;
  readonly clock: Clock;
  readonly log: Logger;
}

export interface ServeOptions {
  /** TCP port of the HTTP API; 0 picks a free one. */
  readonly port: number;
  /** Default 127.0.0.1; `0.0.0.0` in a container (then API tokens are required). */
  readonly host?: string | undefined;
  /** Lease holder and notifier claim holder; default `serve-<pid>`. */
  readonly holder: string;
  /** Time between poller ticks (default 1000 ms). */
  readonly tickMs?: number | undefined;
  /** How often a watched cluster with nothing running is listed (default 60 s, the poller's default). */
  readonly clusterIntervalMs?: number | undefined;
  /** Time the notifier may spend on one check (default 60 s). */
  readonly notifyBudgetMs?: number | undefined;
}

export interface ServeHandle {
  /** The HTTP API's base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The same service the API serves (the CLI's direct mode uses it in-process). */
  readonly service: WatchService;
  readonly dispatcher: InlineDispatcher;
  /** Resolves after the next completed poller tick (tests and the demo wait on it, never on a sleep). */
  nextTick(): Promise<PollRunResult | undefined>;
  /** Graceful stop: idempotent. */
  close(): Promise<void>;
}

export const SERVE_DEFAULTS = { tickMs: 1_000, notifyBudgetMs: 60_000, host: '127.0.0.1' } as const;

/** Loopback hosts, where an API without tokens is reachable only from this machine. */
function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || host.startsWith('127.');
}

/** The poller's schedule with the configured cluster listing interval. */
export function scheduleFor(clusterIntervalMs: number | undefined): ScheduleOptions {
  return clusterIntervalMs === undefined
    ? DEFAULT_SCHEDULE
    : { ...DEFAULT_SCHEDULE, clusterIdleMs: clusterIntervalMs };
}

/**
 * Starts the poller loop, the notifier (inline) and the HTTP API. Without `api.tokens` the API answers
 * anonymous requests, which is refused unless it listens on a loopback address.
 * @throws ConfigError when listening beyond loopback without API tokens.
 */
export async function startServe(deps: ServeDeps, options: ServeOptions): Promise<ServeHandle> {
  const { store, ack, config, clock, log } = deps;
  const host = options.host ?? SERVE_DEFAULTS.host;
  const tickMs = options.tickMs ?? SERVE_DEFAULTS.tickMs;
  const notifyBudgetMs = options.notifyBudgetMs ?? SERVE_DEFAULTS.notifyBudgetMs;
  const anonymous = config.api.tokens.length === 0;
  if (anonymous && !isLoopback(host)) {
    throw new ConfigError(
      `api.tokens: listening on ${host} needs at least one API token (set api.tokens, or CHECKWATCH_API_TOKEN_ENVS)`,
      { path: 'api.tokens' },
    );
  }

  const notifier = createNotifier({
    store,
    channels: deps.channels,
    config,
    clock,
    log: log.child({ component: 'notifier' }),
  });
  const dispatcher = createInlineDispatcher(
    {
      notify: async (clusterId, checkId) => {
        await notifier.notify(clusterId, checkId, {
          deadline: clock.now() + notifyBudgetMs,
          holder: options.holder,
        });
      },
    },
    { log: log.child({ component: 'dispatch' }) },
  );

  const service = createWatchService({ store, ack, config, clock, log: log.child({ component: 'api' }) });
  const handler = createApiHandler({
    service,
    config,
    log: log.child({ component: 'api' }),
    allowAnonymous: anonymous,
    healthCheck: async () => {
      await store.listPending({ shard: 0 });
      return true;
    },
  });
  const server = await startApiServer(handler, {
    port: options.port,
    host,
    maxBodyBytes: config.api.maxBodyBytes,
    log: log.child({ component: 'http' }),
  });

  const stop = new AbortController();
  const stopped = (): boolean => stop.signal.aborted;
  // The poller sleeps only through its clock: this one wakes (rejects) at once when serve stops.
  const stoppable: Clock = {
    now: () => clock.now(),
    sleep: (ms, signal) => clock.sleep(ms, signal ?? stop.signal),
  };
  const pollLog = log.child({ component: 'poller' });
  let waiters: ((r: PollRunResult | undefined) => void)[] = [];
  const settleWaiters = (r: PollRunResult | undefined): void => {
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve(r);
  };

  const loop = async (): Promise<void> => {
    while (!stopped()) {
      let result: PollRunResult | undefined;
      try {
        result = await runPoller(
          { store, ack, dispatch: dispatcher, clock: stoppable, log: pollLog },
          {
            holder: options.holder,
            shards: config.defaults.shards,
            deadline: clock.now() + 30_000,
            loop: false,
            maxAgeMs: config.defaults.maxAge,
            redispatchAfterMs: config.defaults.redispatchAfter,
            ackConcurrency: config.ack.concurrency,
            ackCallBudgetMs: config.ack.timeout,
            schedule: scheduleFor(options.clusterIntervalMs),
          },
        );
      } catch (err) {
        // A store or ACK outage must not end the process: the next tick tries again.
        if (!stopped()) pollLog.error('poll tick failed', { error: describeError(err) });
      }
      settleWaiters(result);
      try {
        await clock.sleep(tickMs, stop.signal);
      } catch {
        // Aborted: the while condition ends the loop.
      }
    }
  };
  const looping = loop();
  log.info('serve started', { url: server.url, holder: options.holder, store: config.store.type });

  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    service,
    dispatcher,
    nextTick: () =>
      stop.signal.aborted
        ? Promise.resolve(undefined)
        : new Promise((resolve) => {
            waiters.push(resolve);
          }),
    close: () => {
      closing ??= (async () => {
        stop.abort(new Error('serve is stopping'));
        await looping;
        settleWaiters(undefined);
        await server.close();
        // Notifications already handed off finish (each within its budget) before the store closes.
        await dispatcher.drain();
        log.info('serve stopped', { holder: options.holder });
      })();
      return closing;
    },
  };
}
