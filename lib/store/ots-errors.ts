/**
 * Decoding Tablestore (OTS) failures into StoreErrors.
 *
 * The SDK's error extraction tries an XML parser that does not exist, so a failed request surfaces as
 * `err.code === <HTTP status>` with the protobuf `Error{code=1, message=2}` body in `err.message`,
 * decoded as UTF-8 text and followed by ` requestId:<id>`. We decode the protobuf field 1 back out of it
 * (shared/reference/tablestore-sdk.md, trap 1). Batch rows carry real string codes.
 */
import {
  StoreAuthError,
  StoreConflict,
  StoreError,
  StoreInvalid,
  StoreNotFound,
  StoreUnavailable,
  type StoreErrorDetails,
} from './store';

export interface DecodedOtsError {
  /** HTTP status when the server answered. */
  readonly httpStatus?: number | undefined;
  /** OTS code (`OTSConditionCheckFail`), or the SDK's code for a transport failure (`NetworkingError`). */
  readonly code?: string | undefined;
  readonly message?: string | undefined;
  readonly requestId?: string | undefined;
}

/** Codes that mean "not applied, try again" (flow control, transient unavailability). */
const RETRYABLE = new Set([
  'OTSRowOperationConflict',
  'OTSServerBusy',
  'OTSPartitionUnavailable',
  'OTSServerUnavailable',
  'OTSTimeout',
  'OTSInternalServerError',
  'OTSQuotaExhausted',
  'OTSNotEnoughCapacityUnit',
  'OTSCapacityUnitExhausted',
  'OTSOperationThrottled',
  'OTSTableNotReady',
  'NetworkingError',
  'TimeoutError',
]);

/** Codes after which a write may or may not have been applied. */
const AMBIGUOUS = new Set(['OTSTimeout', 'OTSInternalServerError', 'NetworkingError', 'TimeoutError']);

const INVALID = new Set([
  'OTSParameterInvalid',
  'OTSRequestBodyTooLarge',
  'OTSOutOfColumnCountLimit',
  'OTSOutOfRowSizeLimit',
  'OTSInvalidPK',
  'OTSMethodNotAllowed',
  'OTSRequestTimeout',
  'BadRequest',
]);

const AUTH = new Set([
  'OTSAuthFailed',
  'OTSNoPermissionAccess',
  'OTSUserNotExist',
  'OTSInsufficientPermission',
  'OTSAccessDenied',
  'Forbidden',
]);

const NOT_FOUND = new Set(['OTSObjectNotExist', 'OTSInstanceNotFound', 'NotFound']);

/** Reads a protobuf varint at `pos`; undefined if truncated. */
function varint(bytes: Buffer, pos: number): { value: number; next: number } | undefined {
  let value = 0;
  let shift = 0;
  for (let i = pos; i < bytes.length && shift < 35; i++) {
    const b = bytes[i] ?? 0;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
    shift += 7;
  }
  return undefined;
}

/**
 * Decodes `Error{code=1, message=2}` from the SDK's message text. The code is short ASCII and survives
 * the SDK's UTF-8 decoding; a message longer than 127 bytes has a multi-byte length prefix that does not
 * (bytes ≥ 0x80 became U+FFFD), so the message falls back to "the rest of the text".
 */
export function decodeOtsErrorBody(text: string): { code?: string; message?: string; requestId?: string } {
  const rid = / requestId:([^\s]*)$/.exec(text);
  const body = rid === null ? text : text.slice(0, rid.index);
  const requestId = rid?.[1] === undefined || rid[1] === '' ? undefined : rid[1];
  const bytes = Buffer.from(body, 'utf8');
  const out: { code?: string; message?: string; requestId?: string } = {};
  if (requestId !== undefined) out.requestId = requestId;
  if (bytes[0] !== 0x0a) return out;
  const len = varint(bytes, 1);
  if (len === undefined || len.next + len.value > bytes.length) return out;
  const code = bytes.subarray(len.next, len.next + len.value).toString('utf8');
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(code)) return out;
  out.code = code;
  let pos = len.next + len.value;
  if (bytes[pos] === 0x12) {
    const mlen = varint(bytes, pos + 1);
    pos = mlen?.next ?? pos + 2;
    const end = mlen !== undefined && pos + mlen.value === bytes.length ? pos + mlen.value : bytes.length;
    out.message = bytes.subarray(pos, end).toString('utf8');
  }
  return out;
}

