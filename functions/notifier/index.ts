/**
 * Function Compute handler of the notifier: invoked asynchronously by the poller with a check's key
 * (lib/dispatch/fc.ts), it delivers that check to its routed channels (lib/notify/notifier.ts).
 *
 * Thin composition root (STYLE.md 1): parse the event, build the adapters, call the use case, log one
 * summary line. Configuration and channels are built once per instance (FC runs one request per
 * instance at a time); the store is rebuilt only when the function role's STS credentials change.
 *
 * When it throws (so that FC retries the async event, up to `maxAsyncRetryAttempts`):
 * - the configuration is invalid: a function error is what an operator sees in FC's console and the
 *   `onFailure` destination; nothing was sent;
 * - the store is unreachable, busy, or refused the credentials: a retry a little later, with fresh STS
 *   credentials, is likely to work. Claims taken before the failure expire, so the retry resends only
 *   what was not recorded, with the same idempotency key;
 * - anything unexpected (a bug): visible, and retried.
 * It returns normally for a malformed or foreign event (retrying cannot help), for a store that lacks
 * its tables or rejects a request as invalid (the poller's re-dispatch comes back after
 * `defaults.redispatchAfter` once that is fixed), and whenever delivery was merely deferred (rate
 * window, platform failure): the poller's re-dispatch is the retry path for those, so FC's own retry
 * does not double it.
 */
import { systemClock } from '../../lib/clock';
import type { Config, LoadedConfig } from '../../lib/config';
import { credentialsFromEnv } from '../../lib/credentials';
import { parseDispatchEvent } from '../../lib/dispatch/dispatch';
import { CredentialsError, isAppError } from '../../lib/errors';
import { createLogger, type Logger } from '../../lib/log';
import type { Channel } from '../../lib/channels/channel';
import { StoreError, type Store } from '../../lib/store/store';
import type { TablestoreCredentials } from '../../lib/store/tablestore';
import {
  contextCredentials,
  functionLogger,
  tablestoreOptions,
  type FcContext as RuntimeContext,
} from '../runtime';

/** The FC context as the notifier reads it: it needs the function's timeout for its time budget. */
export interface FcContext extends RuntimeContext {
  readonly function: {
    readonly name?: string | undefined;
    readonly timeout: number;
    readonly memory?: number | undefined;
    readonly handler?: string | undefined;
  };
}

/** What the handler returns (FC records it for async invocations; keep it small and secret-free). */
export interface NotifierResult {
  readonly ok: boolean;
  readonly requestId: string;
  readonly clusterId?: string;
  readonly checkId?: string;
  readonly status?: string;
  readonly archived?: boolean;
  readonly channels?: readonly { channel: string; outcome: string; sends: number }[];
  /** Error code when `ok` is false. */
  readonly error?: string;
}

interface Instance {
  readonly loaded: LoadedConfig;
  readonly log: Logger;
  readonly channels: Map<string, Channel>;
  store?: { readonly identity: string; readonly store: Store } | undefined;
}

let instance: Instance | undefined;

/** Time kept back from FC's timeout so the summary is logged and the result returned. */
export function marginMs(timeoutMs: number): number {
  return Math.min(10_000, Math.max(1_000, Math.floor(timeoutMs * 0.1)));
}

/**
 * Configuration, logger and channels, once per instance. Loaded lazily (as the poller and API do), so
 * a cold start pays for zod, yaml, the channels and the store SDK on the first invocation only.
 */
async function getInstance(): Promise<Instance> {
  if (instance === undefined) {
    const [{ loadConfig }, { buildChannels }] = await Promise.all([
      import('../../lib/config'),
      import('../../lib/notify/channels'),
    ]);
    const loaded = loadConfig({ env: process.env });
    const log = functionLogger(loaded, process.env, { clock: systemClock });
    instance = { loaded, log, channels: buildChannels(loaded.config, { log }) };
  }
  return instance;
}

/** The function role's STS keys; outside FC (tests, a manual run) the standard env AccessKey. */
function credentialsOf(context: FcContext): TablestoreCredentials {
  const creds = contextCredentials(context) ?? credentialsFromEnv(process.env);
  if (creds === undefined) {
    throw new CredentialsError('no credentials: give the notifier function a role (context.credentials)');
  }
  return creds;
}

