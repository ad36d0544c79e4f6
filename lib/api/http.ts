import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import type { AckErrorCode } from '../ack/errors';
import type { Config } from '../config';
import { AppError } from '../errors';
import { Redactor, type Logger } from '../log';
import type { StoreErrorCode } from '../store/store';
import {
  checkIdField,
  checkTypeField,
  clusterIdField,
  fieldErrors,
  limitField,
  optionsField,
  protoKeyPaths,
  regionField,
  routesField,
  safeParse,
  statusFilterField,
  targetField,
} from './schema';
import type { WatchService } from './service';
import { checkView, clusterView } from './views';

export { checkView, clusterView, deliveryView } from './views';

/**
 * The HTTP API over a framework-free request/response model (hono's habit: one runtime-agnostic core,
 * one adapter per runtime — lib/api/server.ts for `checkwatch serve`, lib/api/fc.ts for a Function
 * Compute HTTP trigger).
 *
 * Routes (JSON in and out, snake_case; every failure is `{"error":{"code","message","details"}}`):
 *
 * | method | path                                   | does                                      |
 * |--------|----------------------------------------|-------------------------------------------|
 * | GET    | /v1/healthz                            | no auth; says whether the store answers   |
 * | POST   | /v1/watches/checks                     | watch a known check (idempotent)          |
 * | POST   | /v1/clusters/{cluster_id}/checks       | RunClusterCheck, then watch the new check |
 * | POST   | /v1/watches/clusters                   | watch every new check of a cluster        |
 * | GET    | /v1/watches                            | what is watched                           |
 * | DELETE | /v1/watches/checks/{cluster_id}/{check_id} | stop watching a check                 |
 * | DELETE | /v1/watches/clusters/{cluster_id}      | stop watching a cluster                   |
 * | GET    | /v1/checks[?cluster_id=&status=&limit=] | watched and archived checks              |
 * | GET    | /v1/checks/{cluster_id}/{check_id}     | one check, its summary and deliveries     |
 *
 * Authentication: `Authorization: Bearer <token>` against `api.tokens`, compared in constant time
 * (SHA-256 digests through `timingSafeEqual`, so neither content nor length leaks): 401 without a
 * token, 403 with a wrong one. With no token configured the API is off: every request but healthz
 * gets 503 `API_DISABLED` — unless the caller passes `allowAnonymous` (meant for `checkwatch serve`
 * bound to loopback), which then lets requests through without a token. Configured tokens are always
 * required, `allowAnonymous` or not.
 */

export interface ApiRequest {
  method: string;
  /** Raw (still percent-encoded) path, without the query string. */
  path: string;
  query: Record<string, string>;
  /** Lower-case names; repeated headers comma-joined. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ApiHandlerDeps {
  readonly service: WatchService;
  readonly config: Config;
  readonly log: Logger;
  /** Serve without tokens when none are configured (loopback `serve` only). */
  readonly allowAnonymous?: boolean | undefined;
  /** Answers whether the store is reachable (healthz); absent: healthz does not check. */
  readonly healthCheck?: (() => Promise<boolean>) | undefined;
}

/** Error codes of the HTTP layer itself (the service adds INVALID_INPUT, ACK_* and STORE_*). */
export type ApiErrorCode =
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'API_DISABLED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INVALID_JSON'
  | 'INVALID_INPUT'
  | 'INVALID_PATH'
  | 'INTERNAL';

/** A failure the HTTP layer answers itself, with its status and extra headers. */
class HttpError extends AppError {
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: ApiErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(code, message, { details: options.details ?? {} });
    this.status = status;
    this.headers = options.headers ?? {};
  }
}

/** HTTP status for every code the service can throw. `satisfies` makes a new code a compile error here. */
const STATUS_BY_CODE = {
  INVALID_INPUT: 400,
  CONFIG_INVALID: 500,
  CREDENTIALS_MISSING: 503,
  ACK_CLUSTER_NOT_FOUND: 404,
  ACK_CHECK_NOT_FOUND: 404,
  ACK_BAD_REQUEST: 400,
  // Our own credentials lack permission: not the caller's fault, and retrying will not help.
  ACK_FORBIDDEN: 502,
  ACK_THROTTLED: 503,
  ACK_SERVER_ERROR: 503,
  ACK_NETWORK: 503,
  ACK_TIMEOUT: 503,
  ACK_BAD_RESPONSE: 503,
  ACK_DEADLINE: 503,
  STORE_UNAVAILABLE: 503,
  STORE_NOT_FOUND: 503,
  STORE_AUTH: 502,
  STORE_CONFLICT: 409,
  STORE_INVALID: 400,
} as const satisfies Record<
  AckErrorCode | StoreErrorCode | 'INVALID_INPUT' | 'CONFIG_INVALID' | 'CREDENTIALS_MISSING',
  number
