import { afterEach, describe, expect, it } from 'vitest';
import type { SendResult } from '../../../lib/channels/channel';
import { summarizeCheckItems } from '../../../lib/domain/check-items';
import { createLogger, Redactor } from '../../../lib/log';
import type { ChatFault, ChatPlatform } from '../../fakes/chat/index';
import { checkMessage, digest, hugeItems } from '../../unit/channels/fixtures';
import type { Rig } from './helpers';
import { PLATFORMS, rig } from './helpers';

// Summarising 5000 items is the slow part; do it once for the file.
const HUGE = summarizeCheckItems(hugeItems(5000));

let current: Rig | undefined;
afterEach(async () => {
  await current?.fake.close();
  current = undefined;
});

async function start(
  platform: ChatPlatform,
  extra: Record<string, unknown> = {},
  log?: Parameters<typeof rig>[3],
): Promise<Rig> {
  current = await rig(
    platform,
    { rateLimit: false, ...(platform === 'dingtalk' ? { keyword: 'ACK' } : {}) },
    extra,
    log,
  );
  return current;
}

type Kind = 'delivered' | 'retry' | 'retry?' | 'permanent';

function expectKind(result: SendResult, kind: Kind): void {
  if (kind === 'retry?') {
    expect(result).toMatchObject({ kind: 'retry', unknownOutcome: true });
  } else {
    expect(result.kind).toBe(kind);
    if (result.kind === 'retry') expect(result.unknownOutcome).not.toBe(true);
  }
}

/** What each fault should come back as, per platform. A generic webhook accepts any 2xx. */
const FAULTS: Array<[string, ChatFault, Record<ChatPlatform, Kind>]> = [
  [
    'a 503',
    { kind: '5xx', next: 1 },
    { dingtalk: 'retry', slack: 'retry', feishu: 'retry', wecom: 'retry', webhook: 'retry' },
  ],
  [
    'a gateway HTML page',
    { kind: 'html', next: 1 },
    { dingtalk: 'retry', slack: 'retry', feishu: 'retry', wecom: 'retry', webhook: 'retry' },
  ],
  [
    'a 200 with garbage',
    { kind: 'garbage', next: 1 },
    { dingtalk: 'retry?', slack: 'retry?', feishu: 'retry?', wecom: 'retry?', webhook: 'delivered' },
  ],
  [
    'a 200 with an empty body',
    { kind: 'empty', next: 1 },
    { dingtalk: 'retry?', slack: 'retry?', feishu: 'retry?', wecom: 'retry?', webhook: 'delivered' },
  ],
  [
    'the platform rate limit',
    { kind: 'rateLimit', next: 1 },
    { dingtalk: 'retry', slack: 'retry', feishu: 'retry', wecom: 'retry', webhook: 'retry' },
  ],
  [
    'no answer after receipt',
    { kind: 'timeoutAfterReceipt', next: 1 },
    { dingtalk: 'retry?', slack: 'retry?', feishu: 'retry?', wecom: 'retry?', webhook: 'retry?' },
  ],
];

describe.each(PLATFORMS)('%s channel against its fake', (platform) => {
  it('delivers a failed check with 5000 items, within the limits the fake enforces', async () => {
    const { fake, channel, clock } = await start(platform);
    const msg = checkMessage('failed', { summary: HUGE });
    const result = await channel.send(channel.render(msg), { now: clock.now(), idempotencyKey: 'k-huge' });
    expect(result).toMatchObject({ kind: 'delivered' });
    expect(fake.accepted).toHaveLength(1);
  });

  it('delivers every outcome and a digest', async () => {
    const { fake, channel, clock } = await start(platform, {
      language: 'zh',
      mentions: { userIds: ['ou_x1'], slackIds: ['U1'], mobiles: ['13800000000'] },
    });
    const messages = [
      checkMessage('passed'),
      checkMessage('failed'),
      checkMessage('gave_up'),
      checkMessage('vanished'),
      digest(60),
    ];
    for (const [i, msg] of messages.entries()) {
      const result = await channel.send(channel.render(msg), { now: clock.now(), idempotencyKey: `k-${i}` });
      expect(result).toMatchObject({ kind: 'delivered' });
    }
    expect(fake.accepted).toHaveLength(messages.length);
  });

  it.each(FAULTS)('classifies %s', async (_name, fault, expected) => {
    const { fake, channel, clock } = await start(platform, { timeoutMs: 300 });
    fake.injectFault(fault);
    const rendered = channel.render(checkMessage('failed'));
    const result = await channel.send(rendered, { now: clock.now(), idempotencyKey: 'k-fault' });
    expectKind(result, expected[platform]);
    if (result.kind === 'retry') expect(result.at).toBeGreaterThan(clock.now());
    // The fault is gone: the same message now goes through.
    const again = await channel.send(rendered, { now: clock.now(), idempotencyKey: 'k-fault' });
    expect(again.kind).toBe('delivered');
  });

  it('never puts the webhook URL, token or secret in results or logs, whatever fails', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', write: (l) => lines.push(l), redactor: new Redactor() });
    const { fake, channel, clock, config } = await start(platform, { timeoutMs: 300 }, log);
    const results: SendResult[] = [];
    const rendered = channel.render(checkMessage('failed'));
    for (const fault of FAULTS.map(([, f]) => f)) {
      fake.injectFault(fault);
      results.push(await channel.send(rendered, { now: clock.now(), idempotencyKey: 'k' }));
    }
    const token = new URL(config.url).pathname.split('/').pop() ?? '';
    const query = [...new URL(config.url).searchParams.values()];
    const secrets = [
      config.url,
      ...query,
      ...(token.length >= 6 ? [token] : []),
      ...('secret' in config && config.secret ? [config.secret] : []),
    ];
    const everything = JSON.stringify(results) + lines.join('\n');
    for (const s of secrets) expect(everything).not.toContain(s);
    expect(lines.length).toBeGreaterThan(0);
  });
});

describe('transport failures', () => {
  it('retries without unknownOutcome when nothing listens (the request was never sent)', async () => {
    const { fake, channel, clock } = await start('slack');
    await fake.close();
    const result = await channel.send(channel.render(checkMessage('passed')), {
      now: clock.now(),
      idempotencyKey: 'k',
    });
    expect(result).toMatchObject({ kind: 'retry' });
    expect(result.kind === 'retry' && result.unknownOutcome).not.toBe(true);
  });

  it('marks a send the caller aborted mid-flight as of unknown outcome', async () => {
    const { fake, channel, clock } = await start('wecom', { timeoutMs: 5_000 });
    fake.injectFault({ kind: 'timeoutAfterReceipt', next: 1 });
    const abort = new AbortController();
    const pending = channel.send(channel.render(checkMessage('passed')), {
      now: clock.now(),
      idempotencyKey: 'k',
      signal: abort.signal,
    });
    await expect.poll(() => fake.received.length).toBe(1);
    abort.abort();
    expect(await pending).toMatchObject({ kind: 'retry', unknownOutcome: true });
  });

  it('gives a permanent result for a URL that cannot be parsed', async () => {
    const { channel } = await start('wecom', { url: 'not a url' });
    const result = await channel.send(channel.render(checkMessage('passed')), {
      now: 0,
      idempotencyKey: 'k',
    });
    expect(result.kind).toBe('permanent');
  });
});
