/**
 * A loopback Function Compute endpoint for the invocation API, strict where the real one is:
 *
 * - verifies the FC signature (`Authorization: FC <ak>:<base64 HMAC-SHA256(secret, stringToSign)>`)
 *   with its own implementation of the rule — never the SDK's signer — plus `Date` skew, `Content-MD5`,
 *   `x-fc-account-id` and, for STS keys, `x-fc-security-token`;
 * - serves the FC 3.0 path `POST /2023-03-30/functions/{fn}/invocations[?qualifier=]` (task id header
 *   `x-fc-async-task-id`) and the FC 2.0 path `POST /2016-08-15/services/{svc}[.{q}]/functions/{fn}/invocations`
 *   (`x-fc-stateful-async-invocation-id`);
 * - answers an async invocation 202 (with `x-fc-request-id`), a repeated task id 409, and injected
 *   faults 503 / 429 / a reset connection; errors carry FC's JSON error body (FC 3.0:
 *   `{Code, Message, RequestId}`; FC 2.0: `{ErrorCode, ErrorMessage}`);
 * - records every accepted invocation and hands it to `onInvoke` handlers after replying, as FC runs an
 *   async invocation after accepting it (tests use this to deliver the event to the notifier).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FcFakeOptions {
  port?: number;
  accountId?: string;
  accessKeyId?: string;
  accessKeySecret?: string;
  /** When set, every request must carry it as `x-fc-security-token`. */
  securityToken?: string;
  /** The fake's clock, for the `Date` skew check; default `Date.now`. */
  now?: () => number;
}

export interface FcInvocation {
  at: number;
  functionName: string;
  qualifier?: string;
  taskId?: string;
  invocationType: string;
  /** Lower-cased request headers, as received. */
  headers: Record<string, string>;
  body: string;
  /** URL path without the query. */
  path: string;
  /** Raw request target, query included. */
  url: string;
  method: string;
  api: '2023-03-30' | '2016-08-15';
  /** FC 2.0 only. */
  service?: string;
  requestId: string;
}

/**
 * `accept-then-reset` accepts the invocation (records it, remembers the task id, runs handlers) and
 * then drops the connection without a reply: the "outcome unknown" case a client must retry safely.
 */
export type FcFaultKind = '5xx' | 'throttle' | 'reset' | 'accept-then-reset';

export interface FcFault {
  kind: FcFaultKind;
  /** Applies to the next N requests only. */
  next?: number;
  /** Applies to each request with this probability (0..1). Without `next`/`rate`: every request. */
  rate?: number;
}

