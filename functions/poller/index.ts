/**
 * The poller function (Function Compute 3.0, runtime nodejs20): a thin composition root.
 *
 * It is invoked by the one-minute timer trigger (event `{"triggerTime","triggerName","payload"}`) or,
 * above the fan-out threshold, asynchronously by itself with a dispatch event
 * `{"v":1,"request":{"kind":"poll-shard","shard":N,…}}` to poll one shard. It validates the
 * configuration once per instance (`loadConfig` over `process.env`; a bad value fails with the
 * variable's name), builds the adapters from it and from `context.credentials` (STS keys of the
 * function's role: the only credentials used here), and runs {@link runPoller} until
 * `context.function.timeout` minus a margin. Each cycle logs one JSON line with the request id.
 *
 * Cold start: nothing heavy runs at import. The store, ACK client and dispatcher modules are loaded on
 * the first invocation (esbuild keeps dynamic imports lazy), `@alicloud/fc2` only on the first dispatch.
 * Adapters are cached per instance and rebuilt only when the STS credentials rotate.
 */
import type { AckClient } from '../../lib/ack/client';
import type { AccessKey } from '../../lib/ack/signer';
import { systemClock, type Clock } from '../../lib/clock';
import type { Config, Env } from '../../lib/config';
import type { Dispatcher } from '../../lib/dispatch/dispatch';
import { ConfigError, InputError } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import type { PollRunResult } from '../../lib/poll/cycle';
import type { Store } from '../../lib/store/store';
import {
  ackOptions,
  closeQuietly,
  credentialsFingerprint,
  functionLogger,
  requireCredentials,
  tablestoreOptions,
  type FcContext,
} from '../runtime';

/** The FC context as the poller reads it: it needs the function's timeout for its time budget. */
export interface PollerContext extends FcContext {
  readonly function: {
    readonly name?: string | undefined;
    readonly timeout: number;
    readonly memory?: number | undefined;
  };
}

/** What one invocation did (FC ignores it for timer and async invocations; `s invoke` prints it). */
export interface PollerResponse extends PollRunResult {
  readonly requestId: string;
  readonly trigger: 'timer' | 'poll-shard' | 'manual';
  readonly shard?: number | undefined;
}

export interface PollerHandlerOptions {
  /** The environment to configure from (the module's handler uses `process.env`). */
  readonly env: Env;
  readonly clock?: Clock | undefined;
  /** Where log lines go (default stderr, which FC collects). */
  readonly write?: ((line: string) => void) | undefined;
}

export interface PollerHandler {
  handle(event: Buffer | string, context: PollerContext): Promise<PollerResponse>;
  /** Closes the cached adapters (tests; FC just freezes the instance). */
  close(): Promise<void>;
}

type Trigger =
  | { readonly kind: 'timer'; readonly triggerName: string }
  | { readonly kind: 'manual' }
  | {
      readonly kind: 'poll-shard';
      readonly shard: number;
    };

/**
 * Reads the event: a timer event, a `poll-shard` dispatch event, or an empty event / `{}` (a manual
 * `s invoke`). Anything else is an InputError and changes nothing.
 */
export async function parsePollerEvent(event: Buffer | string | undefined): Promise<Trigger> {
  const text = event === undefined ? '' : typeof event === 'string' ? event : event.toString('utf8');
  if (text.trim() === '') return { kind: 'manual' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError('poller event is not JSON', { cause: err });
  }
  if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
    const obj = json as Record<string, unknown>;
    if (Object.keys(obj).length === 0) return { kind: 'manual' };
    if ('triggerName' in obj || 'triggerTime' in obj) {
      if (typeof obj.triggerName !== 'string' || typeof obj.triggerTime !== 'string') {
        throw new InputError('timer event needs string triggerTime and triggerName');
      }
      return { kind: 'timer', triggerName: obj.triggerName };
    }
  }
  const { parseDispatchEvent } = await import('../../lib/dispatch/dispatch');
  const req = parseDispatchEvent(text);
  if (req.kind !== 'poll-shard') {
    throw new InputError(`the poller does not handle ${req.kind} events (wrong function?)`);
  }
  return { kind: 'poll-shard', shard: req.shard };
}

interface Adapters {
  readonly fingerprint: string;
  readonly store: Store;
  readonly ack: AckClient;
  readonly dispatch: Dispatcher;
}

interface Instance {
  readonly config: Config;
  readonly log: Logger;
  readonly loadedAt: number;
}

/** The FC margin: stop polling this long before the function's timeout (between 0.5 s and 5 s). */
export function marginFor(timeoutMs: number): number {
  return Math.round(Math.min(5_000, Math.max(500, timeoutMs * 0.15)));
}

/**
 * Builds a poller handler over an environment. Nothing is loaded or validated until the first
 * invocation; the configuration and adapters are then kept for the instance's lifetime.
 */
