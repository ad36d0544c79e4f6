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
import { AppError, describeError } from '../../lib/errors';
import { createLogger, type Logger } from '../../lib/log';
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

export type { FcContext } from '../runtime';

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
    const log = functionLogger(loaded, options.env, { write: options.write, clock });
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
    const fingerprint = credentialsFingerprint(creds);
    if (adapters?.fingerprint === fingerprint) return adapters;
    const previous = adapters;
    adapters = undefined;
    if (previous !== undefined)
      await closeQuietly([() => previous.store.close(), () => previous.ack.close()], inst.log);

    const { config, log } = inst;
    const storeOptions = tablestoreOptions(config, creds, 'API');
    const [{ createTablestoreStore }, { AckClient }, { createWatchService }, { createApiHandler }] =
      await Promise.all([
        import('../../lib/store/tablestore'),
        import('../../lib/ack/client'),
        import('../../lib/api/service'),
        import('../../lib/api/http'),
      ]);
    const store = createTablestoreStore(storeOptions);
    const ack = new AckClient(ackOptions(config, () => current, { clock, log }));
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
        const creds = requireCredentials(context, 'API');
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
      if (a !== undefined) await closeQuietly([() => a.store.close(), () => a.ack.close()], instance?.log);
    },
  };
}

const api = createApiFunction({ env: process.env });

/** The FC entry point (`handler: index.handler`). */
export const handler = (event: Buffer | string, context: FcContext): Promise<FcHttpResponse> =>
  api.handle(event, context);
