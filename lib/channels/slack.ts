/**
 * Slack incoming webhook (reference/chat-channels.md § Slack).
 * - Block Kit (header, fields, failing items, console button) with a `text` fallback for notifications.
 * - Within Block Kit limits: ≤ 50 blocks, section text ≤ 3000, fields ≤ 10 × 2000, header ≤ 150, and the
 *   whole message well under Slack's ~13k characters (`msg_blocks_too_long`).
 * - Success is HTTP 200 with body `ok`; errors are plain-text bodies (classified by the string);
 *   over ~1 message/s → HTTP 429 with `Retry-After` (seconds).
 */
import type { CheckMessage, DigestMessage } from '../domain/message';
import { cutUnits } from '../domain/check-items';
import { PHRASES, isDigest } from '../domain/message';
import type {
  Channel,
  ChannelDeps,
  RateLimit,
  RenderedMessage,
  SendContext,
  SendResult,
  SlackChannelConfig,
} from './channel';
import type { HttpReply, Transport } from './http';
import { channelTransport, parseRetryAfter, RETRY_DELAY_MS, unexpectedReply } from './http';
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
  prepare,
  slackDialect,
  statusLine,
  templatedBody,
  titleOf,
} from './render';

export const SLACK_LIMITS = {
  blocks: 50,
  sectionChars: 3000,
  fieldChars: 2000,
  fields: 10,
  headerChars: 150,
  /** Slack's practical total is ~13,000 characters; we keep the whole JSON body under this. */
  totalChars: 12_000,
  textChars: 3000,
} as const;
export const SLACK_RATE_LIMITS: readonly RateLimit[] = [{ windowMs: 1_000, max: 1 }];

type Block = Record<string, unknown>;

const mrkdwn = (text: string): Block => ({ type: 'mrkdwn', text });
const section = (text: string): Block => ({ type: 'section', text: mrkdwn(text) });

/** Splits text into chunks of at most `max` UTF-16 units, at line breaks when possible. */
export function chunkText(text: string, max: number): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    let rest = line;
    while (rest.length > max) {
      if (current !== '') {
        chunks.push(current);
        current = '';
      }
      const head = cutUnits(rest, max);
      chunks.push(head);
      rest = rest.slice(head.length);
    }
    const candidate = current === '' ? rest : `${current}\n${rest}`;
    if (candidate.length > max) {
      chunks.push(current);
      current = rest;
    } else {
      current = candidate;
    }
  }
  if (current.trim() !== '') chunks.push(current);
  return chunks;
}

/** `<@U123>`, `<!here>`, `<!subteam^S123>`. */
export function slackMention(id: string): string {
  if (id === 'here' || id === 'channel' || id === 'everyone') return `<!${id}>`;
  if (id.startsWith('subteam^')) return `<!${id}>`;
  return `<@${id}>`;
}

type SlackRenderConfig = Pick<
  SlackChannelConfig,
  'language' | 'titleTemplate' | 'bodyTemplate' | 'clusterNames' | 'mentions'
>;

/** Renders a check or digest as Block Kit within Slack's limits. Pure. */
export function renderSlack(input: CheckMessage | DigestMessage, config: SlackRenderConfig): RenderedMessage {
  const d = slackDialect;
  const opts: RenderOptions = config;
  const lang = config.language;
  const p = PHRASES[lang];
  const msg = prepare(input, config.clusterNames);
  const mentions = activeMentions(msg, config.mentions);
  const at = (mentions?.slackIds ?? []).map(slackMention).join(' ');
  const title = isDigest(msg) ? digestTitleOf(msg, lang) : titleOf(msg, opts);
  // `text` is mrkdwn (mentions are live in it), unlike the plain_text header: escape the title there.
  const fallback = clipChars(
    at === '' ? d.escape(title) : `${d.escape(title)} ${at}`,
    SLACK_LIMITS.textChars,
  );

  /** Blocks for `n` listed items; `flex` replaces the free text (template or status) when clipping. */
  const blocks = (n: number, flex?: string): Block[] => {
    const out: Block[] = [
      {
        type: 'header',
        text: { type: 'plain_text', text: clipChars(title, SLACK_LIMITS.headerChars), emoji: true },
      },
    ];
    if (at !== '') out.push(section(at));
    if (isDigest(msg)) {
      const lines = msg.items.slice(0, n).map((m) => digestLine(m, d, lang));
      const hidden = msg.items.length - Math.min(n, msg.items.length);
      if (hidden > 0) lines.push(d.escape(p.andMore(hidden)));
      for (const chunk of chunkText(flex ?? lines.join('\n'), SLACK_LIMITS.sectionChars))
        out.push(section(chunk));
      return out;
    }
    const items = failingBlock(msg.summary, n, d, lang);
    const body = templatedBody(msg, opts, d, items);
    if (body === undefined) {
      out.push({
        type: 'section',
        fields: facts(msg, d, lang)
          .slice(0, SLACK_LIMITS.fields)
          .map((f) => mrkdwn(clipChars(`${d.bold(d.escape(f.label))}\n${f.value}`, SLACK_LIMITS.fieldChars))),
      });
      const status = statusLine(msg, d, lang);
      const free =
        flex ?? [status, itemsLine(msg.summary, d, lang)].filter((l) => l !== undefined).join('\n');
      for (const chunk of chunkText(free, SLACK_LIMITS.sectionChars)) out.push(section(chunk));
    } else {
      for (const chunk of chunkText(flex ?? body.text, SLACK_LIMITS.sectionChars)) out.push(section(chunk));
    }
    if (items !== '' && body?.embedsItems !== true) {
      out.push({ type: 'divider' });
      for (const chunk of chunkText(items, SLACK_LIMITS.sectionChars)) out.push(section(chunk));
    }
    out.push({ type: 'context', elements: [mrkdwn(`${d.escape(p.checkId)}: ${d.code(msg.checkId)}`)] });
    out.push({
      type: 'actions',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: p.viewInConsole }, url: msg.consoleUrl },
      ],
    });
    return out;
  };

  const payload = (b: Block[]): string => JSON.stringify({ text: fallback, blocks: b });
  const fitsBlocks = (b: Block[]): boolean =>
    b.length <= SLACK_LIMITS.blocks && payload(b).length <= SLACK_LIMITS.totalChars;

  const count = isDigest(msg) ? msg.items.length : listedItems(msg.summary).length;
  const fitted = fitCount(count, (n) => blocks(n), fitsBlocks);
  let result = fitted.value;
  let truncated = fitted.n < count;
  if (!fitted.fits) {
    // Even without the item list it is too long: the template or ACK's message is huge. Cut that text.
    const freeText = isDigest(msg)
      ? d.escape(p.andMore(msg.items.length))
      : (templatedBody(msg, opts, d, '')?.text ?? statusLine(msg, d, lang) ?? '');
    const clipped = fitText(freeText, (t) => fitsBlocks(blocks(0, t)));
    result = blocks(0, clipped);
    truncated = true;
  }
  const body = payload(result);
  return { body, bytes: byteLength(body), truncated };
}