export interface FcFake {
  readonly endpoint: string;
  readonly accountId: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly invocations: readonly FcInvocation[];
  /** Requests refused by verification, with the error code answered (for assertions). */
  readonly rejections: readonly { code: string; status: number; path: string }[];
  onInvoke(handler: (inv: FcInvocation) => void | Promise<void>): void;
  injectFault(f: FcFault): () => void;
  clearFaults(): void;
  /** Resolves when every handler started so far has settled. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

const FC3 = /^\/2023-03-30\/functions\/([^/]+)\/invocations$/;
const FC2 = /^\/2016-08-15\/services\/([^/.]+)(?:\.([^/]+))?\/functions\/([^/]+)\/invocations$/;
const TASK_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const MAX_ASYNC_BYTES = 128 * 1024;
const MAX_SYNC_BYTES = 32 * 1024 * 1024;
/** FC refuses requests whose `Date` is further than this from its own clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the fake on 127.0.0.1 (port 0 unless given). */
export async function startFcFake(options: FcFakeOptions = {}): Promise<FcFake> {
  const accountId = options.accountId ?? '1234567890123456';
  const accessKeyId = options.accessKeyId ?? 'fake-fc-access-key-id';
  const accessKeySecret = options.accessKeySecret ?? 'fake-fc-access-key-secret';
  const { securityToken } = options;
  const now = options.now ?? (() => Date.now());

  const invocations: FcInvocation[] = [];
  const rejections: { code: string; status: number; path: string }[] = [];
  const handlers: ((inv: FcInvocation) => void | Promise<void>)[] = [];
  const faults = new Set<{ kind: FcFaultKind; remaining: number | undefined; rate: number | undefined }>();
  const acceptedTasks = new Set<string>();
  const running = new Set<Promise<void>>();
  let counter = 0;

  const pickFault = (): FcFaultKind | undefined => {
    for (const f of faults) {
      if (f.remaining !== undefined) {
        if (f.remaining <= 0) continue;
        f.remaining -= 1;
        return f.kind;
      }
      if (f.rate === undefined || Math.random() < f.rate) return f.kind;
    }
    return undefined;
  };

  const deliver = (inv: FcInvocation): void => {
    for (const h of handlers) {
      const p = Promise.resolve()
        .then(() => h(inv))
        // A failing handler is the function failing; FC would log and retry it, the fake just moves on.
        .catch(() => undefined)
        .finally(() => running.delete(p));
      running.add(p);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = `fake-${++counter}-${randomBytes(6).toString('hex')}`;
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = decodeURIComponent(url.pathname);
    const api = path.startsWith('/2016-08-15/') ? '2016-08-15' : '2023-03-30';
    res.setHeader('x-fc-request-id', requestId);

    const refuse = (r: Refusal): void => {
      rejections.push({ code: r.code, status: r.status, path });
      const payload =
        api === '2023-03-30'
          ? { Code: r.code, Message: r.message, RequestId: requestId }
          : { ErrorCode: r.code, ErrorMessage: r.message };
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    };

    try {
      const body = await readBody(req, MAX_SYNC_BYTES);
      const fc3 = FC3.exec(path);
      const fc2 = FC2.exec(path);
      if (req.method !== 'POST' || (fc3 === null && fc2 === null)) {
        throw new Refusal(
          404,
          'PathNotSupported',
          `'${req.method ?? ''}' against '${path}' is not supported`,
        );
      }

      const fault = pickFault();
      switch (fault) {
        case '5xx':
          throw new Refusal(503, 'ServiceUnavailable', 'injected fault: service unavailable');
        case 'throttle':
          throw new Refusal(429, 'ResourceThrottled', 'injected fault: throttled');
        case 'reset':
          req.socket.destroy();
          return;
        case 'accept-then-reset':
        case undefined:
          break;
        default: {
          const never: never = fault;
          return never;
        }
      }

      verify(req.method, path, url, req.headers, body, {
        accountId,
        accessKeyId,
        accessKeySecret,
        securityToken,
        now: now(),
      });

      const headers = flatten(req.headers);
      const functionName = fc3 !== null ? (fc3[1] ?? '') : (fc2?.[3] ?? '');
      const service = fc2?.[1];
      const qualifier = fc3 !== null ? (url.searchParams.get('qualifier') ?? undefined) : fc2?.[2];
      if (!NAME.test(functionName) || (service !== undefined && !NAME.test(service))) {
        throw new Refusal(400, 'InvalidArgument', `invalid function name '${functionName}'`);
      }
      const invocationType = headers['x-fc-invocation-type'] ?? 'Sync';
      if (invocationType !== 'Sync' && invocationType !== 'Async') {
        throw new Refusal(400, 'InvalidArgument', `invalid invocation type '${invocationType}'`);
      }
      const taskHeader = api === '2023-03-30' ? 'x-fc-async-task-id' : 'x-fc-stateful-async-invocation-id';
      const taskId = headers[taskHeader];
      if (taskId !== undefined && !TASK_ID.test(taskId)) {
        throw new Refusal(400, 'InvalidArgument', `invalid ${taskHeader} '${taskId}'`);
      }
      if (invocationType === 'Async' && body.length > MAX_ASYNC_BYTES) {
        throw new Refusal(
          400,
          'EntityTooLarge',
          `payload size exceeds maximum allowed size (${MAX_ASYNC_BYTES} bytes)`,
        );
      }

      const inv: FcInvocation = {
        at: now(),
        functionName,
        ...(qualifier === undefined ? {} : { qualifier }),
        ...(taskId === undefined ? {} : { taskId }),
        invocationType,
        headers,
        body: body.toString('utf8'),
        path,
        url: req.url ?? path,
        method: req.method,
        api,
        ...(service === undefined ? {} : { service }),
        requestId,
      };

      if (invocationType === 'Sync') {
        invocations.push(inv);
        try {
          for (const h of handlers) await h(inv);
        } catch (err) {
          // A function error on a sync call is still HTTP 200, flagged by x-fc-error-type.
          const errorMessage = err instanceof Error ? err.message : String(err);
          res
            .writeHead(200, {
              'content-type': 'application/json',
              'x-fc-error-type': 'UnhandledInvocationError',
            })
            .end(JSON.stringify({ errorMessage, errorType: 'Error' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end();
        return;
      }

      if (taskId !== undefined) {
        const key = `${service ?? ''}/${functionName}/${taskId}`;
        if (acceptedTasks.has(key)) {
          throw new Refusal(
            409,
            api === '2023-03-30' ? 'AsyncTaskAlreadyExists' : 'StatefulAsyncInvocationAlreadyExists',
            `async task '${taskId}' already exists`,
          );
        }
        acceptedTasks.add(key);
      }
      invocations.push(inv);
      if (fault === 'accept-then-reset') {
        req.socket.destroy();
      } else {
        const replyHeaders: Record<string, string> = { 'content-length': '0' };
        if (taskId !== undefined) replyHeaders[taskHeader] = taskId;
        res.writeHead(202, replyHeaders).end();
      }
      deliver(inv);
    } catch (err) {
      if (err instanceof Refusal) {
        refuse(err);
        return;
      }
      throw err;
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ Code: 'InternalServerError', Message: String(err) }));
      } else {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    accountId,
    accessKeyId,
    accessKeySecret,
    invocations,
    rejections,
    onInvoke(handler) {
      handlers.push(handler);
    },
    injectFault(f) {
      const entry = { kind: f.kind, remaining: f.next, rate: f.rate };
      faults.add(entry);
      return () => {
        faults.delete(entry);
      };
    },
    clearFaults() {
      faults.clear();
    },
    async drain() {
      while (running.size > 0) await Promise.all([...running]);
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err) reject(err);
          else resolve();
        });
        // The fc2 client keeps connections alive: without this, close() waits for them to time out.
        server.closeAllConnections();
      });
    },
  };
}

