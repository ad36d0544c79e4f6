import { InvalidArgumentError } from 'commander';
import type { CheckId, ClusterId } from '../domain/check';
import { CHECK_TYPES, isCheckId, isClusterId } from '../domain/check';
import { InputError } from '../errors';

/**
 * Parsers for command-line values. Option parsers throw commander's `InvalidArgumentError` (commander
 * prints it with the option name, exit 2); argument validators used inside actions throw `InputError`.
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `500ms`, `5s`, `2m`, `1h`, `1.5s`; a bare number means seconds. Returns milliseconds. */
export function parseDuration(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(value);
  const amount = match?.[1];
  if (match === null || amount === undefined) {
    throw new InvalidArgumentError(`expected a duration like 500ms, 5s, 2m or 1h, got "${value}"`);
  }
  const unit = (match[2]?.toLowerCase() ?? 's') as keyof typeof UNIT_MS;
  const ms = Math.round(Number(amount) * UNIT_MS[unit]);
  if (!Number.isSafeInteger(ms)) throw new InvalidArgumentError(`duration "${value}" is too large`);
  return ms;
}

/** A TCP port, 0 meaning "any free port". */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError(`expected a port number 0-65535, got "${value}"`);
  }
  return n;
}

/** A non-negative safe integer (seeds, counts). */
export function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  }
  return n;
}

/** A probability in [0, 1]. */
export function parseProbability(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError(`expected a number between 0 and 1, got "${value}"`);
  }
  return n;
}

export function parseClusterId(value: string): ClusterId {
  const v = value.trim();
  if (!isClusterId(v)) {
    throw new InputError(
      `invalid cluster id "${value}": expected lowercase letters, digits and dashes, 6-64 characters (e.g. c0123456789abcdef0123456789abcdef)`,
      { details: { argument: 'cluster-id' } },
    );
  }
  return v;
}

export function parseCheckId(value: string): CheckId {
  const v = value.trim();
  if (!isCheckId(v)) {
    throw new InputError(
      `invalid check id "${value}": expected letters, digits, ".", "_" and "-" (e.g. 1697100584236600453-<cluster-id>-clustercheck-lboto)`,
      { details: { argument: 'check-id' } },
    );
  }
  return v;
}

/**
 * A check type for RunClusterCheck, matched case-insensitively against the types ACK documents and
 * returned in ACK's spelling. Unknown types are refused here rather than by the API, with the list.
 */
export function parseCheckType(value: string): string {
  const wanted = value.trim().toLowerCase();
  const known = CHECK_TYPES.find((t) => t.toLowerCase() === wanted);
  if (known === undefined) {
    throw new InputError(`unknown check type "${value}": expected one of ${CHECK_TYPES.join(', ')}`, {
      details: { option: '--type' },
    });
  }
  return known;
}
