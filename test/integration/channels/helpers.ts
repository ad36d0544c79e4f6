import type { Channel, ChannelConfig } from '../../../lib/channels/channel';
import { createChannel } from '../../../lib/channels/channel';
import type { Logger } from '../../../lib/log';
import type { ChatFake, ChatFakeOptions, ChatPlatform } from '../../fakes/chat/index';
import { startChatFake } from '../../fakes/chat/index';
import { NOW } from '../../unit/channels/fixtures';

/** A clock the test moves by hand: the fake's rate limits and sign checks read it. */
export class ManualClock {
  constructor(public ms = NOW) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface Rig {
  fake: ChatFake;
  clock: ManualClock;
  channel: Channel;
  config: ChannelConfig;
}

/** The channel config that talks to a fake, as a user would write it from the fake's URL/secret. */
export function configFor(fake: ChatFake, extra: Record<string, unknown> = {}): ChannelConfig {
  const base = {
    name: `${fake.platform}-test`,
    url: fake.url,
    language: 'en' as const,
    timeoutMs: 2_000,
    ...extra,
  };
  switch (fake.platform) {
    case 'dingtalk':
      return { secret: fake.secret, keyword: fake.keyword, ...base, type: 'dingtalk' };
    case 'feishu':
      return { secret: fake.secret, keyword: fake.keyword, ...base, type: 'feishu' };
    case 'webhook':
      return { secret: fake.secret ?? '', ...base, type: 'webhook' };
    case 'slack':
      return { ...base, type: 'slack' };
    case 'wecom':
      return { ...base, type: 'wecom' };
  }
}

export async function rig(
  platform: ChatPlatform,
  options: Partial<ChatFakeOptions> = {},
  extra: Record<string, unknown> = {},
  log?: Logger,
): Promise<Rig> {
  const clock = new ManualClock();
  const fake = await startChatFake({ platform, clock: clock.now, ...options });
  const config = configFor(fake, extra);
  return { fake, clock, config, channel: createChannel(config, log === undefined ? {} : { log }) };
}

export const PLATFORMS: ChatPlatform[] = ['dingtalk', 'slack', 'feishu', 'wecom', 'webhook'];
