import { AppError } from '../errors';

/**
 * Stable codes of every failure the ACK client reports. Callers branch on these, never on messages.
 * `retryable` follows from the code (see {@link ACK_RETRYABLE}).
 */
export type AckErrorCode =
  | 'ACK_THROTTLED'
  | 'ACK_SERVER_ERROR'
  | 'ACK_NETWORK'
  | 'ACK_TIMEOUT'
  | 'ACK_CLUSTER_NOT_FOUND'
  | 'ACK_CHECK_NOT_FOUND'
  | 'ACK_FORBIDDEN'
  | 'ACK_BAD_REQUEST'
  | 'ACK_BAD_RESPONSE'
  | 'ACK_DEADLINE';

/** Whether repeating the same call later may succeed, per code. */
export const ACK_RETRYABLE = {
  ACK_THROTTLED: true,
  ACK_SERVER_ERROR: true,
  ACK_NETWORK: true,
  ACK_TIMEOUT: true,
  ACK_CLUSTER_NOT_FOUND: false,
  ACK_CHECK_NOT_FOUND: false,
  ACK_FORBIDDEN: false,
  ACK_BAD_REQUEST: false,
  // A 2xx whose body is not the documented shape is usually a gateway hiccup (a cut connection,
  // an HTML page from a proxy); asking again is the right reaction.
  ACK_BAD_RESPONSE: true,
  ACK_DEADLINE: false,
} as const satisfies Record<AckErrorCode, boolean>;

export interface AckErrorFields {
  /** The ACK action (`GetClusterCheck`…), for logs. */
  action?: string | undefined;
  status?: number | undefined;
  ackCode?: string | undefined;
  requestId?: string | undefined;
  snippet?: string | undefined;
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

/**
 * A failed ACK call. Carries what is needed to diagnose it (HTTP status, ACK's own code, the request id
 * to quote to Alibaba Cloud support, a short body snippet) and nothing secret: snippets come from the
 * response, never from the request, and the client scrubs known credentials from them anyway.
 */
export class AckError extends AppError {
  declare readonly code: AckErrorCode;
  declare readonly action?: string;
  declare readonly status?: number;
  declare readonly ackCode?: string;
  declare readonly requestId?: string;
  declare readonly snippet?: string;
  declare readonly retryAfterMs?: number;

  constructor(code: AckErrorCode, message: string, fields: AckErrorFields = {}) {
    const details: Record<string, unknown> = {};
    if (fields.action !== undefined) details.action = fields.action;
    if (fields.status !== undefined) details.status = fields.status;
    if (fields.ackCode !== undefined) details.ackCode = fields.ackCode;
    if (fields.requestId !== undefined) details.requestId = fields.requestId;
    if (fields.snippet !== undefined) details.snippet = fields.snippet;
    if (fields.retryAfterMs !== undefined) details.retryAfterMs = fields.retryAfterMs;
    super(code, message, { retryable: ACK_RETRYABLE[code], cause: fields.cause, details });
    if (fields.action !== undefined) this.action = fields.action;
    if (fields.status !== undefined) this.status = fields.status;
    if (fields.ackCode !== undefined) this.ackCode = fields.ackCode;
    if (fields.requestId !== undefined) this.requestId = fields.requestId;
    if (fields.snippet !== undefined) this.snippet = fields.snippet;
    if (fields.retryAfterMs !== undefined) this.retryAfterMs = fields.retryAfterMs;
  }
}

export function isAckError(err: unknown): err is AckError {
  return err instanceof AckError;
}

const SNIPPET_MAX = 200;

/** The first {@link SNIPPET_MAX} characters of a body on one line: enough to recognise it, never a dump. */
export function snippetOf(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > SNIPPET_MAX ? `${flat.slice(0, SNIPPET_MAX)}…` : flat;
}

/**
 * The official SDK reads `x-acs-retry-after` as a whole number of **milliseconds** and caps the wait at
 * 120 s (`@alicloud/openapi-core` `getThrottlingTimeLeft` + `@darabonba/typescript` retry). We do the
 * same, so a hint never parks a poller for longer than that.
 */
export const RETRY_AFTER_CAP_MS = 120_000;

export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const n = Number.parseInt(raw.trim(), 10);
  if (!Number.isFinite(n) || n < 0) return undefined;
  return Math.min(n, RETRY_AFTER_CAP_MS);
}

interface ParsedErrorBody {
  code?: string;
  message?: string;
  requestId?: string;
}

