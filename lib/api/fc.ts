import * as z from 'zod/mini';
import { InputError } from '../errors';
import type { ApiRequest, ApiResponse } from './http';

/**
 * The Function Compute 3.0 HTTP trigger adapter (shared/reference/function-compute.md): the event is a
 * Buffer of JSON `{version, rawPath, body, isBase64Encoded, headers, queryParameters, requestContext}`,
 * multi-valued headers and query parameters arrive comma-joined, and the function returns
 * `{statusCode, headers, isBase64Encoded, body}`.
 */

// zod/mini: only an issue's path is reported from here, so no message locale is needed.
const stringMap = z.record(z.string(), z.union([z.string(), z.array(z.string())]));

const fcHttpEvent = z.object({
  version: z.optional(z.string()),
  rawPath: z.optional(z.string()),
  body: z.optional(z.string()),
  isBase64Encoded: z.optional(z.boolean()),
  headers: z.nullish(stringMap),
  queryParameters: z.nullish(stringMap),
  requestContext: z.object({
    http: z.object({
      method: z.string().check(z.regex(/^[A-Za-z]{1,16}$/)),
      path: z.optional(z.string()),
    }),
    requestId: z.optional(z.string()),
  }),
});

/** Lower-cases names and comma-joins values that repeat (or arrive as arrays), into own properties. */
function joinMap(
  map: Record<string, string | string[]> | null | undefined,
  lower: boolean,
): Record<string, string> {
  const out = new Map<string, string>();
  for (const [rawName, value] of Object.entries(map ?? {})) {
    const name = lower ? rawName.toLowerCase() : rawName;
    const v = Array.isArray(value) ? value.join(',') : value;
    const prev = out.get(name);
    out.set(name, prev === undefined ? v : `${prev},${v}`);
  }
  return Object.fromEntries(out);
}

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;

/**
 * Reads an FC 3.0 HTTP trigger event. Throws `InputError` when the event is not one (not JSON, no
 * request context, a body flagged base64 that is not), so the handler can answer 400 instead of 500.
 */
export function fromFcHttpEvent(event: Buffer | string): ApiRequest {
  const text = typeof event === 'string' ? event : event.toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError('the event is not JSON', { cause: err });
  }
  const parsed = fcHttpEvent.safeParse(raw);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.map(String).join('.') ?? '';
    throw new InputError(`not an HTTP trigger event (${where === '' ? 'event' : where})`);
  }
  const e = parsed.data;
  const bodyText = e.body ?? '';
  let body: Buffer;
  if (e.isBase64Encoded === true) {
    if (!BASE64.test(bodyText)) throw new InputError('the event body is flagged base64 but is not');
    body = Buffer.from(bodyText, 'base64');
  } else {
    body = Buffer.from(bodyText, 'utf8');
  }
  let path = e.rawPath ?? e.requestContext.http.path ?? '/';
  // rawPath is the path alone; be safe if a gateway ever leaves the query on it.
  const q = path.indexOf('?');
  if (q >= 0) path = path.slice(0, q);
  return {
    method: e.requestContext.http.method.toUpperCase(),
    path: path === '' ? '/' : path,
    query: joinMap(e.queryParameters, false),
    headers: joinMap(e.headers, true),
    body,
  };
}

/** The FC HTTP trigger's response shape. Bodies are JSON text, so never base64. */
export function toFcHttpResponse(res: ApiResponse): {
  statusCode: number;
  headers: Record<string, string>;
  isBase64Encoded: boolean;
  body: string;
} {
  return { statusCode: res.status, headers: { ...res.headers }, isBase64Encoded: false, body: res.body };
}
