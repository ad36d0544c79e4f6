import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log';
import { apiError, type ApiRequest, type ApiResponse } from './http';

export interface ApiServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Default 127.0.0.1: binding anything wider is the caller's explicit choice. */
  readonly host?: string | undefined;
  /** Bodies larger than this are refused with 413 before they are read whole. */
  readonly maxBodyBytes: number;
  readonly log: Logger;
}

export interface ApiServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Stops accepting, drops idle keep-alive connections, resolves when the server is closed. */
  close(): Promise<void>;
}

/** Whole-request budget (headers and body): a slow client cannot hold a socket for minutes. */
const REQUEST_TIMEOUT_MS = 30_000;
const HEADERS_TIMEOUT_MS = 15_000;
const CLOSE_GRACE_MS = 5_000;

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > max) {
        done = true;
        // Stop buffering at once; the 413 goes out and the connection is closed behind it.
        req.pause();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, size));
    });
    req.once('error', (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
    // A client that goes away mid-body never sends 'end': settle anyway.
    req.once('close', () => {
      if (done) return;
      done = true;
      reject(new Error('the client closed the connection before the body ended'));
    });
  });
}

/**
 * The path (still percent-encoded) and the query of a request target. Parsed by hand rather than
 * with `new URL(target, base)`, which would read `//host/x` as another host.
 */
export function splitTarget(target: string): { path: string; query: Record<string, string> } {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const entries = new Map<string, string>();
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(target.slice(q + 1))) {
      const prev = entries.get(k);
      // Repeated parameters are comma-joined, as Function Compute presents them.
      entries.set(k, prev === undefined ? v : `${prev},${v}`);
    }
  }
  // fromEntries defines own properties: a "__proto__" parameter stays a plain (rejected) key.
  return { path, query: Object.fromEntries(entries) };
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const entries: [string, string][] = [];
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values !== undefined) entries.push([name.toLowerCase(), values.join(',')]);
  }
  return Object.fromEntries(entries);
}

function send(res: ServerResponse, answer: ApiResponse, close = false): void {
  const headers: Record<string, string> = {
    ...answer.headers,
    'content-length': String(Buffer.byteLength(answer.body)),
  };
  if (close) headers.connection = 'close';
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

/**
 * Serves the API handler over node:http (`checkwatch serve`). Requests are turned into the
 * framework-free {@link ApiRequest}; a body over `maxBodyBytes` is refused with 413 as soon as its
 * declared or streamed size passes the limit, without reading the rest.
 */
export async function startApiServer(
  handler: (req: ApiRequest) => Promise<ApiResponse>,
  opts: ApiServerOptions,
): Promise<ApiServer> {
  const log = opts.log.child({ component: 'api-server' });
  const tooLarge = (): ApiResponse =>
    apiError(413, 'PAYLOAD_TOO_LARGE', `the body is larger than ${opts.maxBodyBytes} bytes`);

  const server = createServer((req, res) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (Number.isFinite(declared) && declared > opts.maxBodyBytes) {
      send(res, tooLarge(), true);
      req.resume();
      return;
    }
    void (async () => {
      let body: Buffer;
      try {
        body = await readBody(req, opts.maxBodyBytes);
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          send(res, tooLarge(), true);
          res.once('finish', () => {
            req.socket.destroySoon();
          });
        } else {
          log.warn('request body could not be read', { error: err });
          req.socket.destroy();
        }
        return;
      }
      const { path, query } = splitTarget(req.url ?? '/');
      let answer: ApiResponse;
      try {
        answer = await handler({ method: req.method ?? 'GET', path, query, headers: headersOf(req), body });
      } catch (err) {
        // The handler answers every failure itself; this is the last line of defence.
        log.error('api handler threw', { error: err });
        answer = apiError(500, 'INTERNAL', 'internal error');
      }
      if (!res.writableEnded) send(res, answer);
    })();
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shown}:${address.port}`;
  log.info('api listening', { url });

  let closing: Promise<void> | undefined;
  return {
    url,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        // In-flight requests get a grace period to finish; then whatever is left is cut.
        const force = setTimeout(() => {
          server.closeAllConnections();
        }, CLOSE_GRACE_MS);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
