import type { Rng } from './rng';
import { pick } from './rng';
import type { FaultKind, FaultSpec, SimAction } from './types';
import { FAULT_KINDS } from './types';

interface ActiveFault {
  readonly spec: FaultSpec;
  remaining: number | undefined;
}

export interface ChosenFault {
  kind: FaultKind;
  spec: FaultSpec;
}

/**
 * The injected faults, consulted once per authenticated request. Draws come from one seeded stream,
 * so the same seed and the same request sequence give the same faults.
 */
export class FaultBook {
  private faults: ActiveFault[] = [];

  constructor(private readonly rng: Rng) {}

  add(spec: FaultSpec): () => void {
    const fault: ActiveFault = { spec: { ...spec }, remaining: spec.next };
    this.faults.push(fault);
    return () => {
      this.faults = this.faults.filter((f) => f !== fault);
    };
  }

  clear(): void {
    this.faults = [];
  }

  /** The fault for this request, if any (the first matching spec that fires wins). */
  choose(action: SimAction, clusterId: string): ChosenFault | undefined {
    for (const fault of this.faults) {
      const { spec } = fault;
      if (spec.clusterId !== undefined && spec.clusterId !== clusterId) continue;
      if (spec.action !== undefined && spec.action !== action) continue;
      if (fault.remaining !== undefined) {
        if (fault.remaining <= 0) continue;
        fault.remaining -= 1;
        if (fault.remaining === 0) this.faults = this.faults.filter((f) => f !== fault);
      } else if (this.rng() >= (spec.rate ?? 1)) {
        continue;
      }
      const kinds: readonly FaultKind[] =
        spec.kinds !== undefined && spec.kinds.length > 0 ? spec.kinds : FAULT_KINDS;
      return { kind: kinds.length === 1 ? (kinds[0] as FaultKind) : pick(this.rng, kinds), spec };
    }
    return undefined;
  }
}
