/**
 * The API function (Function Compute 3.0, runtime nodejs20, HTTP trigger): a thin composition root.
 *
 * The event is an FC 3.0 HTTP trigger event (a Buffer of JSON; lib/api/fc.ts reads it). The first
 * invocation validates the configuration (`loadConfig` over `process.env`), then builds the Tablestore
 * store and the ACK client from `context.credentials` (STS keys of the function's role: the only
 * credentials used here), the watch service and the HTTP handler. They are kept for the instance's
 * lifetime and rebuilt only when the STS credentials rotate. The function never answers anonymously:
 * with no `api.tokens` configured every route but `/v1/healthz` is 503 `API_DISABLED`.
 *
 * Cold start: nothing heavy runs at import; the store, ACK client and handler modules are loaded on the
 * first invocation (esbuild keeps dynamic imports lazy).
 */
import type { AckClient } from '../../lib/ack/client';
import type { AccessKey } from '../../lib/ack/signer';
import type { ApiRequest, ApiResponse } from '../../lib/api/http';
import { systemClock, type Clock } from '../../lib/clock';
import type { Config, Env } from '../../lib/config';
import { AppError, ConfigError, CredentialsError, describeError } from '../../lib/errors';
import { createLogger, type Logger, type LogLevel } from '../../lib/log';
import type { Store } from '../../lib/store/store';

/** The parts of the FC context the API function reads. */
export interface FcContext {
  readonly requestId: string;
  readonly credentials?:
    | {
        readonly accessKeyId?: string | undefined;
        readonly accessKeySecret?: string | undefined;
        readonly securityToken?: string | undefined;
      }
    | undefined;
  readonly function?: { readonly name?: string | undefined } | undefined;
  readonly region?: string | undefined;
}

/** What an FC HTTP trigger expects back. */
export interface FcHttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  isBase64Encoded: boolean;
  body: string;
}

export interface ApiFunctionOptions {
  /** The environment to configure from (the module's handler uses `process.env`). */
  readonly env: Env;
  readonly clock?: Clock | undefined;
  /** Where log lines go (default stderr, which FC collects). */
  readonly write?: ((line: string) => void) | undefined;
}

export interface ApiFunction {
  handle(event: Buffer | string, context: FcContext): Promise<FcHttpResponse>;
  /** Closes the cached adapters (tests; FC just freezes the instance). */
  close(): Promise<void>;
}

interface Instance {
  readonly config: Config;
  readonly log: Logger;
  readonly addSecret: (s: string | undefined) => void;
}

interface Adapters {
  readonly fingerprint: string;
  readonly store: Store;
  readonly ack: AckClient;
  readonly handle: (req: ApiRequest) => Promise<ApiResponse>;
}

/**
 * Builds the API function over an environment. Nothing is loaded or validated until the first
 * invocation; a configuration error is answered (500 `CONFIG_INVALID`, details in the log) and
 * retried on the next invocation rather than cached.
 */
