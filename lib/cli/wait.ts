import { parseAckTime } from '../domain/check';
import { AppError } from '../errors';
import type { ApiCheck, Backend } from './backend';
import type { CliContext } from './context';
import { CliExit, EXIT } from './context';
import type { ExitCode } from './context';
import { formatDuration } from './format';

/**
 * `--wait`: follows one watched check until it is finished *and* its notifications are settled (the
 * check is archived: every routed channel delivered or permanently failed), showing live progress —
 * one updating line on a terminal, one line per change otherwise — and maps the outcome to an exit
 * code, so `checkwatch run … --wait` is a CI gate before an upgrade.
 */

/** The exit code of a finished check: 0 passed; 1 failed, gave up or vanished. */
export function exitCodeFor(outcome: ApiCheck['outcome']): ExitCode {
  return outcome === 'passed' ? EXIT.ok : EXIT.failed;
}

/** Done means: finished, and nothing left to deliver. */
export function isSettled(view: ApiCheck): boolean {
  return view.state === 'done';
}

const OUTCOME_TEXT = {
  passed: '✔ passed',
  failed: '✖ failed',
  gave_up: '⏱ gave up (stopped watching)',
  vanished: '? vanished (ACK no longer lists it)',
} as const;

/** When the check started, for "running for …": ACK's created_at, else when the watch began. */
function startedAt(view: ApiCheck): number | undefined {
  const created = view.created_at === null ? undefined : parseAckTime(view.created_at);
  if (created !== undefined) return created;
  return view.watched_at === null ? undefined : Date.parse(view.watched_at);
}

/** The deliveries in a few words: `team-dingtalk delivered, team-slack retry (rate limited)`. */
export function deliveriesText(view: ApiCheck): string {
  const ds = view.deliveries ?? [];
  if (ds.length === 0) return '';
  return ds
    .map(
      (d) =>
        `${d.channel} ${d.state}${d.state !== 'delivered' && d.last_error !== null ? ` (${d.last_error})` : ''}`,
    )
    .join(', ');
}

/** One progress line (no timestamp, so unchanged progress prints nothing on a non-terminal). */
export function progressLine(view: ApiCheck, now: number): { key: string; text: string } {
  const status = view.status ?? 'waiting for the first poll';
  const start = startedAt(view);
  const type = view.type ?? 'check';
  let key: string;
  let text: string;
  if (view.outcome === null) {
    key = `watching ${status}`;
    const elapsed = start === undefined || view.status === null ? '' : ` for ${formatDuration(now - start)}`;
    text = `… ${type} ${status}${elapsed}`;
  } else {
    const deliveries = deliveriesText(view);
    key = `${view.state} ${view.outcome} ${deliveries}`;
    const what = view.state === 'done' ? 'notified' : 'notifying';
    text = `${OUTCOME_TEXT[view.outcome]} (${status})${view.routes.length === 0 ? '' : ` — ${what}`}${deliveries === '' ? '' : `: ${deliveries}`}`;
  }
  return { key, text };
}

export interface WaitOptions {
  /** Makes progress between looks (direct mode: one poller pass and the notifier inline). */
  readonly step: () => Promise<void>;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly json: boolean;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** A check that the store (or API) stopped knowing while we waited: unwatched by someone else. */
export class CheckNotWatchedError extends AppError {
  constructor(clusterId: string, checkId: string) {
    super(
      'CHECK_NOT_WATCHED',
      `check ${checkId} on cluster ${clusterId} is not watched (unwatched meanwhile?)`,
      {
        details: { clusterId, checkId },
      },
    );
  }
}

/** Waited longer than `--timeout`. */
export class WaitTimeoutError extends AppError {
  constructor(message: string) {
    super('WAIT_TIMEOUT', message, { retryable: true });
  }
}

/**
 * Follows the check until it is settled; resolves with its last view. Progress goes to stdout (a
 * person is watching); with `json` nothing is printed here. Throws {@link CliExit} on Ctrl-C.
 */
export async function waitForCheck(
  ctx: CliContext,
  backend: Backend,
  clusterId: string,
  checkId: string,
  options: WaitOptions,
): Promise<ApiCheck> {
  const tty = ctx.io.isTTY === true && !options.json;
  const deadline = ctx.now() + options.timeoutMs;
  let lastKey = '';
  let drawn = false;
  const show = (view: ApiCheck): void => {
    if (options.json) return;
    const { key, text } = progressLine(view, ctx.now());
    if (tty) {
      // One line, redrawn in place (the elapsed time ticks).
      ctx.io.stdout(`\r\x1b[2K${text}`);
      drawn = true;
    } else if (key !== lastKey) {
      ctx.out(text);
    }
    lastKey = key;
  };
  const endLine = (): void => {
    if (drawn) ctx.io.stdout('\n');
    drawn = false;
  };
  try {
    for (;;) {
      await options.step();
      const view = await backend.getCheck(clusterId, checkId);
      if (view === undefined) throw new CheckNotWatchedError(clusterId, checkId);
      show(view);
      if (isSettled(view)) return view;
      if (ctx.now() >= deadline) {
        throw new WaitTimeoutError(
          `gave up waiting after ${formatDuration(options.timeoutMs)}: the check is ${view.status ?? 'not yet seen'}` +
            (view.outcome === null ? '' : ', notifications still pending'),
        );
      }
      try {
        await options.sleep(options.intervalMs, ctx.io.shutdown);
      } catch {
        throw new CliExit(EXIT.interrupted);
      }
    }
  } finally {
    endLine();
  }
}
