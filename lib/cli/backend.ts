import * as z from 'zod/mini';
import { safeParse } from '../api/schema';
import type { WatchService } from '../api/service';
import { checkView, clusterView } from '../api/views';
import { AppError } from '../errors';

/**
 * What the watch commands talk to: the WatchService in this process (direct mode, on the configured
 * store) or a deployed checkwatch API (`--api URL`). Both answer in the API's JSON views (lib/api/views),
 * parsed by one schema, so every command prints the same thing — and `--json` the same bytes' shape —
 * whichever door it went through.
 */

const deliverySchema = z.looseObject({
  channel: z.string(),
  state: z.string(),
  attempts: z.number(),
  last_error: z.nullable(z.string()),
  sent_at: z.nullable(z.string()),
});

export const apiCheckSchema = z.looseObject({
  cluster_id: z.string(),
  check_id: z.string(),
  state: z.enum(['watching', 'notifying', 'done']),
  region: z.string(),
  routes: z.array(z.string()),
  source: z.string(),
  type: z.nullable(z.string()),
  target: z.nullable(z.string()),
  status: z.nullable(z.string()),
  message: z.string(),
  outcome: z.nullable(z.enum(['passed', 'failed', 'gave_up', 'vanished'])),
  created_at: z.nullable(z.string()),
  finished_at: z.nullable(z.string()),
  watched_at: z.nullable(z.string()),
  summary: z.unknown(),
  deliveries: z.optional(z.array(deliverySchema)),
});
export type ApiCheck = z.infer<typeof apiCheckSchema>;
export type ApiDelivery = z.infer<typeof deliverySchema>;

export const apiClusterSchema = z.looseObject({
  cluster_id: z.string(),
  region: z.string(),
  routes: z.array(z.string()),
  watched_at: z.nullable(z.string()),
  last_listed_at: z.nullable(z.string()),
  baseline_size: z.number(),
});
export type ApiCluster = z.infer<typeof apiClusterSchema>;

export interface WatchCheckInput {
  readonly clusterId: string;
  readonly checkId: string;
  readonly region?: string | undefined;
  readonly routes?: string[] | undefined;
}
export interface RunInput {
  readonly clusterId: string;
  readonly type: string;
  readonly target?: string | undefined;
  readonly options?: Record<string, string> | undefined;
  readonly region?: string | undefined;
  readonly routes?: string[] | undefined;
}
export interface WatchClusterInput {
  readonly clusterId: string;
  readonly region?: string | undefined;
  readonly routes?: string[] | undefined;
}

/** The watch use cases as the CLI sees them, answering in the API's views. */
export interface Backend {
  /** `direct` or the API's base URL, for messages. */
  readonly where: string;
  watchCheck(input: WatchCheckInput): Promise<{ created: boolean; check: ApiCheck }>;
  runAndWatch(input: RunInput): Promise<{ checkId: string; requestId: string; check: ApiCheck }>;
  watchCluster(
    input: WatchClusterInput,
  ): Promise<{ created: boolean; cluster: ApiCluster; baseline: number }>;
  listChecks(filter: { clusterId?: string; status?: string; limit?: number }): Promise<ApiCheck[]>;
  /** With deliveries; undefined when the store (or the API) does not know the check. */
  getCheck(clusterId: string, checkId: string): Promise<ApiCheck | undefined>;
  listWatches(): Promise<{ checks: ApiCheck[]; clusters: ApiCluster[] }>;
  unwatchCheck(clusterId: string, checkId: string): Promise<boolean>;
  unwatchCluster(clusterId: string): Promise<boolean>;
}

function toApi(view: Record<string, unknown>): ApiCheck {
  return apiCheckSchema.parse(view);
}

/** The in-process backend: the WatchService with the API's views applied. */
export function directBackend(service: WatchService): Backend {
  return {
    where: 'direct',
    watchCheck: async (input) => {
      const r = await service.watchCheck({ ...input });
      return { created: r.created, check: toApi(checkView(r.check)) };
    },
    runAndWatch: async (input) => {
      const r = await service.runAndWatch({ ...input });
      return { checkId: r.checkId, requestId: r.requestId, check: toApi(checkView(r.check)) };
    },
    watchCluster: async (input) => {
      const r = await service.watchCluster({ ...input });
      return {
        created: r.created,
        cluster: apiClusterSchema.parse(clusterView(r.cluster)),
        baseline: r.baseline,
      };
    },
    listChecks: async (filter) => (await service.listChecks(filter)).map((c) => toApi(checkView(c))),
    getCheck: async (clusterId, checkId) => {
      const v = await service.getCheck(clusterId, checkId);
      return v === undefined ? undefined : toApi(checkView(v.check, v.deliveries));
    },
    listWatches: async () => {
      const w = await service.listWatches();
      return {
        checks: w.checks.map((c) => toApi(checkView(c))),
        clusters: w.clusters.map((c) => apiClusterSchema.parse(clusterView(c))),
      };
    },
    unwatchCheck: (clusterId, checkId) => service.unwatchCheck(clusterId, checkId),
    unwatchCluster: (clusterId) => service.unwatchCluster(clusterId),
  };
}

/** The API could not be reached, or answered something that is not the checkwatch API. */
export class ApiClientError extends AppError {
  constructor(
    code: 'API_UNREACHABLE' | 'API_BAD_RESPONSE',
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, { retryable: code === 'API_UNREACHABLE', ...options });
  }
}

