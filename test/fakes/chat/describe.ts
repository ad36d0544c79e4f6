import type { ChatPlatform } from './types';
import { isRecord, str, tryParseJson } from './util';

/**
 * Plain-text renderings of what a person would see in each app: the local chat sink of the demo, and
 * a readable way for tests to assert on content. Not a faithful Markdown engine — enough to read.
 */

const RULE = '────────────────────────';

function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

/** DingTalk/WeCom/Feishu markdown subset → plain text. */
export function markdownToPlain(md: string): string {
  const lines = md.replace(/\r\n/g, '\n').split('\n');
  const out = lines.map((line) => {
    let l = line;
    l = l.replace(/^\s{0,3}#{1,6}\s+/, '');
    l = l.replace(/^\s*>\s?/, '│ ');
    l = l.replace(/^(\s*)[-*+]\s+/, '$1• ');
    l = l.replace(/!\[([^\]]*)\]\(([^)]*)\)/g, (_m, alt: string) => `[image${alt ? `: ${alt}` : ''}]`);
    l = l.replace(/\[([^\]]+)\]\(([^)]+)\)/g, (_m, t: string, u: string) => (t === u ? u : `${t} (${u})`));
    l = l.replace(/\*\*([^*]+)\*\*/g, '$1').replace(/__([^_]+)__/g, '$1');
    l = l.replace(/(^|[^*])\*([^*\n]+)\*/g, '$1$2');
    l = l.replace(/<@([^>]+)>/g, '@$1');
    l = atTags(l);
    l = l.replace(/<\/?(font|b|i|u|br|span)[^>]*>/gi, '');
    return l.replace(/\s+$/, '');
  });
  return out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Feishu `<at user_id="ou_x">Name</at>` / `<at user_id="all"></at>` → `@Name` / `@all`. */
function atTags(s: string): string {
  return s
    .replace(/<at\s+(?:user_id|id|email)="?all"?\s*>[^<]*<\/at>/g, '@all')
    .replace(/<at\s+(?:user_id|id|email)="?([^">\s]+)"?\s*>([^<]*)<\/at>/g, (_m, id: string, name: string) =>
      name.length > 0 ? `@${name}` : `@${id}`,
    );
}

