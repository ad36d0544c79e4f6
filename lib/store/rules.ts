/**
 * Decisions and validation shared by every Store adapter, kept pure so both adapters (and the contract
 * suite) agree on them: which shard a cluster lives in, when a delivery may be claimed, when a lease is
 * free, how many rate tokens to grant, and what a row may hold.
 */
import { createHash, randomBytes } from 'node:crypto';
import { isCheckId, isClusterId, type CheckId, type ClusterId } from '../domain/check';
import {
  CHECK_OUTCOMES,
  CHECK_SOURCES,
  StoreInvalid,
  type CheckRecord,
  type CheckState,
  type ClusterState,
  type Delivery,
  type DeliveryKey,
  type DeliveryResult,
  type LeaseState,
  type ListChecksFilter,
  type NewCheckWatch,
  type PendingCheck,
} from './store';

/** Shard of global leases: sorts before every real shard, so a whole-set range read returns them first. */
export const GLOBAL_LEASE_SHARD = -1;
/** `check_id` of a cluster-watch row (a check id starts with `[A-Za-z0-9]`, so it cannot collide). */
export const CLUSTER_ROW_ID = '#';
/** `cluster_id` of a lease row (a cluster id starts with `[a-z0-9]`). */
export const LEASE_ROW_ID = '!';
export const DEFAULT_SHARDS = 16;
export const MAX_SHARDS = 1024;
/** The summary is opaque but bounded: it is sent to chat platforms, not stored as a blob. */
export const MAX_SUMMARY_BYTES = 64 * 1024;
export const MAX_LEASE_DATA_BYTES = 4 * 1024;
/** Pending rows are read every cycle: keep them compact. */
export const MAX_MESSAGE_CHARS = 2000;
export const MAX_ROUTES = 32;
export const MAX_BASELINE = 2000;
export const MAX_ERROR_TEXT_CHARS = 2000;

/** FNV-1a 32-bit: stable across processes and runtimes (never `Math.random`, never a Map order). */
export function shardOf(clusterId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < clusterId.length; i++) {
    h ^= clusterId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

/** Stable per (check, channel), so a resend after an unknowable outcome carries the same key. */
export function idempotencyKeyFor(key: DeliveryKey): string {
  return createHash('sha256')
    .update(`${key.clusterId}\n${key.checkId}\n${key.channel}`)
    .digest('hex')
    .slice(0, 32);
}

/** A fresh write id: stored with every write so an ambiguous write can be recognised on re-read. */
export function newWriteId(): string {
  return randomBytes(9).toString('base64url');
}

/** Union of route lists, existing order first, no duplicates. */
export function mergeRoutes(existing: readonly string[], added: readonly string[]): string[] {
  const out = [...existing];
  for (const r of added) if (!out.includes(r)) out.push(r);
  return out;
}

export type ClaimDecision =
  | { readonly claim: true }
  | { readonly claim: false; readonly reason: 'delivered' | 'failed' | 'claimed' | 'not-due' };

/**
 * Whether a delivery row may be claimed now. A live claim is never taken over, even by the same holder:
 * a second notifier invocation for the same check must not send twice.
 */
export function decideClaim(existing: Delivery | undefined, now: number): ClaimDecision {
  if (existing === undefined) return { claim: true };
  switch (existing.state) {
    case 'delivered':
      return { claim: false, reason: 'delivered' };
    case 'failed':
      return { claim: false, reason: 'failed' };
    case 'retry':
      return (existing.nextAttemptAt ?? 0) <= now ? { claim: true } : { claim: false, reason: 'not-due' };
    case 'claimed':
      return (existing.claimUntil ?? 0) <= now ? { claim: true } : { claim: false, reason: 'claimed' };
    default: {
      const unreachable: never = existing.state;
      return unreachable;
    }
  }
}

/** A lease may be taken when nobody holds it, it expired, or the caller already holds it. */
export function leaseIsFree(existing: LeaseState | undefined, holder: string, now: number): boolean {
  return (
    existing === undefined || existing.holder === '' || existing.until <= now || existing.holder === holder
  );
}

/** Tokens granted from a window that already counted `used` of `limit`. */
export function rateGrant(used: number, limit: number, n: number): number {
  return Math.max(0, Math.min(n, limit - used));
}

// ─── Validation (bad input gets a precise error and changes nothing) ─────────────────────────────────

function invalid(message: string): never {
  throw new StoreInvalid(message);
}

function checkTime(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) invalid(`${name} must be epoch ms, got ${v}`);
}