/** Slack's error strings that no retry can fix, with the fix. */
const PERMANENT: Readonly<Record<string, string>> = {
  invalid_payload: 'Slack rejected the payload as invalid — report this as a checkwatch bug',
  invalid_blocks: 'Slack rejected the blocks — report this as a checkwatch bug (check the body template)',
  msg_blocks_too_long: 'Slack: message too long — report this as a checkwatch bug (messages are cut to fit)',
  no_text: 'Slack: the message had no text — report this as a checkwatch bug',
  too_many_attachments: 'Slack: too many attachments — report this as a checkwatch bug',
  channel_not_found: "Slack: the webhook's channel no longer exists — create a new webhook",
  channel_is_archived: "Slack: the webhook's channel is archived — unarchive it or create a new webhook",
  action_prohibited: 'Slack: an admin has restricted posting to this channel',
  posting_to_general_channel_denied: 'Slack: only admins may post to this channel — use another channel',
  no_service: 'Slack: the webhook was revoked or the URL is wrong — create a new webhook',
  no_active_hooks: 'Slack: the webhook was disabled — re-enable it or create a new one',
  invalid_token: 'Slack: the webhook token is invalid — create a new webhook',
  team_disabled: 'Slack: the workspace is disabled',
};

/** Classifies a Slack reply: `ok` is the only success; errors by their body string. */
export function classifySlack(reply: HttpReply, ctx: SendContext, t: Transport): SendResult {
  const text = reply.text.trim();
  if (reply.status === 200 && text === 'ok')
    return { kind: 'delivered', platformCode: 200, platformText: 'ok' };
  if (reply.status === 429) {
    const wait = parseRetryAfter(reply.headers['retry-after'], ctx.now) ?? 1_000;
    return {
      kind: 'retry',
      at: ctx.now + wait,
      reason: 'Slack rate limit (HTTP 429)',
      platformCode: 429,
      platformText: t.platformText(text === '' ? 'rate_limited' : text),
    };
  }
  const word = /^[a-z_]+$/.test(text) ? text : undefined;
  if (word === 'rollup_error') {
    return {
      kind: 'retry',
      at: ctx.now + RETRY_DELAY_MS.server,
      reason: 'Slack internal error (rollup_error)',
      platformCode: reply.status,
      platformText: word,
    };
  }
  const hint = word === undefined ? undefined : PERMANENT[word];
  if (hint !== undefined && reply.status < 500) {
    return { kind: 'permanent', platformCode: reply.status, platformText: word ?? text, hint };
  }
  if (word !== undefined && reply.status >= 400 && reply.status < 500) {
    return {
      kind: 'permanent',
      platformCode: reply.status,
      platformText: word,
      hint: `Slack refused the message (${word}, HTTP ${reply.status})`,
    };
  }
  return unexpectedReply(reply, ctx, 'Slack', t);
}

export class SlackChannel implements Channel {
  readonly type = 'slack' as const;
  readonly name: string;
  readonly rateLimits = SLACK_RATE_LIMITS;
  private readonly transport: Transport;

  constructor(
    private readonly config: SlackChannelConfig,
    deps: ChannelDeps = {},
  ) {
    this.name = config.name;
    this.transport = channelTransport('Slack', config, deps);
  }

  render(msg: CheckMessage | DigestMessage): RenderedMessage {
    return renderSlack(msg, this.config);
  }

  async send(rendered: RenderedMessage, ctx: SendContext): Promise<SendResult> {
    const out = await this.transport.post(this.config.url, rendered.body, ctx);
    return out.ok ? classifySlack(out.reply, ctx, this.transport) : out.result;
  }
}
