/**
 * Summarises ACK's free-form `check_items` into something a message can show. Pure and lenient: a
 * notification must never fail because `check_items` has an unexpected shape (reference/ack-api.md).
 *
 * Shape documented by ACK (and the only one we "recognise"):
 * `{ [itemName]: Array<{ Group: string, Level: { normal|advice|warning|error: { Message, Targets: [{ Target }] } } }> }`.
 * Anything else is still counted ("N check items") so the message says something true.
 */

export type ItemLevel = 'normal' | 'advice' | 'warning' | 'error' | 'unknown';

export const ITEM_LEVELS = [
  'error',
  'warning',
  'unknown',
  'advice',
  'normal',
] as const satisfies readonly ItemLevel[];

export interface FailingItem {
  name: string;
  group?: string;
  level: ItemLevel;
  /** One line, at most {@link CHECK_ITEM_LIMITS.messageChars} characters. */
  message: string;
  /** At most {@link CHECK_ITEM_LIMITS.targetsPerItem} targets. */
  targets: string[];
  /** Targets beyond the cap, when some were dropped. */
  moreTargets?: number;
}

export interface CheckItemsSummary {
  /** Every item instance seen, recognised or not. */
  total: number;
  counts: Record<ItemLevel, number>;
  /** Non-normal items, worst first (error, warning, unknown, advice), capped. */
  failing: FailingItem[];
  /** Non-normal items left out of `failing` by the cap. */
  omitted: number;
  /** True when at least one item had the documented `Level` shape. */
  recognised: boolean;
}

/** Size caps: the summary is stored and rendered, so it must stay small whatever ACK sends. */
export const CHECK_ITEM_LIMITS = {
  failingItems: 50,
  messageChars: 500,
  targetsPerItem: 10,
  targetChars: 200,
  nameChars: 200,
  groupChars: 100,
  /** Item instances examined at all; beyond this we only count, cheaply. */
  scanItems: 100_000,
} as const;

const RANK: Record<ItemLevel, number> = { error: 0, warning: 1, unknown: 2, advice: 3, normal: 4 };

const LEVEL_ALIASES: Readonly<Record<string, ItemLevel>> = {
  normal: 'normal',
  ok: 'normal',
  pass: 'normal',
  passed: 'normal',
  success: 'normal',
  succeeded: 'normal',
  advice: 'advice',
  suggestion: 'advice',
  info: 'advice',
  warning: 'warning',
  warn: 'warning',
  error: 'error',
  critical: 'error',
  fatal: 'error',
  fail: 'error',
  failed: 'error',
};

/** An empty summary: no `check_items` at all (e.g. a check that vanished). */
export function emptySummary(): CheckItemsSummary {
  return { total: 0, counts: zeroCounts(), failing: [], omitted: 0, recognised: false };
}

/**
 * Summarises raw `check_items`. Never throws: on anything unexpected it counts what it can and sets
 * `recognised: false`, so the renderer falls back to "N check items".
 */
export function summarizeCheckItems(raw: unknown): CheckItemsSummary {
  try {
    return summarize(raw);
  } catch {
    // A getter that throws or a pathological object: the message must still go out.
    return emptySummary();
  }
}

function zeroCounts(): Record<ItemLevel, number> {
  return { normal: 0, advice: 0, warning: 0, error: 0, unknown: 0 };
}

interface Candidate {
  item: FailingItem;
  order: number;
}

function summarize(raw: unknown): CheckItemsSummary {
  const summary = emptySummary();
  const candidates: Candidate[] = [];
  let order = 0;

  const visit = (name: string, entry: unknown): void => {
    summary.total += 1;
    if (summary.total > CHECK_ITEM_LIMITS.scanItems) {
      summary.counts.unknown += 1;
      return;
    }
    const parsed = parseEntry(name, entry);
    if (parsed.recognised) summary.recognised = true;
    summary.counts[parsed.item.level] += 1;
    if (parsed.item.level !== 'normal') candidates.push({ item: parsed.item, order: order++ });
  };

  if (Array.isArray(raw)) {
    raw.forEach((entry: unknown, i) => {
      visit(nameOf(entry) ?? `#${i + 1}`, entry);
    });
  } else if (isRecord(raw)) {
    for (const [name, value] of Object.entries(raw)) {
      if (Array.isArray(value)) {
        for (const entry of value as unknown[]) visit(name, entry);
      } else {
        visit(name, value);
      }
    }
  } else if (raw !== undefined && raw !== null && raw !== '') {
    visit('check_items', raw);
  }

  candidates.sort((a, b) => RANK[a.item.level] - RANK[b.item.level] || a.order - b.order);
  summary.failing = candidates.slice(0, CHECK_ITEM_LIMITS.failingItems).map((c) => c.item);
  summary.omitted = candidates.length - summary.failing.length;
  return summary;
}

