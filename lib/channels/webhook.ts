/**
 * Generic outbound webhook, signed the Standard Webhooks way (https://www.standardwebhooks.com/):
 * `webhook-id` (= the idempotency key, stable across retries so receivers can deduplicate),
 * `webhook-timestamp` (seconds) and `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{ts}.{body}")>`
 * where key = base64-decode(secret without its `whsec_` prefix).
 *
 * The body is the versioned JSON payload {@link WebhookPayloadV1}. Compatibility promise: within
 * `version: 1` fields are only ever added; a removal or change of meaning bumps the version.
 *
 * Replies: any 2xx is delivered; 429 and 5xx (and 408) are retried (`Retry-After` honoured); other 4xx
 * are permanent (401/403 usually mean the receiver does not accept our signature).
 */
import { createHmac } from 'node:crypto';
import type { CheckItemsSummary } from '../domain/check-items';
import type { CheckMessage, DigestMessage, Outcome } from '../domain/message';
import { PHRASES, durationOf, isDigest } from '../domain/message';
import type {
  Channel,
  ChannelDeps,
  RateLimit,
  RenderedMessage,
  SendContext,
  SendResult,
  WebhookChannelConfig,
} from './channel';
import type { HttpReply, Transport } from './http';
import { channelTransport, unexpectedReply } from './http';
import type { RenderOptions } from './render';
import {
  byteLength,
  clipChars,
  digestLine,
  digestTitleOf,
  facts,
  failingBlock,
  fitCount,
  itemsLine,
  plainDialect,
  prepare,
  statusLine,
  templatedBody,
  titleOf,
} from './render';

/** Receivers vary; we keep bodies under 256 KB (summaries are capped, so only huge digests are cut). */
export const WEBHOOK_MAX_BODY_BYTES = 256 * 1024;
/** No platform limit; a generous guard so a flood cannot hammer a receiver. */
export const WEBHOOK_RATE_LIMITS: readonly RateLimit[] = [{ windowMs: 1_000, max: 50 }];

/** One check, as the payload carries it. Times are ACK's RFC 3339 strings, verbatim. */
export interface WebhookCheckV1 {
  outcome: Outcome;
  cluster: { id: string; name?: string; region: string };
  check: {
    id: string;
    type: string;
    target?: string;
    status: string;
    message?: string;
    created_at?: string;
    finished_at?: string;
    duration_ms?: number;
  };
  /** Summary of `check_items`: counts per level and the non-normal items (capped, worst first). */
  items: CheckItemsSummary;
  console_url: string;
}

/**
 * The JSON body of every checkwatch webhook (`version: 1`).
 * - `type: "check.finished"` carries `check`; `type: "check.digest"` carries `checks` (and
 *   `omitted_checks` when some did not fit) — several completions in one delivery.
 * - `title` and `text` are the human rendering (templates applied, plain text, channel language).
 */
export interface WebhookPayloadV1 {
  version: 1;
  type: 'check.finished' | 'check.digest';
  title: string;
  text: string;
  check?: WebhookCheckV1;
  checks?: WebhookCheckV1[];
  omitted_checks?: number;
}

function checkV1(msg: CheckMessage): WebhookCheckV1 {
  const duration = durationOf(msg);
  const check: WebhookCheckV1['check'] = { id: msg.checkId, type: msg.type, status: msg.status };
  if (msg.target !== undefined && msg.target !== '') check.target = msg.target;
  if (msg.message !== undefined) check.message = clipChars(msg.message, 2_000);
  if (msg.createdAt !== undefined && msg.createdAt !== '') check.created_at = msg.createdAt;
  if (msg.finishedAt !== undefined && msg.finishedAt !== '') check.finished_at = msg.finishedAt;
  if (duration !== undefined) check.duration_ms = duration;
  const cluster: WebhookCheckV1['cluster'] = { id: msg.clusterId, region: msg.region };
  if (msg.clusterName !== undefined && msg.clusterName !== '') cluster.name = msg.clusterName;
  return { outcome: msg.outcome, cluster, check, items: msg.summary, console_url: msg.consoleUrl };
}

type WebhookRenderConfig = Pick<
  WebhookChannelConfig,
  'language' | 'titleTemplate' | 'bodyTemplate' | 'clusterNames'
>;

