/**
 * From configuration to channels: the only place channel settings (and their secrets) come from. An
 * API body can name routes, never a URL or a secret (DESIGN.md invariants).
 */
import { createChannel, type Channel, type ChannelConfig, type ChannelDeps } from '../channels/channel';
import type { ChannelSettings, Config } from '../config';

/** Display names of the configured clusters (`clusters.<id>.name`). */
export function clusterNamesOf(config: Config): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, c] of Object.entries(config.clusters)) if (c.name !== undefined) out[id] = c.name;
  return out;
}

/** The channel port's config for one configured channel. */
export function channelConfigOf(name: string, settings: ChannelSettings, config: Config): ChannelConfig {
  const common = {
    name,
    url: settings.url,
    language: settings.language,
    titleTemplate: settings.titleTemplate,
    bodyTemplate: settings.bodyTemplate,
    mentions:
      settings.mentions === undefined
        ? undefined
        : {
            onFailureOnly: settings.mentions.onFailureOnly,
            mobiles: settings.mentions.mobiles,
            userIds: settings.mentions.userIds,
            slackIds: settings.mentions.slackIds,
          },
    clusterNames: clusterNamesOf(config),
    timeoutMs: settings.timeout,
  };
  switch (settings.type) {
    case 'dingtalk':
      return {
        ...common,
        type: 'dingtalk',
        secret: settings.secret,
        keyword: settings.keyword,
        format: settings.format,
      };
    case 'feishu':
      return { ...common, type: 'feishu', secret: settings.secret, keyword: settings.keyword };
    case 'slack':
      return { ...common, type: 'slack' };
    case 'wecom':
      return { ...common, type: 'wecom' };
    case 'webhook':
      return { ...common, type: 'webhook', secret: settings.secret };
    default: {
      const unreachable: never = settings;
      return unreachable;
    }
  }
}

/** One channel per configured channel, by name. */
export function buildChannels(config: Config, deps: ChannelDeps = {}): Map<string, Channel> {
  const out = new Map<string, Channel>();
  for (const [name, settings] of Object.entries(config.channels)) {
    out.set(name, createChannel(channelConfigOf(name, settings, config), deps));
  }
  return out;
}
