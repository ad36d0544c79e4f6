import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import type { CheckDetail, CheckId, CheckSummary, ClusterId } from '../domain/check';
import type { RetryPolicy } from '../domain/backoff';
import { ACK_RETRY_POLICY, backoffDelay } from '../domain/backoff';
import type { Logger } from '../log';
import { silentLogger } from '../log';
import type { AckApi, CallOptions, RunCheckInput } from './api';
import { resolveAckEndpoint } from './endpoint';
import {
  AckError,
  errorFromResponse,
  errorFromTransport,
  failedBeforeSending,
  parseRetryAfter,
  snippetOf,
} from './errors';
import type { Parsed } from './schema';
import { parseCheckDetail, parseCheckList, parseRunResult } from './schema';
import type { AccessKey } from './signer';
import { canonicalQueryString, encodePath, newNonce, signRequest } from './signer';

export { resolveAckEndpoint } from './endpoint';

/** CS (ACK) OpenAPI version the three operations belong to. */
export const ACK_API_VERSION = '2015-12-15';

export interface AckClientOptions {
  /** A fixed AccessKey (optionally STS), or a provider called before every attempt (rotating STS). */
  credentials: AccessKey | (() => Promise<AccessKey>);
  /** Default region; a call may name another in {@link CallOptions.region}. */
  region: string;
  /** Override: `http://127.0.0.1:1234` or `cs-vpc.cn-hangzhou.aliyuncs.com`. Wins over `region`/`vpc`. */
  endpoint?: string | undefined;
  /** Use `cs-vpc.<region>.aliyuncs.com`. */
  vpc?: boolean | undefined;
  /** Allow a plain-http override to a non-loopback host (simulator in a container network). */
  allowInsecureHttp?: boolean | undefined;
  /** TCP+TLS connect timeout per attempt (default 5 s). Ignored when `dispatcher` is given. */
  connectTimeoutMs?: number | undefined;
  /** Whole-attempt timeout, response body included (default 15 s); also bounded by the deadline. */
  timeoutMs?: number | undefined;
  /** Default {@link ACK_RETRY_POLICY} (6 attempts, base 0.5 s, cap 10 s, full jitter). */
  retry?: RetryPolicy | undefined;
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
  log?: Logger | undefined;
  /** A shared undici pool; the client then does not close it. */
  dispatcher?: Dispatcher | undefined;
  /** Called before every attempt (benchmarks count API calls with it). */
  onRequest?: ((info: { action: string; region: string; attempt: number }) => void) | undefined;
  /**
   * RunClusterCheck is not idempotent: by default it is retried only when ACK certainly did not act
   * (throttled, or the connection never opened). Set this to also retry after 5xx, timeouts and resets,
   * accepting that ACK may then start a second check.
   */
  retryRunOnAmbiguousFailure?: boolean | undefined;
  /** Responses larger than this are refused as ACK_BAD_RESPONSE (default 8 MiB). */
  maxResponseBytes?: number | undefined;
}

interface Operation<T> {
  action: 'GetClusterCheck' | 'ListClusterChecks' | 'RunClusterCheck';
  method: 'GET' | 'POST';
  segments: string[];
  query: Record<string, string>;
  body?: unknown;
  /** A 404 means "this check is gone" rather than a bad request. */
  onCheck: boolean;
  idempotent: boolean;
  parse: (json: unknown, headerRequestId: string | undefined) => Parsed<T>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

function scrub(text: string, creds: AccessKey): string {
  let out = text;
  for (const s of [creds.accessKeySecret, creds.securityToken]) {
    if (s !== undefined && s.length >= 6 && out.includes(s)) out = out.split(s).join('***');
  }
  return out;
}

/**
 * The ACK cluster-check client: V3-signed requests over undici, zod-validated answers, typed
 * {@link AckError}s, and retries with exponential backoff and full jitter on throttling, 5xx, network
 * errors and malformed 2xx bodies, bounded by the caller's deadline. A caller's `signal` aborts the
 * call with the signal's reason.
 */
export class AckClient implements AckApi {
  private readonly options: AckClientOptions;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly endpoints = new Map<string, URL>();
  private closed = false;

