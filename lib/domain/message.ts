/**
 * The message model every channel renderer takes: pure data, no platform syntax. The notifier builds a
 * {@link CheckMessage} from a stored check; each channel turns it into its platform's payload.
 * Also the words of a message in each supported language, so every platform says the same thing.
 */
import type { CheckItemsSummary, ItemLevel } from './check-items';
import { parseAckTime } from './check';

/** passed/failed come from ACK's status; gave_up = we stopped watching; vanished = ACK no longer lists it. */
export type Outcome = 'passed' | 'failed' | 'gave_up' | 'vanished';
export const OUTCOMES = ['passed', 'failed', 'gave_up', 'vanished'] as const satisfies readonly Outcome[];

export type Language = 'en' | 'zh';
export const LANGUAGES = ['en', 'zh'] as const satisfies readonly Language[];

export interface CheckMessage {
  outcome: Outcome;
  clusterId: string;
  /** Display name from config, when given. */
  clusterName?: string | undefined;
  region: string;
  checkId: string;
  type: string;
  target?: string | undefined;
  /** ACK's status, verbatim. */
  status: string;
  /** ACK's message, verbatim (renderers cap it). */
  message?: string | undefined;
  createdAt?: string | undefined;
  finishedAt?: string | undefined;
  /** How long the check ran (or, for gave_up, how long we watched). Derived from the timestamps when absent. */
  durationMs?: number | undefined;
  summary: CheckItemsSummary;
  consoleUrl: string;
  /** People to mention besides the channel's own, from the routes that sent this check here. */
  mentions?: RouteMentions | undefined;
}

/** Mentions a route adds for the checks it routes (already filtered by outcome). */
export interface RouteMentions {
  mobiles: string[];
  userIds: string[];
  slackIds: string[];
}

/** N completions in one message, for when a channel's rate limit would otherwise be exceeded. */
export interface DigestMessage {
  items: CheckMessage[];
}

export function isDigest(msg: CheckMessage | DigestMessage): msg is DigestMessage {
  return 'items' in msg;
}

/**
 * A link to the cluster in the ACK console. A best guess: the console is a single-page app whose
 * routes are not documented; `#/k8s/cluster/<id>/v2/info/overview` is the cluster's "basic
 * information" page as the console links it today, and `region` lets it open without a region switch.
 * There is no documented deep link to one check's result, so we link the cluster.
 */
export function consoleUrl(region: string, clusterId: string): string {
  return (
    `https://cs.console.aliyun.com/#/k8s/cluster/${encodeURIComponent(clusterId)}` +
    `/v2/info/overview?region=${encodeURIComponent(region)}`
  );
}

/** The duration to show: `durationMs` when given, else finishedAt − createdAt when both parse. */
export function durationOf(msg: CheckMessage): number | undefined {
  if (msg.durationMs !== undefined && Number.isFinite(msg.durationMs) && msg.durationMs >= 0)
    return msg.durationMs;
  const start = msg.createdAt === undefined ? undefined : parseAckTime(msg.createdAt);
  const end = msg.finishedAt === undefined ? undefined : parseAckTime(msg.finishedAt);
  return start !== undefined && end !== undefined && end >= start ? end - start : undefined;
}

/** `4m 0s`, `1h 2m`, `2d 3h` / `4分0秒`, `1小时2分`, `2天3小时`; whole seconds. */
export function formatDuration(ms: number, lang: Language): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const u = lang === 'zh' ? { d: '天', h: '小时', m: '分', s: '秒' } : { d: 'd ', h: 'h ', m: 'm ', s: 's' };
  let out: string;
  if (d > 0) out = `${d}${u.d}${h}${u.h}`;
  else if (h > 0) out = `${h}${u.h}${m}${u.m}`;
  else if (m > 0) out = `${m}${u.m}${s}${u.s}`;
  else out = `${s}${u.s}`;
  return out.trim();
}

/** The words of a message, per language. Platform renderers add only syntax around these. */
export interface Phrases {
  outcome: Record<Outcome, string>;
  emoji: Record<Outcome, string>;
  level: Record<ItemLevel, string>;
  cluster: string;
  region: string;
  checkType: string;
  target: string;
  status: string;
  duration: string;
  message: string;
  checkId: string;
  items: string;
  failingItems: string;
  viewInConsole: string;
  console: string;
  targets: string;
  /** "and N more" after a truncated list. */
  andMore: (n: number) => string;
  /** "+N more targets" after a capped target list. */
  moreTargets: (n: number) => string;
  /** "12 items: 2 error, 1 warning…" (recognised) */
  itemCounts: (total: number, parts: string) => string;
  /** "N check items (format not recognised)" */
  itemsUnrecognised: (total: number) => string;
  noItems: string;
  gaveUp: (status: string, watched: string | undefined) => string;
  vanished: (status: string) => string;
  digestTitle: (n: number) => string;
  digestCounts: (parts: string) => string;
  /** `check type on cluster` */
  subject: (type: string, cluster: string) => string;
}