>;

type KnownCode = keyof typeof STATUS_BY_CODE;

const DEFAULT_RETRY_AFTER_S = 2;
const HEALTH_TIMEOUT_MS = 3_000;

// ─── Request bodies and queries: strict, snake_case ─────────────────────────────────────────────────

// zod/mini (see lib/api/schema.ts): parses go through `safeParse`, which words the issues.
const watchCheckBody = z.strictObject({
  cluster_id: clusterIdField,
  check_id: checkIdField,
  region: z.optional(regionField),
  routes: z.optional(routesField),
});

const runBody = z.strictObject({
  type: checkTypeField,
  target: z.optional(targetField),
  options: z.optional(optionsField),
  region: z.optional(regionField),
  routes: z.optional(routesField),
});

const watchClusterBody = z.strictObject({
  cluster_id: clusterIdField,
  region: z.optional(regionField),
  routes: z.optional(routesField),
});

const noQuery = z.strictObject({});

const listQuery = z.strictObject({
  cluster_id: z.optional(clusterIdField),
  status: z.optional(statusFilterField),
  limit: z.optional(
    z.pipe(
      z.pipe(
        z.string().check(z.regex(/^\d{1,4}$/, 'expected a whole number from 1 to 1000')),
        z.transform(Number),
      ),
      limitField,
    ),
  ),
});

// ─── Routing ────────────────────────────────────────────────────────────────────────────────────────

type Params = Readonly<Record<string, string>>;

interface Ctx {
  readonly params: Params;
  readonly query: Record<string, string>;
  readonly body: unknown;
}

interface Result {
  readonly status: number;
  readonly body: unknown;
}

type Action = (ctx: Ctx) => Promise<Result>;

interface MethodSpec {
  readonly query?: z.ZodMiniType;
  /** A JSON body is required and validated against this. */
  readonly body?: z.ZodMiniType;
  readonly run: Action;
}

interface Route {
  /** Literal segments, or `:name` for a parameter. */
  readonly segments: readonly string[];
  readonly methods: Readonly<Partial<Record<string, MethodSpec>>>;
}

function matchRoute(
  routes: readonly Route[],
  segments: readonly string[],
): { route: Route; params: Params } | undefined {
  for (const route of routes) {
    if (route.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < segments.length && ok; i++) {
      const want = route.segments[i] ?? '';
      const got = segments[i] ?? '';
      if (want.startsWith(':')) {
        if (got === '') ok = false;
        else params[want.slice(1)] = got;
      } else if (want !== got) ok = false;
    }
    if (ok) return { route, params };
  }
  return undefined;
}

function pathSegments(path: string): string[] {
  if (!path.startsWith('/')) throw new HttpError(400, 'INVALID_PATH', 'the path must start with /');
  return path
    .slice(1)
    .split('/')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw new HttpError(400, 'INVALID_PATH', 'the path has a malformed percent-encoding');
      }
    });
}

// ─── Authentication ─────────────────────────────────────────────────────────────────────────────────

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Compares the bearer token against every configured digest without an early exit: the time taken does
 * not depend on which token matched, on how much of it matched, or on its length.
 */
function tokenMatches(given: string, digests: readonly Buffer[]): boolean {
  const d = digest(given);
  let ok = false;
  for (const want of digests) ok = timingSafeEqual(d, want) || ok;
  return ok;
}

const BEARER = /^Bearer[ \t]+([^\s].*)$/i;

// ─── Responses ──────────────────────────────────────────────────────────────────────────────────────

const BASE_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

function scrubStrings(value: unknown, redactor: Redactor, depth = 0): unknown {
  if (typeof value === 'string') return redactor.text(value);
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubStrings(v, redactor, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubStrings(v, redactor, depth + 1)]));
}

