import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ALGORITHM, canonicalRequest, sha256Hex, stringToSign } from '../ack/signer';

/**
 * Server-side verification of V3 `ACS3-HMAC-SHA256` requests, answering the way Alibaba Cloud's
 * gateway does (codes and statuses as the OpenAPI gateway returns them, e.g. an unknown AccessKey is a
 * **404** `InvalidAccessKeyId.NotFound`, a bad signature a 403 `SignatureDoesNotMatch`).
 */

export interface AuthConfig {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** When set, every request must carry and sign exactly this `x-acs-security-token`. */
  readonly securityToken?: string | undefined;
  readonly version: string;
  /** Largest accepted distance between `x-acs-date` and the server's clock (15 min like ACK). */
  readonly skewMs: number;
}

export interface SignedRequest {
  readonly method: string;
  /** The path exactly as received (still percent-encoded). */
  readonly rawPath: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export type AuthResult =
  { ok: true; nonce: string } | { ok: false; status: number; code: string; message: string };

const AUTH_PATTERN = new RegExp(
  `^${ALGORITHM} Credential=([^,\\s]+),\\s*SignedHeaders=([^,\\s]+),\\s*Signature=([0-9a-fA-F]{64})$`,
);
const ACS_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/** Headers that must be covered by the signature: leaving one out would let it be altered in transit. */
const MUST_SIGN = [
  'host',
  'x-acs-action',
  'x-acs-content-sha256',
  'x-acs-date',
  'x-acs-signature-nonce',
  'x-acs-version',
];

export interface ParsedAuthorization {
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…`; undefined when malformed. */
export function parseAuthorization(value: string | undefined): ParsedAuthorization | undefined {
  const m = value === undefined ? null : AUTH_PATTERN.exec(value.trim());
  if (m === null) return undefined;
  return {
    accessKeyId: m[1] ?? '',
    signedHeaders: (m[2] ?? '').split(';').map((h) => h.toLowerCase()),
    signature: (m[3] ?? '').toLowerCase(),
  };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

const fail = (status: number, code: string, message: string): AuthResult => ({
  ok: false,
  status,
  code,
  message,
});

/**
 * Checks a request's V3 signature, credentials, STS token, version and `x-acs-date` window. Pure apart
 * from the time passed in; nonce replay is the caller's job (it needs memory), using `nonce` on success.
 */
export function verifyRequest(req: SignedRequest, cfg: AuthConfig, now: number): AuthResult {
  const auth = parseAuthorization(header(req.headers, 'authorization'));
  if (auth === undefined) {
    return fail(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards.');
  }
  const version = header(req.headers, 'x-acs-version');
  if (version !== cfg.version) {
    return fail(
      400,
      'InvalidVersion',
      `Specified parameter Version is not valid: ${version ?? '(missing)'}.`,
    );
  }
  const date = header(req.headers, 'x-acs-date') ?? '';
  if (!ACS_DATE.test(date)) {
    return fail(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.');
  }
  if (Math.abs(now - Date.parse(date)) > cfg.skewMs) {
    return fail(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
  }
  const nonce = header(req.headers, 'x-acs-signature-nonce') ?? '';
  if (nonce === '') return fail(400, 'MissingSignatureNonce', 'SignatureNonce is mandatory for this action.');
  if (auth.accessKeyId !== cfg.accessKeyId) {
    return fail(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
  }
  const headerAk = header(req.headers, 'x-acs-accesskey-id');
  if (headerAk !== undefined && headerAk !== cfg.accessKeyId) {
    return fail(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
  }
  const token = header(req.headers, 'x-acs-security-token');
  if (cfg.securityToken !== undefined) {
    if (token === undefined || token === '') {
      return fail(403, 'InvalidSecurityToken.Missing', 'The security token you provided is missing.');
    }
    if (!safeEqual(token, cfg.securityToken)) {
      return fail(403, 'InvalidSecurityToken.Mismatch', 'The security token you provided does not match.');
    }
  } else if (token !== undefined) {
    return fail(403, 'InvalidSecurityToken.Malformed', 'The security token you provided is malformed.');
  }
  const mustSign = token === undefined ? MUST_SIGN : [...MUST_SIGN, 'x-acs-security-token'];
  const missing = mustSign.filter((h) => !auth.signedHeaders.includes(h));
  if (missing.length > 0) {
    return fail(400, 'IncompleteSignature', `Headers must be signed: ${missing.join(', ')}.`);
  }
  const bodyHash = sha256Hex(req.body);
  if (header(req.headers, 'x-acs-content-sha256') !== bodyHash) {
    return fail(403, 'SignatureDoesNotMatch', 'x-acs-content-sha256 does not match the request body.');
  }
  const flat: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const v = header(req.headers, name);
    if (v !== undefined) flat[name] = v;
  }
  const { canonical } = canonicalRequest({
    method: req.method,
    path: req.rawPath,
    query: req.query,
    headers: flat,
    payloadHash: bodyHash,
    signedHeaderNames: auth.signedHeaders,
  });
  const expected = createHmac('sha256', cfg.accessKeySecret).update(stringToSign(canonical)).digest('hex');
  if (!safeEqual(expected, auth.signature)) {
    return fail(403, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.');
  }
  return { ok: true, nonce };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Remembers nonces for the date window so a replayed request is refused (`SignatureNonceUsed`).
 * Bounded: entries leave once older than the window, and the oldest go first past `max`.
 */
export class NonceCache {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly max = 100_000,
  ) {}

  /** Records `nonce`; false when it was already used within the window. */
  use(nonce: string, now: number): boolean {
    for (const [n, at] of this.seen) {
      if (at >= now - 2 * this.windowMs && this.seen.size < this.max) break;
      this.seen.delete(n);
    }
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, now);
    return true;
  }
}
