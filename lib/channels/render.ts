/**
 * What every platform renderer shares: the lines of a message in a given markup dialect, title and
 * body templates, mentions, and the size-fitting search. Pure functions, no platform payload shapes.
 */
import type { CheckItemsSummary, FailingItem } from '../domain/check-items';
import { cutUnits } from '../domain/check-items';
import type { CheckMessage, DigestMessage, Language, Outcome, RouteMentions } from '../domain/message';
import {
  PHRASES,
  clusterLabel,
  durationOf,
  failingCount,
  formatDuration,
  isDigest,
  itemCountsText,
} from '../domain/message';
import { renderTemplate, templateValues, usesVariable } from '../domain/template';
import type { MentionConfig } from './channel';

/** A platform's inline markup. `escape` makes a value inert (no markup, no mentions, one line). */
export interface Dialect {
  escape: (value: string) => string;
  bold: (markup: string) => string;
  link: (text: string, url: string) => string;
  code: (value: string) => string;
  bullet: string;
}

const oneLine = (s: string): string => s.replace(/[\r\n\t]+/g, ' ');

/** CommonMark-ish markdown (DingTalk, WeCom): backslash-escape emphasis/link/code characters. */
export const markdownDialect: Dialect = {
  // `<` becomes full-width: WeCom parses `<@id>` and `<font>` tags, and neither app honours entities.
  escape: (s) =>
    oneLine(s)
      .replace(/[\\`*_[\]~|]/g, (c) => `\\${c}`)
      .replace(/</g, '＜'),
  bold: (s) => `**${s}**`,
  link: (text, url) => `[${text}](${url})`,
  code: (s) => `\`${oneLine(s).replace(/`/g, "'")}\``,
  bullet: '- ',
};

/** DingTalk renders inline code literally, so values are shown plain (escaped) instead. */
export const dingtalkDialect: Dialect = { ...markdownDialect, code: (s) => markdownDialect.escape(s) };

/** Feishu `lark_md`: `<at …>` and `<font>` are tags, so angle brackets become entities. */
export const larkDialect: Dialect = {
  escape: (s) => oneLine(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
  bold: (s) => `**${s}**`,
  link: (text, url) => `[${text}](${url})`,
  code: (s) => larkDialect.escape(s),
  bullet: '- ',
};

/** Slack mrkdwn: Slack documents escaping exactly `&`, `<`, `>`. */
export const slackDialect: Dialect = {
  escape: (s) => oneLine(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
  bold: (s) => `*${s}*`,
  link: (text, url) => `<${url}|${text}>`,
  code: (s) => `\`${slackDialect.escape(s).replace(/`/g, "'")}\``,
  bullet: '• ',
};

/** Plain text (generic webhook `text`, plain_text fields). */
export const plainDialect: Dialect = {
  escape: (s) => oneLine(s),
  bold: (s) => s,
  link: (text, url) => `${text}: ${url}`,
  code: (s) => oneLine(s),
  bullet: '- ',
};

export interface RenderOptions {
  language: Language;
  titleTemplate?: string | undefined;
  bodyTemplate?: string | undefined;
  clusterNames?: Record<string, string> | undefined;
  mentions?: MentionConfig | undefined;
}

/** Applies the configured display name when the message carries none. */
export function withClusterName(msg: CheckMessage, names: Record<string, string> | undefined): CheckMessage {
  if (msg.clusterName !== undefined && msg.clusterName !== '') return msg;
  const name = names?.[msg.clusterId];
  return name === undefined ? msg : { ...msg, clusterName: name };
}

/** Resolves cluster names for a message or each item of a digest. */
export function prepare(
  msg: CheckMessage | DigestMessage,
  names: Record<string, string> | undefined,
): CheckMessage | DigestMessage {
  return isDigest(msg)
    ? { items: msg.items.map((m) => withClusterName(m, names)) }
    : withClusterName(msg, names);
}

/** `❌ Check failed: ClusterUpgrade on prod-hz` (plain text), or the title template's result. */
export function titleOf(msg: CheckMessage, opts: RenderOptions): string {
  if (opts.titleTemplate !== undefined && opts.titleTemplate.trim() !== '') {
    const rendered = oneLine(
      renderTemplate(opts.titleTemplate, templateValues(msg, opts.language), oneLine),
    ).trim();
    if (rendered !== '') return rendered;
  }
  const p = PHRASES[opts.language];
  const colon = opts.language === 'zh' ? '：' : ': ';
  return `${p.emoji[msg.outcome]} ${p.outcome[msg.outcome]}${colon}${p.subject(msg.type, clusterLabel(msg))}`;
}

/** Title of a digest: `3 cluster checks finished (1 failed, 2 passed)`. */
export function digestTitleOf(digest: DigestMessage, lang: Language): string {
  const p = PHRASES[lang];
  const worst = worstOutcome(digest.items.map((m) => m.outcome));
  return `${p.emoji[worst]} ${p.digestTitle(digest.items.length)} (${outcomeCounts(digest.items, lang)})`;
}