function parseEntry(name: string, entry: unknown): { item: FailingItem; recognised: boolean } {
  const item: FailingItem = {
    name: clip(name, CHECK_ITEM_LIMITS.nameChars),
    level: 'unknown',
    message: '',
    targets: [],
  };
  if (!isRecord(entry)) {
    if (typeof entry === 'string') item.message = clip(entry, CHECK_ITEM_LIMITS.messageChars);
    return { item, recognised: false };
  }
  const group = field(entry, 'group');
  if (typeof group === 'string' && group !== '') item.group = clip(group, CHECK_ITEM_LIMITS.groupChars);

  const level = field(entry, 'level');
  let detail: unknown = entry;
  let recognised = false;
  if (typeof level === 'string') {
    // A flat variant: `{ Level: "error", Message, Targets }`.
    item.level = levelOf(level);
    recognised = item.level !== 'unknown';
  } else if (isRecord(level)) {
    // The documented shape: one key per severity. Should several appear, the worst one wins.
    let best: { level: ItemLevel; value: unknown } | undefined;
    for (const [key, value] of Object.entries(level)) {
      const l = levelOf(key);
      if (best === undefined || RANK[l] < RANK[best.level]) best = { level: l, value };
    }
    if (best !== undefined) {
      item.level = best.level;
      detail = best.value;
      recognised = best.level !== 'unknown';
    }
  }
  const source = isRecord(detail) ? detail : entry;
  item.message = clip(textOf(field(source, 'message')), CHECK_ITEM_LIMITS.messageChars);
  const { targets, more } = targetsOf(field(source, 'targets') ?? field(source, 'target'));
  item.targets = targets;
  if (more > 0) item.moreTargets = more;
  return { item, recognised };
}

function targetsOf(raw: unknown): { targets: string[]; more: number } {
  const list: unknown[] = Array.isArray(raw)
    ? (raw as unknown[])
    : raw === undefined || raw === null
      ? []
      : [raw];
  const targets: string[] = [];
  let count = 0;
  for (const t of list) {
    if (targets.length >= CHECK_ITEM_LIMITS.targetsPerItem) {
      // Beyond the cap only the count matters.
      if (t !== undefined && t !== null && t !== '') count += 1;
      continue;
    }
    const value = isRecord(t) ? (field(t, 'target') ?? field(t, 'name')) : t;
    const text = textOf(value);
    if (text === '') continue;
    count += 1;
    targets.push(clip(text, CHECK_ITEM_LIMITS.targetChars));
  }
  return { targets, more: count - targets.length };
}

function levelOf(key: string): ItemLevel {
  return LEVEL_ALIASES[key.trim().toLowerCase()] ?? 'unknown';
}

function nameOf(entry: unknown): string | undefined {
  if (!isRecord(entry)) return undefined;
  const name = field(entry, 'name') ?? field(entry, 'item') ?? field(entry, 'key');
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** Case-insensitive field lookup: ACK uses `Group`/`Level`/`Message`, other tools lowercase. */
function field(obj: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const capital = name.charAt(0).toUpperCase() + name.slice(1);
  if (Object.hasOwn(obj, capital)) return obj[capital];
  for (const key of Object.keys(obj)) if (key.toLowerCase() === name) return obj[key];
  return undefined;
}

function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  try {
    return JSON.stringify(value).slice(0, CHECK_ITEM_LIMITS.messageChars + 1);
  } catch {
    return '';
  }
}

/**
 * One line, at most `max` UTF-16 units (so at most `max` characters), with an ellipsis when cut; never
 * splits a surrogate pair. Cheap on huge inputs: only a bounded prefix is ever normalised.
 */
export function clip(text: string, max: number): string {
  const head = text.length > max * 8 ? text.slice(0, max * 8) : text;
  const oneLine = head.replace(/\s+/g, ' ').trim();
  if (oneLine.length <= max && head.length === text.length) return oneLine;
  return cutUnits(oneLine, max - 1) + '…';
}

/** The first `n` UTF-16 units of `text`, one fewer when that would split a surrogate pair. */
export function cutUnits(text: string, n: number): string {
  if (n <= 0) return '';
  const cut = text.slice(0, n);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
