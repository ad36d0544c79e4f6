/**
 * DingTalk custom group robot (reference/chat-channels.md § DingTalk).
 * - Signed in the query: `timestamp` (ms) and `sign` = urlEncode(base64(HMAC-SHA256(secret, `${ts}\n${secret}`))).
 * - The configured security keyword is put into every message (title and text).
 * - `msgUuid` = the idempotency key, so a resend after a timeout can be deduplicated by DingTalk.
 * - Failures come as HTTP 200 with `errcode != 0`: we classify by errcode, never by the HTTP status alone.
 * - 20 messages/minute per robot; exceeding it blocks the robot for 10 minutes (410100).
 */
import { createHmac } from 'node:crypto';
import type { CheckMessage, DigestMessage } from '../domain/message';
import { PHRASES, isDigest } from '../domain/message';
import type {
  Channel,
  ChannelDeps,
  DingTalkChannelConfig,
  RateLimit,
  RenderedMessage,
  SendContext,
  SendResult,
} from './channel';
import type { ErrcodeRule, HttpReply, Transport } from './http';
import { channelTransport, classifyErrcode, RETRY_DELAY_MS } from './http';
import type { RenderOptions } from './render';
import {
  activeMentions,
  byteLength,
  clipChars,
  digestLine,
  digestTitleOf,
  dingtalkDialect,
  facts,
  failingBlock,
  fitCount,
  fitText,
  itemsLine,
  listedItems,
  prepare,
  statusLine,
  templatedBody,
  titleOf,
} from './render';

/** DingTalk refuses bodies over 20,000 bytes (460101). */
export const DINGTALK_MAX_BODY_BYTES = 20_000;
/** Room kept for the send-time `msgUuid` field (keys up to ~200 characters). */
const SEND_TIME_RESERVE = 256;
/** 20 per minute per robot. Exceeding it blocks the robot for 10 minutes, so this limit must never be hit. */
export const DINGTALK_RATE_LIMITS: readonly RateLimit[] = [{ windowMs: 60_000, max: 20 }];
/** How long DingTalk blocks a robot that sent too fast. */
export const DINGTALK_BLOCK_MS = 10 * 60_000;