function checkRoutes(routes: readonly string[]): void {
  if (routes.length > MAX_ROUTES) invalid(`at most ${MAX_ROUTES} routes, got ${routes.length}`);
  for (const r of routes) if (r.length === 0 || r.length > 128) invalid('route names must be 1–128 chars');
}

export function validateIds(clusterId: string, checkId?: string): void {
  if (!isClusterId(clusterId)) invalid(`invalid cluster id: ${JSON.stringify(clusterId.slice(0, 80))}`);
  if (checkId !== undefined && !isCheckId(checkId)) {
    invalid(`invalid check id: ${JSON.stringify(checkId.slice(0, 80))}`);
  }
}

export function validateChannel(channel: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(channel)) {
    invalid(`invalid channel name: ${JSON.stringify(channel.slice(0, 80))}`);
  }
}

export function validateCheckState(c: CheckState): void {
  validateIds(c.clusterId, c.checkId);
  checkRoutes(c.routes);
  if (!(CHECK_SOURCES as readonly string[]).includes(c.source)) invalid(`invalid source: ${c.source}`);
  if (c.outcome !== undefined && !(CHECK_OUTCOMES as readonly string[]).includes(c.outcome)) {
    invalid(`invalid outcome: ${c.outcome}`);
  }
  if (c.message.length > MAX_MESSAGE_CHARS) invalid(`message longer than ${MAX_MESSAGE_CHARS} chars`);
  for (const [name, v] of [
    ['region', c.region],
    ['status', c.status],
    ['type', c.type],
    ['target', c.target],
    ['createdAt', c.createdAt],
    ['finishedAt', c.finishedAt],
  ] as const) {
    if (v.length > 256) invalid(`${name} longer than 256 chars`);
  }
  checkTime('watchedAt', c.watchedAt);
  checkTime('lastChangeAt', c.lastChangeAt);
  checkTime('lastPolledAt', c.lastPolledAt);
  checkTime('dispatchedAt', c.dispatchedAt);
  if (!Number.isSafeInteger(c.dispatchCount) || c.dispatchCount < 0) invalid('dispatchCount must be ≥ 0');
}

export function validateClusterState(c: ClusterState): void {
  validateIds(c.clusterId);
  checkRoutes(c.routes);
  if (c.region.length > 256) invalid('region longer than 256 chars');
  if (c.baseline.length > MAX_BASELINE) invalid(`baseline longer than ${MAX_BASELINE} ids`);
  checkTime('watchedAt', c.watchedAt);
  checkTime('lastListedAt', c.lastListedAt);
}

export function validateVersion(v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) invalid(`expectedVersion must be an integer ≥ 0, got ${v}`);
}

/** JSON-encodes an opaque value with a size bound; `undefined` stays undefined. */
export function encodeJson(name: string, value: unknown, maxBytes: number): string | undefined {
  if (value === undefined) return undefined;
  let encoded: unknown;
  try {
    // JSON.stringify returns undefined for functions and symbols, despite its declared type.
    encoded = JSON.stringify(value);
  } catch (err) {
    throw new StoreInvalid(`${name} is not JSON-serialisable`, { cause: err });
  }
  if (typeof encoded !== 'string') return undefined;
  const text = encoded;
  if (Buffer.byteLength(text) > maxBytes) invalid(`${name} larger than ${maxBytes} bytes`);
  return text;
}