function retryAfterSeconds(err: AppError): number {
  const ms = err.details.retryAfterMs;
  return typeof ms === 'number' && ms > 0 ? Math.max(1, Math.ceil(ms / 1000)) : DEFAULT_RETRY_AFTER_S;
}

function isKnownCode(code: string): code is KnownCode {
  return Object.hasOwn(STATUS_BY_CODE, code);
}

interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  details: Record<string, unknown>;
  headers: Record<string, string>;
}

/** Only context a caller can use: ACK's code and request id, the check a failed run started. */
function publicDetails(err: AppError): Record<string, unknown> {
  const d = err.details;
  if (err.code === 'INVALID_INPUT') return { fields: d.fields ?? [] };
  const out: Record<string, unknown> = {};
  if (err.code.startsWith('ACK_')) {
    if (typeof d.action === 'string') out.action = d.action;
    if (typeof d.ackCode === 'string') out.ack_code = d.ackCode;
    if (typeof d.requestId === 'string') out.ack_request_id = d.requestId;
  }
  if (typeof d.check_id === 'string') out.check_id = d.check_id;
  if (typeof d.ack_request_id === 'string') out.ack_request_id = d.ack_request_id;
  return out;
}

function storeMessage(err: AppError, code: StoreErrorCode): string {
  const started = typeof err.details.check_id === 'string' ? err.details.check_id : undefined;
  const what = {
    STORE_UNAVAILABLE: 'the store is unavailable; try again',
    STORE_NOT_FOUND: 'the store is not initialised (run `checkwatch init`)',
    STORE_AUTH: "the store refused checkwatch's credentials",
    STORE_CONFLICT: 'a concurrent change won; try again',
    STORE_INVALID: 'the store refused the values',
  }[code];
  return started === undefined
    ? what
    : `check ${started} was started but could not be watched (${what}); watch it with POST /v1/watches/checks`;
}

