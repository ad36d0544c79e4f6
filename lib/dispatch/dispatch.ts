/**
 * The dispatch port: how the poller hands work to another invocation — a finished check to the
 * notifier, a shard of the pending set to a poller shard — without waiting for it (DESIGN.md, Hand off).
 *
 * Adapters: `fc.ts` (asynchronous Function Compute invocation through `@alicloud/fc2`) and `inline.ts`
 * (in-process, for `checkwatch serve` and the demo). Both are at-least-once: the receiving handler
 * must be idempotent, and both deduplicate by the same task id, derived here from the request.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { AppError, InputError } from '../errors';
import { CHECK_ID_PATTERN, CLUSTER_ID_PATTERN } from '../domain/check';

/**
 * What to hand off. Ids only: the receiver reloads the state from the store, so an event that arrives
 * late or twice never carries stale data, and it stays far below FC's 128 KB async payload limit.
 *
 * `generation` separates deliberate re-dispatches: the same generation is deduplicated (FC answers
 * 409 to a repeated task id), the poller's overdue re-dispatch uses the next one.
 */
export type DispatchRequest =
  | { kind: 'notify'; clusterId: string; checkId: string; generation: number }
  | { kind: 'poll-shard'; shard: number; generation: number /* e.g. cycle number */ };

/** `duplicate`: this task id was already accepted earlier — the work is in flight or done; not an error. */
export type DispatchResult = { status: 'dispatched'; requestId?: string } | { status: 'duplicate' };

export interface Dispatcher {
  /**
   * Hands the request off without waiting for it to run. A hand-off that failed throws
   * {@link DispatchError}; a malformed request throws InputError before anything is sent.
   */
  dispatch(req: DispatchRequest): Promise<DispatchResult>;
}

/**
 * A hand-off that did not happen (or whose outcome is unknown: a reset or timeout after the request
 * left). `retryable` says whether repeating the same dispatch may succeed; repeating is always safe,
 * since the task id makes a second acceptance a `duplicate`.
 */
export class DispatchError extends AppError {
  constructor(
    message: string,
    options: { retryable: boolean; cause?: unknown; details?: Record<string, unknown> },
  ) {
    super('DISPATCH_FAILED', message, options);
  }
}

/** FC's rule for async task ids (`x-fc-async-task-id`, `X-Fc-Stateful-Async-Invocation-Id`). */
export const TASK_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
/** FC's limit for an asynchronous invocation payload. */
export const MAX_ASYNC_EVENT_BYTES = 128 * 1024;

/** Version of the event format, so a future change can be told apart from garbage. */
const EVENT_VERSION = 1;

const generation = z.number().check(z.int(), z.gte(0), z.lte(Number.MAX_SAFE_INTEGER));

const requestSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('notify'),
    clusterId: z.string().check(z.regex(CLUSTER_ID_PATTERN, 'not a cluster id')),
    checkId: z.string().check(z.regex(CHECK_ID_PATTERN, 'not a check id')),
    generation,
  }),
  z.strictObject({
    kind: z.literal('poll-shard'),
    shard: z.number().check(z.int(), z.gte(0), z.lte(1_000_000)),
    generation,
  }),
]);

const eventSchema = z.strictObject({ v: z.literal(EVENT_VERSION), request: requestSchema });

function validate(req: unknown): DispatchRequest {
  const parsed = requestSchema.safeParse(req);
  if (!parsed.success) {
    throw new InputError(`invalid dispatch request: ${summarize(parsed.error)}`, {
      details: { issues: issuePaths(parsed.error) },
    });
  }
  return parsed.data;
}

function summarize(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length === 0 ? '(root)' : i.path.join('.')}: ${i.message}`)
    .join('; ');
}

/** Paths and codes only: an event's values are never echoed back into errors or logs. */
function issuePaths(error: z.core.$ZodError): { path: string; code: string }[] {
  return error.issues.map((i) => ({ path: i.path.join('.'), code: i.code }));
}

/**
 * The async task id for a request: deterministic, so that re-sending the same generation is
 * deduplicated by FC (409), and always within `[A-Za-z_][A-Za-z0-9_-]{0,127}`.
 *
 * `notify`: `cw_n_<clusterId>_<32 hex of sha256(checkId)>_<generation>` — at most 5+64+1+32+1+16 = 119
 * characters. The check id is hashed because it can be up to 256 characters and contains `.`; 128 bits
 * make a collision between two checks of one cluster negligible. The cluster id stays readable so an
 * operator can find the task in the FC console. `poll-shard`: `cw_p_<shard>_<generation>`.
 * @throws InputError when the request is malformed.
 */
export function taskIdFor(req: DispatchRequest): string {
  const r = validate(req);
  switch (r.kind) {
    case 'notify': {
      const digest = createHash('sha256').update(r.checkId, 'utf8').digest('hex').slice(0, 32);
      return `cw_n_${r.clusterId}_${digest}_${r.generation}`;
    }
    case 'poll-shard':
      return `cw_p_${r.shard}_${r.generation}`;
    default: {
      const never: never = r;
      return never;
    }
  }
}

/**
 * The payload the receiving handler gets (FC passes it as a Buffer): `{"v":1,"request":{…}}`.
 * @throws InputError when the request is malformed.
 */
export function encodeDispatchEvent(req: DispatchRequest): string {
  const json = JSON.stringify({ v: EVENT_VERSION, request: validate(req) });
  // Unreachable with validated ids (they are bounded), kept as the contract's guard.
  if (Buffer.byteLength(json, 'utf8') > MAX_ASYNC_EVENT_BYTES) {
    throw new InputError('dispatch event exceeds the 128 KB async payload limit');
  }
  return json;
}

/**
 * Parses what {@link encodeDispatchEvent} produced. Anything else — not JSON, another version, an
 * unknown kind, a malformed id, extra fields — is an InputError, so a stray event changes nothing.
 */
export function parseDispatchEvent(event: Buffer | string): DispatchRequest {
  const text = typeof event === 'string' ? event : event.toString('utf8');
  if (Buffer.byteLength(text, 'utf8') > MAX_ASYNC_EVENT_BYTES) {
    throw new InputError('dispatch event is larger than 128 KB');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError('dispatch event is not JSON', { cause: err });
  }
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) {
    throw new InputError(`invalid dispatch event: ${summarize(parsed.error)}`, {
      details: { issues: issuePaths(parsed.error) },
    });
  }
  return parsed.data.request;
}
