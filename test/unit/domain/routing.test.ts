import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../../lib/domain/message';
import { resolveChannels, routeMentions, unknownRoutes, type RouteRule } from '../../../lib/domain/routing';

const ALL: Outcome[] = ['passed', 'failed', 'gave_up', 'vanished'];
const ROUTES: Record<string, RouteRule> = {
  failures: { channels: ['ops-ding', 'pager'], outcomes: ['failed', 'gave_up', 'vanished'] },
  everything: { channels: ['dev-slack'], outcomes: ALL },
  prod: { channels: ['prod-feishu', 'ops-ding'], outcomes: ALL, clusters: ['c-prod-001'] },
  upgrades: {
    channels: ['upgrade-wecom'],
    outcomes: ['failed'],
    types: ['ClusterUpgrade', 'NodePoolUpgrade'],
  },
};

describe('resolveChannels', () => {
  it.each<[string, string[], Outcome, string, string, string[]]>([
    [
      'a failed check reaches the failure route',
      ['failures'],
      'failed',
      'c-dev-001',
      'ClusterUpgrade',
      ['ops-ding', 'pager'],
    ],
    [
      'a passed check does not reach a failures-only route',
      ['failures'],
      'passed',
      'c-dev-001',
      'ClusterUpgrade',
      [],
    ],
    [
      'gave_up and vanished count as failures when the route says so',
      ['failures'],
      'vanished',
      'c-dev-001',
      '',
      ['ops-ding', 'pager'],
    ],
    [
      'routes are merged in order without duplicates',
      ['failures', 'prod', 'everything'],
      'failed',
      'c-prod-001',
      'MasterUpgrade',
      ['ops-ding', 'pager', 'prod-feishu', 'dev-slack'],
    ],
    ['a cluster filter excludes other clusters', ['prod'], 'failed', 'c-dev-001', 'MasterUpgrade', []],
    [
      'a type filter matches case-insensitively',
      ['upgrades'],
      'failed',
      'c-dev-001',
      'clusterupgrade',
      ['upgrade-wecom'],
    ],
    ['a type filter excludes other types', ['upgrades'], 'failed', 'c-dev-001', 'ClusterMigrate', []],
    ['a type filter does not match an unknown type', ['upgrades'], 'failed', 'c-dev-001', '', []],
    [
      'the outcome filter applies together with the type filter',
      ['upgrades'],
      'passed',
      'c-dev-001',
      'ClusterUpgrade',
      [],
    ],
    [
      'an unknown route name is ignored',
      ['gone', 'everything'],
      'passed',
      'c-dev-001',
      'ClusterUpgrade',
      ['dev-slack'],
    ],
    ['no routes means no channels', [], 'failed', 'c-dev-001', 'ClusterUpgrade', []],
  ])('%s', (_name, routes, outcome, cluster, type, expected) => {
    expect(resolveChannels(routes, ROUTES, outcome, cluster, type)).toEqual(expected);
  });

  it('does not treat inherited object properties as routes', () => {
    expect(resolveChannels(['toString', 'constructor'], ROUTES, 'failed', 'c-dev-001', '')).toEqual([]);
  });
});

describe('unknownRoutes', () => {
  it('names the routes configuration no longer defines', () => {
    expect(unknownRoutes(['failures', 'gone', 'toString'], ROUTES)).toEqual(['gone', 'toString']);
  });
});

describe('routeMentions', () => {
  const routes: Record<string, RouteRule> = {
    oncall: {
      channels: ['ops-ding'],
      outcomes: ['failed', 'gave_up'],
      mentions: { mobiles: ['13800000000'], userIds: ['u1'] },
    },
    leads: {
      channels: ['ops-ding', 'dev-slack'],
      outcomes: ALL,
      mentions: { onFailureOnly: true, userIds: ['u2', 'u1'], slackIds: ['U024BE7LH'] },
    },
    quiet: { channels: ['ops-ding'], outcomes: ALL },
  };

  it('unions the mentions of every matching route that reaches the channel', () => {
    expect(
      routeMentions(['oncall', 'leads', 'quiet'], routes, 'failed', 'c1', 'ClusterUpgrade', 'ops-ding'),
    ).toEqual({
      mobiles: ['13800000000'],
      userIds: ['u1', 'u2'],
      slackIds: ['U024BE7LH'],
    });
  });

  it('adds nothing for a route that does not reach the channel or does not match the outcome', () => {
    expect(routeMentions(['oncall'], routes, 'failed', 'c1', 'ClusterUpgrade', 'dev-slack')).toBeUndefined();
    expect(routeMentions(['oncall'], routes, 'passed', 'c1', 'ClusterUpgrade', 'ops-ding')).toBeUndefined();
  });

  it('skips failure-only mentions when the check passed', () => {
    expect(routeMentions(['leads'], routes, 'passed', 'c1', 'ClusterUpgrade', 'dev-slack')).toBeUndefined();
  });
});
