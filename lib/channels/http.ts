/**
 * One HTTP POST per send attempt over undici, with a connect timeout and an overall timeout, and the
 * translation of transport failures into {@link SendResult}s. Knows nothing about any platform's body.
 */
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { Redactor } from '../log';
import type { Logger } from '../log';
import { silentLogger } from '../log';
import type { SendContext, SendResult } from './channel';

export const DEFAULT_TIMEOUT_MS = 10_000;
/** Replies are short JSON or text; anything longer is a misrouted page and is cut. */
const MAX_REPLY_BYTES = 64 * 1024;
/** A platform text or error description stored with a delivery is kept short. */
export const MAX_TEXT_CHARS = 300;

/** Errors raised before the request could have been written: a resend cannot duplicate anything. */
const NOT_SENT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/** How soon a retry is worth it after each kind of failure (the notifier's backoff may wait longer). */
export const RETRY_DELAY_MS = { network: 2_000, server: 5_000, busy: 10_000 } as const;

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  text: string;
}

export type PostOutcome = { ok: true; reply: HttpReply } | { ok: false; result: SendResult };

export interface TransportOptions {
  /** Human platform name for texts ("DingTalk"). */
  platform: string;
  channel: string;
  timeoutMs?: number | undefined;
  dispatcher?: Dispatcher | undefined;
  log?: Logger | undefined;
  /** Literal secrets to keep out of every text: the URL, its tokens, the sign secret. */
  secrets: ReadonlyArray<string | undefined>;
}

/** The secret-bearing parts of a webhook URL: query values and path segments. */
export function urlSecrets(url: string): string[] {
  const out = [url];
  try {
    const u = new URL(url);
    for (const value of u.searchParams.values()) out.push(value);
    for (const seg of u.pathname.split('/')) if (seg.length >= 6) out.push(seg);
  } catch {
    // An invalid URL fails at send time with its own result; nothing more to redact.
  }
  return out;
}

export class Transport {
  readonly redactor: Redactor;
  readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly log: Logger;

  constructor(private readonly options: TransportOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Connect timeout below the overall one, so an unreachable host shows up as "not sent".
    this.dispatcher =
      options.dispatcher ??
      new Agent({ connect: { timeout: Math.max(1, Math.min(5_000, Math.floor(this.timeoutMs / 2))) } });
    this.log = (options.log ?? silentLogger).child({ channel: options.channel, platform: options.platform });
    this.redactor = new Redactor(options.secrets);
  }

