/**
 * Routes decide who hears what (DESIGN.md, Subscribe / Deliver): a watch names routes, configuration
 * says which channels each route reaches and for which outcomes, clusters and check types. Pure: the
 * notifier and the API (`checkwatch show`) both ask the same question and get the same answer.
 */
import type { Outcome, RouteMentions } from './message';

/** One route as configuration defines it (lib/config.ts `RouteSettings` has this shape). */
export interface RouteRule {
  /** Channel names, in the order to deliver to them. */
  readonly channels: readonly string[];
  /** The outcomes this route hears about. */
  readonly outcomes: readonly Outcome[];
  /** Only these cluster ids; undefined: any cluster. */
  readonly clusters?: readonly string[] | undefined;
  /** Only these check types (`ClusterUpgrade`, …), compared case-insensitively; undefined: any type. */
  readonly types?: readonly string[] | undefined;
  /** People this route mentions on the channels it reaches (e.g. the on-call only for failures). */
  readonly mentions?:
    | {
        readonly onFailureOnly?: boolean | undefined;
        readonly mobiles?: readonly string[] | undefined;
        readonly userIds?: readonly string[] | undefined;
        readonly slackIds?: readonly string[] | undefined;
      }
    | undefined;
}

/** Whether a route applies to a finished check. */
export function routeMatches(route: RouteRule, outcome: Outcome, clusterId: string, type: string): boolean {
  if (!route.outcomes.includes(outcome)) return false;
  if (route.clusters !== undefined && !route.clusters.includes(clusterId)) return false;
  if (route.types !== undefined) {
    const t = type.toLowerCase();
    // A check whose type is not known yet ('') cannot be said to match a type filter.
    if (!route.types.some((want) => want.toLowerCase() === t)) return false;
  }
  return true;
}

/**
 * The channels a finished check goes to: the union, in first-seen order and without duplicates, of
 * the channels of every named route that matches the outcome, cluster and type. Route names that
 * configuration no longer defines are ignored (see {@link unknownRoutes} to report them).
 */
export function resolveChannels(
  checkRoutes: readonly string[],
  routes: Readonly<Record<string, RouteRule>>,
  outcome: Outcome,
  clusterId: string,
  type: string,
): string[] {
  const out: string[] = [];
  for (const name of checkRoutes) {
    const route = Object.hasOwn(routes, name) ? routes[name] : undefined;
    if (route === undefined || !routeMatches(route, outcome, clusterId, type)) continue;
    for (const ch of route.channels) if (!out.includes(ch)) out.push(ch);
  }
  return out;
}

/**
 * The mentions the matching routes add for one channel: the union over every named route that matches
 * the check and reaches `channel` (skipping a route's failure-only mentions when the check passed).
 * Undefined when no route adds anyone.
 */
export function routeMentions(
  checkRoutes: readonly string[],
  routes: Readonly<Record<string, RouteRule>>,
  outcome: Outcome,
  clusterId: string,
  type: string,
  channel: string,
): RouteMentions | undefined {
  const out: RouteMentions = { mobiles: [], userIds: [], slackIds: [] };
  for (const name of checkRoutes) {
    const route = Object.hasOwn(routes, name) ? routes[name] : undefined;
    const m = route?.mentions;
    if (route === undefined || m === undefined || !route.channels.includes(channel)) continue;
    if (!routeMatches(route, outcome, clusterId, type)) continue;
    if (m.onFailureOnly === true && outcome === 'passed') continue;
    for (const [key, list] of [
      ['mobiles', m.mobiles],
      ['userIds', m.userIds],
      ['slackIds', m.slackIds],
    ] as const) {
      for (const v of list ?? []) if (!out[key].includes(v)) out[key].push(v);
    }
  }
  return out.mobiles.length + out.userIds.length + out.slackIds.length === 0 ? undefined : out;
}

/** Route names a check carries that configuration does not define (removed since the watch began). */
export function unknownRoutes(
  checkRoutes: readonly string[],
  routes: Readonly<Record<string, RouteRule>>,
): string[] {
  return checkRoutes.filter((name) => !Object.hasOwn(routes, name));
}