/** Renders the versioned JSON payload. Pure. */
export function renderWebhook(
  input: CheckMessage | DigestMessage,
  config: WebhookRenderConfig,
): RenderedMessage {
  const d = plainDialect;
  const opts: RenderOptions = config;
  const lang = config.language;
  const p = PHRASES[lang];
  const msg = prepare(input, config.clusterNames);
  if (isDigest(msg)) {
    const build = (n: number): string => {
      const lines = msg.items.slice(0, n).map((m) => digestLine(m, d, lang));
      const omitted = msg.items.length - Math.min(n, msg.items.length);
      if (omitted > 0) lines.push(p.andMore(omitted));
      const payload: WebhookPayloadV1 = {
        version: 1,
        type: 'check.digest',
        title: digestTitleOf(msg, lang),
        text: lines.join('\n'),
        checks: msg.items.slice(0, n).map(checkV1),
      };
      if (omitted > 0) payload.omitted_checks = omitted;
      return JSON.stringify(payload);
    };
    const fitted = fitCount(msg.items.length, build, (b) => byteLength(b) <= WEBHOOK_MAX_BODY_BYTES);
    return { body: fitted.value, bytes: byteLength(fitted.value), truncated: fitted.n < msg.items.length };
  }
  const shown = msg.summary.recognised ? msg.summary.failing.length : 0;
  const items = failingBlock(msg.summary, shown, d, lang);
  const templated = templatedBody(msg, opts, d, items);
  let text: string;
  if (templated === undefined) {
    const lines = facts(msg, d, lang).map((f) => `${f.label}: ${f.value}`);
    const status = statusLine(msg, d, lang);
    if (status !== undefined) lines.push(status);
    lines.push(itemsLine(msg.summary, d, lang));
    if (items !== '') lines.push(items);
    lines.push(`${p.viewInConsole}: ${msg.consoleUrl}`);
    text = lines.join('\n');
  } else {
    text = templated.embedsItems || items === '' ? templated.text : `${templated.text}\n${items}`;
  }
  const payload: WebhookPayloadV1 = {
    version: 1,
    type: 'check.finished',
    title: titleOf(msg, opts),
    text: clipChars(text, 64 * 1024),
    check: checkV1(msg),
  };
  const body = JSON.stringify(payload);
  return { body, bytes: byteLength(body), truncated: false };
}

/** Standard Webhooks signature header value: `v1,<base64>`. */
export function webhookSignature(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** Any 2xx is delivered; everything else by HTTP status. */
export function classifyWebhook(reply: HttpReply, ctx: SendContext, t: Transport): SendResult {
  if (reply.status >= 200 && reply.status < 300) {
    return {
      kind: 'delivered',
      platformCode: reply.status,
      platformText: t.safe(reply.text === '' ? `HTTP ${reply.status}` : reply.text),
    };
  }
  if (reply.status === 401 || reply.status === 403) {
    return {
      kind: 'permanent',
      platformCode: reply.status,
      platformText: t.safe(reply.text === '' ? `HTTP ${reply.status}` : reply.text),
      hint: 'The webhook receiver refused our signature — check that it has the same whsec_ secret',
    };
  }
  return unexpectedReply(reply, ctx, 'Webhook', t);
}

export class WebhookChannel implements Channel {
  readonly type = 'webhook' as const;
  readonly name: string;
  readonly rateLimits = WEBHOOK_RATE_LIMITS;
  private readonly transport: Transport;

  constructor(
    private readonly config: WebhookChannelConfig,
    deps: ChannelDeps = {},
  ) {
    this.name = config.name;
    this.transport = channelTransport('Webhook', config, deps, [
      config.secret,
      config.secret.replace(/^whsec_/, ''),
    ]);
  }

  render(msg: CheckMessage | DigestMessage): RenderedMessage {
    return renderWebhook(msg, this.config);
  }

  async send(rendered: RenderedMessage, ctx: SendContext): Promise<SendResult> {
    const ts = Math.floor(ctx.now / 1000);
    const headers = {
      'webhook-id': ctx.idempotencyKey,
      'webhook-timestamp': String(ts),
      'webhook-signature': webhookSignature(this.config.secret, ctx.idempotencyKey, ts, rendered.body),
      'user-agent': 'checkwatch',
    };
    const out = await this.transport.post(this.config.url, rendered.body, ctx, headers);
    return out.ok ? classifyWebhook(out.reply, ctx, this.transport) : out.result;
  }
}