  constructor(options: AckClientOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.log = options.log ?? silentLogger;
    this.retry = options.retry ?? ACK_RETRY_POLICY;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    // Fail at construction, with the setting's name, rather than on the first poll.
    this.endpointFor(options.region);
    if (options.dispatcher !== undefined) {
      this.dispatcher = options.dispatcher;
      this.ownsDispatcher = false;
    } else {
      this.dispatcher = new Agent({
        connect: { timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS },
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      this.ownsDispatcher = true;
    }
  }

  /** Closes the connection pool the client created (a shared `dispatcher` is left open). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  getClusterCheck(clusterId: ClusterId, checkId: CheckId, options?: CallOptions): Promise<CheckDetail> {
    return this.call(
      {
        action: 'GetClusterCheck',
        method: 'GET',
        segments: ['clusters', clusterId, 'checks', checkId],
        query: {},
        onCheck: true,
        idempotent: true,
        parse: (json) => parseCheckDetail(json),
      },
      options,
    );
  }

  listClusterChecks(
    clusterId: ClusterId,
    filter?: { readonly type?: string | undefined; readonly target?: string | undefined },
    options?: CallOptions,
  ): Promise<CheckSummary[]> {
    const query: Record<string, string> = {};
    if (filter?.type !== undefined && filter.type !== '') query.type = filter.type;
    if (filter?.target !== undefined && filter.target !== '') query.target = filter.target;
    return this.call(
      {
        action: 'ListClusterChecks',
        method: 'GET',
        segments: ['clusters', clusterId, 'checks'],
        query,
        onCheck: false,
        idempotent: true,
        parse: (json) => parseCheckList(json),
      },
      options,
    );
  }

  runClusterCheck(
    clusterId: ClusterId,
    input: RunCheckInput,
    options?: CallOptions,
  ): Promise<{ checkId: CheckId; requestId: string }> {
    const body: Record<string, unknown> = { type: input.type, options: { ...(input.options ?? {}) } };
    if (input.target !== undefined && input.target !== '') body.target = input.target;
    return this.call(
      {
        action: 'RunClusterCheck',
        method: 'POST',
        segments: ['clusters', clusterId, 'checks'],
        query: {},
        body,
        onCheck: false,
        idempotent: false,
        parse: (json, headerRequestId) => {
          const r = parseRunResult(json);
          if (!r.ok || r.value.requestId !== '') return r;
          return { ok: true, value: { ...r.value, requestId: headerRequestId ?? '' } };
        },
      },
      options,
    );
  }

  private endpointFor(region: string): URL {
    let url = this.endpoints.get(region);
    if (url === undefined) {
      url = resolveAckEndpoint(region, {
        endpoint: this.options.endpoint,
        vpc: this.options.vpc,
        allowInsecureHttp: this.options.allowInsecureHttp,
      });
      this.endpoints.set(region, url);
    }
    return url;
  }

  private async credentials(): Promise<AccessKey> {
    const c = this.options.credentials;
    return typeof c === 'function' ? c() : c;
  }

  private shouldRetry(err: AckError, op: Operation<unknown>): boolean {
    if (!err.retryable) return false;
    if (op.idempotent || this.options.retryRunOnAmbiguousFailure === true) return true;
    // A throttled request was refused before ACK acted; a connection that never opened sent nothing.
    return err.code === 'ACK_THROTTLED' || failedBeforeSending(err);
  }

  private deadlineError(action: string, deadline: number, last: AckError | undefined): AckError {
    return new AckError(
      'ACK_DEADLINE',
      `${action}: deadline ${new Date(deadline).toISOString()} passed before success${
        last === undefined ? '' : ` (last error ${last.code})`
      }`,
      {
        action,
        status: last?.status,
        ackCode: last?.ackCode,
        requestId: last?.requestId,
        cause: last,
      },
    );
  }

  private async call<T>(op: Operation<T>, options: CallOptions | undefined): Promise<T> {
    if (this.closed)
      throw new AckError('ACK_NETWORK', `${op.action}: client is closed`, { action: op.action });
    const region = options?.region ?? this.options.region;
    const base = this.endpointFor(region);
    const deadline = options?.deadline;
    const signal = options?.signal;
    let last: AckError | undefined;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      const now = this.clock.now();
      if (deadline !== undefined && now >= deadline) throw this.deadlineError(op.action, deadline, last);
      const budget = deadline === undefined ? this.timeoutMs : Math.min(this.timeoutMs, deadline - now);
      this.options.onRequest?.({ action: op.action, region, attempt });
      try {
        return await this.attempt(op, base, budget, signal);
      } catch (err) {
        if (!(err instanceof AckError)) throw err;
        if (deadline !== undefined && err.code === 'ACK_TIMEOUT' && budget < this.timeoutMs) {
          throw this.deadlineError(op.action, deadline, err);
        }
        if (!this.shouldRetry(err, op) || attempt >= this.retry.maxAttempts) throw err;
        const delay = backoffDelay(attempt - 1, this.retry, this.random, err.retryAfterMs);
        if (deadline !== undefined && this.clock.now() + delay >= deadline) {
          throw this.deadlineError(op.action, deadline, err);
        }
        this.log.warn('ack call failed, retrying', {
          action: op.action,
          attempt,
          code: err.code,
          status: err.status,
          ackCode: err.ackCode,
          requestId: err.requestId,
          delayMs: delay,
        });
        last = err;
        await this.clock.sleep(delay, signal);
      }
    }
  }

  private async attempt<T>(
    op: Operation<T>,
    base: URL,
    budgetMs: number,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const creds = await this.credentials();
    const path = encodePath(op.segments);
    const qs = canonicalQueryString(op.query);
    const body = op.body === undefined ? undefined : JSON.stringify(op.body);
    const headers = signRequest({
      method: op.method,
      host: base.host,
      path,
      query: op.query,
      action: op.action,
      version: ACK_API_VERSION,
      body,
      contentType: body === undefined ? undefined : 'application/json; charset=utf-8',
      credentials: creds,
      now: this.clock.now(),
      nonce: newNonce(),
    });
    headers.accept = 'application/json';

    const timeout = new AbortController();
    const timer = setTimeout(
      () => {
        timeout.abort();
      },
      Math.max(1, budgetMs),
    );
    const combined = signal === undefined ? timeout.signal : AbortSignal.any([signal, timeout.signal]);
    let status: number;
    let text: string;
    let headerRequestId: string | undefined;
    let retryAfterMs: number | undefined;
    try {
      const res = await request(`${base.origin}${path}${qs === '' ? '' : `?${qs}`}`, {
        method: op.method,
        headers,
        ...(body === undefined ? {} : { body }),
        dispatcher: this.dispatcher,
        signal: combined,
      });
      status = res.statusCode;
      headerRequestId = headerValue(res.headers['x-acs-request-id']);
      retryAfterMs = parseRetryAfter(res.headers['x-acs-retry-after']);
      text = await this.readBody(op.action, res.body, status, headerRequestId);
    } catch (err) {
      if (err instanceof AckError) throw err;
      if (signal?.aborted === true) throw signal.reason;
      if (timeout.signal.aborted) {
        throw new AckError('ACK_TIMEOUT', `${op.action} timed out after ${budgetMs} ms`, {
          action: op.action,
          cause: err,
        });
      }
      throw errorFromTransport(op.action, err);
    } finally {
      clearTimeout(timer);
    }

    if (status < 200 || status > 299) {
      throw errorFromResponse({
        action: op.action,
        status,
        body: scrub(text, creds),
        headerRequestId,
        retryAfterMs,
        onCheck: op.onCheck,
      });
    }
    const bad = (why: string, cause?: unknown): AckError =>
      new AckError('ACK_BAD_RESPONSE', `${op.action}: ${why}`, {
        action: op.action,
        status,
        requestId: headerRequestId,
        snippet: snippetOf(scrub(text, creds)),
        cause,
      });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw bad('response body is not JSON', cause);
    }
    const parsed = op.parse(json, headerRequestId);
    if (!parsed.ok) throw bad(`response does not have the documented shape (${parsed.issue})`);
    return parsed.value;
  }

  private async readBody(
    action: string,
    body: Dispatcher.ResponseData['body'],
    status: number,
    requestId: string | undefined,
  ): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.maxResponseBytes) {
        body.destroy();
        throw new AckError(
          'ACK_BAD_RESPONSE',
          `${action}: response larger than ${this.maxResponseBytes} bytes`,
          {
            action,
            status,
            requestId,
          },
        );
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}