/** Parses a JSON column; a corrupt value reads as undefined rather than failing the whole page. */
export function decodeJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Parses a JSON array of strings (routes, baseline); anything else reads as []. */
export function decodeStringArray(text: string | undefined): string[] {
  const v = decodeJson(text);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

// ─── Helpers used by every adapter ──────────────────────────────────────────────────────────────────

/** The pending state of a freshly watched check. */
export function newCheckState(input: NewCheckWatch, now: number): CheckState {
  return {
    clusterId: input.clusterId,
    checkId: input.checkId,
    region: input.region,
    routes: mergeRoutes([], input.routes),
    source: input.source,
    status: input.status ?? '',
    message: input.message ?? '',
    type: input.type ?? '',
    target: input.target ?? '',
    createdAt: input.createdAt ?? '',
    finishedAt: '',
    watchedAt: now,
    lastChangeAt: now,
    dispatchCount: 0,
  };
}

export function stripVersion(c: PendingCheck): CheckState {
  const { version: _v, ...rest } = c as PendingCheck & { summary?: unknown; archivedAt?: number };
  const { summary: _s, archivedAt: _a, ...state } = rest;
  return state;
}

/** The delivery row after a claimed send ended. */
export function finishedDelivery(claimed: Delivery, result: DeliveryResult, now: number): Delivery {
  const base = {
    clusterId: claimed.clusterId,
    checkId: claimed.checkId,
    channel: claimed.channel,
    attempts: claimed.attempts,
    idempotencyKey: claimed.idempotencyKey,
    updatedAt: now,
    version: claimed.version + 1,
  };
  switch (result.state) {
    case 'delivered':
      return { ...base, state: 'delivered', sentAt: result.sentAt };
    case 'failed':
      return { ...base, state: 'failed', lastError: truncate(result.lastError, MAX_ERROR_TEXT_CHARS) };
    case 'retry':
      return {
        ...base,
        state: 'retry',
        lastError: truncate(result.lastError, MAX_ERROR_TEXT_CHARS),
        nextAttemptAt: result.nextAttemptAt,
        // Once a send's outcome was unknown, every resend must reuse this delivery's key: the flag stays
        // until the delivery is delivered or failed.
        ...(result.uncertain === true || claimed.uncertain === true ? { uncertain: true } : {}),
        // Likewise the digest it went out in: its resend is that same digest under that same key.
        ...digestFields(result.digestKey === undefined ? claimed : result),
      };
    default: {
      const unreachable: never = result;
      return unreachable;
    }
  }
}

/** At most this many checks named by `Delivery.digestOf` (the notifier's digests hold at most 50). */
export const MAX_DIGEST_OF = 200;

/** The digest fields of a delivery or retry result, validated; `{}` when it names no digest. */
function digestFields(from: {
  readonly digestKey?: string | undefined;
  readonly digestOf?: readonly string[] | undefined;
}): { digestKey?: string; digestOf?: readonly string[] } {
  if (from.digestKey === undefined) return {};
  if (from.digestKey === '' || from.digestKey.length > 128) invalid('digestKey must be 1–128 chars');
  const of = from.digestOf ?? [];
  if (of.length > MAX_DIGEST_OF) invalid(`digestOf longer than ${MAX_DIGEST_OF} checks`);
  return { digestKey: from.digestKey, digestOf: [...of] };
}

/**
 * What a new claim carries over from the row it claims: an unknown outcome (`uncertain`) and the digest
 * it was sent in, so that the claimant resends it under the same idempotency key.
 */
export function unsettledFields(current: Delivery | undefined): {
  uncertain?: true;
  digestKey?: string;
  digestOf?: readonly string[];
} {
  if (current?.uncertain !== true) return {};
  return { uncertain: true, ...digestFields(current) };
}

/** `clusterId/checkId`: how `Delivery.digestOf` names a check (neither id can contain `/`). */
export function digestItemKey(clusterId: string, checkId: string): string {
  return `${clusterId}/${checkId}`;
}

/** The ids in a `digestOf` entry; undefined when it is not `clusterId/checkId` with valid ids. */
export function parseDigestItemKey(
  key: string,
): { readonly clusterId: ClusterId; readonly checkId: CheckId } | undefined {
  const i = key.indexOf('/');
  if (i < 0) return undefined;
  const clusterId = key.slice(0, i);
  const checkId = key.slice(i + 1);
  return isClusterId(clusterId) && isCheckId(checkId) ? { clusterId, checkId } : undefined;
}

export function validateLeaseArgs(name: string, holder: string, ttlMs: number): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/.test(name))
    throw new StoreInvalid(`invalid lease name: ${name}`);
  if (holder === '' || holder.length > 256) throw new StoreInvalid('lease holder must be 1–256 chars');
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0)
    throw new StoreInvalid('lease ttlMs must be a positive integer');
}

export function validateRateArgs(
  channel: string,
  windowKey: string,
  limit: number,
  n: number,
  ttlMs: number,
): void {
  validateChannel(channel);
  if (windowKey === '' || windowKey.length > 128)
    throw new StoreInvalid('rate window key must be 1–128 chars');
  for (const [name, v] of [
    ['limit', limit],
    ['n', n],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new StoreInvalid(`${name} must be an integer ≥ 0`);
  }
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new StoreInvalid('ttlMs must be a positive integer');
}

export function listLimit(limit: number | undefined): number {
  if (limit === undefined) return 100;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new StoreInvalid('limit must be a positive integer');
  return Math.min(limit, 1000);
}

export function checkFilter(filter: ListChecksFilter): (c: CheckRecord) => boolean {
  const status = filter.status?.toLowerCase();
  return (c) =>
    (status === undefined || c.status.toLowerCase() === status) &&
    (filter.outcome === undefined || c.outcome === filter.outcome);
}
