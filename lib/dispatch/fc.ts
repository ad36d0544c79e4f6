/**
 * Dispatch by asynchronous Function Compute invocation, through `@alicloud/fc2` 2.6.6.
 *
 * ## The request, and why
 * The notifier and poller are FC 3.0 functions (deployed by the `fc3` component): there is no service,
 * and nothing documents that the FC 2.0 path `/2016-08-15/services/{svc}/functions/{fn}/invocations`
 * reaches them. So we send the FC 3.0 InvokeFunction request — the same URL the official FC 3.0 SDK
 * (`@alicloud/fc20230330`, which the fc3 component uses for `s invoke`) sends — through the fc2 client,
 * with `client.version = '2023-03-30'`:
 *
 * ```
 * POST {endpoint}/2023-03-30/functions/{function}/invocations[?qualifier={qualifier}]
 * x-fc-invocation-type: Async
 * x-fc-async-task-id: {taskIdFor(request)}
 * x-fc-account-id, date, content-type: application/octet-stream, content-md5, [x-fc-security-token]
 * authorization: FC {accessKeyId}:{base64 HMAC-SHA256(secret, stringToSign)}
 * ```
 * What the fc2 source (lib/client.js, lib/helper.js) does with `version`, verified against the loopback
 * fake (`test/integration/dispatch/fc.test.ts` pins all of it):
 * - `version` is the first path segment of the URL *and* of the signed resource (`/${version}${path}`),
 *   so setting it moves both consistently. The fc3 component itself drives an fc2 client this way
 *   (`client.version = '2023-03-30'` for instance exec), which is the evidence that FC 3.0 endpoints
 *   accept the FC signature on 2023-03-30 paths.
 * - `post(path, body, headers, query)` puts the query on the URL but signs it only for `/proxy/` paths
 *   (FC's rule: the API signs the path, not the query). `qualifier` therefore travels unsigned, as in
 *   the fc3 component's `instanceExec`.
 * - `x-fc-invocation-type` and `x-fc-async-task-id` start with `x-fc-`, so they are canonicalized into
 *   the string to sign: a task id cannot be altered in transit.
 * - `x-fc-security-token` is sent only when the AccessKey id starts with `STS` (true for
 *   `context.credentials` in the FC runtime).
 * - `secure` defaults to **false** (http): we always pass `secure: true`; an `endpoint` override (tests,
 *   a private gateway) carries its own scheme.
 *
 * ## What the fc2 client cannot do, and how we compensate
 * On a non-2xx reply it throws an `Error` whose `code` is the body's `ErrorCode` — the FC 2.0 error
 * shape. FC 3.0 replies `{"Code","Message","RequestId"}`, so `code` is undefined and the HTTP status
 * survives only inside the message text. We never parse messages; instead we read the status from
 * Node's own `http.client.response.finish` diagnostics channel, correlated to our call through an
 * AsyncLocalStorage set around it (see {@link observeHttp}). 409 means the task id was already
 * accepted: a `duplicate`, not an error.
 *
 * ## Why lazily loaded
 * `require('@alicloud/fc2')` loads ali-oss, axios and more (≈ 130 ms measured, median of 5 fresh
 * processes, Node 20): an idle poll cycle, which dispatches nothing, must not pay for it. The module is
 * imported on the first `dispatch`, and the client is built once per dispatcher.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import type FCClient from '@alicloud/fc2';
import { ConfigError, CredentialsError } from '../errors';
import { silentLogger, type Logger } from '../log';
import { systemClock, type Clock } from '../clock';
import { backoffDelay, type RetryPolicy } from '../domain/backoff';
import {
  DispatchError,
  encodeDispatchEvent,
  taskIdFor,
  type DispatchRequest,
  type DispatchResult,
  type Dispatcher,
} from './dispatch';

/** The FC 3.0 API version, as the first path segment and in the signed resource. */
export const FC3_API_VERSION = '2023-03-30';

/**
 * Retries of one dispatch: a repeat is always safe (the task id turns a second acceptance into a 409),
 * so transient failures are retried briefly here; the poller's overdue re-dispatch covers the rest.
 */
export const FC_DISPATCH_RETRY_POLICY = {
  maxAttempts: 3,
  baseMs: 200,
  capMs: 2_000,
} as const satisfies RetryPolicy;

/** FC's function-name rule; also keeps the name safe to place in a URL path unescaped. */
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
/** Versions are digits, aliases follow the function-name rule; `LATEST` is both. */
const QUALIFIER = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,127}$/;

