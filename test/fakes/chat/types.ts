/**
 * Shared types of the chat fakes. `index.ts` re-exports the public ones (the pinned API); the platform
 * modules use the internal ones (`Incoming`, `Reply`, `Verdict`, `Platform`).
 */

export type ChatPlatform = 'dingtalk' | 'slack' | 'feishu' | 'wecom' | 'webhook';

export const CHAT_PLATFORMS = [
  'dingtalk',
  'slack',
  'feishu',
  'wecom',
  'webhook',
] as const satisfies readonly ChatPlatform[];

export interface ChatFakeOptions {
  platform: ChatPlatform;
  /** Port to listen on (127.0.0.1); 0 or absent picks a free one. */
  port?: number;
  /**
   * The signing secret. Absent: one is generated for dingtalk (`SEC…`), feishu and webhook (`whsec_…`).
   * `''` turns signing off for dingtalk/feishu (a robot secured by keyword or IP list only).
   * Ignored by slack and wecom, whose URL is the secret.
   */
  secret?: string;
  /** DingTalk/Feishu security keyword: a message that does not contain it is refused. */
  keyword?: string;
  /** Default true: the platform's real rate limits are enforced. */
  rateLimit?: boolean;
  /** Milliseconds since the epoch; drives rate limits, blocks and timestamp checks. Default Date.now. */
  clock?: () => number;
  /** Seed for `rate`-based faults and generated tokens/secrets. Default fixed, so runs repeat. */
  seed?: number;
  /**
   * The URL secret: DingTalk access_token, WeCom key, Feishu hook id, Slack `T…/B…/X…` path. Generated
   * when absent. (Lets the standalone fake keep one URL across restarts.)
   */
  token?: string;
}

export interface ReceivedMessage {
  /** clock() when the request arrived. */
  at: number;
  path: string;
  query: Record<string, string>;
  /** Lower-case header names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** Parsed JSON (or Slack's form `payload`), undefined when the body did not parse. */
  body: unknown;
  raw: string;
  /** True when the platform would have shown the message in the chat. */
  accepted: boolean;
  /** What was answered; `{ status: 0, body: '' }` when no answer was ever sent (timeoutAfterReceipt). */
  reply: { status: number; body: string };
}

export type ChatFaultKind =
  '5xx' | 'timeoutAfterReceipt' | 'slow' | 'garbage' | 'empty' | 'html' | 'rateLimit' | 'code';

/**
 * A fault applies to requests as they arrive, before any routing (like a gateway would).
 * `next: N` applies it to the next N requests; `rate: p` to each request with probability p (seeded);
 * both: with probability p, at most N times; neither: the next request only.
 * `delayMs`: reply delay for 'slow' (default 500) and 'timeoutAfterReceipt' (default: never answer);
 * Retry-After for 'rateLimit' on Slack/webhook (rounded up to seconds).
 * `code`/`text`: the status or platform code and text for 'code' and '5xx'; the body for 'garbage'.
 */
export interface ChatFault {
  kind: ChatFaultKind;
  next?: number;
  rate?: number;
  delayMs?: number;
  code?: number | string;
  text?: string;
}

export interface ChatFake {
  readonly platform: ChatPlatform;
  /**
   * Full webhook URL: includes access_token (dingtalk) or key (wecom); `/services/T…/B…/X…` for slack,
   * `/open-apis/bot/v2/hook/<uuid>` for feishu, `/hook` for webhook. Never includes a DingTalk sign.
   */
  readonly url: string;
  readonly secret?: string;
  readonly keyword?: string;
  /** Every request received, in arrival order (including refused and faulted ones). */
  readonly received: readonly ReceivedMessage[];
  /** The messages the platform would have shown. */
  readonly accepted: readonly ReceivedMessage[];
  /** Adds a fault; the returned function removes it. */
  injectFault(f: ChatFault): () => void;
  clearFaults(): void;
  /** Forgets received messages, faults, rate-limit windows and blocks. */
  reset(): void;
  close(): Promise<void>;
}

// ---- internal: what a platform module implements --------------------------------------------------

export interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export interface Incoming {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  raw: string;
  /** Raw byte length of the body (limits are in bytes). */
  bytes: number;
  now: number;
}

export interface Verdict {
  accepted: boolean;
  body: unknown;
  reply: Reply;
}

export interface PlatformSettings {
  secret: string | undefined;
  keyword: string | undefined;
  token: string;
  rateLimit: boolean;
  clock: () => number;
}

/** One platform's protocol: routing, verification, limits and its own way of saying no. */
export interface Platform {
  /** Path and query of the webhook URL, appended to `http://127.0.0.1:<port>`. */
  readonly target: string;
  handle(req: Incoming): Verdict;
  /** The platform's own rate-limit reply (forced by the 'rateLimit' fault). */
  rateLimitReply(retryAfterMs: number | undefined): Reply;
  /** A platform error code/text with the status the platform uses for it (the 'code' fault). */
  codeReply(code: number | string | undefined, text: string | undefined): Reply;
  /** A 200 the client cannot parse (the 'garbage' fault). */
  garbageReply(text: string | undefined): Reply;
  /** Forget rate-limit windows and blocks. */
  reset(): void;
}
