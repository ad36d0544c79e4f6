/**
 * A counting HTTP proxy for the soak: sits between the workers and a fake (ACK simulator, Tablestore,
 * FC), forwards every request unchanged (headers included, so signatures still verify) and classifies
 * each answer with the fake's own fault vocabulary. The fakes inject faults themselves; the proxy only
 * counts what the clients actually received, which is what the summary table reports.
 */
import { Agent, createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exchange {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly elapsedMs: number;
  readonly path: string;
}

export interface CountingProxy {
  readonly endpoint: string;
  /** Answers (or resets) seen, by the classifier's kind. */
  readonly counts: Record<string, number>;
  /** Requests forwarded. */
  readonly requests: () => number;
  close(): Promise<void>;
}

/**
 * Starts a proxy to `target` (`http://127.0.0.1:PORT`). `classify` names the fault an answer shows
 * (or undefined for a normal one); a connection the upstream dropped is counted as `reset`.
 */
export async function startCountingProxy(
  target: string,
  classify: (x: Exchange) => string | undefined,
): Promise<CountingProxy> {
  const up = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const counts: Record<string, number> = {};
  let requests = 0;
  const bump = (kind: string): void => {
    counts[kind] = (counts[kind] ?? 0) + 1;
  };
  const server = createServer((req, res) => {
    requests += 1;
    const started = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const upstream = request(
        {
          host: up.hostname,
          port: up.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent,
        },
        (ur) => {
          const body: Buffer[] = [];
          ur.on('data', (c: Buffer) => body.push(c));
          ur.on('error', () => {
            bump('reset');
            req.socket.destroy();
          });
          ur.on('end', () => {
            const buf = Buffer.concat(body);
            const kind = classify({
              status: ur.statusCode ?? 0,
              headers: ur.headers,
              body: buf,
              elapsedMs: Date.now() - started,
              path: req.url ?? '',
            });
            if (kind !== undefined) bump(kind);
            if (res.destroyed) return;
            const headers = { ...ur.headers };
            delete headers['transfer-encoding'];
            headers['content-length'] = String(buf.length);
            res.writeHead(ur.statusCode ?? 502, headers);
            res.end(buf);
          });
        },
      );
      upstream.on('error', () => {
        bump('reset');
        req.socket.destroy();
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