export interface FcDispatchOptions {
  accountId: string;
  region: string;
  /** Overrides the endpoint entirely, e.g. `http://127.0.0.1:PORT` (a loopback fake). */
  endpoint?: string;
  /** Use the `-internal` endpoint (inside the region: no public traffic). */
  internal?: boolean;
  notifierFunction: string;
  pollerFunction: string;
  /** Version or alias, sent as `?qualifier=`; omitted means FC's default (LATEST). */
  qualifier?: string;
  /** From `context.credentials` in FC (STS keys start with `STS.`). */
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  /** Per attempt, connect and read each; default 10 s. */
  timeoutMs?: number;
  log?: Logger;
  /** Default {@link FC_DISPATCH_RETRY_POLICY}; `{ maxAttempts: 1, … }` disables retries. */
  retry?: RetryPolicy;
  clock?: Clock;
  random?: () => number;
}

/**
 * A {@link Dispatcher} that invokes the notifier (for `notify`) or the poller (for `poll-shard`)
 * asynchronously with a task id derived from the request. `@alicloud/fc2` is imported on the first
 * dispatch, not here.
 * @throws ConfigError for a malformed function name, qualifier, account id or region;
 *   CredentialsError when a key is empty or an STS key comes without its token.
 */
export function createFcDispatcher(options: FcDispatchOptions): Dispatcher {
  checkOptions(options);
  const log = options.log ?? silentLogger;
  const policy = options.retry ?? FC_DISPATCH_RETRY_POLICY;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  let client: Promise<FCClient> | undefined;

  const getClient = (): Promise<FCClient> => {
    client ??= loadClient(options).catch((err: unknown) => {
      client = undefined; // a failed import may succeed later (e.g. a transient EMFILE)
      throw new DispatchError('could not load @alicloud/fc2', { retryable: true, cause: err });
    });
    return client;
  };

  return {
    async dispatch(req: DispatchRequest): Promise<DispatchResult> {
      const taskId = taskIdFor(req);
      const body = encodeDispatchEvent(req);
      const functionName = req.kind === 'notify' ? options.notifierFunction : options.pollerFunction;
      const fc = await getClient();
      const fields = { taskId, function: functionName, kind: req.kind };
      for (let attempt = 1; ; attempt++) {
        const outcome = await invokeOnce(fc, functionName, options.qualifier, taskId, body);
        switch (outcome.kind) {
          case 'accepted':
            log.debug('dispatched', { ...fields, requestId: outcome.requestId, attempt });
            return outcome.requestId === undefined
              ? { status: 'dispatched' }
              : { status: 'dispatched', requestId: outcome.requestId };
          case 'duplicate':
            log.info('dispatch already accepted earlier (409)', { ...fields, attempt });
            return { status: 'duplicate' };
          case 'failed': {
            const { error } = outcome;
            if (!error.retryable || attempt >= policy.maxAttempts) {
              log.warn('dispatch failed', { ...fields, attempt, error });
              throw error;
            }
            const delayMs = backoffDelay(attempt - 1, policy, random);
            log.warn('dispatch failed, retrying', { ...fields, attempt, delayMs, error });
            await clock.sleep(delayMs);
            break;
          }
          default: {
            const never: never = outcome;
            return never;
          }
        }
      }
    },
  };
}

type Outcome =
  | { kind: 'accepted'; requestId: string | undefined }
  | { kind: 'duplicate' }
  | { kind: 'failed'; error: DispatchError };

async function invokeOnce(
  fc: FCClient,
  functionName: string,
  qualifier: string | undefined,
  taskId: string,
  body: string,
): Promise<Outcome> {
  const headers = { 'x-fc-invocation-type': 'Async', 'x-fc-async-task-id': taskId };
  const query = qualifier === undefined ? undefined : { qualifier };
  const path = `/functions/${functionName}/invocations`;
  const exchange: Exchange = {};
  try {
    const res = await observeHttp().run(exchange, () => fc.post(path, body, headers, query));
    return { kind: 'accepted', requestId: firstHeader(res.headers['x-fc-request-id']) };
  } catch (err) {
    if (exchange.status === 409) return { kind: 'duplicate' };
    return { kind: 'failed', error: toDispatchError(err, exchange, functionName, taskId) };
  }
}

