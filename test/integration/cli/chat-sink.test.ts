import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannel } from '../../../lib/channels/channel';
import type { ChatSink, SinkMessage } from '../../../lib/sink/chat-sink';
import { startChatSink } from '../../../lib/sink/chat-sink';
import { sampleMessage } from '../../../lib/cli/channels';
import { loadConfig } from '../../../lib/config';

/** The demo's chat sink against the real channel code: it must refuse what DingTalk and Slack refuse. */

let sink: ChatSink;
const seen: SinkMessage[] = [];
const { config } = loadConfig({ env: {} });

beforeAll(async () => {
  sink = await startChatSink({ onMessage: (m) => seen.push(m) });
});
afterAll(async () => {
  await sink.close();
});

const send = (channel: ReturnType<typeof createChannel>) =>
  channel.send(channel.render(sampleMessage(config, Date.now())), { now: Date.now(), idempotencyKey: 'k-1' });

describe('demo chat sink', () => {
  it('accepts a correctly signed DingTalk message and shows it as plain text', async () => {
    const ch = createChannel({
      type: 'dingtalk',
      name: 'd',
      url: sink.dingtalkUrl,
      secret: sink.dingtalkSecret,
      language: 'en',
    });
    expect(await send(ch)).toMatchObject({ kind: 'delivered' });
    expect(seen.at(-1)?.platform).toBe('dingtalk');
    expect(seen.at(-1)?.text).toMatch(/^❌ Check failed: ClusterUpgrade on checkwatch test\n/);
  });

  it('refuses a DingTalk message signed with another secret, as DingTalk does', async () => {
    const ch = createChannel({
      type: 'dingtalk',
      name: 'd',
      url: sink.dingtalkUrl,
      secret: 'SECwrong',
      language: 'en',
    });
    expect(await send(ch)).toMatchObject({
      kind: 'permanent',
      platformCode: 310000,
      platformText: 'sign not match',
    });
  });

  it('accepts a Slack message on the hook path and refuses another path with no_service', async () => {
    const ok = createChannel({ type: 'slack', name: 's', url: sink.slackUrl, language: 'en' });
    expect(await send(ok)).toMatchObject({ kind: 'delivered' });
    expect(seen.at(-1)).toMatchObject({ platform: 'slack' });
    const bad = createChannel({
      type: 'slack',
      name: 's',
      url: sink.slackUrl.replace(/\/[^/]+$/, '/nope'),
      language: 'en',
    });
    expect(await send(bad)).toMatchObject({ kind: 'permanent', platformText: 'no_service' });
    expect(sink.accepted).toHaveLength(2);
  });
});
