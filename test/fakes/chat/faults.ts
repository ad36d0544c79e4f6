import type { ChatFault } from './types';

interface Armed {
  readonly fault: ChatFault;
  remaining: number;
}

/**
 * The injected faults, in injection order. The first one that fires for a request wins; a fault with
 * `next` is used up after that many firings.
 */
export class FaultSchedule {
  private armed: Armed[] = [];

  constructor(private readonly random: () => number) {}

  add(fault: ChatFault): () => void {
    if (fault.rate !== undefined && !(fault.rate >= 0 && fault.rate <= 1)) {
      throw new RangeError(`fault rate must be within [0, 1], got ${fault.rate}`);
    }
    if (fault.next !== undefined && !(Number.isInteger(fault.next) && fault.next >= 0)) {
      throw new RangeError(`fault next must be a non-negative integer, got ${fault.next}`);
    }
    const remaining = fault.next ?? (fault.rate === undefined ? 1 : Number.POSITIVE_INFINITY);
    const entry: Armed = { fault: { ...fault }, remaining };
    this.armed.push(entry);
    return () => {
      this.armed = this.armed.filter((a) => a !== entry);
    };
  }

  clear(): void {
    this.armed = [];
  }

  /** The fault that fires for the request arriving now, if any (consuming one use of it). */
  take(): ChatFault | undefined {
    for (const entry of this.armed) {
      if (entry.remaining <= 0) continue;
      // Draw only for rate faults, so adding a `next` fault does not shift a seeded sequence.
      if (entry.fault.rate !== undefined && this.random() >= entry.fault.rate) continue;
      entry.remaining -= 1;
      if (entry.remaining <= 0) this.armed = this.armed.filter((a) => a !== entry);
      return entry.fault;
    }
    return undefined;
  }
}