/** Slack mrkdwn → plain text. */
export function mrkdwnToPlain(s: string): string {
  return decodeEntities(
    s
      .replace(/<!subteam\^[^|>]+\|([^>]+)>/g, '$1')
      .replace(/<!subteam\^([^>]+)>/g, '@$1')
      .replace(/<!(here|channel|everyone)(?:\|[^>]*)?>/g, '@$1')
      .replace(/<@([^|>]+)(?:\|([^>]+))?>/g, (_m, id: string, name: string | undefined) => `@${name ?? id}`)
      .replace(/<#([^|>]+)(?:\|([^>]+))?>/g, (_m, id: string, name: string | undefined) => `#${name ?? id}`)
      .replace(/<([^|>]+)\|([^>]+)>/g, '$2 ($1)')
      .replace(/<([^>]+)>/g, '$1')
      .replace(/(^|[\s(])\*([^*\n]+)\*/g, '$1$2')
      .replace(/(^|[\s(])_([^_\n]+)_/g, '$1$2')
      .replace(/(^|[\s(])~([^~\n]+)~/g, '$1$2'),
  );
}

/** Indents every line (a field's second line must stay under its label). */
const indent = (s: string): string =>
  s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

const button = (label: string, url: string | undefined): string =>
  url ? `[${label}] → ${url}` : `[${label}]`;

// ---- DingTalk ---------------------------------------------------------------------------------------

function describeDingtalk(body: Record<string, unknown>): string[] {
  const type = str(body.msgtype) ?? '';
  const m = body[type];
  if (!isRecord(m)) return [];
  const lines: string[] = [];
  switch (type) {
    case 'text':
      lines.push(str(m.content) ?? '');
      break;
    case 'markdown':
      lines.push(markdownToPlain(str(m.text) ?? str(m.title) ?? ''));
      break;
    case 'actionCard': {
      lines.push(markdownToPlain(str(m.text) ?? str(m.title) ?? ''));
      const single = str(m.singleTitle);
      if (single !== undefined) lines.push(button(single, str(m.singleURL)));
      if (Array.isArray(m.btns)) {
        for (const b of m.btns) if (isRecord(b)) lines.push(button(str(b.title) ?? '', str(b.actionURL)));
      }
      break;
    }
    case 'link':
      lines.push(str(m.title) ?? '', str(m.text) ?? '');
      if (str(m.messageUrl)) lines.push(`→ ${str(m.messageUrl)}`);
      break;
    case 'feedCard':
      if (Array.isArray(m.links)) {
        for (const l of m.links) {
          if (isRecord(l))
            lines.push(`• ${str(l.title) ?? ''}${str(l.messageURL) ? ` → ${str(l.messageURL)}` : ''}`);
        }
      }
      break;
    default:
      return [];
  }
  const at = body.at;
  if (isRecord(at) && at.isAtAll === true) lines.push('(@all)');
  return lines;
}

// ---- Slack ------------------------------------------------------------------------------------------

function slackText(t: unknown): string {
  if (!isRecord(t)) return '';
  const s = str(t.text) ?? '';
  return t.type === 'mrkdwn' ? mrkdwnToPlain(s) : decodeEntities(s);
}

function slackElement(e: unknown): string {
  if (!isRecord(e)) return '';
  switch (e.type) {
    case 'button':
      return button(slackText(e.text), str(e.url));
    case 'image':
      return `[image${str(e.alt_text) ? `: ${str(e.alt_text)}` : ''}]`;
    case 'plain_text':
    case 'mrkdwn':
      return slackText(e);
    default:
      return '';
  }
}

function richText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(richText).join('');
  if (!isRecord(v)) return '';
  switch (v.type) {
    case 'text':
      return str(v.text) ?? '';
    case 'link':
      return str(v.text) ? `${str(v.text)} (${str(v.url)})` : (str(v.url) ?? '');
    case 'user':
      return `@${str(v.user_id) ?? ''}`;
    case 'broadcast':
      return `@${str(v.range) ?? ''}`;
    case 'emoji':
      return `:${str(v.name) ?? ''}:`;
    case 'rich_text_list':
      return (Array.isArray(v.elements) ? v.elements : []).map((x) => `• ${richText(x)}`).join('\n') + '\n';
    default:
      return richText(v.elements);
  }
}

function describeSlack(body: Record<string, unknown>): string[] {
  const lines: string[] = [];
  if (Array.isArray(body.blocks) && body.blocks.length > 0) {
    for (const b of body.blocks) {
      if (!isRecord(b)) continue;
      switch (b.type) {
        case 'header':
          lines.push(slackText(b.text).toUpperCase());
          break;
        case 'section':
          if (b.text !== undefined) lines.push(slackText(b.text));
          if (Array.isArray(b.fields)) for (const f of b.fields) lines.push(indent(slackText(f)));
          if (b.accessory !== undefined) lines.push(slackElement(b.accessory));
          break;
        case 'divider':
          lines.push(RULE);
          break;
        case 'context':
          lines.push((Array.isArray(b.elements) ? b.elements : []).map(slackElement).join(' · '));
          break;
        case 'actions':
          lines.push((Array.isArray(b.elements) ? b.elements : []).map(slackElement).join('  '));
          break;
        case 'image':
          lines.push(slackElement(b));
          break;
        case 'markdown':
          lines.push(markdownToPlain(str(b.text) ?? ''));
          break;
        case 'rich_text':
          lines.push(richText(b.elements).replace(/\n$/, ''));
          break;
        default:
          break;
      }
    }
  } else if (typeof body.text === 'string') {
    lines.push(mrkdwnToPlain(body.text));
  }
  if (Array.isArray(body.attachments)) {
    for (const a of body.attachments) {
      if (!isRecord(a)) continue;
      const bar = '▌ ';
      for (const t of [str(a.pretext), str(a.title), str(a.text)]) {
        if (t) lines.push(bar + mrkdwnToPlain(t));
      }
      if (Array.isArray(a.fields)) {
        for (const f of a.fields) {
          if (isRecord(f)) lines.push(`${bar}${str(f.title) ?? ''}: ${mrkdwnToPlain(str(f.value) ?? '')}`);
        }
      }
      if (Array.isArray(a.blocks)) lines.push(...describeSlack({ blocks: a.blocks }).map((l) => bar + l));
      if (str(a.footer)) lines.push(bar + (str(a.footer) ?? ''));
    }
  }
  return lines;
}

// ---- Feishu -----------------------------------------------------------------------------------------

function larkText(t: unknown): string {
  if (!isRecord(t)) return '';
  const c = str(t.content) ?? '';
  return t.tag === 'lark_md' ? markdownToPlain(c) : atTags(c);
}

function postElement(e: unknown): string {
  if (!isRecord(e)) return '';
  switch (e.tag) {
    case 'text':
      return str(e.text) ?? '';
    case 'a':
      return `${str(e.text) ?? ''} (${str(e.href) ?? ''})`;
    case 'at':
      return e.user_id === 'all' ? '@all' : `@${str(e.user_name) ?? str(e.user_id) ?? ''}`;
    case 'img':
      return '[image]';
    case 'emotion':
      return `:${str(e.emoji_type) ?? ''}:`;
    case 'hr':
      return RULE;
    case 'code_block':
      return str(e.text) ?? '';
    case 'md':
      return markdownToPlain(str(e.text) ?? '');
    default:
      return '';
  }
}

function cardElements(elements: unknown, lines: string[]): void {
  if (!Array.isArray(elements)) return;
  for (const e of elements) {
    if (!isRecord(e)) continue;
    switch (e.tag) {
      case 'div':
        if (e.text !== undefined) lines.push(larkText(e.text));
        if (Array.isArray(e.fields)) {
          for (const f of e.fields) if (isRecord(f)) lines.push(indent(larkText(f.text)));
        }
        break;
      case 'markdown':
        lines.push(markdownToPlain(str(e.content) ?? ''));
        break;
      case 'hr':
        lines.push(RULE);
        break;
      case 'note':
        lines.push((Array.isArray(e.elements) ? e.elements : []).map(larkText).join(' · '));
        break;
      case 'action':
        lines.push((Array.isArray(e.actions) ? e.actions : []).map(cardButton).join('  '));
        break;
      case 'button':
        lines.push(cardButton(e));
        break;
      case 'img':
        lines.push('[image]');
        break;
      case 'column_set':
        if (Array.isArray(e.columns))
          for (const c of e.columns) if (isRecord(c)) cardElements(c.elements, lines);
        break;
      default:
        break;
    }
  }
}

function cardButton(b: unknown): string {
  if (!isRecord(b)) return '';
  const multi = isRecord(b.multi_url) ? str(b.multi_url.url) : undefined;
  const behaviour = Array.isArray(b.behaviors) ? b.behaviors.find(isRecord) : undefined;
  return button(
    larkText(b.text),
    str(b.url) ?? multi ?? (behaviour ? str(behaviour.default_url) : undefined),
  );
}

function describeFeishu(body: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const content = isRecord(body.content) ? body.content : undefined;
  switch (body.msg_type) {
    case 'text':
      lines.push(atTags(str(content?.text) ?? ''));
      break;
    case 'post': {
      const post = isRecord(content?.post) ? content.post : undefined;
      const locale = post === undefined ? undefined : (post.zh_cn ?? post.en_us ?? Object.values(post)[0]);
      if (isRecord(locale)) {
        if (str(locale.title)) lines.push(str(locale.title) ?? '');
        if (Array.isArray(locale.content)) {
          for (const para of locale.content)
            lines.push(Array.isArray(para) ? para.map(postElement).join('') : '');
        }
      }
      break;
    }
    case 'interactive': {
      const card = typeof body.card === 'string' ? tryParseJson(body.card) : body.card;
      if (!isRecord(card)) break;
      const header = isRecord(card.header) ? card.header : undefined;
      const title = header !== undefined && isRecord(header.title) ? str(header.title.content) : undefined;
      if (title !== undefined) lines.push(title.toUpperCase());
      cardElements(card.elements, lines);
      if (isRecord(card.body)) cardElements(card.body.elements, lines);
      break;
    }
    case 'image':
      lines.push('[image]');
      break;
    case 'share_chat':
      lines.push('[shared chat]');
      break;
    default:
      break;
  }
  return lines;
}

// ---- WeCom ------------------------------------------------------------------------------------------

function describeWecom(body: Record<string, unknown>): string[] {
  const type = str(body.msgtype) ?? '';
  const m = body[type];
  if (!isRecord(m)) return [];
  const lines: string[] = [];
  switch (type) {
    case 'text': {
      lines.push(str(m.content) ?? '');
      const mentions = [
        ...(Array.isArray(m.mentioned_list) ? m.mentioned_list : []),
        ...(Array.isArray(m.mentioned_mobile_list) ? m.mentioned_mobile_list : []),
      ].filter((x): x is string => typeof x === 'string');
      if (mentions.length > 0) lines.push(mentions.map((x) => (x === '@all' ? x : `@${x}`)).join(' '));
      break;
    }
    case 'markdown':
    case 'markdown_v2':
      lines.push(markdownToPlain(str(m.content) ?? ''));
      break;
    case 'template_card': {
      const main = isRecord(m.main_title) ? m.main_title : {};
      if (str(main.title)) lines.push((str(main.title) ?? '').toUpperCase());
      if (str(main.desc)) lines.push(str(main.desc) ?? '');
      const emphasis = isRecord(m.emphasis_content) ? m.emphasis_content : undefined;
      if (emphasis) lines.push(`${str(emphasis.title) ?? ''} ${str(emphasis.desc) ?? ''}`.trim());
      if (str(m.sub_title_text)) lines.push(str(m.sub_title_text) ?? '');
      if (Array.isArray(m.horizontal_content_list)) {
        for (const h of m.horizontal_content_list) {
          if (isRecord(h)) lines.push(`  ${str(h.keyname) ?? ''}: ${str(h.value) ?? ''}`);
        }
      }
      if (Array.isArray(m.jump_list)) {
        for (const j of m.jump_list) if (isRecord(j)) lines.push(button(str(j.title) ?? '', str(j.url)));
      }
      const action = isRecord(m.card_action) ? m.card_action : undefined;
      if (action && str(action.url)) lines.push(`→ ${str(action.url)}`);
      break;
    }
    case 'news':
      if (Array.isArray(m.articles)) {
        for (const a of m.articles) {
          if (!isRecord(a)) continue;
          const desc = str(a.description);
          lines.push(
            `• ${str(a.title) ?? ''}${desc ? ` — ${desc}` : ''}${str(a.url) ? ` → ${str(a.url)}` : ''}`,
          );
        }
      }
      break;
    case 'image':
      lines.push('[image]');
      break;
    case 'file':
      lines.push('[file]');
      break;
    default:
      break;
  }
  return lines;
}

// ---- generic webhook ----------------------------------------------------------------------------------

function describeWebhook(body: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const type = str(body.type);
  if (type) lines.push(`[${type}]`);
  for (const key of ['title', 'summary', 'text', 'message']) {
    const v = str(body[key]);
    if (v) lines.push(v);
  }
  if (lines.length <= (type ? 1 : 0)) lines.push(JSON.stringify(body));
  return lines;
}

/**
 * What a person would see in the app for `body` sent to `platform`, as plain-text lines joined by '\n'.
 * `body` is the parsed JSON (or a JSON string). Unreadable bodies give '(unreadable message)'.
 */
export function describeMessage(platform: ChatPlatform, body: unknown): string {
  const value = typeof body === 'string' ? tryParseJson(body) : body;
  if (!isRecord(value)) return '(unreadable message)';
  let lines: string[];
  switch (platform) {
    case 'dingtalk':
      lines = describeDingtalk(value);
      break;
    case 'slack':
      lines = describeSlack(value);
      break;
    case 'feishu':
      lines = describeFeishu(value);
      break;
    case 'wecom':
      lines = describeWecom(value);
      break;
    case 'webhook':
      lines = describeWebhook(value);
      break;
  }
  const text = lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return text.length > 0 ? text : '(empty message)';
}
