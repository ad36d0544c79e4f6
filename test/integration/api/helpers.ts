import { request } from 'undici';
import { AckClient } from '../../../lib/ack/client';
import type { AckApi } from '../../../lib/ack/api';
import { createApiHandler } from '../../../lib/api/http';
import { startApiServer, type ApiServer } from '../../../lib/api/server';
import { createWatchService, type WatchService } from '../../../lib/api/service';
import { systemClock } from '../../../lib/clock';
import { loadConfig, type Config } from '../../../lib/config';
import { createLogger, type Logger } from '../../../lib/log';
import { startSimulator, type Simulator } from '../../../lib/sim/index';
import { createSqliteStore } from '../../../lib/store/sqlite';
import type { Store } from '../../../lib/store/store';

export const C1 = 'c0123456789abcdef0123456789abcdef';
export const C2 = 'c1111111111111111111111111111111a';
export const TOKEN = 'tok-0123456789abcdef-api';
export const OTHER_TOKEN = 'tok-secondary-token-xyz';
export const HOOK_SECRET = 'hook-sign-secret-42';
export const HOOK_TOKEN = 'HOOKTOKEN987654';
export const HOOK_URL = `https://hooks.example.com/notify?token=${HOOK_TOKEN}`;

/** Configuration as users write it: two routes over one webhook channel, tokens by env reference. */
export function testConfig(over: { tokens?: boolean; defaultRoutes?: string[] } = {}): Config {
  const doc = {
    region: 'cn-hangzhou',
    channels: { hook: { type: 'webhook', url: HOOK_URL, secret: { env: 'HOOK_SECRET' } } },
    routes: { ops: { channels: ['hook'] }, release: { channels: ['hook'], outcomes: ['failed'] } },
    defaults: { routes: over.defaultRoutes ?? ['ops'] },
    api: { tokens: over.tokens === false ? [] : [{ env: 'API_TOKEN' }, { env: 'API_TOKEN_2' }] },
  };
  return loadConfig({
    env: {
      CHECKWATCH_CONFIG: JSON.stringify(doc),
      API_TOKEN: TOKEN,
      API_TOKEN_2: OTHER_TOKEN,
      HOOK_SECRET,
    },
  }).config;
}

export interface Harness {
  readonly sim: Simulator;
  readonly store: Store;
  readonly ack: AckClient;
  readonly config: Config;
  readonly service: WatchService;
  readonly server: ApiServer;
  readonly logs: string[];
  /** Everything the store holds that a subscription could change, for "nothing was written". */
  snapshot(): Promise<string>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  tokens?: boolean;
  allowAnonymous?: boolean;
  defaultRoutes?: string[];
  /** Wraps the store (fault injection through the port). */
  wrapStore?: (store: Store) => Store;
  /** Wraps the service (an unexpected failure). */
  wrapService?: (service: WatchService) => WatchService;
  /** A different ACK port (e.g. a client with wrong credentials). */
  ack?: (sim: Simulator) => AckApi;
  healthCheck?: (store: Store) => () => Promise<boolean>;
}

/** A quick ACK client against the simulator: one attempt, so a fault surfaces at once. */
export function simClient(sim: Simulator, secret?: string): AckClient {
  return new AckClient({
    credentials: { accessKeyId: sim.accessKeyId, accessKeySecret: secret ?? sim.accessKeySecret },
    region: 'cn-hangzhou',
    endpoint: sim.endpoint,
    retry: { maxAttempts: 1, baseMs: 1, capMs: 1 },
  });
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const sim = await startSimulator({ seed: 7, clusters: [C1, C2], checkDurationMs: 3_600_000 });
  const raw = createSqliteStore({ path: ':memory:' });
  const store = options.wrapStore === undefined ? raw : options.wrapStore(raw);
  const ack = simClient(sim);
  const config = testConfig({
    ...(options.tokens === undefined ? {} : { tokens: options.tokens }),
    ...(options.defaultRoutes === undefined ? {} : { defaultRoutes: options.defaultRoutes }),
  });
  const logs: string[] = [];
  const log: Logger = createLogger({ level: 'debug', write: (l) => logs.push(l) });
  const base = createWatchService({
    store,
    ack: options.ack === undefined ? ack : options.ack(sim),
    config,
    clock: systemClock,
    log,
  });
  const service = options.wrapService === undefined ? base : options.wrapService(base);
  const handler = createApiHandler({
    service,
    config,
    log,
    allowAnonymous: options.allowAnonymous,
    healthCheck:
      options.healthCheck === undefined
        ? async () => {
            await raw.readLease('healthz');
            return true;
          }
        : options.healthCheck(raw),
  });
  const server = await startApiServer(handler, {
    port: 0,
    maxBodyBytes: config.api.maxBodyBytes,
    log,
  });
  return {
    sim,
    store: raw,
    ack,
    config,
    service,
    server,
    logs,
    snapshot: async () => {
      const pending = await raw.listPending();
      const checks = await raw.listChecks({ limit: 1000 });
      return JSON.stringify({ checks: pending.checks, clusters: pending.clusters, all: checks });
    },
    close: async () => {
      await server.close();
      await ack.close();
      await raw.close();
      await sim.close();
    },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  text: string;
  // Raw JSON from the wire: its shape is what the assertions check.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface CallOptions {
  body?: unknown;
  /** Sent as is (wins over `body`). */
  raw?: string | Buffer;
  token?: string | null;
  headers?: Record<string, string>;
}

/** One request over real HTTP; `token` defaults to the configured one (`null`: none). */
export async function call(
  base: string,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? TOKEN : opts.token;
  if (token !== null && headers.authorization === undefined) headers.authorization = `Bearer ${token}`;
  let body: string | Buffer | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.body.text();
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers))
    if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(',') : v;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: flat, text, json };
}
