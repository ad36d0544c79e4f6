/**
 * Structured JSON-line logging with redaction built in. Every line goes through the redactor, so a
 * secret (AccessKey secret, STS token, webhook token, sign secret, API token) never reaches a log line
 * even when a caller passes it by mistake (DESIGN.md invariants).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const satisfies Record<LogLevel, number>;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line (request id, function name…). */
  child(fields: Record<string, unknown>): Logger;
}

const MASK = '***';
/** Field names whose values are always masked, whatever they hold. */
const SECRET_KEY =
  /(secret|password|passwd|token|signature|authorization|credential|^sign$|^key$|webhook_?url|^url$)/i;
/** Secret-bearing parts of URLs: DingTalk/WeCom query tokens, Slack hook paths, Feishu hook ids. */
const URL_SECRETS: readonly [RegExp, string][] = [
  [/([?&](?:access_token|key|sign|token)=)[^&\s"']+/gi, `$1${MASK}`],
  [/(hooks\.slack\.com\/services\/)[^\s"'?]+/gi, `$1${MASK}`],
  [/(\/open-apis\/bot\/v2\/hook\/)[^\s"'?/]+/gi, `$1${MASK}`],
];

/**
 * Masks known secret values and secret-looking fields. `secrets` holds the literal values known at
 * runtime (configured channel secrets, credentials); shorter than 6 characters are ignored, since
 * masking every "abc" in a log would destroy it and such values are not secrets worth the name.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  constructor(secrets: Iterable<string | undefined> = []) {
    for (const s of secrets) this.add(s);
  }

  add(secret: string | undefined): void {
    if (secret !== undefined && secret.length >= 6) this.secrets.add(secret);
  }

  text(input: string): string {
    let out = input;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(MASK);
    for (const [re, rep] of URL_SECRETS) out = out.replace(re, rep);
    return out;
  }

  value(input: unknown, key = '', depth = 0): unknown {
    if (key !== '' && SECRET_KEY.test(key) && input !== undefined && input !== null && input !== '') {
      return MASK;
    }
    if (typeof input === 'string') return this.text(input);
    if (input instanceof Error) return this.value(errorFields(input), key, depth);
    if (depth > 6 || input === null || typeof input !== 'object') return input;
    if (Array.isArray(input)) return input.map((v) => this.value(v, '', depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) out[k] = this.value(v, k, depth + 1);
    return out;
  }
}

function errorFields(err: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = { name: err.name, message: err.message };
  const withCode = err as Error & { code?: unknown; retryable?: unknown; details?: unknown };
  if (withCode.code !== undefined) fields.code = withCode.code;
  if (withCode.retryable !== undefined) fields.retryable = withCode.retryable;
  if (withCode.details !== undefined) fields.details = withCode.details;
  if (err.cause instanceof Error) fields.cause = { name: err.cause.name, message: err.cause.message };
  return fields;
}

export interface LoggerOptions {
  level?: LogLevel;
  redactor?: Redactor;
  /** Where lines go; defaults to stderr so stdout stays free for command output. */
  write?: (line: string) => void;
  now?: () => number;
}

export function createLogger(options: LoggerOptions = {}, base: Record<string, unknown> = {}): Logger {
  const min = LEVELS[options.level ?? 'info'];
  const redactor = options.redactor ?? new Redactor();
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = options.now ?? (() => Date.now());
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[level] < min) return;
    const record = redactor.value({ ...base, ...fields }) as Record<string, unknown>;
    write(JSON.stringify({ time: new Date(now()).toISOString(), level, msg: redactor.text(msg), ...record }));
  };
  return {
    debug: (m, f) => {
      emit('debug', m, f);
    },
    info: (m, f) => {
      emit('info', m, f);
    },
    warn: (m, f) => {
      emit('warn', m, f);
    },
    error: (m, f) => {
      emit('error', m, f);
    },
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