  /** Text safe to store and show: known secrets masked, URLs removed, one short line. */
  safe(text: string): string {
    const masked = this.redactor.text(text).replace(/\bhttps?:\/\/[^\s"'<>]+/gi, '<url>');
    const line = masked.replace(/\s+/g, ' ').trim();
    return line.length > MAX_TEXT_CHARS ? `${line.slice(0, MAX_TEXT_CHARS - 1)}…` : line;
  }

  /** Platform text: secrets masked and shortened, but links the platform gives (docs) kept. */
  platformText(text: string): string {
    const line = this.redactor.text(text).replace(/\s+/g, ' ').trim();
    return line.length > MAX_TEXT_CHARS ? `${line.slice(0, MAX_TEXT_CHARS - 1)}…` : line;
  }

  async post(
    url: string,
    body: string,
    ctx: SendContext,
    headers: Record<string, string> = {},
  ): Promise<PostOutcome> {
    const started = performance.now();
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = ctx.signal === undefined ? timeout : AbortSignal.any([timeout, ctx.signal]);
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
        body,
        signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      const text = await readCapped(res.body);
      const reply: HttpReply = { status: res.statusCode, headers: flatHeaders(res.headers), text };
      this.log.debug('chat reply', { status: reply.status, ms: Math.round(performance.now() - started) });
      return { ok: true, reply };
    } catch (err) {
      const result = this.transportFailure(err, ctx, timeout.aborted);
      this.log.warn('chat send failed', {
        reason: result.kind === 'retry' ? result.reason : result.kind,
        ms: Math.round(performance.now() - started),
      });
      return { ok: false, result };
    }
  }

  /** A thrown transport error as a result. Anything after connect may have reached the platform. */
  private transportFailure(err: unknown, ctx: SendContext, timedOut: boolean): SendResult {
    const code = errorCode(err);
    const at = ctx.now + RETRY_DELAY_MS.network;
    const platform = this.options.platform;
    if (code === 'ERR_INVALID_URL' || code === 'UND_ERR_INVALID_ARG') {
      return {
        kind: 'permanent',
        platformText: this.safe(describe(err)),
        hint: `${platform}: the channel URL or request is invalid — check the configured URL`,
      };
    }
    if (code !== undefined && NOT_SENT_CODES.has(code)) {
      return { kind: 'retry', at, reason: this.safe(`${platform} unreachable (${code}): ${describe(err)}`) };
    }
    if (ctx.signal?.aborted === true && !timedOut) {
      return { kind: 'retry', at, reason: `${platform} send aborted by the caller`, unknownOutcome: true };
    }
    if (timedOut || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return {
        kind: 'retry',
        at,
        reason: `${platform} did not answer within ${this.timeoutMs} ms; the message may have been delivered`,
        unknownOutcome: true,
      };
    }
    return {
      kind: 'retry',
      at,
      reason: this.safe(`${platform} connection failed after sending (${code ?? 'error'}): ${describe(err)}`),
      unknownOutcome: true,
    };
  }
}

async function readCapped(
  body: AsyncIterable<Buffer | Uint8Array> & { destroy?: () => void },
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.from(chunk);
    chunks.push(buf);
    size += buf.length;
    if (size >= MAX_REPLY_BYTES) {
      body.destroy?.();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_REPLY_BYTES).toString('utf8');
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    if (typeof e === 'object' && 'code' in e && typeof e.code === 'string') return e.code;
    e = typeof e === 'object' && 'cause' in e ? e.cause : undefined;
  }
  return undefined;
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** `Retry-After` as ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A short description of a reply whose body is not what the platform normally sends. */
export function describeReply(reply: HttpReply): string {
  const type = reply.headers['content-type'] ?? '';
  const text = reply.text.trim();
  if (text === '') return `HTTP ${reply.status} with an empty body`;
  if (/html/i.test(type) || /^<!doctype|^<html/i.test(text)) {
    const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
    return `HTTP ${reply.status} with an HTML page${title === undefined || title === '' ? '' : ` (${title})`}`;
  }
  return `HTTP ${reply.status}: ${text}`;
}

/** The standard answer to a reply that is not the platform's JSON: retry 5xx/429/2xx, refuse other 4xx. */
export function unexpectedReply(
  reply: HttpReply,
  ctx: SendContext,
  platform: string,
  t: Transport,
): SendResult {
  const text = t.safe(describeReply(reply));
  if (reply.status === 429) {
    const wait = parseRetryAfter(reply.headers['retry-after'], ctx.now) ?? RETRY_DELAY_MS.busy;
    return {
      kind: 'retry',
      at: ctx.now + wait,
      reason: `${platform} rate limit (HTTP 429)`,
      platformCode: 429,
      platformText: text,
    };
  }
  if (reply.status >= 500 || reply.status === 408) {
    return {
      kind: 'retry',
      at: ctx.now + RETRY_DELAY_MS.server,
      reason: `${platform} server error (HTTP ${reply.status})`,
      platformCode: reply.status,
      platformText: text,
    };
  }
  if (reply.status >= 200 && reply.status < 300) {
    // Something answered 200 but not in the platform's words (a proxy, a captive portal): we cannot
    // tell whether the message went through, so it is retried with the same idempotency key.
    return {
      kind: 'retry',
      at: ctx.now + RETRY_DELAY_MS.server,
      reason: `${platform} answered HTTP ${reply.status} without a readable result`,
      platformCode: reply.status,
      platformText: text,
      unknownOutcome: true,
    };
  }
  return {
    kind: 'permanent',
    platformCode: reply.status,
    platformText: text,
    hint: `${platform} refused the request (HTTP ${reply.status}) — check the channel URL`,
  };
}

/** Parses a JSON object reply; undefined when the body is not a JSON object. */
export function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** How one platform error code is handled: retried after `retryMs`, or permanent with a hint. */
export interface ErrcodeRule {
  retryMs?: number;
  reason?: string;
  hint?: string;
}

/**
 * Classifies a `{errcode, errmsg}` reply (DingTalk, WeCom): those platforms report failures inside an
 * HTTP 200, so the body code decides, never the status. `hintFor` lets a platform refine the hint from
 * the message text (DingTalk's 310000 covers keyword, sign, timestamp and IP refusals).
 */
export function classifyErrcode(
  reply: HttpReply,
  ctx: SendContext,
  t: Transport,
  platform: string,
  rules: Readonly<Record<number, ErrcodeRule>>,
  hintFor?: (code: number, errmsg: string) => string | undefined,
): SendResult {
  const json = jsonObject(reply.text);
  const raw = json?.errcode;
  const code =
    typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : undefined;
  if (json === undefined || code === undefined) return unexpectedReply(reply, ctx, platform, t);
  const errmsg = typeof json.errmsg === 'string' ? json.errmsg : '';
  const platformText = t.platformText(errmsg === '' ? `errcode ${code}` : errmsg);
  if (code === 0) return { kind: 'delivered', platformCode: 0, platformText };
  const rule = Object.hasOwn(rules, code) ? rules[code] : undefined;
  if (rule?.retryMs !== undefined) {
    return {
      kind: 'retry',
      at: ctx.now + rule.retryMs,
      reason: rule.reason ?? `${platform} asked to retry`,
      platformCode: code,
      platformText,
    };
  }
  const hint = hintFor?.(code, errmsg) ?? rule?.hint ?? `${platform} refused the message (errcode ${code})`;
  return { kind: 'permanent', platformCode: code, platformText, hint };
}

/** The transport of one configured channel: its timeout and the secrets to keep out of every text. */
export function channelTransport(
  platform: string,
  config: { readonly name: string; readonly url: string; readonly timeoutMs?: number | undefined },
  deps: { readonly dispatcher?: Dispatcher | undefined; readonly log?: Logger | undefined },
  extraSecrets: ReadonlyArray<string | undefined> = [],
): Transport {
  return new Transport({
    platform,
    channel: config.name,
    timeoutMs: config.timeoutMs,
    dispatcher: deps.dispatcher,
    log: deps.log,
    secrets: [...urlSecrets(config.url), ...extraSecrets],
  });
}