export function createApiFunction(options: ApiFunctionOptions): ApiFunction {
  const clock = options.clock ?? systemClock;
  let instance: Instance | undefined;
  let adapters: Adapters | undefined;
  // The ACK client asks for credentials before every attempt: always the current invocation's.
  let current: AccessKey | undefined;
  const fallbackLog = createLogger({
    ...(options.write === undefined ? {} : { write: options.write }),
    now: () => clock.now(),
  });

  const init = async (): Promise<Instance> => {
    if (instance !== undefined) return instance;
    const { loadConfig } = await import('../../lib/config');
    const loaded = loadConfig({ env: options.env });
    const level = (options.env.CHECKWATCH_LOG_LEVEL ?? 'info') as LogLevel;
    const log = createLogger({
      level: ['debug', 'info', 'warn', 'error'].includes(level) ? level : 'info',
      redactor: loaded.redactor,
      ...(options.write === undefined ? {} : { write: options.write }),
      now: () => clock.now(),
    });
    instance = {
      config: loaded.config,
      log,
      addSecret: (s) => {
        loaded.redactor.add(s);
      },
    };
    return instance;
  };

  const build = async (inst: Instance, creds: AccessKey): Promise<Adapters> => {
    const fingerprint = `${creds.accessKeyId}\n${creds.securityToken ?? ''}`;
    if (adapters?.fingerprint === fingerprint) return adapters;
    const previous = adapters;
    adapters = undefined;
    if (previous !== undefined) await closeAdapters(previous, inst.log);

    const { config, log } = inst;
    if (config.store.type !== 'tablestore') {
      throw new ConfigError('the API function needs the Tablestore store (CHECKWATCH_STORE=tablestore)', {
        path: 'CHECKWATCH_STORE',
      });
    }
    const [{ createTablestoreStore }, { AckClient }, { createWatchService }, { createApiHandler }] =
      await Promise.all([
        import('../../lib/store/tablestore'),
        import('../../lib/ack/client'),
        import('../../lib/api/service'),
        import('../../lib/api/http'),
      ]);
    const store = createTablestoreStore({
      endpoint: config.store.endpoint,
      instanceName: config.store.instance,
      tablePrefix: config.store.tablePrefix,
      autoCreate: config.store.createTables,
      shards: config.defaults.shards,
      historyTtlDays: Math.max(1, Math.round(config.defaults.retention / 86_400_000)),
      credentials: creds,
    });
    const ack = new AckClient({
      credentials: () => {
        if (current === undefined) return Promise.reject(new CredentialsError('no invocation credentials'));
        return Promise.resolve(current);
      },
      region: config.region,
      endpoint: config.ack.endpoint,
      vpc: config.ack.vpc,
      timeoutMs: config.ack.timeout,
      clock,
      log,
    });
    const service = createWatchService({ store, ack, config, clock, log });
    const handle = createApiHandler({
      service,
      config,
      log,
      // One primary-key read: cheap, and it fails the same way a real request would.
      healthCheck: async () => {
        await store.readLease('healthz');
        return true;
      },
    });
    adapters = { fingerprint, store, ack, handle };
    return adapters;
  };

  return {
    async handle(event, context) {
      const { fromFcHttpEvent, toFcHttpResponse } = await import('../../lib/api/fc');
      const { apiError } = await import('../../lib/api/http');
      let req: ApiRequest;
      try {
        req = fromFcHttpEvent(event);
      } catch (err) {
        fallbackLog.warn('not an HTTP trigger event', {
          requestId: context.requestId,
          error: describeError(err),
        });
        return toFcHttpResponse(apiError(400, 'INVALID_EVENT', 'not an FC HTTP trigger event'));
      }
      let adapters: Adapters;
      try {
        const inst = await init();
        const creds = credentialsOf(context);
        inst.addSecret(creds.accessKeySecret);
        inst.addSecret(creds.securityToken);
        current = creds;
        adapters = await build(inst, creds);
      } catch (err) {
        const log = instance?.log ?? fallbackLog;
        log.error('api function setup failed', { requestId: context.requestId, error: err });
        const code = err instanceof AppError ? err.code : 'INTERNAL';
        return toFcHttpResponse(
          code === 'CREDENTIALS_MISSING'
            ? apiError(503, code, 'checkwatch has no usable credentials (give the function a role)')
            : code === 'CONFIG_INVALID'
              ? apiError(500, code, 'checkwatch is misconfigured; see the function log')
              : apiError(500, 'INTERNAL', 'internal error'),
        );
      }
      return toFcHttpResponse(await adapters.handle(req));
    },
    async close() {
      const a = adapters;
      adapters = undefined;
      if (a !== undefined) await closeAdapters(a, instance?.log);
    },
  };
}

function credentialsOf(context: FcContext): AccessKey {
  const c = context.credentials;
  const accessKeyId = c?.accessKeyId ?? '';
  const accessKeySecret = c?.accessKeySecret ?? '';
  if (accessKeyId === '' || accessKeySecret === '') {
    throw new CredentialsError(
      'the invocation context carries no credentials: give the API function a role (s.yaml `role`)',
    );
  }
  const token = c?.securityToken;
  return token === undefined || token === ''
    ? { accessKeyId, accessKeySecret }
    : { accessKeyId, accessKeySecret, securityToken: token };
}

async function closeAdapters(a: Adapters, log: Logger | undefined): Promise<void> {
  await Promise.all([a.store.close(), a.ack.close()]).catch((err: unknown) => {
    log?.warn('closing old adapters failed', { error: describeError(err) });
  });
}

const api = createApiFunction({ env: process.env });

/** The FC entry point (`handler: index.handler`). */
export const handler = (event: Buffer | string, context: FcContext): Promise<FcHttpResponse> =>
  api.handle(event, context);
