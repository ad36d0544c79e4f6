/**
 * Feishu / Lark custom bot (reference/chat-channels.md § Feishu).
 * - Signed in the body: `timestamp` (seconds) and `sign` = base64(HMAC-SHA256(key=`${ts}\n${secret}`, msg='')),
 *   the inverse of DingTalk's roles.
 * - An interactive card whose header colour follows the outcome, `lark_md` text, a console button.
 * - Mentions: `<at id=ou_…></at>` in the card's `lark_md` (`all` mentions everyone).
 * - Replies are classified by body `code` (HTTP 200 or 400); 11232 is the rate limit (5/s, 100/min).
 */
import { createHmac } from 'node:crypto';
import type { CheckMessage, DigestMessage, Outcome } from '../domain/message';
import { PHRASES, isDigest } from '../domain/message';
import type {
  Channel,
  ChannelDeps,
  FeishuChannelConfig,
  RateLimit,
  RenderedMessage,
  SendContext,
  SendResult,
} from './channel';
import type { HttpReply, Transport } from './http';
import { channelTransport, jsonObject, unexpectedReply } from './http';
import type { RenderOptions } from './render';
import {
  activeMentions,
  byteLength,
  clipChars,
  digestLine,
  digestTitleOf,
  facts,
  failingBlock,
  fitCount,
  fitText,
  itemsLine,
  larkDialect,
  listedItems,
  outcomesOf,
  prepare,
  statusLine,
  templatedBody,
  titleOf,
  worstOutcome,
} from './render';

/** Feishu refuses bodies over 20 KB; we stay under 20,000 bytes including the send-time signature. */
export const FEISHU_MAX_BODY_BYTES = 20_000;
const SEND_TIME_RESERVE = 128;
export const FEISHU_RATE_LIMITS: readonly RateLimit[] = [
  { windowMs: 1_000, max: 5 },
  { windowMs: 60_000, max: 100 },
];

const COLOUR: Record<Outcome, string> = {
  passed: 'green',
  failed: 'red',
  gave_up: 'orange',
  vanished: 'grey',
};

/** base64(HMAC-SHA256(key=`${timestampSeconds}\n${secret}`, message='')). */
export function feishuSign(timestampSeconds: number, secret: string): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');
}

type FeishuRenderConfig = Pick<
  FeishuChannelConfig,
  'language' | 'titleTemplate' | 'bodyTemplate' | 'clusterNames' | 'mentions' | 'keyword'
>;

/** Renders a check or digest as a Feishu interactive card within the body limit. Pure. */
export function renderFeishu(
  input: CheckMessage | DigestMessage,
  config: FeishuRenderConfig,
): RenderedMessage {
  const d = larkDialect;
  const opts: RenderOptions = config;
  const lang = config.language;
  const p = PHRASES[lang];
  const msg = prepare(input, config.clusterNames);
  const keyword = config.keyword !== undefined && config.keyword !== '' ? config.keyword : undefined;
  const mentions = activeMentions(msg, config.mentions);
  const at = (mentions?.userIds ?? []).map((id) => `<at id=${d.escape(id)}></at>`).join(' ');
  let title = clipChars(isDigest(msg) ? digestTitleOf(msg, lang) : titleOf(msg, opts), 200);
  if (keyword !== undefined && !title.includes(keyword)) title = `${keyword} ${title}`;
  const colour = COLOUR[worstOutcome(outcomesOf(msg))];
  const div = (content: string): Record<string, unknown> => ({
    tag: 'div',
    text: { tag: 'lark_md', content },
  });

  /** The card's main text and its items block, for `n` listed items (or digest lines). */
  const parts = (n: number): { main: string; items: string } => {
    if (isDigest(msg)) {
      const lines = msg.items.slice(0, n).map((m) => digestLine(m, d, lang));
      const hidden = msg.items.length - Math.min(n, msg.items.length);
      if (hidden > 0) lines.push(d.escape(p.andMore(hidden)));
      return { main: lines.join('\n'), items: '' };
    }
    const items = failingBlock(msg.summary, n, d, lang);
    const body = templatedBody(msg, opts, d, items);
    if (body !== undefined) return { main: body.text, items: body.embedsItems ? '' : items };
    const lines = facts(msg, d, lang).map((f) => `${d.bold(d.escape(f.label))}: ${f.value}`);
    const status = statusLine(msg, d, lang);
    if (status !== undefined) lines.push(status);
    lines.push(itemsLine(msg.summary, d, lang));
    return { main: lines.join('\n'), items };
  };

  const payload = (main: string, items: string): string => {
    const elements: Array<Record<string, unknown>> = [div(main)];
    if (items !== '') elements.push({ tag: 'hr' }, div(items));
    if (at !== '') elements.push(div(at));
    if (!isDigest(msg)) {
      elements.push({
        tag: 'action',
        actions: [
          {
            tag: 'button',
            text: { tag: 'plain_text', content: p.viewInConsole },
            type: 'primary',
            url: msg.consoleUrl,
          },
        ],
      });
      elements.push({
        tag: 'note',
        elements: [{ tag: 'plain_text', content: `${p.checkId}: ${msg.checkId}` }],
      });
    }
    return JSON.stringify({
      msg_type: 'interactive',
      card: {
        config: { wide_screen_mode: true },
        header: { template: colour, title: { tag: 'plain_text', content: title } },
        elements,
      },
    });
  };

  const budget = FEISHU_MAX_BODY_BYTES - SEND_TIME_RESERVE;
  const fits = (body: string): boolean => byteLength(body) <= budget;
  const count = isDigest(msg) ? msg.items.length : listedItems(msg.summary).length;
  const fitted = fitCount(
    count,
    (n) => {
      const { main, items } = parts(n);
      return payload(main, items);
    },
    fits,
  );
  let body = fitted.value;
  let truncated = fitted.n < count;
  if (!fitted.fits) {
    const { main, items } = parts(0);
    const clippedItems = fitText(items, (t) => fits(payload('', t)));
    const clippedMain = fitText(main, (t) => fits(payload(t, clippedItems)));
    body = payload(clippedMain, clippedItems);
    truncated = true;
  }
  return { body, bytes: byteLength(body), truncated };
}