function toDispatchError(
  err: unknown,
  exchange: Exchange,
  functionName: string,
  taskId: string,
): DispatchError {
  const fcCode = (err as { code?: unknown } | null)?.code;
  const details: Record<string, unknown> = { function: functionName, taskId };
  if (typeof fcCode === 'string') details.fcCode = fcCode;
  if (exchange.requestId !== undefined) details.requestId = exchange.requestId;
  const { status } = exchange;
  if (status !== undefined) {
    details.status = status;
    // 408/429/499/5xx are FC's transient answers (throttling, overload, internal errors); 4xx such as
    // 400, 403 (signature, permissions), 404 (no such function or qualifier) need a human.
    const retryable = status === 408 || status === 429 || status === 499 || status >= 500;
    return new DispatchError(`async invocation of ${functionName} failed with HTTP ${status}`, {
      retryable,
      cause: err,
      details,
    });
  }
  // No reply at all: reset, refused, DNS, timeout. The request may or may not have been accepted, and
  // repeating it is safe. A TypeError is the SDK refusing its arguments: repeating cannot help.
  return new DispatchError(`async invocation of ${functionName} got no reply`, {
    retryable: !(err instanceof TypeError),
    cause: err,
    details,
  });
}

async function loadClient(options: FcDispatchOptions): Promise<FCClient> {
  // Dynamic import: Node (vitest, tsx) and esbuild's CJS bundles both evaluate the module only here.
  const { default: FC } = await import('@alicloud/fc2');
  const { credentials } = options;
  const fc = new FC(options.accountId, {
    accessKeyID: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    ...(credentials.securityToken === undefined ? {} : { securityToken: credentials.securityToken }),
    region: options.region,
    secure: true,
    internal: options.internal ?? false,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    timeout: options.timeoutMs ?? 10_000,
  });
  fc.version = FC3_API_VERSION;
  return fc;
}

function checkOptions(o: FcDispatchOptions): void {
  if (!/^\d{1,32}$/.test(o.accountId)) {
    throw new ConfigError('FC account id must be the numeric Alibaba Cloud account id', {
      path: 'accountId',
    });
  }
  if (!/^[a-z]{2,}(-[a-z0-9]+)+$/.test(o.region)) {
    throw new ConfigError(`not a region id: ${o.region}`, { path: 'region' });
  }
  for (const key of ['notifierFunction', 'pollerFunction'] as const) {
    if (!FUNCTION_NAME.test(o[key])) {
      throw new ConfigError(`not an FC function name: ${o[key]}`, { path: key });
    }
  }
  if (o.qualifier !== undefined && !QUALIFIER.test(o.qualifier)) {
    throw new ConfigError(`not an FC qualifier: ${o.qualifier}`, { path: 'qualifier' });
  }
  if (o.endpoint !== undefined && !/^https?:\/\/[^/?#\s]+\/?$/.test(o.endpoint)) {
    throw new ConfigError('FC endpoint must be an http(s) origin without a path', { path: 'endpoint' });
  }
  const { accessKeyId, accessKeySecret, securityToken } = o.credentials;
  if (accessKeyId === '' || accessKeySecret === '') {
    throw new CredentialsError('FC dispatch needs an AccessKey id and secret');
  }
  // fc2 throws a TypeError from its constructor in this case; say it at configuration time instead.
  if (accessKeyId.startsWith('STS') && (securityToken === undefined || securityToken === '')) {
    throw new CredentialsError('STS credentials need their security token');
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** What Node saw of one HTTP exchange made by the fc2 client. */
interface Exchange {
  status?: number;
  requestId?: string;
}

let httpObserver: AsyncLocalStorage<Exchange> | undefined;

/**
 * Returns the AsyncLocalStorage under which an fc2 call must run for its HTTP status to be recorded.
 *
 * `http.client.request.start` is published synchronously inside `http.request()`, i.e. inside our
 * `run()`, so the store identifies the ClientRequest as ours; `http.client.response.finish` is published
 * when that request's response headers arrive, before the SDK reads the body and throws. Requests made
 * outside a `run()` (any other HTTP client in the process) are ignored. Installed once per process, on
 * the first dispatch: it is an observer of Node's HTTP client, not an SDK singleton, and holds nothing
 * beyond a WeakMap entry per in-flight request.
 */
function observeHttp(): AsyncLocalStorage<Exchange> {
  if (httpObserver !== undefined) return httpObserver;
  const als = new AsyncLocalStorage<Exchange>();
  const pending = new WeakMap<object, Exchange>();
  diagnosticsChannel.subscribe('http.client.request.start', (message) => {
    const exchange = als.getStore();
    const { request } = message as { request: object };
    if (exchange !== undefined) pending.set(request, exchange);
  });
  diagnosticsChannel.subscribe('http.client.response.finish', (message) => {
    const { request, response } = message as { request: object; response: IncomingMessage };
    const exchange = pending.get(request);
    if (exchange === undefined) return;
    pending.delete(request);
    if (response.statusCode !== undefined) exchange.status = response.statusCode;
    const requestId = firstHeader(response.headers['x-fc-request-id']);
    if (requestId !== undefined) exchange.requestId = requestId;
  });
  httpObserver = als;
  return als;
}
