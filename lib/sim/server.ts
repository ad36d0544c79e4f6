import { randomBytes, randomInt } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACK_API_VERSION } from '../ack/client';
import { CHECK_TYPES } from '../domain/check';
import { NonceCache, verifyRequest } from './auth';
import type { AuthConfig } from './auth';
import { FaultBook } from './faults';
import { SimModel } from './model';
import type { SimCheck } from './model';
import type { Rng } from './rng';
import { deriveRng, pick, requestIdFrom } from './rng';
import type { FaultSpec, SimAction, SimCheckSeed, SimCounters, SimOptions, Simulator } from './types';

const DEFAULT_DURATION_MS = 8_000;
const DEFAULT_FAILURE_RATE = 0.25;
const DATE_TOLERANCE_MS = 15 * 60_000;
const MAX_BODY_BYTES = 1024 * 1024;
const UNKNOWN_STATUSES = ['Pending', 'Initializing', 'Checking', 'WaitingForApproval', 'PAUSED'] as const;

const HTML_502 = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>Tengine</center>
</body>
</html>
`;

interface Route {
  action: SimAction;
  clusterId: string;
  checkId?: string;
}

interface Answer {
  status: number;
  body: unknown;
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** `/clusters/{id}/checks` (GET list, POST run) and `/clusters/{id}/checks/{check}` (GET). */
function matchRoute(method: string | undefined, rawPath: string): Route | undefined {
  const parts = rawPath.split('/').slice(1).map(decode);
  if (parts.some((p) => p === undefined || p === '')) return undefined;
  const [clusters, clusterId, checks, checkId, ...rest] = parts as string[];
  if (clusters !== 'clusters' || checks !== 'checks' || clusterId === undefined || rest.length > 0) {
    return undefined;
  }
  if (checkId === undefined) {
    if (method === 'GET') return { action: 'ListClusterChecks', clusterId };
    if (method === 'POST') return { action: 'RunClusterCheck', clusterId };
    return undefined;
  }
  return method === 'GET' ? { action: 'GetClusterCheck', clusterId, checkId } : undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function zeroCounters(): Record<SimAction | 'total' | 'rejected', number> {
  return { GetClusterCheck: 0, ListClusterChecks: 0, RunClusterCheck: 0, total: 0, rejected: 0 };
}

class AckSimulator implements Simulator {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
  readonly seed: number;

  private readonly c = zeroCounters();
  private readonly model: SimModel;
  private readonly faults: FaultBook;
  private readonly nonces: NonceCache;
  private readonly auth: AuthConfig;
  private readonly ids: Rng;
  private readonly casing: Rng;
  private readonly now: () => number;
  private readonly waiting = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly server: Server,
    private readonly options: SimOptions,
    init: { endpoint: string; seed: number; accessKeyId: string; accessKeySecret: string },
  ) {
    this.endpoint = init.endpoint;
    this.seed = init.seed;
    this.accessKeyId = init.accessKeyId;
    this.accessKeySecret = init.accessKeySecret;
    if (options.securityToken !== undefined) this.securityToken = options.securityToken;
    this.now = options.now ?? (() => Date.now());
    this.model = new SimModel(init.seed, this.now, options.checkDurationMs ?? DEFAULT_DURATION_MS);
    this.faults = new FaultBook(deriveRng(init.seed, 'faults'));
    this.ids = deriveRng(init.seed, 'request-ids');
    this.casing = deriveRng(init.seed, 'casing');
    const skewMs = options.dateToleranceMs ?? DATE_TOLERANCE_MS;
    this.nonces = new NonceCache(skewMs);
    this.auth = {
      accessKeyId: init.accessKeyId,
      accessKeySecret: init.accessKeySecret,
      securityToken: options.securityToken,
      version: ACK_API_VERSION,
      skewMs,
    };
    for (const id of options.clusters ?? []) this.model.addCluster(id);
  }

  get counters(): SimCounters {
    return { ...this.c };
  }

  addCluster(clusterId: string): void {
    this.model.addCluster(clusterId);
  }

  seedCheck(seed: SimCheckSeed): string {
    return this.model.add(seed).checkId;
  }

  finishCheck(clusterId: string, checkId: string, outcome?: string): void {
    this.model.finish(clusterId, checkId, outcome);
  }

  removeCheck(clusterId: string, checkId: string): void {
    this.model.remove(clusterId, checkId);
  }

  finishedAt(clusterId: string, checkId: string): number | undefined {
    return this.model.get(clusterId, checkId)?.finishAtMs;
  }

  checkIds(clusterId: string): string[] {
    return this.model.list(clusterId).map((c) => c.checkId);
  }

  injectFault(spec: FaultSpec): () => void {
    return this.faults.add(spec);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  resetCounters(): void {
    Object.assign(this.c, zeroCounters());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const wake of this.waiting) wake();
    this.waiting.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
      this.server.closeAllConnections();
    });
  }

  /** Entry point for node:http; never rejects (an unexpected failure answers 500 like ACK would). */
  onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.handle(req, res).catch(() => {
      if (!res.headersSent)
        this.sendError(
          res,
          'UNKNOWN',
          500,
          'InternalError',
          'The request processing has failed due to some unknown error.',
        );
      else res.destroy();
    });
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiting.add(wake);
    });
  }

  private send(
    res: ServerResponse,
    status: number,
    contentType: string,
    text: string,
    requestId: string,
    extra: Record<string, string> = {},
  ): void {
    res.writeHead(status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(text),
      'x-acs-request-id': requestId,
      ...extra,
    });
    res.end(text);
  }

  /** Error bodies alternate between the two casings Alibaba Cloud uses, so clients must accept both. */
  private errorBody(
    status: number,
    code: string,
    message: string,
    requestId: string,
  ): Record<string, unknown> {
    return this.casing() < 0.5
      ? { Code: code, Message: message, RequestId: requestId, HostId: 'cs.aliyuncs.com' }
      : { code, message, requestId, status };
  }

  private sendError(
    res: ServerResponse,
    requestId: string,
    status: number,
    code: string,
    message: string,
    extra: Record<string, string> = {},
  ): void {
    this.send(
      res,
      status,
      'application/json;charset=utf-8',
      JSON.stringify(this.errorBody(status, code, message, requestId)),
      requestId,
      extra,
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.c.total += 1;
    const requestId = requestIdFrom(this.ids);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const query = Object.fromEntries(new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
    const body = await readBody(req);
    if (body === undefined) {
      this.sendError(res, requestId, 413, 'InvalidParameter', 'The request body is too large.', {
        connection: 'close',
      });
      return;
    }
    const route = matchRoute(req.method, rawPath);
    if (route === undefined) {
      this.sendError(
        res,
        requestId,
        404,
        'InvalidAction.NotFound',
        'Specified api is not found, please check your url and method.',
      );
      return;
    }
    this.c[route.action] += 1;
    const now = this.now();
    const auth = verifyRequest(
      { method: req.method ?? 'GET', rawPath, query, headers: req.headers, body },
      this.auth,
      now,
    );
    if (!auth.ok) {
      this.c.rejected += 1;
      this.sendError(res, requestId, auth.status, auth.code, auth.message);
      return;
    }
    if (!this.nonces.use(auth.nonce, now)) {
      this.c.rejected += 1;
      this.sendError(
        res,
        requestId,
        400,
        'SignatureNonceUsed',
        'Specified signature nonce was used already.',
      );
      return;
    }
    if (req.headers['x-acs-action'] !== route.action) {
      this.sendError(
        res,
        requestId,
        400,
        'InvalidAction.Mismatch',
        `x-acs-action does not match the request: expected ${route.action}.`,
      );
      return;
    }

    const fault = this.faults.choose(route.action, route.clusterId);
    const latency =
      (this.options.latencyMs ?? 0) + (fault?.kind === 'latency' ? (fault.spec.latencyMs ?? 1000) : 0);
    if (latency > 0) {
      await this.delay(latency);
      if (this.closed) return;
    }
    switch (fault?.kind) {
      case 'reset':
        req.socket.destroy();
        return;
      case '5xx':
        if (this.casing() < 0.5) {
          this.sendError(
            res,
            requestId,
            500,
            'InternalError',
            'The request processing has failed due to some unknown error.',
          );
        } else {
          this.sendError(
            res,
            requestId,
            503,
            'ServiceUnavailable',
            'The request has failed due to a temporary failure of the server.',
          );
        }
        return;
      case 'throttle': {
        const ms = fault.spec.retryAfterMs ?? (fault.spec.retryAfterSec ?? 1) * 1000;
        this.sendError(
          res,
          requestId,
          this.casing() < 0.5 ? 429 : 400,
          'Throttling.User',
          'Request was denied due to user flow control.',
          {
            'x-acs-retry-after': String(Math.round(ms)),
          },
        );
        return;
      }
      case 'html502':
        this.send(res, 502, 'text/html', HTML_502, requestId);
        return;
      case 'xml503':
        this.send(
          res,
          503,
          'text/xml;charset=utf-8',
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><RequestId>${requestId}</RequestId><HostId>cs.aliyuncs.com</HostId><Code>ServiceUnavailable</Code><Message>The request has failed due to a temporary failure of the server.</Message></Error>`,
          requestId,
        );
        return;
      case 'truncated':
      case 'unknownStatus':
      case 'latency':
      case undefined:
        break;
    }
    const status = fault?.kind === 'unknownStatus' ? pick(this.casing, UNKNOWN_STATUSES) : undefined;
    const answer = this.operate(route, body, query, requestId, status);
    const text = JSON.stringify(answer.body);
    if (fault?.kind === 'truncated') {
      this.send(
        res,
        answer.status,
        'application/json;charset=utf-8',
        text.slice(0, Math.max(1, Math.floor(text.length / 2))),
        requestId,
      );
      return;
    }
    this.send(res, answer.status, 'application/json;charset=utf-8', text, requestId);
  }

  private errorAnswer(status: number, code: string, message: string, requestId: string): Answer {
    return { status, body: this.errorBody(status, code, message, requestId) };
  }

  private clusterNotFound(clusterId: string, requestId: string): Answer {
    return this.errorAnswer(404, 'ErrorClusterNotFound', `cluster ${clusterId} not found`, requestId);
  }

  private operate(
    route: Route,
    body: Buffer,
    query: Record<string, string>,
    requestId: string,
    statusOverride: string | undefined,
  ): Answer {
    if (!this.model.hasCluster(route.clusterId)) return this.clusterNotFound(route.clusterId, requestId);
    switch (route.action) {
      case 'ListClusterChecks': {
        const checks = this.model
          .list(route.clusterId)
          .filter(
            (c) =>
              (query.type === undefined || query.type === '' || c.type === query.type) &&
              (query.target === undefined || query.target === '' || c.target === query.target),
          )
          .map((c) => this.model.summary(c, statusOverride));
        return { status: 200, body: { checks } };
      }
      case 'GetClusterCheck': {
        const check = this.model.get(route.clusterId, route.checkId ?? '');
        if (check === undefined) {
          return this.errorAnswer(
            404,
            'ErrorCheckNotFound',
            `cluster check ${route.checkId ?? ''} not found`,
            requestId,
          );
        }
        return { status: 200, body: this.detail(check, statusOverride) };
      }
      case 'RunClusterCheck':
        return this.run(route.clusterId, body, requestId);
    }
  }

  private detail(check: SimCheck, statusOverride: string | undefined): Record<string, unknown> {
    return { ...this.model.summary(check, statusOverride), check_items: this.model.items(check) };
  }

  private run(clusterId: string, body: Buffer, requestId: string): Answer {
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      return this.errorAnswer(400, 'InvalidParameter', 'The request body is not valid JSON.', requestId);
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      return this.errorAnswer(400, 'InvalidParameter', 'The request body must be a JSON object.', requestId);
    }
    const { type, target, options } = input as { type?: unknown; target?: unknown; options?: unknown };
    if (typeof type !== 'string' || !(CHECK_TYPES as readonly string[]).includes(type)) {
      return this.errorAnswer(
        400,
        'InvalidParameter',
        `type must be one of ${CHECK_TYPES.join(', ')}.`,
        requestId,
      );
    }
    if (target !== undefined && typeof target !== 'string') {
      return this.errorAnswer(400, 'InvalidParameter', 'target must be a string.', requestId);
    }
    if (type === 'NodePoolUpgrade' && (target === undefined || target === '')) {
      return this.errorAnswer(
        400,
        'InvalidParameter',
        'target (node pool id) is required for NodePoolUpgrade.',
        requestId,
      );
    }
    if (
      options !== undefined &&
      (options === null ||
        typeof options !== 'object' ||
        Array.isArray(options) ||
        Object.values(options).some((v) => typeof v !== 'string'))
    ) {
      return this.errorAnswer(400, 'InvalidParameter', 'options must be a map of strings.', requestId);
    }
    const failureRate = this.options.failureRate ?? DEFAULT_FAILURE_RATE;
    const check = this.model.add({
      clusterId,
      type,
      target: target === '' ? undefined : target,
      outcome: this.model.draw() < failureRate ? 'Failed' : 'Succeeded',
    });
    return { status: 200, body: { request_id: requestId, check_id: check.checkId } };
  }
}

/**
 * Starts the ACK cluster-check simulator: a real HTTP server on loopback that verifies V3 signatures
 * and answers GetClusterCheck / ListClusterChecks / RunClusterCheck like ACK, with lifecycles,
 * generated `check_items`, seeded fault injection and request counters. Close it with `close()`.
 */
export async function startSimulator(options: SimOptions = {}): Promise<Simulator> {
  const seed = options.seed ?? randomInt(0, 2 ** 31 - 1);
  const accessKeyId = options.accessKeyId ?? `LTAI${randomBytes(10).toString('hex')}`;
  const accessKeySecret = options.accessKeySecret ?? randomBytes(22).toString('base64url');
  const host = options.host ?? '127.0.0.1';
  // The simulator needs the bound port, the server needs the simulator: a holder breaks the cycle.
  const holder: { sim?: AckSimulator } = {};
  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    if (holder.sim === undefined) res.destroy();
    else holder.sim.onRequest(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const endpoint = `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
  const sim = new AckSimulator(server, options, { endpoint, seed, accessKeyId, accessKeySecret });
  holder.sim = sim;
  return sim;
}