/** base64(HMAC-SHA256(key=secret, msg=`${timestamp}\n${secret}`)); URL-encode it when putting it in the query. */
export function dingtalkSign(timestampMs: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

/** The robot URL with `timestamp` and `sign` (URL-encoded by URLSearchParams: `+`→%2B, `=`→%3D). */
export function dingtalkSignedUrl(url: string, timestampMs: number, secret: string | undefined): string {
  const u = new URL(url);
  if (secret !== undefined && secret !== '') {
    u.searchParams.set('timestamp', String(timestampMs));
    u.searchParams.set('sign', dingtalkSign(timestampMs, secret));
  }
  return u.toString();
}

type DingTalkRenderConfig = Pick<
  DingTalkChannelConfig,
  'language' | 'titleTemplate' | 'bodyTemplate' | 'clusterNames' | 'mentions' | 'keyword' | 'format'
>;

/** Renders a check or digest as a DingTalk markdown or actionCard body within 20,000 bytes. Pure. */
export function renderDingTalk(
  input: CheckMessage | DigestMessage,
  config: DingTalkRenderConfig,
): RenderedMessage {
  const d = dingtalkDialect;
  const opts: RenderOptions = config;
  const lang = config.language;
  const p = PHRASES[lang];
  const msg = prepare(input, config.clusterNames);
  const format = config.format ?? 'markdown';
  const keyword = config.keyword !== undefined && config.keyword !== '' ? config.keyword : undefined;
  const mentions = format === 'markdown' ? activeMentions(msg, config.mentions) : undefined;
  const atMobiles = mentions?.mobiles ?? [];
  const atUserIds = mentions?.userIds ?? [];

  let title = clipChars(isDigest(msg) ? digestTitleOf(msg, lang) : titleOf(msg, opts), 200);
  // The keyword check looks at the whole message; the title is what the notification preview shows.
  if (keyword !== undefined && !title.includes(keyword))
    title = clipChars(`${keyword} ${title}`, 200 + keyword.length);
  const consoleUrl = isDigest(msg) ? undefined : msg.consoleUrl;

  const suffixParts: string[] = [];
  const at = [...atMobiles, ...atUserIds].map((id) => `@${id}`).join(' ');
  if (at !== '') suffixParts.push(at);
  const suffix = suffixParts.length === 0 ? '' : `\n\n${suffixParts.join('\n\n')}`;

  const main = (n: number): string => {
    const sections: string[] = [`#### ${d.escape(title)}`];
    if (isDigest(msg)) {
      const lines = msg.items.slice(0, n).map((m) => digestLine(m, d, lang));
      const hidden = msg.items.length - Math.min(n, msg.items.length);
      if (hidden > 0) lines.push(d.escape(p.andMore(hidden)));
      sections.push(lines.join('\n'));
    } else {
      const items = failingBlock(msg.summary, n, d, lang);
      const body = templatedBody(msg, opts, d, items);
      if (body === undefined) {
        sections.push(
          facts(msg, d, lang)
            .map((f) => `${d.bullet}${d.bold(d.escape(f.label))}: ${f.value}`)
            .join('\n'),
        );
        const status = statusLine(msg, d, lang);
        if (status !== undefined) sections.push(status);
        sections.push(itemsLine(msg.summary, d, lang));
        if (items !== '') sections.push(items);
        if (format === 'markdown') sections.push(d.link(d.escape(p.viewInConsole), msg.consoleUrl));
        sections.push(`${d.escape(p.checkId)}: ${d.escape(msg.checkId)}`);
      } else {
        sections.push(body.text);
        if (!body.embedsItems && items !== '') sections.push(items);
      }
    }
    return sections.join('\n\n');
  };

  const withKeyword = (text: string): string =>
    keyword === undefined || text.includes(keyword) ? text : `${text}\n\n${keyword}`;

  const payload = (text: string): Record<string, unknown> => {
    const full = withKeyword(text + suffix);
    if (format === 'actionCard' && consoleUrl !== undefined) {
      return {
        msgtype: 'actionCard',
        actionCard: {
          title,
          text: full,
          singleTitle: p.viewInConsole,
          singleURL: consoleUrl,
          btnOrientation: '0',
        },
      };
    }
    const body: Record<string, unknown> = { msgtype: 'markdown', markdown: { title, text: full } };
    if (mentions !== undefined) body.at = { atMobiles, atUserIds, isAtAll: false };
    return body;
  };

  const budget = DINGTALK_MAX_BODY_BYTES - SEND_TIME_RESERVE;
  const fits = (body: string): boolean => byteLength(body) <= budget;
  const count = isDigest(msg) ? msg.items.length : listedItems(msg.summary).length;
  const fitted = fitCount(count, (n) => JSON.stringify(payload(main(n))), fits);
  let body = fitted.value;
  let truncated = fitted.n < count;
  if (!fitted.fits) {
    const text = fitText(main(0), (t) => fits(JSON.stringify(payload(t))));
    body = JSON.stringify(payload(text));
    truncated = true;
  }
  return { body, bytes: byteLength(body), truncated };
}

/** Every errcode in the reference, with what to do about it. */
const RULES: Readonly<Record<number, ErrcodeRule>> = {
  [-1]: { retryMs: RETRY_DELAY_MS.busy, reason: 'DingTalk is busy (-1)' },
  410100: {
    retryMs: DINGTALK_BLOCK_MS,
    reason: 'DingTalk rate limit: the robot is blocked for up to 10 minutes',
  },
  130101: {
    retryMs: DINGTALK_BLOCK_MS,
    reason: 'DingTalk rate limit: the robot is blocked for up to 10 minutes',
  },
  310000: { hint: "DingTalk's security check refused the message — check the robot's security settings" },
  400013: { hint: 'DingTalk: the group was dissolved — remove or replace this channel' },
  400101: { hint: 'DingTalk: the access_token does not exist — the robot was removed or the URL is wrong' },
  300001: { hint: 'DingTalk: the access_token does not exist — the robot was removed or the URL is wrong' },
  300005: { hint: 'DingTalk: the access_token does not exist — the robot was removed or the URL is wrong' },
  400102: { hint: 'DingTalk: the robot is disabled — re-enable it in the group settings' },
  400105: { hint: 'DingTalk does not support this message type — report this as a checkwatch bug' },
  430101: { hint: 'DingTalk flagged the content as unsafe — check links and the templates' },
  430102: { hint: 'DingTalk flagged the content as unsafe — check links and the templates' },
  430103: { hint: 'DingTalk flagged the content as inappropriate — check the templates' },
  430104: { hint: 'DingTalk flagged the content as inappropriate — check the templates' },
  460101: { hint: 'DingTalk: message too long — report this as a checkwatch bug (messages are cut to fit)' },
  101002: { hint: 'DingTalk: message too long — report this as a checkwatch bug (messages are cut to fit)' },
};

/** 310000 covers several security failures; its errmsg says which, and each has a different fix. */
function securityHint(errmsg: string): string {
  const m = errmsg.toLowerCase();
  if (m.includes('keyword')) {
    return "DingTalk refused: the message lacks the robot's keyword — set `keyword` to one of the robot's security keywords";
  }
  if (m.includes('sign')) return 'DingTalk refused: sign not match — check the secret and the machine clock';
  if (m.includes('timestamp')) {
    return "DingTalk refused: invalid timestamp — this machine's clock is more than an hour off";
  }
  if (m.includes('ip') || m.includes('whitelist')) {
    return "DingTalk refused: this machine's IP address is not in the robot's allow-list";
  }
  return "DingTalk's security check refused the message — check the robot's security settings";
}

/** Classifies a DingTalk reply by its body `errcode` (failures are HTTP 200). */
export function classifyDingTalk(reply: HttpReply, ctx: SendContext, t: Transport): SendResult {
  return classifyErrcode(reply, ctx, t, 'DingTalk', RULES, (code, errmsg) =>
    code === 310000 ? securityHint(errmsg) : undefined,
  );
}

export class DingTalkChannel implements Channel {
  readonly type = 'dingtalk' as const;
  readonly name: string;
  readonly rateLimits = DINGTALK_RATE_LIMITS;
  private readonly transport: Transport;

  constructor(
    private readonly config: DingTalkChannelConfig,
    deps: ChannelDeps = {},
  ) {
    this.name = config.name;
    this.transport = channelTransport('DingTalk', config, deps, [config.secret]);
  }

  render(msg: CheckMessage | DigestMessage): RenderedMessage {
    return renderDingTalk(msg, this.config);
  }

  async send(rendered: RenderedMessage, ctx: SendContext): Promise<SendResult> {
    let url: string;
    try {
      url = dingtalkSignedUrl(this.config.url, ctx.now, this.config.secret);
    } catch {
      return {
        kind: 'permanent',
        platformText: 'invalid URL',
        hint: 'DingTalk: the channel URL is not a valid URL',
      };
    }
    const body = { ...(JSON.parse(rendered.body) as Record<string, unknown>), msgUuid: ctx.idempotencyKey };
    const out = await this.transport.post(url, JSON.stringify(body), ctx);
    return out.ok ? classifyDingTalk(out.reply, ctx, this.transport) : out.result;
  }
}