const SEVERITY: Record<Outcome, number> = { failed: 0, gave_up: 1, vanished: 2, passed: 3 };

export function worstOutcome(outcomes: readonly Outcome[]): Outcome {
  let worst: Outcome = 'passed';
  for (const o of outcomes) if (SEVERITY[o] < SEVERITY[worst]) worst = o;
  return worst;
}

function outcomeCounts(items: readonly CheckMessage[], lang: Language): string {
  const p = PHRASES[lang];
  const order: Outcome[] = ['failed', 'gave_up', 'vanished', 'passed'];
  return order
    .map((o) => [o, items.filter((m) => m.outcome === o).length] as const)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${p.outcome[o]}`)
    .join(lang === 'zh' ? '，' : ', ');
}

/** Label/value facts (values already escaped) for the message header. */
export function facts(
  msg: CheckMessage,
  d: Dialect,
  lang: Language,
): Array<{ label: string; value: string }> {
  const p = PHRASES[lang];
  const out: Array<{ label: string; value: string }> = [];
  const cluster =
    msg.clusterName !== undefined && msg.clusterName !== ''
      ? `${d.escape(msg.clusterName)} (${d.code(msg.clusterId)})`
      : d.code(msg.clusterId);
  out.push({ label: p.cluster, value: cluster });
  out.push({ label: p.region, value: d.escape(msg.region) });
  out.push({ label: p.checkType, value: d.escape(msg.type) });
  if (msg.target !== undefined && msg.target !== '') out.push({ label: p.target, value: d.code(msg.target) });
  out.push({ label: p.status, value: d.escape(msg.status) });
  const duration = durationOf(msg);
  // For gave_up the duration is how long we watched; the status line already says so.
  if (duration !== undefined && msg.outcome !== 'gave_up') {
    out.push({ label: p.duration, value: d.escape(formatDuration(duration, lang)) });
  }
  return out;
}

/** Why it ended, in words: ACK's message, or our own for gave_up / vanished. Escaped; may be absent. */
export function statusLine(
  msg: CheckMessage,
  d: Dialect,
  lang: Language,
  maxChars = 500,
): string | undefined {
  const p = PHRASES[lang];
  switch (msg.outcome) {
    case 'gave_up': {
      const duration = durationOf(msg);
      return d.escape(
        p.gaveUp(msg.status, duration === undefined ? undefined : formatDuration(duration, lang)),
      );
    }
    case 'vanished':
      return d.escape(p.vanished(msg.status));
    case 'passed':
    case 'failed': {
      const text = (msg.message ?? '').trim();
      return text === ''
        ? undefined
        : `${d.bold(d.escape(p.message))}: ${d.escape(clipChars(text, maxChars))}`;
    }
  }
}

/** `**Items**: 12 checked: 2 error, 10 normal`. */
export function itemsLine(summary: CheckItemsSummary, d: Dialect, lang: Language): string {
  return `${d.bold(d.escape(PHRASES[lang].items))}: ${d.escape(itemCountsText(summary, lang))}`;
}

/** One failing item: `- **[error]** Name (Group): message — targets: a, b (+3 more)`. */
export function failingLine(item: FailingItem, d: Dialect, lang: Language, maxChars = 2_800): string {
  const p = PHRASES[lang];
  let line = `${d.bullet}${d.bold(d.escape(`[${p.level[item.level]}]`))} ${d.escape(item.name)}`;
  if (item.group !== undefined) line += ` (${d.escape(item.group)})`;
  if (item.message !== '') line += `: ${d.escape(item.message)}`;
  if (item.targets.length > 0) {
    const more = item.moreTargets === undefined ? '' : ` ${d.escape(p.moreTargets(item.moreTargets))}`;
    line += ` — ${d.escape(p.targets)}: ${item.targets.map((t) => d.code(t)).join(', ')}${more}`;
  }
  return clipChars(line, maxChars);
}

/** The items worth listing: the failing ones when the format was recognised. */
export function listedItems(summary: CheckItemsSummary): FailingItem[] {
  return summary.recognised ? summary.failing : [];
}

/** Items not shown when `shown` of the listed ones are: dropped here plus omitted by the summary cap. */
export function hiddenCount(summary: CheckItemsSummary, shown: number): number {
  if (!summary.recognised) return 0;
  return Math.max(0, summary.failing.length - shown) + summary.omitted;
}

/** The failing-items block (heading, `shown` lines, "…and N more"); '' when there is nothing to list. */
export function failingBlock(summary: CheckItemsSummary, shown: number, d: Dialect, lang: Language): string {
  const items = listedItems(summary);
  const hidden = hiddenCount(summary, shown);
  if (items.length === 0 && hidden === 0) return '';
  const lines = [`${d.bold(d.escape(PHRASES[lang].failingItems))} (${failingCount(summary)})`];
  for (const item of items.slice(0, shown)) lines.push(failingLine(item, d, lang));
  if (hidden > 0) lines.push(d.escape(PHRASES[lang].andMore(hidden)));
  return lines.join('\n');
}

/**
 * The body from the configured template, with `failing_items` substituted when it is used. Returns
 * undefined when no body template is configured. `embedsItems` tells the caller not to append the list.
 */
export function templatedBody(
  msg: CheckMessage,
  opts: RenderOptions,
  d: Dialect,
  items: string,
): { text: string; embedsItems: boolean } | undefined {
  const t = opts.bodyTemplate;
  if (t === undefined || t.trim() === '') return undefined;
  const values = { ...templateValues(msg, opts.language), failing_items: items };
  return { text: renderTemplate(t, values, d.escape), embedsItems: usesVariable(t, 'failing_items') };
}

/** One digest line: `❌ **ClusterUpgrade on prod** — Check failed · 2 error · 4m 0s · [console](url)`. */
export function digestLine(msg: CheckMessage, d: Dialect, lang: Language): string {
  const p = PHRASES[lang];
  const parts = [`${p.emoji[msg.outcome]} ${d.bold(d.escape(p.subject(msg.type, clusterLabel(msg))))}`];
  const tail: string[] = [d.escape(p.outcome[msg.outcome])];
  if (msg.target !== undefined && msg.target !== '') tail.push(d.code(msg.target));
  const failing = failingCount(msg.summary);
  if (failing > 0) tail.push(d.escape(itemCountsText(msg.summary, lang)));
  const duration = durationOf(msg);
  if (duration !== undefined) tail.push(d.escape(formatDuration(duration, lang)));
  tail.push(d.link(d.escape(p.console), msg.consoleUrl));
  return `${d.bullet}${parts.join('')} — ${tail.join(' · ')}`;
}

/**
 * The mentions that apply to a message, or undefined when none do: the channel's own (unless they are
 * for failures only and everything passed) plus those the matching routes added to each check.
 */
export function activeMentions(
  msg: CheckMessage | DigestMessage,
  mentions: MentionConfig | undefined,
): MentionConfig | undefined {
  const outcomes = outcomesOf(msg);
  const own =
    mentions === undefined || (mentions.onFailureOnly === true && outcomes.every((o) => o === 'passed'))
      ? undefined
      : mentions;
  const fromRoutes = (isDigest(msg) ? msg.items : [msg]).flatMap((m) =>
    m.mentions === undefined ? [] : [m.mentions],
  );
  if (fromRoutes.length === 0) return own;
  const union = (
    a: readonly string[] | undefined,
    more: (r: RouteMentions) => readonly string[],
  ): string[] => [...new Set([...(a ?? []), ...fromRoutes.flatMap(more)])];
  return {
    mobiles: union(own?.mobiles, (r) => r.mobiles),
    userIds: union(own?.userIds, (r) => r.userIds),
    slackIds: union(own?.slackIds, (r) => r.slackIds),
  };
}

export function outcomesOf(msg: CheckMessage | DigestMessage): Outcome[] {
  return isDigest(msg) ? msg.items.map((m) => m.outcome) : [msg.outcome];
}

/**
 * The largest `n` in [0, max] whose build fits, by binary search (size grows with `n`). When even
 * `n = 0` does not fit, returns that build with `fits: false` so the caller can cut harder.
 */
export function fitCount<T>(
  max: number,
  build: (n: number) => T,
  fits: (value: T) => boolean,
): { value: T; n: number; fits: boolean } {
  const full = build(max);
  if (fits(full)) return { value: full, n: max, fits: true };
  let lo = 0;
  let hi = max - 1;
  let best: { value: T; n: number } | undefined;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const value = build(mid);
    if (fits(value)) {
      best = { value, n: mid };
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (best !== undefined) return { ...best, fits: true };
  return { value: build(0), n: 0, fits: false };
}

/** At most `max` UTF-16 units, with an ellipsis when cut (never splitting a surrogate pair). Keeps newlines. */
export function clipChars(text: string, max: number): string {
  return text.length <= max ? text : cutUnits(text, max - 1) + '…';
}

/** At most `max` UTF-8 bytes, cut on a character boundary, with an ellipsis when cut. */
export function clipBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = '';
  let used = 0;
  const budget = max - 3; // '…' is 3 bytes
  for (const ch of text) {
    const b = Buffer.byteLength(ch);
    if (used + b > budget) break;
    out += ch;
    used += b;
  }
  return out + '…';
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text);
}

/**
 * The longest prefix of `text` (whole code points, with an ellipsis) for which `fits` holds; '' when
 * none does. Used as the last resort when a template or ACK message alone exceeds a platform limit.
 */
export function fitText(text: string, fits: (clipped: string) => boolean): string {
  if (fits(text)) return text;
  let lo = 0;
  let hi = text.length - 1;
  let best = '';
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const candidate = cutUnits(text, mid) + '…';
    if (fits(candidate)) {
      best = candidate;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}
