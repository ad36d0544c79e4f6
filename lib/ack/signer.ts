import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * Alibaba Cloud OpenAPI V3 request signing (`ACS3-HMAC-SHA256`), as used by the official SDK for the
 * CS (ACK) product. Pure functions over strings; the transport decides what to send.
 * The official signer (`@alicloud/openapi-core`) is the test oracle (test/unit/ack/signer.test.ts).
 */

export const ALGORITHM = 'ACS3-HMAC-SHA256';
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface AccessKey {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** Present for STS credentials (Function Compute's `context.credentials`, RRSA). */
  readonly securityToken?: string | undefined;
}

/** RFC 3986 percent-encoding as Alibaba Cloud specifies it: space→%20, `*`→%2A, `~` kept. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Builds a request path from raw segments, encoding each (so `/` inside an id cannot forge a path). */
export function encodePath(segments: readonly string[]): string {
  return '/' + segments.map(percentEncode).join('/');
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function canonicalQueryString(query: Readonly<Record<string, string | undefined>>): string {
  return Object.keys(query)
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(query[k] ?? '')}`)
    .join('&');
}

/** The headers that are signed: host, content-type and every `x-acs-*`, lower-cased and sorted. */
export function signedHeaderNames(headers: Readonly<Record<string, string>>): string[] {
  const names = new Set<string>();
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'host' || lower === 'content-type' || lower.startsWith('x-acs-')) names.add(lower);
  }
  return [...names].sort();
}

function canonicalHeaders(headers: Readonly<Record<string, string>>, names: readonly string[]): string {
  const byName = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!names.includes(lower)) continue;
    const list = byName.get(lower) ?? [];
    list.push(value.trim());
    byName.set(lower, list);
  }
  return names.map((n) => `${n}:${(byName.get(n) ?? []).sort().join(',')}\n`).join('');
}

export interface CanonicalInput {
  readonly method: string;
  /** The path exactly as it goes on the wire (already percent-encoded, see {@link encodePath}). */
  readonly path: string;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly headers: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body (`x-acs-content-sha256`). */
  readonly payloadHash: string;
  /**
   * The header names to sign. A client signs every eligible header it sends (the default); a server
   * verifying a request uses the list from the `Authorization` header, since proxies may add headers.
   */
  readonly signedHeaderNames?: readonly string[];
}

export function canonicalRequest(input: CanonicalInput): { canonical: string; signedHeaders: string } {
  const names = input.signedHeaderNames ?? signedHeaderNames(input.headers);
  // An empty path stays empty, as in the official signer (the oracle); every ACK path is non-empty.
  const uri = input.path.replace(/\+/g, '%20').replace(/\*/g, '%2A').replace(/%7E/g, '~');
  const signedHeaders = names.join(';');
  const canonical = [
    input.method,
    uri,
    canonicalQueryString(input.query),
    canonicalHeaders(input.headers, names),
    signedHeaders,
    input.payloadHash,
  ].join('\n');
  return { canonical, signedHeaders };
}

export function stringToSign(canonical: string): string {
  return `${ALGORITHM}\n${sha256Hex(canonical)}`;
}

/** The `Authorization` header value for a request whose headers already carry every `x-acs-*` field. */
export function authorization(input: CanonicalInput, accessKeyId: string, accessKeySecret: string): string {
  const { canonical, signedHeaders } = canonicalRequest(input);
  const signature = createHmac('sha256', accessKeySecret).update(stringToSign(canonical)).digest('hex');
  return `${ALGORITHM} Credential=${accessKeyId},SignedHeaders=${signedHeaders},Signature=${signature}`;
}

/** `yyyy-MM-ddTHH:mm:ssZ` in UTC, as `x-acs-date` requires. */
export function acsDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

export interface SignInput {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly action: string;
  readonly version: string;
  readonly body?: string | undefined;
  readonly contentType?: string | undefined;
  readonly credentials: AccessKey;
  readonly now: number;
  readonly nonce: string;
}

/**
 * Every header a V3-signed request needs, `authorization` included. The STS token is signed too
 * (`x-acs-security-token`), and `x-acs-accesskey-id` is added as the official SDK does.
 */
export function signRequest(input: SignInput): Record<string, string> {
  const headers: Record<string, string> = {
    host: input.host,
    'x-acs-action': input.action,
    'x-acs-version': input.version,
    'x-acs-date': acsDate(input.now),
    'x-acs-signature-nonce': input.nonce,
    'x-acs-content-sha256': input.body === undefined ? EMPTY_BODY_SHA256 : sha256Hex(input.body),
  };
  if (input.contentType !== undefined) headers['content-type'] = input.contentType;
  if (input.credentials.securityToken !== undefined && input.credentials.securityToken !== '') {
    headers['x-acs-accesskey-id'] = input.credentials.accessKeyId;
    headers['x-acs-security-token'] = input.credentials.securityToken;
  }
  headers.authorization = authorization(
    {
      method: input.method,
      path: input.path,
      query: input.query,
      headers,
      payloadHash: headers['x-acs-content-sha256'] ?? EMPTY_BODY_SHA256,
    },
    input.credentials.accessKeyId,
    input.credentials.accessKeySecret,
  );
  return headers;
}