function stringField(obj: Record<string, unknown>, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = obj[n];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

function xmlField(body: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>\\s*(?:<!\\[CDATA\\[)?([^<\\]]*)`, 'i').exec(body);
  const v = m?.[1]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/**
 * Reads an OpenAPI error body in any of the forms seen: `{"Code","Message","RequestId"}`,
 * `{"code","message","requestId"}` (also `request_id`), an `<Error><Code>…` XML document. Anything
 * else (an HTML gateway page, a truncated body) yields no fields; the status alone then decides.
 */
export function parseErrorBody(body: string): ParsedErrorBody {
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        const obj = parsed as Record<string, unknown>;
        const out: ParsedErrorBody = {};
        const code = stringField(obj, 'Code', 'code', 'ErrorCode', 'errorCode');
        const message = stringField(obj, 'Message', 'message', 'ErrorMessage', 'errorMessage');
        const requestId = stringField(obj, 'RequestId', 'requestId', 'request_id');
        if (code !== undefined) out.code = code;
        if (message !== undefined) out.message = message;
        if (requestId !== undefined) out.requestId = requestId;
        return out;
      }
    } catch {
      return {};
    }
    return {};
  }
  if (text.startsWith('<') && !/^<(!doctype\s+html|html)/i.test(text)) {
    const out: ParsedErrorBody = {};
    const code = xmlField(text, 'Code');
    const message = xmlField(text, 'Message');
    const requestId = xmlField(text, 'RequestId');
    if (code !== undefined) out.code = code;
    if (message !== undefined) out.message = message;
    if (requestId !== undefined) out.requestId = requestId;
    return out;
  }
  return {};
}

/**
 * Codes that mean "your credentials or signature are wrong", whatever the status. The gateway answers
 * an unknown AccessKey with **404** `InvalidAccessKeyId.NotFound`: read by status alone, that would
 * look like a vanished check and end a watch.
 */
const AUTH_CODE =
  /^(InvalidAccessKeyId|InvalidSecurityToken|SignatureDoesNotMatch|IncompleteSignature|SignatureNonceUsed|Forbidden|ErrorCheckAcl|NoPermission|InvalidAuthorization)/i;
const CLUSTER_NOT_FOUND_CODE = /^Error?ClusterNotFound$|^ClusterNotFound$|^ErrorClusterNotExist$/i;

export interface HttpFailure {
  action: string;
  status: number;
  body: string;
  /** `x-acs-request-id`, used when the body has none. */
  headerRequestId?: string | undefined;
  retryAfterMs?: number | undefined;
  /** Whether a 404 here means "this check" (GetClusterCheck) rather than a cluster or route. */
  onCheck: boolean;
}

/**
 * Turns a non-2xx answer into the right {@link AckError}. ACK's code wins over the HTTP status where it
 * is explicit (throttling, credentials, missing cluster); otherwise the status class decides.
 */
export function errorFromResponse(f: HttpFailure): AckError {
  const parsed = parseErrorBody(f.body);
  const fields: AckErrorFields = {
    action: f.action,
    status: f.status,
    ackCode: parsed.code,
    requestId: parsed.requestId ?? f.headerRequestId,
    snippet: snippetOf(f.body),
    retryAfterMs: f.retryAfterMs,
  };
  const what = `${f.action} failed: HTTP ${f.status}${parsed.code === undefined ? '' : ` ${parsed.code}`}${
    parsed.message === undefined ? '' : `: ${parsed.message}`
  }`;
  const code = parsed.code ?? '';
  if (code.startsWith('Throttling') || f.status === 429) return new AckError('ACK_THROTTLED', what, fields);
  if (AUTH_CODE.test(code)) return new AckError('ACK_FORBIDDEN', what, fields);
  if (CLUSTER_NOT_FOUND_CODE.test(code)) return new AckError('ACK_CLUSTER_NOT_FOUND', what, fields);
  if (f.status >= 500) return new AckError('ACK_SERVER_ERROR', what, fields);
  if (f.status === 401 || f.status === 403) return new AckError('ACK_FORBIDDEN', what, fields);
  if (f.status === 408) return new AckError('ACK_TIMEOUT', what, fields);
  if (f.status === 404) {
    return f.onCheck
      ? new AckError('ACK_CHECK_NOT_FOUND', what, fields)
      : new AckError('ACK_BAD_REQUEST', what, fields);
  }
  if (f.status >= 400) return new AckError('ACK_BAD_REQUEST', what, fields);
  // 1xx/3xx: not an answer the API gives; treat like a malformed response (retryable).
  return new AckError('ACK_BAD_RESPONSE', what, fields);
}

/** Node / undici error codes that mean the request never reached ACK (safe to repeat even a POST). */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let i = 0; i < 4 && cur !== null && typeof cur === 'object'; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether a transport failure happened before the request could have been sent. */
export function failedBeforeSending(err: AckError): boolean {
  if (err.code !== 'ACK_NETWORK' && err.code !== 'ACK_TIMEOUT') return false;
  const c = errCode(err.cause);
  return c !== undefined && NOT_SENT_CODES.has(c);
}

/** Maps a socket/undici failure (reset, refused, DNS, connect timeout, headers/body timeout). */
export function errorFromTransport(action: string, err: unknown): AckError {
  const c = errCode(err) ?? 'UNKNOWN';
  if (c === 'UND_ERR_CONNECT_TIMEOUT' || c === 'UND_ERR_HEADERS_TIMEOUT' || c === 'UND_ERR_BODY_TIMEOUT') {
    return new AckError('ACK_TIMEOUT', `${action} timed out (${c})`, { action, cause: err });
  }
  return new AckError('ACK_NETWORK', `${action} failed: network error (${c})`, { action, cause: err });
}
