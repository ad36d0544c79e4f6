import type { AppError } from '../errors';
import { isAppError } from '../errors';
import { Redactor } from '../log';

/**
 * What every command shares: where output goes, the environment, exit codes and how an error becomes
 * one line on stderr plus an exit code. Commands live one group per file (check.ts, sim.ts…) and take a
 * `CliContext`, so tests run them in-process with captured output and a literal env.
 */

/** Exit codes, documented in `--help` and the README. Scripts may branch on them: never renumber. */
export const EXIT = {
  ok: 0,
  /** The check failed, or the operation failed for a reason not listed below. */
  failed: 1,
  /** Bad usage or bad input (unknown option, malformed id, rejected parameter). */
  usage: 2,
  /** No usable credentials, or the credentials were refused. */
  credentials: 3,
  /** The cluster or the check does not exist. */
  notFound: 4,
  /** Throttled, service unavailable, network failure or timeout: trying again later may work. */
  unavailable: 5,
  /** Interrupted by SIGINT/SIGTERM before the command finished (128 + SIGINT, the shell convention). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit-code table as it appears in `--help` and the README. */
export const EXIT_CODES_HELP = `Exit codes:
  0    ok
  1    the check failed, or the operation failed
  2    usage error or bad input (bad id, unknown option, parameter rejected by ACK)
  3    credentials missing or refused
  4    cluster or check not found
  5    throttled, service unavailable, network failure or timeout
  130  interrupted (Ctrl-C) before the command finished`;

/**
 * AppError code → exit code. Keyed by the stable `code` strings (STYLE.md 5), so this file does not
 * depend on any adapter's classes; a code missing here exits 1.
 */
const EXIT_BY_CODE: Readonly<Record<string, ExitCode>> = {
  INVALID_INPUT: EXIT.usage,
  CONFIG_INVALID: EXIT.usage,
  CREDENTIALS_MISSING: EXIT.credentials,
  ACK_FORBIDDEN: EXIT.credentials,
  ACK_BAD_REQUEST: EXIT.usage,
  ACK_CLUSTER_NOT_FOUND: EXIT.notFound,
  ACK_CHECK_NOT_FOUND: EXIT.notFound,
  ACK_THROTTLED: EXIT.unavailable,
  ACK_SERVER_ERROR: EXIT.unavailable,
  ACK_NETWORK: EXIT.unavailable,
  ACK_TIMEOUT: EXIT.unavailable,
  ACK_DEADLINE: EXIT.unavailable,
  ACK_BAD_RESPONSE: EXIT.failed,
  CHECK_NOT_WATCHED: EXIT.notFound,
  WAIT_TIMEOUT: EXIT.unavailable,
  API_UNREACHABLE: EXIT.unavailable,
  API_BAD_RESPONSE: EXIT.failed,
  STORE_UNAVAILABLE: EXIT.unavailable,
  STORE_AUTH: EXIT.credentials,
  UNAUTHORIZED: EXIT.credentials,
  FORBIDDEN: EXIT.credentials,
  NOT_FOUND: EXIT.notFound,
};

/** Ends a command early with an exit code and nothing more to print (the command printed already). */
export class CliExit extends Error {
  constructor(readonly exitCode: ExitCode) {
    super(`exit ${exitCode}`);
    this.name = 'CliExit';
  }
}

/** Where the CLI writes. Text is written as given: callers add their own newlines. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM: long-running commands (`sim`, later `watch`, `serve`) stop cleanly. */
  readonly shutdown: AbortSignal;
  /** Whether stdout is a terminal (colour and symbols may depend on it later). */
  readonly isTTY?: boolean | undefined;
  /** Epoch ms; injected so durations of running checks are testable. */
  readonly now?: (() => number) | undefined;
}

/** The context each command receives. */
export interface CliContext {
  readonly io: CliIo;
  /** Masks every secret the CLI learnt (loaded credentials) in anything printed on error. */
  readonly redactor: Redactor;
  readonly now: () => number;
  /** Prints one line (a newline is added). */
  out(line: string): void;
  /** Prints a value as one JSON line: the `--json` output. */
  json(value: unknown): void;
}

export function createContext(io: CliIo): CliContext {
  const redactor = new Redactor();
  return {
    io,
    redactor,
    now: io.now ?? (() => Date.now()),
    out: (line) => {
      io.stdout(line + '\n');
    },
    json: (value) => {
      io.stdout(JSON.stringify(value) + '\n');
    },
  };
}

/** Extra hints for the codes where the fix is not obvious from the message. */
const HINTS: Readonly<Record<string, string>> = {
  ACK_FORBIDDEN:
    'the RAM identity needs cs:GetClusterCheck, cs:ListClusterChecks and cs:RunClusterCheck on the cluster',
  ACK_CLUSTER_NOT_FOUND: 'check the cluster id and --region',
};

function detailString(err: AppError, key: string): string | undefined {
  const fromDetails = err.details[key];
  if (typeof fromDetails === 'string' && fromDetails !== '') return fromDetails;
  const own = (err as unknown as Record<string, unknown>)[key];
  return typeof own === 'string' && own !== '' ? own : undefined;
}

/**
 * Turns any thrown value into one stderr line and an exit code. An `AppError` keeps its message and
 * stable code (and the request id, which support asks for); anything else is an unexpected failure
 * and says so. Newlines are folded and known secrets masked, so the line is safe to paste anywhere.
 */
export function describeFailure(err: unknown, redactor: Redactor): { exitCode: ExitCode; line: string } {
  if (isAppError(err)) {
    const exitCode = EXIT_BY_CODE[err.code] ?? EXIT.failed;
    const requestId = detailString(err, 'requestId');
    const hint = HINTS[err.code];
    let line = `checkwatch: ${err.message} [${err.code}]`;
    if (requestId !== undefined) line += ` (request id ${requestId})`;
    // A deadline or wrapper error names the failure that led to it: show it, it is the useful part.
    if (isAppError(err.cause) && err.cause.code !== err.code) {
      line += `; cause: ${err.cause.message} [${err.cause.code}]`;
    }
    if (hint !== undefined) line += ` — ${hint}`;
    return { exitCode, line: oneLine(redactor.text(line)) };
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { exitCode: EXIT.failed, line: oneLine(redactor.text(`checkwatch: unexpected error: ${message}`)) };
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