interface Expected {
  accountId: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string | undefined;
  now: number;
}

/** Refuses the request the way FC would, or returns normally when it is authentic. */
function verify(
  method: string,
  path: string,
  url: URL,
  headers: IncomingHttpHeaders,
  body: Buffer,
  expected: Expected,
): void {
  const date = single(headers.date);
  if (date === undefined)
    throw new Refusal(400, 'MissingRequiredHeader', 'required HTTP header Date was not specified');
  const sent = Date.parse(date);
  if (Number.isNaN(sent) || Math.abs(expected.now - sent) > MAX_SKEW_MS) {
    throw new Refusal(
      403,
      'RequestTimeTooSkewed',
      `the difference between the request time '${date}' and the server's time is too large`,
    );
  }
  const account = single(headers['x-fc-account-id']);
  if (account !== expected.accountId) {
    throw new Refusal(
      403,
      'AccessDenied',
      `x-fc-account-id '${account ?? ''}' does not match the endpoint's account`,
    );
  }
  const auth = single(headers.authorization);
  const match = auth === undefined ? null : /^FC ([^:]+):(.+)$/.exec(auth);
  if (match === null)
    throw new Refusal(403, 'SignatureNotMatch', 'missing or malformed Authorization header');
  const [, ak = '', signature = ''] = match;
  if (ak !== expected.accessKeyId)
    throw new Refusal(403, 'InvalidAccessKeyID', `invalid access key ID '${ak}'`);
  if (
    expected.securityToken !== undefined &&
    single(headers['x-fc-security-token']) !== expected.securityToken
  ) {
    throw new Refusal(403, 'InvalidSecurityToken', 'the security token is missing or invalid');
  }
  if (body.length > 0) {
    const md5 = single(headers['content-md5']);
    const digest = createHash('md5').update(body).digest();
    // fc2 sends base64 of the *hex* digest; RFC 1864 says base64 of the raw digest. Accept both.
    const accepted = [
      digest.toString('base64'),
      Buffer.from(digest.toString('hex'), 'utf8').toString('base64'),
    ];
    if (md5 === undefined || !accepted.includes(md5)) {
      throw new Refusal(400, 'InvalidArgument', 'Content-MD5 does not match the body');
    }
  }
  const toSign = fcStringToSign(
    method,
    path,
    headers,
    /^\/\d{4}-\d{2}-\d{2}\/proxy\//.test(path) ? url.searchParams : null,
  );
  const expectedSig = createHmac('sha256', expected.accessKeySecret).update(toSign, 'utf8').digest();
  const given = Buffer.from(signature, 'base64');
  if (given.length !== expectedSig.length || !timingSafeEqual(given, expectedSig)) {
    throw new Refusal(
      403,
      'SignatureNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your access key and signing method',
    );
  }
}

/**
 * FC's string to sign, written from the protocol rule:
 * `METHOD\nContent-MD5\nContent-Type\nDate\n` + every `x-fc-*` header as `name:value\n` (names
 * lower-cased, sorted) + the unescaped path; for `/proxy/` paths (HTTP triggers) also `\n`-joined,
 * sorted `key=value` query pairs. The API does not sign the query.
 */
export function fcStringToSign(
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  query: URLSearchParams | null,
): string {
  const fcHeaders = Object.keys(headers)
    .map((k) => k.toLowerCase())
    .filter((k) => k.startsWith('x-fc-'))
    .sort()
    .map((k) => `${k}:${single(headers[k]) ?? ''}\n`)
    .join('');
  let s = `${method}\n${single(headers['content-md5']) ?? ''}\n${single(headers['content-type']) ?? ''}\n${single(headers.date) ?? ''}\n${fcHeaders}${path}`;
  if (query !== null) {
    const pairs = [...query.entries()].map(([k, v]) => `${k}=${v}`).sort();
    s += `\n${pairs.join('\n')}`;
  }
  return s;
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const s = single(v);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Refusal(413, 'EntityTooLarge', 'request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