interface Rule {
  retryMs?: number;
  reason?: string;
  hint?: string;
}

const RULES: Readonly<Record<number, Rule>> = {
  11232: { retryMs: 60_000, reason: 'Feishu rate limit (11232): over 5 messages/s or 100/min for this bot' },
  19021: {
    hint: 'Feishu refused: sign match fail or timestamp skew — check the secret and the machine clock',
  },
  19022: { hint: "Feishu refused: this machine's IP address is not in the bot's allow-list" },
  19024: {
    hint: "Feishu refused: the message lacks the bot's keyword — set `keyword` to one of the bot's keywords",
  },
};

/** Classifies a Feishu reply by its body `code` (legacy bots answer `StatusCode`). */
export function classifyFeishu(reply: HttpReply, ctx: SendContext, t: Transport): SendResult {
  const json = jsonObject(reply.text);
  const raw = json?.code ?? json?.StatusCode;
  const code =
    typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : undefined;
  if (json === undefined || code === undefined) return unexpectedReply(reply, ctx, 'Feishu', t);
  const rawMsg = json.msg ?? json.StatusMessage;
  const msg = typeof rawMsg === 'string' ? rawMsg : '';
  const platformText = t.platformText(msg === '' ? `code ${code}` : msg);
  if (code === 0) {
    // A 2xx with code 0 is the only success; a 0 on an error status is a broken proxy, not a delivery.
    return reply.status >= 200 && reply.status < 300
      ? { kind: 'delivered', platformCode: 0, platformText }
      : unexpectedReply(reply, ctx, 'Feishu', t);
  }
  const rule = RULES[code];
  if (rule?.retryMs !== undefined) {
    return {
      kind: 'retry',
      at: ctx.now + rule.retryMs,
      reason: rule.reason ?? 'Feishu asked to retry',
      platformCode: code,
      platformText,
    };
  }
  if (rule?.hint !== undefined)
    return { kind: 'permanent', platformCode: code, platformText, hint: rule.hint };
  if (code === 9499 && /too many|frequen|rate/i.test(msg)) {
    // 9499 means "bad request" and, on some deployments, "too many requests": the text tells which.
    return {
      kind: 'retry',
      at: ctx.now + 60_000,
      reason: 'Feishu rate limit (9499 too many requests)',
      platformCode: code,
      platformText,
    };
  }
  if (reply.status >= 500 || reply.status === 429) {
    const res = unexpectedReply(reply, ctx, 'Feishu', t);
    return res.kind === 'retry' ? { ...res, platformCode: code, platformText } : res;
  }
  const hint =
    code === 9499
      ? 'Feishu rejected the request as malformed (9499) — report this as a checkwatch bug if it persists'
      : `Feishu refused the message (code ${code})`;
  return { kind: 'permanent', platformCode: code, platformText, hint };
}

export class FeishuChannel implements Channel {
  readonly type = 'feishu' as const;
  readonly name: string;
  readonly rateLimits = FEISHU_RATE_LIMITS;
  private readonly transport: Transport;

  constructor(
    private readonly config: FeishuChannelConfig,
    deps: ChannelDeps = {},
  ) {
    this.name = config.name;
    this.transport = channelTransport('Feishu', config, deps, [config.secret]);
  }

  render(msg: CheckMessage | DigestMessage): RenderedMessage {
    return renderFeishu(msg, this.config);
  }

  async send(rendered: RenderedMessage, ctx: SendContext): Promise<SendResult> {
    let body = rendered.body;
    const secret = this.config.secret;
    if (secret !== undefined && secret !== '') {
      const ts = Math.floor(ctx.now / 1000);
      body = JSON.stringify({
        timestamp: String(ts),
        sign: feishuSign(ts, secret),
        ...(JSON.parse(rendered.body) as Record<string, unknown>),
      });
    }
    const out = await this.transport.post(this.config.url, body, ctx);
    return out.ok ? classifyFeishu(out.reply, ctx, this.transport) : out.result;
  }
}
