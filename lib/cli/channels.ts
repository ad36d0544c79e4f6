import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { SendResult } from '../channels/channel';
import type { Config } from '../config';
import type { CheckMessage } from '../domain/message';
import { consoleUrl } from '../domain/message';
import { InputError } from '../errors';
import { buildChannels } from '../notify/channels';
import type { CliContext } from './context';
import { CliExit, EXIT } from './context';
import type { ConfigFlag } from './direct';
import { addConfigOption, cliLogger, loadCliConfig } from './direct';

/**
 * `checkwatch channels list|test`: what is configured, and whether a channel really accepts a message.
 * `test` sends a sample through the same channel code the notifier uses and prints the platform's
 * verdict in plain words — the reply's body code classified, never just the HTTP status.
 */

interface ChannelsOptions extends ConfigFlag {
  readonly json?: boolean;
}

const SAMPLE_CLUSTER = 'c0123456789abcdef0123456789abcdef';

/** The sample a `channels test` sends: a failed upgrade precheck with one failing item, so mentions show. */
export function sampleMessage(config: Config, now: number): CheckMessage {
  const clusterId = Object.keys(config.clusters)[0] ?? SAMPLE_CLUSTER;
  const region = config.clusters[clusterId]?.region ?? config.region;
  const created = new Date(now - 95_000).toISOString();
  const finished = new Date(now).toISOString();
  return {
    outcome: 'failed',
    clusterId,
    clusterName: config.clusters[clusterId]?.name ?? 'checkwatch test',
    region,
    checkId: `${String(now)}000000-${clusterId}-clustercheck-test`,
    type: 'ClusterUpgrade',
    status: 'Failed',
    message: 'This is a test message from `checkwatch channels test`: no check actually ran.',
    createdAt: created,
    finishedAt: finished,
    summary: {
      total: 3,
      counts: { error: 1, warning: 0, unknown: 0, advice: 0, normal: 2 },
      failing: [
        {
          name: 'Deprecated API usage',
          group: 'Kubernetes',
          level: 'error',
          message: 'Sample item: workloads still use APIs removed in the next version.',
          targets: ['default/sample-deployment'],
        },
      ],
      omitted: 0,
      recognised: true,
    },
    consoleUrl: consoleUrl(region, clusterId),
  };
}

const PLATFORM_NAME = {
  dingtalk: 'DingTalk',
  slack: 'Slack',
  feishu: 'Feishu',
  wecom: 'WeCom',
  webhook: 'The webhook receiver',
} as const;

/** The verdict as one plain sentence. */
export function verdictText(platform: keyof typeof PLATFORM_NAME, result: SendResult): string {
  const who = PLATFORM_NAME[platform];
  switch (result.kind) {
    case 'delivered': {
      const said = result.platformText === undefined ? '' : ` (${result.platformText})`;
      return `${who} accepted the message${said}.`;
    }
    case 'retry': {
      const said = result.platformText === undefined ? '' : ` — the platform said: ${result.platformText}`;
      const maybe = result.unknownOutcome === true ? ' The message may have arrived anyway.' : '';
      return `${who} did not take the message now: ${result.reason}${said}. The notifier would retry.${maybe}`;
    }
    case 'permanent':
      return `${result.hint} (the platform said: ${result.platformText})`;
    default: {
      const unreachable: never = result;
      return unreachable;
    }
  }
}

/** Registers the `channels` command group. */
export function registerChannelCommands(program: Command, ctx: CliContext): void {
  const group = program
    .command('channels')
    .description('list the configured chat channels, or send a test message through one');

  addConfigOption(
    group
      .command('list')
      .description('list the configured channels and the routes that use them')
      .option('--json', 'print one JSON line'),
  ).action((opts: ChannelsOptions) => {
    const { config } = loadCliConfig(ctx, opts.config);
    const rows = Object.entries(config.channels).map(([name, ch]) => ({
      name,
      type: ch.type,
      language: ch.language,
      signed: 'secret' in ch && ch.secret !== undefined,
      routes: Object.entries(config.routes)
        .filter(([, r]) => r.channels.includes(name))
        .map(([routeName]) => routeName),
    }));
    if (opts.json === true) {
      ctx.json({ channels: rows, default_routes: config.defaults.routes });
      return;
    }
    if (rows.length === 0) {
      ctx.out(
        'No channels configured. Add some under `channels:` in checkwatch.yaml (see docs/CONFIGURATION.md).',
      );
      return;
    }
    const width = Math.max(4, ...rows.map((r) => r.name.length));
    ctx.out(`${'NAME'.padEnd(width)}  ${'TYPE'.padEnd(8)}  ${'SIGNED'.padEnd(6)}  ROUTES`);
    for (const r of rows) {
      const routes = r.routes.length === 0 ? '-' : r.routes.join(', ');
      ctx.out(
        `${r.name.padEnd(width)}  ${r.type.padEnd(8)}  ${(r.signed ? 'yes' : 'no').padEnd(6)}  ${routes}`,
      );
    }
  });

  addConfigOption(
    group
      .command('test')
      .description('send a sample message through a channel and print the platform verdict')
      .argument('<name>', 'the channel name, as in `channels list`')
      .option('--json', 'print the verdict as one JSON line'),
  )
    .addHelpText(
      'after',
      `
Sends one sample message (a failed ClusterUpgrade check, marked as a test) with the channel's real
settings: URL, signing secret, keyword, mentions, templates. Exits 0 when the platform accepted it, 1
otherwise, and says why in the platform's own words, e.g.
  DingTalk refused: sign not match — check the secret and the machine clock

Examples:
  checkwatch channels test ops-dingtalk
  checkwatch channels test team-slack --config deploy/checkwatch.yaml --json`,
    )
    .action(async (name: string, opts: ChannelsOptions) => {
      const { config } = loadCliConfig(ctx, opts.config);
      const channel = buildChannels(config, { log: cliLogger(ctx).child({ component: 'channel' }) }).get(
        name,
      );
      if (channel === undefined) {
        const known = Object.keys(config.channels);
        throw new InputError(
          `no channel named "${name}" is configured` +
            (known.length === 0 ? ' (no channels at all)' : `; configured: ${known.join(', ')}`),
          { details: { argument: 'name' } },
        );
      }
      const now = ctx.now();
      const rendered = channel.render(sampleMessage(config, now));
      const result = await channel.send(rendered, {
        now,
        idempotencyKey: `cw-test-${randomUUID()}`,
        signal: ctx.io.shutdown,
      });
      const verdict = ctx.redactor.text(verdictText(channel.type, result));
      if (opts.json === true) {
        ctx.json({
          channel: name,
          type: channel.type,
          result: result.kind,
          platform_code: result.platformCode ?? null,
          platform_text: result.platformText === undefined ? null : ctx.redactor.text(result.platformText),
          verdict,
        });
      } else {
        ctx.out(`${name} (${channel.type}): ${verdict}`);
      }
      if (result.kind !== 'delivered') throw new CliExit(EXIT.failed);
    });
}
