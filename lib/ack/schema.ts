// zod/mini: the same validation with a fraction of classic zod's load time (≈15 ms vs ≈100 ms to
// require, measured bundled), which every Function Compute cold start pays.
import * as z from 'zod/mini';
import type { CheckDetail, CheckId, CheckSummary } from '../domain/check';
import { isCheckId } from '../domain/check';

/**
 * zod schemas for the three responses. Strict where checkwatch relies on a field (`check_id` goes into
 * URLs and store keys, `status` drives every decision), lenient where ACK is free-form: unknown keys are
 * kept out of our model but never rejected, `status` is any string (kept verbatim), `check_items` is
 * anything, and absent/`null` descriptive fields become `''` (ACK is a Go service: nil → `null`).
 */

const checkIdField = z.string().check(z.refine(isCheckId, { error: 'not a check id' }));
/** Free text we only display: absent or null reads as ''. Numbers are shown as text rather than refused. */
const text = z.pipe(
  z.optional(z.union([z.string(), z.number(), z.null()])),
  z.transform((v) => (v === null || v === undefined ? '' : String(v))),
);

const summaryShape = {
  check_id: checkIdField,
  status: z.string(),
  type: text,
  message: text,
  created_at: text,
  finished_at: text,
};
const summaryWire = z.looseObject(summaryShape);

const detailWire = z.looseObject({ ...summaryShape, check_items: z.optional(z.unknown()) });

const listWire = z.looseObject({
  // A cluster without checks may come back as `[]`, `null` or without the key at all.
  checks: z.pipe(
    z.nullish(z.array(summaryWire)),
    z.transform((v) => v ?? []),
  ),
});

const runWire = z.looseObject({
  check_id: checkIdField,
  request_id: text,
});

function toSummary(w: z.infer<typeof summaryWire>): CheckSummary {
  return {
    checkId: w.check_id as CheckId,
    type: w.type,
    status: w.status,
    message: w.message,
    createdAt: w.created_at,
    finishedAt: w.finished_at,
  };
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; issue: string };

function firstIssue(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const i = error.issues[0];
  if (i === undefined) return 'invalid response';
  const path = i.path.length === 0 ? '(root)' : i.path.map(String).join('.');
  return `${path}: ${i.message}`;
}

/** GetClusterCheck body → CheckDetail. `check_items` is passed through untouched (may be anything). */
export function parseCheckDetail(body: unknown): Parsed<CheckDetail> {
  const r = detailWire.safeParse(body);
  if (!r.success) return { ok: false, issue: firstIssue(r.error) };
  return { ok: true, value: { ...toSummary(r.data), checkItems: r.data.check_items ?? null } };
}

/** ListClusterChecks body → summaries (no `check_items` in this operation). */
export function parseCheckList(body: unknown): Parsed<CheckSummary[]> {
  const r = listWire.safeParse(body);
  if (!r.success) return { ok: false, issue: firstIssue(r.error) };
  return { ok: true, value: r.data.checks.map(toSummary) };
}

/** RunClusterCheck body → the new check id (and ACK's request id when the body has one). */
export function parseRunResult(body: unknown): Parsed<{ checkId: CheckId; requestId: string }> {
  const r = runWire.safeParse(body);
  if (!r.success) return { ok: false, issue: firstIssue(r.error) };
  return { ok: true, value: { checkId: r.data.check_id as CheckId, requestId: r.data.request_id } };
}
