import type { CheckDetail, CheckSummary } from '../domain/check';
import { classifyStatus, parseAckTime } from '../domain/check';
import type { CheckItemsSummary, ItemLevel } from '../domain/check-items';
import { ITEM_LEVELS, summarizeCheckItems } from '../domain/check-items';

/**
 * Human-readable and `--json` renderings of ACK checks for the terminal. Pure: the current time comes
 * in as `now`. The JSON forms use ACK's own field names, so `--json` output is what the API returned
 * (and what `aliyun cs GET /clusters/<id>/checks/<id>` prints), not checkwatch's internal model.
 */

const SYMBOL = { succeeded: '✔', failed: '✖', running: '…' } as const;
const LEVEL_SYMBOL: Record<ItemLevel, string> = {
  error: '✖',
  warning: '⚠',
  unknown: '?',
  advice: 'i',
  normal: '✔',
};

/** `1m 5s`, `4m 0s`, `16s`, `850ms`, `2h 3m`, `3d 4h`. Negative inputs count as zero. */
export function formatDuration(ms: number): string {
  const t = Math.max(0, Math.round(ms));
  if (t < 1000) return `${t}ms`;
  const s = Math.floor(t / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** ACK's nanosecond RFC 3339 timestamp, shown to the second (`2023-10-16 08:31:20 UTC`), or `-`. */
export function formatTime(value: string): string {
  const ms = parseAckTime(value);
  if (ms === undefined) return value === '' ? '-' : value;
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, ' UTC');
}

/** "took 4m 0s" for a finished check, "running for 12s" for one still going, '' when unknowable. */
export function durationText(check: CheckSummary, now: number): string {
  const created = parseAckTime(check.createdAt);
  if (created === undefined) return '';
  if (classifyStatus(check.status) === 'running') return `running for ${formatDuration(now - created)}`;
  const finished = parseAckTime(check.finishedAt);
  return finished === undefined ? '' : `took ${formatDuration(finished - created)}`;
}

/** The status with its symbol: `✔ Succeeded`, `✖ Failed`, `… Running`. */
export function statusText(status: string): string {
  return `${SYMBOL[classifyStatus(status)]} ${status === '' ? '(no status)' : status}`;
}

/** `12 items: 1 error, 1 warning, 10 normal`, or the lenient fallback when the shape is unknown. */
export function itemCountsText(summary: CheckItemsSummary): string {
  if (summary.total === 0) return 'none reported';
  const noun = summary.total === 1 ? 'item' : 'items';
  if (!summary.recognised) return `${summary.total} check ${noun} (unrecognised format; see --json)`;
  const parts = ITEM_LEVELS.filter((l) => summary.counts[l] > 0).map((l) => `${summary.counts[l]} ${l}`);
  return `${summary.total} ${noun}: ${parts.join(', ')}`;
}

/** The full human view of one check: header, fields, item counts, then every non-normal item. */
export function formatCheckDetail(clusterId: string, check: CheckDetail, now: number): string {
  const lines: string[] = [];
  lines.push(`${statusText(check.status)}  ${check.type === '' ? 'check' : `${check.type} check`}`);
  const field = (name: string, value: string): void => {
    if (value !== '') lines.push(`  ${name.padEnd(9)} ${value}`);
  };
  field('check', check.checkId);
  field('cluster', clusterId);
  field('created', formatTime(check.createdAt));
  const duration = durationText(check, now);
  const finished = parseAckTime(check.finishedAt) === undefined ? '' : formatTime(check.finishedAt);
  if (finished !== '') field('finished', duration === '' ? finished : `${finished} (${duration})`);
  else field('duration', duration);
  field('message', check.message);
  const summary = summarizeCheckItems(check.checkItems);
  field('items', itemCountsText(summary));
  if (summary.failing.length > 0) {
    lines.push('');
    for (const item of summary.failing) {
      const where = item.group === undefined ? item.name : `${item.group} / ${item.name}`;
      lines.push(`  ${LEVEL_SYMBOL[item.level]} ${item.level.padEnd(7)} ${where}`);
      if (item.message !== '') lines.push(`              ${item.message}`);
      if (item.targets.length > 0) {
        const more = item.moreTargets === undefined ? '' : ` (+${item.moreTargets} more)`;
        lines.push(`              targets: ${item.targets.join(', ')}${more}`);
      }
    }
    if (summary.omitted > 0) lines.push(`  … and ${summary.omitted} more (see --json)`);
  }
  return lines.join('\n');
}

/** A table of checks, newest first: status, type, created, duration, id. */
export function formatCheckList(clusterId: string, checks: readonly CheckSummary[], now: number): string {
  if (checks.length === 0) return `No checks on cluster ${clusterId}.`;
  const sorted = [...checks].sort(
    (a, b) => (parseAckTime(b.createdAt) ?? 0) - (parseAckTime(a.createdAt) ?? 0),
  );
  const rows = sorted.map((c) => [
    statusText(c.status),
    c.type,
    formatTime(c.createdAt),
    durationText(c, now),
    c.checkId,
  ]);
  const header = ['STATUS', 'TYPE', 'CREATED', 'DURATION', 'CHECK ID'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const render = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const count = `${checks.length} ${checks.length === 1 ? 'check' : 'checks'} on cluster ${clusterId}`;
  return [render(header), ...rows.map(render), '', count].join('\n');
}

/** ACK's JSON shape of a check from ListClusterChecks. */
export function checkSummaryJson(check: CheckSummary): Record<string, unknown> {
  return {
    check_id: check.checkId,
    type: check.type,
    status: check.status,
    message: check.message,
    created_at: check.createdAt,
    finished_at: check.finishedAt,
  };
}

/** ACK's JSON shape of a GetClusterCheck response. */
export function checkDetailJson(check: CheckDetail): Record<string, unknown> {
  return { ...checkSummaryJson(check), check_items: check.checkItems ?? {} };
}