export function createPollerHandler(options: PollerHandlerOptions): PollerHandler {
  const clock = options.clock ?? systemClock;
  let instance: Instance | undefined;
  let adapters: Adapters | undefined;
  let storeRequests = 0;
  // The ACK client asks for credentials before every attempt: always the current invocation's.
  let current: AccessKey | undefined;

  const init = async (context: PollerContext): Promise<Instance> => {
    if (instance !== undefined) return instance;
    const { loadConfig } = await import('../../lib/config');
    const env: Record<string, string | undefined> = { ...options.env };
    // The account id comes from configuration when set, otherwise from the context FC gives us.
    if (
      (env.CHECKWATCH_FC_ACCOUNT_ID ?? '') === '' &&
      context.accountId !== undefined &&
      context.accountId !== ''
    ) {
      env.CHECKWATCH_FC_ACCOUNT_ID = context.accountId;
    }
    const loaded = loadConfig({ env });
    const log = functionLogger(loaded, options.env, { write: options.write, clock });
    instance = { config: loaded.config, log, loadedAt: clock.now() };
    return instance;
  };

  const build = async (
    config: Config,
    creds: AccessKey,
    context: PollerContext,
    log: Logger,
  ): Promise<Adapters> => {
    const fingerprint = credentialsFingerprint(creds);
    if (adapters?.fingerprint === fingerprint) return adapters;
    const previous = adapters;
    adapters = undefined;
    if (previous !== undefined)
      await closeQuietly([() => previous.store.close(), () => previous.ack.close()], log);

    const storeOptions = tablestoreOptions(config, creds, 'poller');
    if (config.dispatch.type !== 'fc') {
      throw new ConfigError('the poller function needs FC dispatch (CHECKWATCH_DISPATCH=fc)', {
        path: 'CHECKWATCH_DISPATCH',
      });
    }
    const [{ createTablestoreStore }, { AckClient }, { createFcDispatcher }, { POLLER_ACK_RETRY_POLICY }] =
      await Promise.all([
        import('../../lib/store/tablestore'),
        import('../../lib/ack/client'),
        import('../../lib/dispatch/fc'),
        import('../../lib/poll/cycle'),
      ]);
    const store = createTablestoreStore({
      ...storeOptions,
      onRequest: () => {
        storeRequests += 1;
      },
    });
    const ack = new AckClient({
      ...ackOptions(config, () => current, { clock, log }),
      retry: POLLER_ACK_RETRY_POLICY,
    });
    const d = config.dispatch;
    const dispatch = createFcDispatcher({
      accountId: d.accountId,
      region: d.region ?? context.region ?? config.region,
      ...(d.endpoint === undefined ? {} : { endpoint: d.endpoint }),
      internal: d.internal,
      notifierFunction: d.notifierFunction,
      pollerFunction: d.pollerFunction,
      qualifier: d.qualifier,
      credentials: {
        accessKeyId: creds.accessKeyId,
        accessKeySecret: creds.accessKeySecret,
        ...(creds.securityToken === undefined ? {} : { securityToken: creds.securityToken }),
      },
      log,
      clock,
    });
    adapters = { fingerprint, store, ack, dispatch };
    return adapters;
  };

  return {
    async handle(event, context) {
      const started = clock.now();
      const trigger = await parsePollerEvent(event);
      const inst = await init(context);
      const log = inst.log.child({ requestId: context.requestId, fn: context.function.name });
      const creds = requireCredentials(context, 'poller');
      current = creds;
      const { config } = inst;
      const deps = await build(config, creds, context, log);
      const { runPoller } = await import('../../lib/poll/cycle');
      const timeoutMs = context.function.timeout * 1000;
      const shard = trigger.kind === 'poll-shard' ? trigger.shard : undefined;
      if (shard !== undefined && shard >= config.defaults.shards) {
        throw new InputError(`shard ${shard} is out of range (defaults.shards = ${config.defaults.shards})`);
      }
      try {
        const result = await runPoller(
          {
            store: deps.store,
            ack: deps.ack,
            dispatch: deps.dispatch,
            clock,
            log,
            storeRequests: () => storeRequests,
          },
          {
            holder: context.requestId,
            shard,
            shards: config.defaults.shards,
            deadline: started + timeoutMs,
            marginMs: marginFor(timeoutMs),
            maxAgeMs: config.defaults.maxAge,
            redispatchAfterMs: config.defaults.redispatchAfter,
            ackConcurrency: config.ack.concurrency,
            ackCallBudgetMs: config.ack.timeout,
          },
        );
        log.info('poller done', {
          trigger: trigger.kind,
          shard,
          status: result.status,
          iterations: result.iterations,
          durationMs: clock.now() - started,
        });
        return { ...result, requestId: context.requestId, trigger: trigger.kind, shard };
      } catch (err) {
        log.error('poller failed', { trigger: trigger.kind, shard, error: err });
        throw err;
      } finally {
        current = undefined;
      }
    },
    async close() {
      const a = adapters;
      adapters = undefined;
      if (a !== undefined) await closeQuietly([() => a.store.close(), () => a.ack.close()], instance?.log);
    },
  };
}

const poller = createPollerHandler({ env: process.env });

/** The FC entry point (`handler: index.handler`). */
export const handler = (event: Buffer | string, context: PollerContext): Promise<PollerResponse> =>
  poller.handle(event, context);