function answerFor(err: unknown): ErrorAnswer | undefined {
  if (err instanceof HttpError) {
    return {
      status: err.status,
      code: err.code,
      message: err.message,
      details: { ...err.details },
      headers: err.headers,
    };
  }
  if (!(err instanceof AppError) || !isKnownCode(err.code)) return undefined;
  const code = err.code;
  const status = STATUS_BY_CODE[code];
  const headers: Record<string, string> = {};
  if (status === 503) headers['retry-after'] = String(retryAfterSeconds(err));
  let message = err.message;
  switch (code) {
    case 'STORE_UNAVAILABLE':
    case 'STORE_NOT_FOUND':
    case 'STORE_AUTH':
    case 'STORE_CONFLICT':
    case 'STORE_INVALID':
      message = storeMessage(err, code);
      break;
    case 'ACK_FORBIDDEN':
      message = `ACK refused checkwatch's own credentials (check the RAM policy: cs:GetClusterCheck, cs:ListClusterChecks, cs:RunClusterCheck): ${err.message}`;
      break;
    case 'CONFIG_INVALID':
    case 'CREDENTIALS_MISSING':
      // Server-side setup problems: the caller learns the code, the operator reads the log.
      message =
        code === 'CONFIG_INVALID' ? 'checkwatch is misconfigured' : 'checkwatch has no usable credentials';
      return { status, code, message, details: {}, headers };
    case 'INVALID_INPUT':
    case 'ACK_CLUSTER_NOT_FOUND':
    case 'ACK_CHECK_NOT_FOUND':
    case 'ACK_BAD_REQUEST':
    case 'ACK_THROTTLED':
    case 'ACK_SERVER_ERROR':
    case 'ACK_NETWORK':
    case 'ACK_TIMEOUT':
    case 'ACK_BAD_RESPONSE':
    case 'ACK_DEADLINE':
      break;
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
  return { status, code, message, details: publicDetails(err), headers };
}

// ─── The handler ────────────────────────────────────────────────────────────────────────────────────

/**
 * Builds the API handler. It never throws: every outcome is a JSON response, bad input is always a
 * 4xx with a stable code, and an unexpected failure is a 500 `INTERNAL` without details, logged with
 * the request id that the response carries in `x-request-id`.
 */
export function createApiHandler(deps: ApiHandlerDeps): (req: ApiRequest) => Promise<ApiResponse> {
  const { service, config } = deps;
  const log = deps.log.child({ component: 'api' });
  const digests = config.api.tokens.map(digest);
  const maxBodyBytes = config.api.maxBodyBytes;
  const mode: 'token' | 'anonymous' | 'disabled' =
    digests.length > 0 ? 'token' : deps.allowAnonymous === true ? 'anonymous' : 'disabled';

  // Whatever a platform or a store echoes back, a configured secret never leaves in a response.
  const redactor = new Redactor(config.api.tokens);
  for (const ch of Object.values(config.channels)) {
    redactor.add(ch.url);
    for (const part of urlSecrets(ch.url)) redactor.add(part);
    if ('secret' in ch) redactor.add(ch.secret);
  }

  const health: Action = async () => {
    const reachable = deps.healthCheck === undefined ? undefined : await probe(deps.healthCheck);
    if (reachable === false) {
      return {
        status: 503,
        body: {
          status: 'unavailable',
          store: 'unreachable',
          api: mode,
          error: { code: 'STORE_UNAVAILABLE', message: 'the store did not answer', details: {} },
        },
      };
    }
    return {
      status: 200,
      body: { status: 'ok', store: reachable === undefined ? 'unchecked' : 'reachable', api: mode },
    };
  };

  const withWarnings = (body: Record<string, unknown>, routes: readonly string[]): Record<string, unknown> =>
    routes.length > 0
      ? body
      : {
          ...body,
          warnings: ['no routes: this watch notifies nobody (name routes, or configure defaults.routes)'],
        };

  const routes: Route[] = [
    { segments: ['v1', 'healthz'], methods: { GET: { run: health } } },
    {
      segments: ['v1', 'watches'],
      methods: {
        GET: {
          run: async () => {
            const w = await service.listWatches();
            return {
              status: 200,
              body: { checks: w.checks.map((c) => checkView(c)), clusters: w.clusters.map(clusterView) },
            };
          },
        },
      },
    },
    {
      segments: ['v1', 'watches', 'checks'],
      methods: {
        POST: {
          body: watchCheckBody,
          run: async ({ body }) => {
            const b = body as z.output<typeof watchCheckBody>;
            const r = await service.watchCheck({
              clusterId: b.cluster_id,
              checkId: b.check_id,
              region: b.region,
              routes: b.routes,
            });
            return {
              status: r.created ? 201 : 200,
              body: withWarnings({ created: r.created, check: checkView(r.check) }, r.check.routes),
            };
          },
        },
      },
    },
    {
      segments: ['v1', 'watches', 'checks', ':cluster_id', ':check_id'],
      methods: {
        DELETE: {
          run: async ({ params }) => {
            const clusterId = params.cluster_id ?? '';
            const checkId = params.check_id ?? '';
            if (!(await service.unwatchCheck(clusterId, checkId))) {
              throw new HttpError(404, 'NOT_FOUND', 'this check is not being watched', {
                details: { cluster_id: clusterId, check_id: checkId },
              });
            }
            return { status: 200, body: { deleted: true, cluster_id: clusterId, check_id: checkId } };
          },
        },
      },
    },
    {
      segments: ['v1', 'watches', 'clusters'],
      methods: {
        POST: {
          body: watchClusterBody,
          run: async ({ body }) => {
            const b = body as z.output<typeof watchClusterBody>;
            const r = await service.watchCluster({
              clusterId: b.cluster_id,
              region: b.region,
              routes: b.routes,
            });
            return {
              status: r.created ? 201 : 200,
              body: withWarnings(
                { created: r.created, cluster: clusterView(r.cluster), baseline: r.baseline },
                r.cluster.routes,
              ),
            };
          },
        },
      },
    },
    {
      segments: ['v1', 'watches', 'clusters', ':cluster_id'],
      methods: {
        DELETE: {
          run: async ({ params }) => {
            const clusterId = params.cluster_id ?? '';
            if (!(await service.unwatchCluster(clusterId))) {
              throw new HttpError(404, 'NOT_FOUND', 'this cluster is not being watched', {
                details: { cluster_id: clusterId },
              });
            }
            return { status: 200, body: { deleted: true, cluster_id: clusterId } };
          },
        },
      },
    },
    {
      segments: ['v1', 'clusters', ':cluster_id', 'checks'],
      methods: {
        POST: {
          body: runBody,
          run: async ({ params, body }) => {
            const b = body as z.output<typeof runBody>;
            const r = await service.runAndWatch({
              clusterId: params.cluster_id ?? '',
              type: b.type,
              target: b.target,
              options: b.options,
              region: b.region,
              routes: b.routes,
            });
            return {
              status: 201,
              body: withWarnings(
                { check_id: r.checkId, request_id: r.requestId, check: checkView(r.check) },
                r.check.routes,
              ),
            };
          },
        },
      },
    },
    {
      segments: ['v1', 'checks'],
      methods: {
        GET: {
          query: listQuery,
          run: async ({ query }) => {
            const q = query as z.output<typeof listQuery>;
            const checks = await service.listChecks({
              clusterId: q.cluster_id,
              status: q.status,
              limit: q.limit,
            });
            return { status: 200, body: { checks: checks.map((c) => checkView(c)) } };
          },
        },
      },
    },
    {
      segments: ['v1', 'checks', ':cluster_id', ':check_id'],
      methods: {
        GET: {
          run: async ({ params }) => {
            const clusterId = params.cluster_id ?? '';
            const checkId = params.check_id ?? '';
            const view = await service.getCheck(clusterId, checkId);
            if (view === undefined) {
              throw new HttpError(404, 'NOT_FOUND', 'checkwatch knows no such check', {
                details: { cluster_id: clusterId, check_id: checkId },
              });
            }
            return { status: 200, body: { check: checkView(view.check, view.deliveries) } };
          },
        },
      },
    },
  ];

  const authenticate = (headers: Record<string, string>): void => {
    switch (mode) {
      case 'anonymous':
        return;
      case 'disabled':
        throw new HttpError(
          503,
          'API_DISABLED',
          'the API is disabled: no api.tokens are configured (see docs: api.tokens / CHECKWATCH_API_TOKEN_ENVS)',
        );
      case 'token': {
        const m = BEARER.exec(headers.authorization ?? '');
        const token = m?.[1]?.trim();
        if (token === undefined || token === '') {
          throw new HttpError(
            401,
            'UNAUTHORIZED',
            'a bearer token is required (Authorization: Bearer <token>)',
            {
              headers: { 'www-authenticate': 'Bearer realm="checkwatch"' },
            },
          );
        }
        if (!tokenMatches(token, digests)) {
          throw new HttpError(403, 'FORBIDDEN', 'the bearer token is not valid');
        }
        return;
      }
      default: {
        const unreachable: never = mode;
        return unreachable;
      }
    }
  };

  const readBody = (req: ApiRequest, schema: z.ZodMiniType): unknown => {
    if (req.body.length > maxBodyBytes) {
      throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `the body is larger than ${maxBodyBytes} bytes`, {
        details: { max_bytes: maxBodyBytes },
      });
    }
    const type = req.headers['content-type'];
    if (type === undefined || !isJsonContentType(type)) {
      throw new HttpError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'the body must be JSON (Content-Type: application/json)',
      );
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(req.body);
    } catch {
      throw new HttpError(400, 'INVALID_JSON', 'the body is not valid UTF-8');
    }
    let parsed: unknown;
    try {
      // JSON.parse defines keys as own data properties: a "__proto__" key cannot reach a prototype,
      // and the strict schemas below reject it (and "constructor") as an unknown field.
      parsed = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'INVALID_JSON', 'the body is not valid JSON');
    }
    const proto = protoKeyPaths(parsed);
    if (proto.length > 0) {
      throw new HttpError(400, 'INVALID_INPUT', describeFields('invalid body', proto), {
        details: { fields: proto },
      });
    }
    const result = safeParse(schema, parsed);
    if (!result.success) {
      const fields = fieldErrors(result.error);
      throw new HttpError(400, 'INVALID_INPUT', describeFields('invalid body', fields), {
        details: { fields },
      });
    }
    return result.data;
  };

  const readQuery = (query: Record<string, string>, schema: z.ZodMiniType): Record<string, string> => {
    const result = safeParse(schema, { ...query });
    if (!result.success) {
      const fields = fieldErrors(result.error).map((f) => ({
        ...f,
        path: f.path === '' ? 'query' : `query.${f.path}`,
      }));
      throw new HttpError(400, 'INVALID_INPUT', describeFields('invalid query', fields), {
        details: { fields },
      });
    }
    return result.data as Record<string, string>;
  };

  const dispatch = async (req: ApiRequest): Promise<Result> => {
    const method = req.method.toUpperCase();
    const segments = pathSegments(req.path);
    const matched = matchRoute(routes, segments);
    const isHealth = matched?.route.segments[1] === 'healthz';
    // Everything but healthz sits behind authentication, unknown paths included: an anonymous caller
    // learns nothing about the API's surface.
    if (!isHealth) authenticate(req.headers);
    if (matched === undefined)
      throw new HttpError(404, 'NOT_FOUND', `no such path: ${req.path.slice(0, 200)}`);
    const spec = Object.hasOwn(matched.route.methods, method) ? matched.route.methods[method] : undefined;
    if (spec === undefined) {
      const allow = Object.keys(matched.route.methods).join(', ');
      throw new HttpError(
        405,
        'METHOD_NOT_ALLOWED',
        `${method.slice(0, 16)} is not allowed here (allowed: ${allow})`,
        {
          headers: { allow },
        },
      );
    }
    const query = readQuery(req.query, spec.query ?? noQuery);
    const body = spec.body === undefined ? undefined : readBody(req, spec.body);
    return spec.run({ params: matched.params, query, body });
  };

  return async (req) => {
    const requestId = randomUUID();
    const started = Date.now();
    let status: number;
    let payload: unknown;
    let headers: Record<string, string> = {};
    try {
      const result = await dispatch(req);
      status = result.status;
      payload = result.body;
    } catch (err) {
      const answer = answerFor(err);
      if (answer === undefined) {
        log.error('api request failed', { requestId, method: req.method, path: req.path, error: err });
        status = 500;
        payload = {
          error: { code: 'INTERNAL', message: `internal error (request id ${requestId})`, details: {} },
        };
      } else {
        status = answer.status;
        headers = answer.headers;
        payload = { error: { code: answer.code, message: answer.message, details: answer.details } };
        if (status >= 500)
          log.warn('api request refused', { requestId, status, code: answer.code, error: err });
      }
    }
    const code = errorCodeOf(payload);
    log.info('api request', {
      requestId,
      method: req.method.slice(0, 16),
      path: req.path.slice(0, 300),
      status,
      ...(code === undefined ? {} : { code }),
      ms: Date.now() - started,
    });
    return {
      status,
      headers: { ...BASE_HEADERS, 'x-request-id': requestId, ...headers },
      body: JSON.stringify(scrubStrings(payload, redactor)),
    };
  };
}

