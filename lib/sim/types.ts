/** Public types of the ACK simulator (lib/sim/index.ts re-exports them). */

export interface SimOptions {
  /** Default 0 (any free port). */
  port?: number | undefined;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /** Makes faults and generated data (check ids, items, outcomes) reproducible. Random when absent. */
  seed?: number | undefined;
  /** Generated (node:crypto) when absent. */
  accessKeyId?: string | undefined;
  accessKeySecret?: string | undefined;
  /** When set, every request must carry and sign this STS token. Not generated. */
  securityToken?: string | undefined;
  /** Running time of a check created by RunClusterCheck (default 8000 ms). */
  checkDurationMs?: number | undefined;
  /** Time source for lifecycles and the `x-acs-date` window (default Date.now). */
  now?: (() => number) | undefined;
  /** Added to every response, in real (timer) milliseconds. */
  latencyMs?: number | undefined;
  /** Probability that a check created by RunClusterCheck ends `Failed` (default 0.25). */
  failureRate?: number | undefined;
  /** Clusters that exist from the start. */
  clusters?: readonly string[] | undefined;
  /** Accepted distance between `x-acs-date` and `now()` (default 15 min, as ACK). */
  dateToleranceMs?: number | undefined;
}

export interface SimCheckSeed {
  clusterId: string;
  checkId?: string | undefined;
  type?: string | undefined;
  target?: string | undefined;
  /** Epoch ms; default now(). */
  createdAt?: number | undefined;
  /** Running time from createdAt; default `checkDurationMs`. */
  durationMs?: number | undefined;
  /** Final status, verbatim (default `Succeeded`); unknown strings are allowed on purpose. */
  outcome?: string | undefined;
  /** Overrides the generated `check_items` (any JSON value, `null` included). */
  checkItems?: unknown;
}

/**
 * The faults the simulator can inject:
 * - `latency`: delays the answer by `latencyMs` (default 1000);
 * - `5xx`: 500 `InternalError` or 503 `ServiceUnavailable` (JSON body);
 * - `throttle`: `Throttling.User` (HTTP 429 or 400) with `x-acs-retry-after` (milliseconds, as the
 *   official SDK reads it; from `retryAfterMs`, or `retryAfterSec`·1000, default 1000);
 * - `html502`: a 502 HTML page from the gateway (Tengine);
 * - `truncated`: the normal answer with its body cut in half (consistent content-length);
 * - `reset`: the connection is destroyed without an answer;
 * - `unknownStatus`: the normal answer with `status` replaced by a value ACK does not document;
 * - `xml503`: a 503 with an XML `<Error>` body.
 */
export type FaultKind =
  'latency' | '5xx' | 'throttle' | 'html502' | 'truncated' | 'reset' | 'unknownStatus' | 'xml503';

export const FAULT_KINDS = [
  'latency',
  '5xx',
  'throttle',
  'html502',
  'truncated',
  'reset',
  'unknownStatus',
] as const satisfies readonly FaultKind[];

export interface FaultSpec {
  /** Probability (0..1) that a matching request gets a fault from `kinds`. Default 1 when `next` is absent. */
  rate?: number | undefined;
  /** Kinds to draw from (seeded); default {@link FAULT_KINDS} (`xml503` only when named). */
  kinds?: FaultKind[] | undefined;
  /** Restrict to requests on one cluster. */
  clusterId?: string | undefined;
  /** Fault exactly the next N matching requests, then the fault removes itself. */
  next?: number | undefined;
  /** Restrict to one operation. */
  action?: SimAction | undefined;
  retryAfterSec?: number | undefined;
  /** Wins over `retryAfterSec`. */
  retryAfterMs?: number | undefined;
  latencyMs?: number | undefined;
}

export type SimAction = 'GetClusterCheck' | 'ListClusterChecks' | 'RunClusterCheck';

export type SimCounters = Readonly<Record<SimAction | 'total' | 'rejected', number>>;

export interface Simulator {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
  /** The seed in use (given or drawn), to reproduce a run. */
  readonly seed: number;
  /** A snapshot: requests per operation (faulted and rejected ones included), all requests, auth rejections. */
  readonly counters: SimCounters;
  /** Idempotent. Unknown clusters answer 404 `ErrorClusterNotFound`. */
  addCluster(clusterId: string): void;
  /** Adds a check (and its cluster); returns the check id. */
  seedCheck(seed: SimCheckSeed): string;
  /** Finishes a check now, optionally with another outcome. Throws InputError for an unknown check. */
  finishCheck(clusterId: string, checkId: string, outcome?: string): void;
  /** Later Gets answer 404. */
  removeCheck(clusterId: string, checkId: string): void;
  /** Epoch ms when the check finishes (or finished); undefined for an unknown check. */
  finishedAt(clusterId: string, checkId: string): number | undefined;
  /** Check ids of a cluster, oldest first (empty for an unknown cluster). */
  checkIds(clusterId: string): string[];
  /** Returns a function that removes this fault. */
  injectFault(spec: FaultSpec): () => void;
  clearFaults(): void;
  resetCounters(): void;
  close(): Promise<void>;
}
