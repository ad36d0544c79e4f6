/**
 * Fault injection for the Tablestore fake: what the real service does under load or partition, on
 * demand. Faults are matched per request in the order they were added; latency faults add up, and the
 * first failing fault that fires decides the request's fate.
 */
import { InputError } from '../../../lib/errors';

export type OtsFaultKind = 'busy' | 'conflict' | 'timeoutAfterWrite' | 'reset' | 'latency';

/**
 * - `busy`: 503 OTSServerBusy, nothing applied.
 * - `conflict`: 409 OTSRowOperationConflict, nothing applied.
 * - `timeoutAfterWrite`: the operation IS applied, then 503 OTSTimeout (the "may have happened" case).
 * - `reset`: the connection is destroyed before anything is applied (the client sees ECONNRESET).
 * - `latency`: the answer is delayed by `latencyMs` (default 100).
 *
 * `operation` targets one API by name (`'BatchWriteRow'`; default: every API). `next: N` fires on the
 * next N matching requests, then the fault is gone; `rate` fires with that probability (seeded, so a run
 * is reproducible); with neither, it fires on every matching request until removed.
 */
export interface OtsFault {
  kind: OtsFaultKind;
  operation?: string;
  next?: number;
  rate?: number;
  latencyMs?: number;
}

/** A failing outcome chosen for one request. */
export type FaultFailure = Exclude<OtsFaultKind, 'latency'>;

interface Entry {
  readonly fault: OtsFault;
  remaining: number | undefined;
}

const KINDS: readonly OtsFaultKind[] = ['busy', 'conflict', 'timeoutAfterWrite', 'reset', 'latency'];

/** mulberry32: a tiny seeded PRNG so `rate` faults are reproducible for a given seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private entries: Entry[] = [];
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  /** Adds a fault; the returned function removes it (idempotent). */
  add(fault: OtsFault): () => void {
    if (!KINDS.includes(fault.kind)) throw new InputError(`unknown fault kind: ${fault.kind as string}`);
    if (fault.next !== undefined && (!Number.isInteger(fault.next) || fault.next < 1)) {
      throw new InputError('fault.next must be a positive integer');
    }
    if (fault.rate !== undefined && !(fault.rate >= 0 && fault.rate <= 1)) {
      throw new InputError('fault.rate must be between 0 and 1');
    }
    if (fault.latencyMs !== undefined && !(fault.latencyMs >= 0)) {
      throw new InputError('fault.latencyMs must be >= 0');
    }
    const entry: Entry = { fault: { ...fault }, remaining: fault.next };
    this.entries.push(entry);
    return () => {
      this.entries = this.entries.filter((e) => e !== entry);
    };
  }

  clear(): void {
    this.entries = [];
  }

  /** Decides what happens to one request to `api`: extra latency and at most one failure. */
  pick(api: string): { latencyMs: number; failure: FaultFailure | undefined } {
    let latencyMs = 0;
    let failure: FaultFailure | undefined;
    for (const entry of [...this.entries]) {
      const { fault } = entry;
      if (fault.operation !== undefined && fault.operation.toLowerCase() !== api.toLowerCase()) continue;
      if (fault.kind !== 'latency' && failure !== undefined) continue;
      if (fault.rate !== undefined && this.random() >= fault.rate) continue;
      if (entry.remaining !== undefined) {
        entry.remaining -= 1;
        if (entry.remaining <= 0) this.entries = this.entries.filter((e) => e !== entry);
      }
      if (fault.kind === 'latency') latencyMs += fault.latencyMs ?? 100;
      else failure = fault.kind;
    }
    return { latencyMs, failure };
  }
}