const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.optional(z.record(z.string(), z.unknown())),
  }),
});

export interface ApiClientOptions {
  /** Base URL, e.g. `https://checkwatch.example.com` or `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly token?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Per request (default 30 s). */
  readonly timeoutMs?: number | undefined;
}

/** A backend over HTTP: the deployed API's routes, Bearer token, `{error:{code,message}}` failures. */
export function apiBackend(options: ApiClientOptions): Backend {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;

  const call = async (
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    allow404 = false,
  ): Promise<{ status: number; json: unknown }> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.token !== undefined && options.token !== '')
      headers.authorization = `Bearer ${options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const signals = [AbortSignal.timeout(timeoutMs)];
    if (options.signal !== undefined) signals.push(options.signal);
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.any(signals),
      });
    } catch (err) {
      if (options.signal?.aborted === true) throw err;
      throw new ApiClientError('API_UNREACHABLE', `cannot reach the checkwatch API at ${base}`, {
        cause: err,
        details: { method, path },
      });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch (err) {
      throw new ApiClientError(
        'API_BAD_RESPONSE',
        `the API answered HTTP ${String(res.status)} with a body that is not JSON`,
        {
          cause: err,
          details: { status: res.status, method, path },
        },
      );
    }
    if (res.ok || (allow404 && res.status === 404)) return { status: res.status, json };
    const parsed = errorBody.safeParse(json);
    if (parsed.success) {
      // The server's own code, so the exit code and message are the same as in direct mode.
      throw new AppError(parsed.data.error.code, parsed.data.error.message, {
        details: { ...(parsed.data.error.details ?? {}), status: res.status },
      });
    }
    throw new ApiClientError('API_BAD_RESPONSE', `the API answered HTTP ${String(res.status)}`, {
      details: { status: res.status, method, path },
    });
  };

  const parse = <T extends z.ZodMiniType>(schema: T, json: unknown, what: string): z.output<T> => {
    // safeParse words the issue as classic zod did (zod/mini has no message locale of its own).
    const r = safeParse(schema, json);
    if (!r.success) {
      throw new ApiClientError(
        'API_BAD_RESPONSE',
        `unexpected ${what} from the API: ${r.error.issues[0]?.message ?? ''}`,
        {
          details: { path: r.error.issues[0]?.path.join('.') },
        },
      );
    }
    return r.data;
  };
  const seg = encodeURIComponent;

  return {
    where: base,
    watchCheck: async (input) => {
      const { json } = await call('POST', '/v1/watches/checks', {
        cluster_id: input.clusterId,
        check_id: input.checkId,
        ...(input.region === undefined ? {} : { region: input.region }),
        ...(input.routes === undefined ? {} : { routes: input.routes }),
      });
      return parse(z.object({ created: z.boolean(), check: apiCheckSchema }), json, 'watch answer');
    },
    runAndWatch: async (input) => {
      const { json } = await call('POST', `/v1/clusters/${seg(input.clusterId)}/checks`, {
        type: input.type,
        ...(input.target === undefined ? {} : { target: input.target }),
        ...(input.options === undefined ? {} : { options: input.options }),
        ...(input.region === undefined ? {} : { region: input.region }),
        ...(input.routes === undefined ? {} : { routes: input.routes }),
      });
      const r = parse(
        z.object({ check_id: z.string(), request_id: z.string(), check: apiCheckSchema }),
        json,
        'run answer',
      );
      return { checkId: r.check_id, requestId: r.request_id, check: r.check };
    },
    watchCluster: async (input) => {
      const { json } = await call('POST', '/v1/watches/clusters', {
        cluster_id: input.clusterId,
        ...(input.region === undefined ? {} : { region: input.region }),
        ...(input.routes === undefined ? {} : { routes: input.routes }),
      });
      return parse(
        z.object({ created: z.boolean(), cluster: apiClusterSchema, baseline: z.number() }),
        json,
        'cluster watch answer',
      );
    },
    listChecks: async (filter) => {
      const q = new URLSearchParams();
      if (filter.clusterId !== undefined) q.set('cluster_id', filter.clusterId);
      if (filter.status !== undefined) q.set('status', filter.status);
      if (filter.limit !== undefined) q.set('limit', String(filter.limit));
      const qs = q.toString();
      const { json } = await call('GET', `/v1/checks${qs === '' ? '' : `?${qs}`}`);
      return parse(z.object({ checks: z.array(apiCheckSchema) }), json, 'check list').checks;
    },
    getCheck: async (clusterId, checkId) => {
      const { status, json } = await call(
        'GET',
        `/v1/checks/${seg(clusterId)}/${seg(checkId)}`,
        undefined,
        true,
      );
      if (status === 404) return undefined;
      return parse(z.object({ check: apiCheckSchema }), json, 'check').check;
    },
    listWatches: async () => {
      const { json } = await call('GET', '/v1/watches');
      return parse(
        z.object({ checks: z.array(apiCheckSchema), clusters: z.array(apiClusterSchema) }),
        json,
        'watch list',
      );
    },
    unwatchCheck: async (clusterId, checkId) => {
      const { status } = await call(
        'DELETE',
        `/v1/watches/checks/${seg(clusterId)}/${seg(checkId)}`,
        undefined,
        true,
      );
      return status !== 404;
    },
    unwatchCluster: async (clusterId) => {
      const { status } = await call('DELETE', `/v1/watches/clusters/${seg(clusterId)}`, undefined, true);
      return status !== 404;
    },
  };
}
