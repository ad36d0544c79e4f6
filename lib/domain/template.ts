/**
 * Logic-less message templates for channel titles and bodies, set per channel in configuration.
 *
 * Syntax: `{{name}}` (spaces inside the braces allowed) is replaced by the variable's value; everything
 * else is literal text in the platform's own markup (markdown for DingTalk/WeCom/Feishu, mrkdwn for
 * Slack). There are no conditionals, loops, filters or expressions: configuration can never execute code,
 * and a template is validated once, at config time ({@link validateTemplate}), so a typo fails at start
 * rather than in a 3 a.m. notification. Values are escaped for the platform when rendered, so a cluster
 * name cannot inject markup or mentions; `failing_items` is the one pre-rendered (already formatted)
 * value. A variable with no value (e.g. `target` for a cluster upgrade) renders as an empty string.
 *
 * Templates apply to single-check messages. Digests use the built-in layout.
 */
import type { CheckMessage, Language } from './message';
import { PHRASES, clusterLabel, durationOf, failingCount, formatDuration, itemCountsText } from './message';

/** Every variable a template may use, with what it holds (listed in docs/CONFIGURATION.md; `loadConfig` rejects any other name). */
export const TEMPLATE_VARIABLES = {
  outcome: 'passed | failed | gave_up | vanished',
  outcome_text: 'the outcome in the channel language, e.g. "Check failed" / "检查未通过"',
  emoji: 'an emoji for the outcome (✅ ❌ ⏱️ ❔)',
  cluster: 'the cluster display name when configured, else the cluster id',
  cluster_id: 'the ACK cluster id',
  cluster_name: 'the configured display name ("" when none)',
  region: 'the region id, e.g. cn-hangzhou',
  check_id: 'the ACK check id',
  check_type: 'ClusterUpgrade | MasterUpgrade | NodePoolUpgrade | ClusterMigrate | …',
  target: 'the check target (node pool id) or ""',
  status: "ACK's status, verbatim (Succeeded, Failed, …)",
  message: "ACK's message for the check, verbatim (capped)",
  created_at: 'when the check started (RFC 3339, as ACK reports it)',
  finished_at: 'when the check finished (RFC 3339) or ""',
  duration: 'how long the check ran, e.g. "4m 0s" / "4分0秒" ("" when unknown)',
  console_url: 'a link to the cluster in the ACK console',
  items_total: 'the number of check items',
  items_summary: 'counts per level, e.g. "12 checked: 2 error, 10 normal"',
  failing_count: 'the number of items that are not normal',
  error_count: 'items at level error',
  warning_count: 'items at level warning',
  advice_count: 'items at level advice',
  normal_count: 'items at level normal',
  failing_items:
    'the list of items needing attention, formatted for the platform and truncated to fit ("and N more"); ' +
    'when a body template uses it, the list is not appended again',
} as const satisfies Record<string, string>;

export type TemplateVariable = keyof typeof TEMPLATE_VARIABLES;

/** Variables whose values are already platform markup and must not be escaped. */
export const PRE_RENDERED: ReadonlySet<string> = new Set<TemplateVariable>(['failing_items']);

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

function isVariable(name: string): name is TemplateVariable {
  return Object.hasOwn(TEMPLATE_VARIABLES, name);
}

/** The variable names a template uses, in order of first appearance. */
export function templateNames(template: string): string[] {
  const names: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = (m[1] ?? '').trim();
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** The names a template uses that are not {@link TEMPLATE_VARIABLES} (empty when the template is valid). */
export function validateTemplate(template: string): string[] {
  return templateNames(template).filter((n) => !isVariable(n));
}

/** True when the template places `failing_items` itself. */
export function usesVariable(template: string, name: TemplateVariable): boolean {
  return templateNames(template).includes(name);
}

/**
 * Substitutes `{{name}}` placeholders. Values are passed through `escape` (platform markup escaping)
 * except the pre-rendered ones; unknown or missing names render as '' (validation catches typos earlier).
 */
export function renderTemplate(
  template: string,
  values: Partial<Record<TemplateVariable, string>>,
  escape: (value: string) => string,
): string {
  return template.replace(PLACEHOLDER, (_all, inner: string) => {
    const name = inner.trim();
    if (!isVariable(name)) return '';
    const value = values[name] ?? '';
    return PRE_RENDERED.has(name) ? value : escape(value);
  });
}

/** The values of every variable except `failing_items` (which the platform renderer formats). */
export function templateValues(
  msg: CheckMessage,
  lang: Language,
): Record<Exclude<TemplateVariable, 'failing_items'>, string> {
  const p = PHRASES[lang];
  const duration = durationOf(msg);
  const s = msg.summary;
  return {
    outcome: msg.outcome,
    outcome_text: p.outcome[msg.outcome],
    emoji: p.emoji[msg.outcome],
    cluster: clusterLabel(msg),
    cluster_id: msg.clusterId,
    cluster_name: msg.clusterName ?? '',
    region: msg.region,
    check_id: msg.checkId,
    check_type: msg.type,
    target: msg.target ?? '',
    status: msg.status,
    message: msg.message ?? '',
    created_at: msg.createdAt ?? '',
    finished_at: msg.finishedAt ?? '',
    duration: duration === undefined ? '' : formatDuration(duration, lang),
    console_url: msg.consoleUrl,
    items_total: String(s.total),
    items_summary: itemCountsText(s, lang),
    failing_count: String(failingCount(s)),
    error_count: String(s.counts.error),
    warning_count: String(s.counts.warning),
    advice_count: String(s.counts.advice),
    normal_count: String(s.counts.normal),
  };
}