/** What a thrown SDK error says, decoded. Never includes request headers (they hold the STS token). */
export function decodeOtsError(err: unknown): DecodedOtsError {
  if (typeof err !== 'object' || err === null) return {};
  const e = err as { code?: unknown; message?: unknown; statusCode?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  if (typeof e.code === 'number') {
    const body = decodeOtsErrorBody(message);
    return { httpStatus: e.code, code: body.code, message: body.message, requestId: body.requestId };
  }
  if (typeof e.code === 'string') {
    // Empty-body HTTP errors arrive as 'Forbidden' / 'NotFound' / 'BadRequest' with the request id as message.
    const byName: Record<string, number> = {
      Forbidden: 403,
      NotFound: 404,
      BadRequest: 400,
      NotModified: 304,
    };
    return { code: e.code, httpStatus: byName[e.code], message, requestId: undefined };
  }
  return { message };
}

export function isRetryableOtsCode(code: string | undefined): boolean {
  return code !== undefined && RETRYABLE.has(code);
}

/** Whether a failure with this code may nevertheless have applied a write. */
export function isAmbiguousOtsCode(code: string | undefined): boolean {
  return code !== undefined && AMBIGUOUS.has(code);
}

/** Translates a code (+ status) into the StoreError subclass the rest of checkwatch branches on. */
export function otsCodeToStoreError(
  code: string | undefined,
  message: string,
  context: StoreErrorDetails & { cause?: unknown },
): StoreError {
  const { cause, ...rest } = context;
  const details: StoreErrorDetails = { ...rest, vendorCode: code };
  const opts = { cause, details };
  const text = `Tablestore ${context.operation ?? 'request'} failed: ${code ?? `HTTP ${context.httpStatus ?? '?'}`}${message === '' ? '' : ` (${message.slice(0, 200)})`}`;
  if (code === 'OTSConditionCheckFail' || code === 'OTSObjectAlreadyExist')
    return new StoreConflict(text, opts);
  if (isRetryableOtsCode(code)) return new StoreUnavailable(text, opts);
  if (code !== undefined && AUTH.has(code)) return new StoreAuthError(text, opts);
  if (code !== undefined && NOT_FOUND.has(code)) return new StoreNotFound(text, opts);
  if (code !== undefined && INVALID.has(code)) return new StoreInvalid(text, opts);
  const status = context.httpStatus;
  if (status !== undefined && status >= 500) return new StoreUnavailable(text, opts);
  if (status === 403 || status === 401) return new StoreAuthError(text, opts);
  if (status === 404) return new StoreNotFound(text, opts);
  if (status !== undefined && status >= 400) return new StoreInvalid(text, opts);
  return new StoreError('STORE_UNAVAILABLE', text, { retryable: false, ...opts });
}

/** Translates anything the SDK threw. A programming error inside the SDK (TypeError) is STORE_INVALID. */
export function toStoreError(err: unknown, context: { operation: string; table?: string }): StoreError {
  if (err instanceof StoreError) return err;
  const d = decodeOtsError(err);
  if (d.code === undefined && d.httpStatus === undefined && err instanceof Error) {
    return new StoreInvalid(`Tablestore ${context.operation} could not be encoded: ${err.message}`, {
      cause: err,
      details: { operation: context.operation, table: context.table },
    });
  }
  return otsCodeToStoreError(d.code, d.message ?? '', {
    ...context,
    httpStatus: d.httpStatus,
    requestId: d.requestId,
    cause: err,
  });
}
