/**
 * One base error for everything checkwatch throws on purpose.
 *
 * - `code` is stable and machine-readable: log it, branch on it, never on `message`.
 * - `retryable` says whether repeating the same operation later may succeed.
 * - `cause` keeps the underlying error (vendor SDK error, socket error) for diagnosis.
 * - `details` carries context fields (HTTP status, request id, a short body snippet…). They must never
 *   hold a secret: adapters put only what is safe to log and to show in an API response.
 *
 * Adapters translate vendor failures into subclasses of this (STYLE.md 5) and re-throw the unknown.
 */
export class AppError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    options: { retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }

  /** A plain object that is safe to log or to return from the API (no stack, no cause chain). */
  toJSON(): { code: string; message: string; retryable: boolean; details: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      details: { ...this.details },
    };
  }
}

/** Configuration that is missing, malformed or contradictory. `path` names the offending setting. */
export class ConfigError extends AppError {
  constructor(message: string, options: { path?: string; cause?: unknown } = {}) {
    super('CONFIG_INVALID', message, {
      cause: options.cause,
      details: options.path === undefined ? {} : { path: options.path },
    });
  }
}

/** No usable credentials could be found or loaded. */
export class CredentialsError extends AppError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CREDENTIALS_MISSING', message, { cause: options.cause });
  }
}

/** Input from a user or caller (CLI argument, API body) that fails validation. */
export class InputError extends AppError {
  constructor(message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super('INVALID_INPUT', message, options);
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** A short, single-line description of any thrown value, for logs and CLI output. */
export function describeError(err: unknown): string {
  if (err instanceof AppError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