async function openStore(inst: Instance, config: Config, context: FcContext): Promise<Store> {
  const sc = config.store;
  switch (sc.type) {
    case 'tablestore': {
      const credentials = credentialsOf(context);
      for (const secret of [credentials.accessKeySecret, credentials.securityToken])
        inst.loaded.redactor.add(secret);
      const identity = `ots\n${credentials.accessKeyId}\n${credentials.securityToken ?? ''}`;
      if (inst.store?.identity === identity) return inst.store.store;
      const previous = inst.store?.store;
      inst.store = undefined;
      await previous?.close();
      const { createTablestoreStore } = await import('../../lib/store/tablestore');
      const store = createTablestoreStore(tablestoreOptions(config, credentials, 'notifier'));
      inst.store = { identity, store };
      return store;
    }
    case 'sqlite': {
      const identity = `sqlite\n${sc.path}`;
      if (inst.store?.identity === identity) return inst.store.store;
      // Loaded only when configured: better-sqlite3 is never part of a function bundle.
      const { createSqliteStore } = await import('../../lib/store/sqlite');
      const store = createSqliteStore({
        path: sc.path,
        shards: config.defaults.shards,
        historyTtlMs: config.defaults.retention,
      });
      inst.store = { identity, store };
      return store;
    }
    default: {
      const unreachable: never = sc;
      return unreachable;
    }
  }
}

/** Whether FC should retry the async event for this error (see the module comment). */
export function shouldRetry(err: unknown): boolean {
  if (err instanceof StoreError)
    return err.retryable || err.code === 'STORE_AUTH' || err.code === 'STORE_CONFLICT';
  if (isAppError(err)) return err.code !== 'INVALID_INPUT';
  return true;
}

/** Optional FC initializer (`instanceLifecycleConfig.initializer`): loads configuration early. */
export const initialize = async (): Promise<void> => {
  await getInstance();
};

/** The async-invocation handler: `event` is the Buffer of {@link encodeDispatchEvent}'s JSON. */
export const handler = async (event: Buffer | string, context: FcContext): Promise<NotifierResult> => {
  const started = Date.now();
  const requestId = context.requestId;
  let inst: Instance;
  try {
    inst = await getInstance();
  } catch (err) {
    // No configuration, so no redactor yet: log the error's code and message only (never values).
    createLogger().error('notifier configuration failed', {
      requestId,
      error: isAppError(err) ? err.code : 'ERROR',
      message: err instanceof Error ? err.message : String(err),
    });
    throw err;
  }
  const log = inst.log.child({ requestId, function: context.function.name });

  let request;
  try {
    request = parseDispatchEvent(event);
  } catch (err) {
    log.warn('ignored an event that is not a notify request', { error: err });
    return { ok: false, requestId, error: isAppError(err) ? err.code : 'INVALID_INPUT' };
  }
  if (request.kind !== 'notify') {
    log.warn('ignored a dispatch request meant for another function', { kind: request.kind });
    return { ok: false, requestId, error: 'WRONG_FUNCTION' };
  }
  const { clusterId, checkId } = request;
  const timeoutMs = Math.max(1, context.function.timeout) * 1000;
  const deadline = started + timeoutMs - marginMs(timeoutMs);

  try {
    const store = await openStore(inst, inst.loaded.config, context);
    const { createNotifier } = await import('../../lib/notify/notifier');
    const notifier = createNotifier({
      store,
      channels: inst.channels,
      config: inst.loaded.config,
      clock: systemClock,
      log,
    });
    const report = await notifier.notify(clusterId, checkId, { deadline, holder: `fc:${requestId}` });
    const channels = report.channels.map((c) => ({ channel: c.channel, outcome: c.outcome, sends: c.sends }));
    log.info('notifier done', {
      clusterId,
      checkId,
      generation: request.generation,
      status: report.status,
      outcome: report.outcome,
      archived: report.archived,
      channels: report.channels.map((c) => ({
        channel: c.channel,
        outcome: c.outcome,
        sends: c.sends,
        platformCode: c.platformCode,
        platformText: c.platformText,
        hint: c.hint,
        digest: c.digest?.length,
      })),
      durationMs: Date.now() - started,
    });
    return {
      ok: true,
      requestId,
      clusterId,
      checkId,
      status: report.status,
      archived: report.archived,
      channels,
    };
  } catch (err) {
    const retry = shouldRetry(err);
    log.error('notifier failed', {
      clusterId,
      checkId,
      error: err,
      willRetry: retry,
      durationMs: Date.now() - started,
    });
    if (err instanceof StoreError && inst.store !== undefined) {
      // A broken connection or expired credentials: start from a fresh client next time.
      const broken = inst.store.store;
      inst.store = undefined;
      await broken.close().catch(() => undefined);
    }
    if (retry) throw err;
    return {
      ok: false,
      requestId,
      clusterId,
      checkId,
      error: isAppError(err) ? err.code : 'ERROR',
    };
  }
};

/** Forgets the per-instance state (configuration, channels, store). For tests and config reloads. */
export async function resetInstance(): Promise<void> {
  const current = instance;
  instance = undefined;
  await current?.store?.store.close();
}