/**
 * A JSON error response in the API's one shape, for adapters that must answer before the handler runs
 * (a body over the size limit, a malformed Function Compute event).
 */
export function apiError(
  status: number,
  code: string,
  message: string,
  extraHeaders: Record<string, string> = {},
): ApiResponse {
  return {
    status,
    headers: { ...BASE_HEADERS, ...extraHeaders },
    body: JSON.stringify({ error: { code, message, details: {} } }),
  };
}

/**
 * The parts of a webhook URL that are secrets on their own: query values (DingTalk `access_token`,
 * WeCom `key`) and a long last path segment (Slack's and Feishu's hook tokens). A platform that echoes
 * one of them without the rest of the URL must not leak it either.
 */
function urlSecrets(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const out = [...parsed.searchParams.values()];
  const last = parsed.pathname.split('/').pop() ?? '';
  if (last.length >= 12) out.push(last);
  return out;
}

function errorCodeOf(payload: unknown): string | undefined {
  if (payload === null || typeof payload !== 'object' || !('error' in payload)) return undefined;
  const e = payload.error;
  return e !== null && typeof e === 'object' && 'code' in e && typeof e.code === 'string'
    ? e.code
    : undefined;
}

function describeFields(what: string, fields: readonly { path: string; message: string }[]): string {
  const first = fields[0];
  if (first === undefined) return what;
  return `${what}: ${first.path === '' ? '' : `${first.path}: `}${first.message}`;
}

/** `application/json`, optionally with `charset=utf-8`; any other charset is refused rather than misread. */
export function isJsonContentType(value: string): boolean {
  const [type, ...params] = value.split(';').map((s) => s.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((p) => {
    if (p === '') return true;
    const [k, v] = p.split('=').map((s) => s.trim());
    return k !== 'charset' || v === 'utf-8' || v === '"utf-8"' || v === 'utf8';
  });
}

async function probe(check: () => Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check().catch(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => {
          resolve(false);
        }, HEALTH_TIMEOUT_MS);
      }),
    ]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