export const PHRASES: Record<Language, Phrases> = {
  en: {
    outcome: {
      passed: 'Check passed',
      failed: 'Check failed',
      gave_up: 'Stopped watching',
      vanished: 'Check disappeared',
    },
    emoji: { passed: '✅', failed: '❌', gave_up: '⏱️', vanished: '❔' },
    level: { error: 'error', warning: 'warning', advice: 'advice', normal: 'normal', unknown: 'unknown' },
    cluster: 'Cluster',
    region: 'Region',
    checkType: 'Check',
    target: 'Target',
    status: 'Status',
    duration: 'Duration',
    message: 'Message',
    checkId: 'Check ID',
    items: 'Items',
    failingItems: 'Items needing attention',
    viewInConsole: 'View in ACK console',
    console: 'console',
    targets: 'targets',
    andMore: (n) => `…and ${n} more`,
    moreTargets: (n) => `+${n} more`,
    itemCounts: (total, parts) => `${total} checked: ${parts}`,
    itemsUnrecognised: (total) => `${total} check item${total === 1 ? '' : 's'} (format not recognised)`,
    noItems: 'no check items reported',
    gaveUp: (status, watched) =>
      watched === undefined ? `still ${status} when we stopped watching` : `still ${status} after ${watched}`,
    vanished: (status) => `ACK no longer lists this check (last status: ${status})`,
    digestTitle: (n) => `${n} cluster checks finished`,
    digestCounts: (parts) => parts,
    subject: (type, cluster) => `${type} on ${cluster}`,
  },
  zh: {
    outcome: { passed: '检查通过', failed: '检查未通过', gave_up: '已停止跟踪', vanished: '检查已消失' },
    emoji: { passed: '✅', failed: '❌', gave_up: '⏱️', vanished: '❔' },
    level: { error: '错误', warning: '警告', advice: '建议', normal: '正常', unknown: '未知' },
    cluster: '集群',
    region: '地域',
    checkType: '检查类型',
    target: '目标',
    status: '状态',
    duration: '耗时',
    message: '信息',
    checkId: '检查 ID',
    items: '检查项',
    failingItems: '需要关注的检查项',
    viewInConsole: '在 ACK 控制台查看',
    console: '控制台',
    targets: '对象',
    andMore: (n) => `…另有 ${n} 项未显示`,
    moreTargets: (n) => `另有 ${n} 个`,
    itemCounts: (total, parts) => `共 ${total} 项：${parts}`,
    itemsUnrecognised: (total) => `共 ${total} 个检查项（格式无法识别）`,
    noItems: '未返回检查项',
    gaveUp: (status, watched) =>
      watched === undefined ? `停止跟踪时状态仍为 ${status}` : `已跟踪 ${watched}，状态仍为 ${status}`,
    vanished: (status) => `ACK 已不再列出此检查（最后状态：${status}）`,
    digestTitle: (n) => `${n} 个集群检查已结束`,
    digestCounts: (parts) => parts,
    subject: (type, cluster) => `${cluster} 的 ${type}`,
  },
};

/** The cluster as people know it: the display name when there is one, else the id. */
export function clusterLabel(msg: CheckMessage): string {
  return msg.clusterName !== undefined && msg.clusterName !== '' ? msg.clusterName : msg.clusterId;
}

/** "12 checked: 2 error, 1 warning, 9 normal" (non-zero levels only, worst first). */
export function itemCountsText(summary: CheckItemsSummary, lang: Language): string {
  const p = PHRASES[lang];
  if (summary.total === 0) return p.noItems;
  if (!summary.recognised) return p.itemsUnrecognised(summary.total);
  const order: ItemLevel[] = ['error', 'warning', 'unknown', 'advice', 'normal'];
  const parts = order
    .filter((l) => summary.counts[l] > 0)
    .map((l) => `${summary.counts[l]} ${p.level[l]}`)
    .join(lang === 'zh' ? '，' : ', ');
  return p.itemCounts(summary.total, parts);
}

/**
 * Non-normal items in total, whether listed or omitted. 0 when the format was not recognised: items
 * we cannot read are not evidence of a problem, and a passed check must not say "3 failing".
 */
export function failingCount(summary: CheckItemsSummary): number {
  return summary.recognised ? summary.total - summary.counts.normal : 0;
}
