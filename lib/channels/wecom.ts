/**
 * WeCom (企业微信) group robot (reference/chat-channels.md § WeCom).
 * - No signing: the `key` in the URL is the secret.
 * - `markdown` messages, content ≤ 4096 bytes; `<@userid>` mentions inside the markdown (WeCom's
 *   markdown cannot mention by mobile number, so `mentions.mobiles` is not used here).
 * - Failures come as HTTP 200 with `errcode != 0`; 45009 = over 20 messages/minute.
 */
import type { CheckMessage, DigestMessage, Outcome } from '../domain/message';
import { PHRASES, isDigest } from '../domain/message';
import type {
  Channel,
  ChannelDeps,
  RateLimit,
  RenderedMessage,
  SendContext,
  SendResult,
  WeComChannelConfig,
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
  facts,
  failingBlock,
  fitCount,
  fitText,
  itemsLine,
  listedItems,
  markdownDialect,
  outcomesOf,
  prepare,
  statusLine,
  templatedBody,
  titleOf,
  worstOutcome,
} from './render';

/** WeCom refuses markdown content over 4096 bytes (40058). */
export const WECOM_MAX_CONTENT_BYTES = 4096;
export const WECOM_RATE_LIMITS: readonly RateLimit[] = [{ windowMs: 60_000, max: 20 }];

const COLOUR: Record<Outcome, string> = {
  passed: 'info',
  failed: 'warning',
  gave_up: 'comment',
  vanished: 'comment',
};

type WeComRenderConfig = Pick<
  WeComChannelConfig,
  'language' | 'titleTemplate' | 'bodyTemplate' | 'clusterNames' | 'mentions'
>;

/** Renders a check or digest as WeCom markdown within 4096 bytes of content. Pure. */
export function renderWeCom(input: CheckMessage | DigestMessage, config: WeComRenderConfig): RenderedMessage {
  const d = markdownDialect;
  const opts: RenderOptions = config;
  const lang = config.language;
  const p = PHRASES[lang];
  const msg = prepare(input, config.clusterNames);
  const mentions = activeMentions(msg, config.mentions);
  const suffix = (mentions?.userIds ?? []).map((id) => `<@${id}>`).join(' ');
  const title = clipChars(isDigest(msg) ? digestTitleOf(msg, lang) : titleOf(msg, opts), 200);
  const colour = COLOUR[worstOutcome(outcomesOf(msg))];

  const main = (n: number): string => {
    const sections: string[] = [`### <font color="${colour}">${d.escape(title)}</font>`];
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
            .map((f) => `> ${d.bold(d.escape(f.label))}: ${f.value}`)
            .join('\n'),
        );
        const status = statusLine(msg, d, lang);
        if (status !== undefined) sections.push(status);
        sections.push(itemsLine(msg.summary, d, lang));
        if (items !== '') sections.push(items);
        sections.push(d.link(d.escape(p.viewInConsole), msg.consoleUrl));
        sections.push(`<font color="comment">${d.escape(p.checkId)}: ${d.escape(msg.checkId)}</font>`);
      } else {
        sections.push(body.text);
        if (!body.embedsItems && items !== '') sections.push(items);
      }
    }
    // Blank lines between sections: without them a `>` quote swallows the next paragraph.
    return sections.join('\n\n');
  };

  const content = (text: string): string => (suffix === '' ? text : `${text}\n${suffix}`);
  const payload = (text: string): string =>
    JSON.stringify({ msgtype: 'markdown', markdown: { content: content(text) } });
  const fits = (text: string): boolean => byteLength(content(text)) <= WECOM_MAX_CONTENT_BYTES;

  const count = isDigest(msg) ? msg.items.length : listedItems(msg.summary).length;
  const fitted = fitCount(count, main, fits);
  let text = fitted.value;
  let truncated = fitted.n < count;
  if (!fitted.fits) {
    text = fitText(main(0), fits);
    truncated = true;
  }
  const body = payload(text);
  return { body, bytes: byteLength(body), truncated };
}

const RULES: Readonly<Record<number, ErrcodeRule>> = {
  [-1]: { retryMs: RETRY_DELAY_MS.busy, reason: 'WeCom is busy (-1)' },
  45009: { retryMs: 60_000, reason: 'WeCom rate limit: over 20 messages per minute for this robot' },
  40058: { hint: 'WeCom: message too long — report this as a checkwatch bug (messages are cut to fit)' },
  93000: { hint: 'WeCom: invalid webhook URL — the robot was removed or the key is wrong' },
};

/** Classifies a WeCom reply by its body `errcode` (failures are HTTP 200). */
export function classifyWeCom(reply: HttpReply, ctx: SendContext, t: Transport): SendResult {
  return classifyErrcode(reply, ctx, t, 'WeCom', RULES);
}

export class WeComChannel implements Channel {
  readonly type = 'wecom' as const;
  readonly name: string;
  readonly rateLimits = WECOM_RATE_LIMITS;
  private readonly transport: Transport;

  constructor(
    private readonly config: WeComChannelConfig,
    deps: ChannelDeps = {},
  ) {
    this.name = config.name;
    this.transport = channelTransport('WeCom', config, deps);
  }

  render(msg: CheckMessage | DigestMessage): RenderedMessage {
    return renderWeCom(msg, this.config);
  }

  async send(rendered: RenderedMessage, ctx: SendContext): Promise<SendResult> {
    const out = await this.transport.post(this.config.url, rendered.body, ctx);
    return out.ok ? classifyWeCom(out.reply, ctx, this.transport) : out.result;
  }
}
