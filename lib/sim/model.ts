import { InputError } from '../errors';
import { classifyStatus } from '../domain/check';
import { generateCheckItems } from './items';
import type { Rng } from './rng';
import { deriveRng, lowerLetters } from './rng';
import type { SimCheckSeed } from './types';

/** The status a check reports while it runs (ACK documents none; ecctl polls until `Succeeded`). */
export const RUNNING_STATUS = 'Running';
/** What a Go service marshals for an unset `time.Time`: what a running check shows as `finished_at`. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

export interface SimCheck {
  readonly clusterId: string;
  readonly checkId: string;
  readonly type: string;
  readonly target: string | undefined;
  readonly createdAtMs: number;
  /** Nanoseconds within the millisecond, so timestamps carry nine fractional digits. */
  readonly createdSubMsNs: number;
  finishAtMs: number;
  readonly finishSubMsNs: number;
  outcome: string;
  /** Seeds the items, so a check's items are stable across Gets and reproducible from the seed. */
  readonly itemsSeed: number;
  readonly itemsOverride: { value: unknown } | undefined;
}

/** RFC 3339 with nanoseconds (`2023-10-16T08:31:20.292030178Z`), as ACK writes timestamps. */
export function rfc3339Nano(ms: number, subMsNs: number): string {
  return `${new Date(ms).toISOString().slice(0, -1)}${String(subMsNs).padStart(6, '0')}Z`;
}

/** `<19-digit ns timestamp>-<cluster_id>-clustercheck-<5 lowercase letters>`. */
export function makeCheckId(clusterId: string, createdAtMs: number, subMsNs: number, rng: Rng): string {
  const ns = BigInt(Math.trunc(createdAtMs)) * 1_000_000n + BigInt(subMsNs);
  return `${ns.toString()}-${clusterId}-clustercheck-${lowerLetters(rng, 5)}`;
}

function messageFor(status: string): string {
  if (status === RUNNING_STATUS) return 'task running';
  switch (classifyStatus(status)) {
    case 'succeeded':
      return 'task succeed';
    case 'failed':
      return 'task failed';
    case 'running':
      return `task ${status.toLowerCase()}`;
  }
}

export interface WireSummary {
  check_id: string;
  type: string;
  status: string;
  message: string;
  created_at: string;
  finished_at: string;
}

/** Clusters and their checks, with lifecycles computed from `now` at read time. */
export class SimModel {
  private readonly clusters = new Map<string, Map<string, SimCheck>>();
  private readonly data: Rng;

  constructor(
    private readonly seed: number,
    private readonly now: () => number,
    private readonly defaultDurationMs: number,
  ) {
    this.data = deriveRng(seed, 'data');
  }

  addCluster(clusterId: string): void {
    if (!this.clusters.has(clusterId)) this.clusters.set(clusterId, new Map());
  }

  hasCluster(clusterId: string): boolean {
    return this.clusters.has(clusterId);
  }

  /** Random draws for callers that decide outcomes (RunClusterCheck). */
  draw(): number {
    return this.data();
  }

  add(seed: SimCheckSeed): SimCheck {
    this.addCluster(seed.clusterId);
    const checks = this.clusters.get(seed.clusterId) ?? new Map<string, SimCheck>();
    const createdAtMs = seed.createdAt ?? this.now();
    const createdSubMsNs = Math.floor(this.data() * 1_000_000);
    const checkId = seed.checkId ?? makeCheckId(seed.clusterId, createdAtMs, createdSubMsNs, this.data);
    const check: SimCheck = {
      clusterId: seed.clusterId,
      checkId,
      type: seed.type ?? 'ClusterUpgrade',
      target: seed.target,
      createdAtMs,
      createdSubMsNs,
      finishAtMs: createdAtMs + (seed.durationMs ?? this.defaultDurationMs),
      finishSubMsNs: Math.floor(this.data() * 1_000_000),
      outcome: seed.outcome ?? 'Succeeded',
      itemsSeed: Math.floor(this.data() * 2 ** 32),
      itemsOverride: 'checkItems' in seed ? { value: seed.checkItems } : undefined,
    };
    checks.set(checkId, check);
    return check;
  }

  get(clusterId: string, checkId: string): SimCheck | undefined {
    return this.clusters.get(clusterId)?.get(checkId);
  }

  list(clusterId: string): SimCheck[] {
    return [...(this.clusters.get(clusterId)?.values() ?? [])];
  }

  finish(clusterId: string, checkId: string, outcome?: string): void {
    const check = this.get(clusterId, checkId);
    if (check === undefined) {
      throw new InputError(`no simulated check ${checkId} on cluster ${clusterId}`, {
        details: { clusterId, checkId },
      });
    }
    check.finishAtMs = Math.min(check.finishAtMs, this.now());
    if (outcome !== undefined) check.outcome = outcome;
  }

  remove(clusterId: string, checkId: string): void {
    this.clusters.get(clusterId)?.delete(checkId);
  }

  statusOf(check: SimCheck): string {
    return this.now() >= check.finishAtMs ? check.outcome : RUNNING_STATUS;
  }

  summary(check: SimCheck, statusOverride?: string): WireSummary {
    const finished = this.now() >= check.finishAtMs;
    const status = statusOverride ?? this.statusOf(check);
    return {
      check_id: check.checkId,
      type: check.type,
      status,
      message: messageFor(status),
      created_at: rfc3339Nano(check.createdAtMs, check.createdSubMsNs),
      finished_at: finished ? rfc3339Nano(check.finishAtMs, check.finishSubMsNs) : GO_ZERO_TIME,
    };
  }

  /** Items are empty while running; once finished, generated from the check's own seed (or overridden). */
  items(check: SimCheck): unknown {
    if (check.itemsOverride !== undefined) return check.itemsOverride.value;
    if (this.now() < check.finishAtMs) return {};
    const failed = classifyStatus(check.outcome) === 'failed';
    return generateCheckItems(deriveRng(this.seed ^ check.itemsSeed, check.checkId), failed);
  }
}
