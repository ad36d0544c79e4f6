import { afterEach, describe, expect, it } from 'vitest';
import type { Channel, ChannelConfig } from '../../../lib/channels/channel';
import { createChannel } from '../../../lib/channels/channel';
import { DINGTALK_BLOCK_MS } from '../../../lib/channels/dingtalk';
import type { ChatFake, ChatFakeOptions, ChatPlatform } from '../../fakes/chat/index';
import { checkMessage } from '../../unit/channels/fixtures';
import type { Rig } from './helpers';
import { rig } from './helpers';

const started: ChatFake[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((f) => f.close()));
});

async function start(
  platform: ChatPlatform,
  options: Partial<ChatFakeOptions> = {},
  extra: Record<string, unknown> = {},
): Promise<Rig> {
  const r = await rig(platform, options, extra);
  started.push(r.fake);
  return r;
}

function channelWith(config: ChannelConfig, over: Record<string, unknown>): Channel {
  return createChannel({ ...config, ...over });
}

/** A top-level field of a recorded JSON body. */
function field(body: unknown, name: string): unknown {
  return (body as Record<string, unknown>)[name];
}

const failed = checkMessage('failed');

describe('DingTalk', () => {
  it('signs the query, carries the keyword and sends msgUuid = the idempotency key', async () => {
    const { fake, channel, clock } = await start('dingtalk', { keyword: '发布检查' });
    const result = await channel.send(channel.render(failed), {
      now: clock.now(),
      idempotencyKey: 'cw-abc-1',
    });
    expect(result).toEqual({ kind: 'delivered', platformCode: 0, platformText: 'ok' });
    const got = fake.accepted[0]!;
    expect(got.query.timestamp).toBe(String(clock.now()));
    expect(got.query.sign).toBeDefined();
    expect(field(got.body, 'msgUuid')).toBe('cw-abc-1');
    expect(got.raw).toContain('发布检查');
  });

  it('sends the same msgUuid again when a send timed out after DingTalk received it', async () => {
    const { fake, channel, clock } = await start('dingtalk', {}, { timeoutMs: 200 });
    fake.injectFault({ kind: 'timeoutAfterReceipt', next: 1 });
    const rendered = channel.render(failed);
    const first = await channel.send(rendered, { now: clock.now(), idempotencyKey: 'cw-dup' });
    expect(first).toMatchObject({ kind: 'retry', unknownOutcome: true });
    const second = await channel.send(rendered, { now: clock.now(), idempotencyKey: 'cw-dup' });
    expect(second.kind).toBe('delivered');
    expect(fake.accepted.map((m) => field(m.body, 'msgUuid'))).toEqual(['cw-dup', 'cw-dup']);
  });

  it('reports a wrong secret as a permanent "sign not match" with advice, and never the secret', async () => {
    const { channel, clock, config } = await start('dingtalk');
    const wrong = channelWith(config, { secret: 'SECwrongwrongwrong' });
    const result = await wrong.send(channel.render(failed), { now: clock.now(), idempotencyKey: 'k' });
    expect(result).toMatchObject({ kind: 'permanent', platformCode: 310000 });
    expect(result.kind === 'permanent' && result.hint).toMatch(
      /sign not match — check the secret and the machine clock/,
    );
    expect(JSON.stringify(result)).not.toContain('SECwrongwrongwrong');
  });

  it('reports a clock more than an hour off as a permanent timestamp failure', async () => {
    const { channel, clock } = await start('dingtalk');
    const result = await channel.send(channel.render(failed), {
      now: clock.now() - 2 * 3600_000,
      idempotencyKey: 'k',
    });
    expect(result).toMatchObject({ kind: 'permanent', platformCode: 310000 });
  });

  it('reports a message without the robot keyword as permanent, with the keyword hint', async () => {
    const { config, clock } = await start('dingtalk', { keyword: 'ACK-ALERT' });
    const noKeyword = channelWith(config, { keyword: undefined });
    const result = await noKeyword.send(noKeyword.render(failed), { now: clock.now(), idempotencyKey: 'k' });
    expect(result).toMatchObject({ kind: 'permanent', platformCode: 310000 });
    expect(result.kind === 'permanent' && result.hint).toMatch(/keyword/);
  });

  it('reports an unknown access token as permanent', async () => {
    const { config, clock } = await start('dingtalk');
    const url = new URL(config.url);
    url.searchParams.set('access_token', 'ffffffffffffffffffffffff');
    const ch = channelWith(config, { url: url.toString() });
    const result = await ch.send(ch.render(failed), { now: clock.now(), idempotencyKey: 'k' });
    expect(result).toMatchObject({ kind: 'permanent', platformCode: 300001 });
    expect(JSON.stringify(result)).not.toContain('ffffffffffffffffffffffff');
  });

  it('advertises 20/min, and retries at the end of the 10-minute block when the limit is exceeded', async () => {
    const { channel, clock } = await start('dingtalk');
    expect(channel.rateLimits).toEqual([{ windowMs: 60_000, max: 20 }]);
    const rendered = channel.render(failed);
    for (let i = 0; i < 20; i++) {
      expect((await channel.send(rendered, { now: clock.now(), idempotencyKey: `k${i}` })).kind).toBe(
        'delivered',
      );
      clock.advance(100);
    }
    const limited = await channel.send(rendered, { now: clock.now(), idempotencyKey: 'k20' });
    expect(limited).toMatchObject({
      kind: 'retry',
      platformCode: 410100,
      at: clock.now() + DINGTALK_BLOCK_MS,
    });
    clock.advance(5 * 60_000);
    expect((await channel.send(rendered, { now: clock.now(), idempotencyKey: 'k20' })).kind).toBe('retry');
    clock.advance(DINGTALK_BLOCK_MS);
    expect((await channel.send(rendered, { now: clock.now(), idempotencyKey: 'k20' })).kind).toBe(
      'delivered',
    );
  });

  it('is accepted as an actionCard too', async () => {
    const { fake, clock, config } = await start('dingtalk', { keyword: 'ACK' });
    const ch = channelWith(config, { format: 'actionCard' });
    expect((await ch.send(ch.render(failed), { now: clock.now(), idempotencyKey: 'k' })).kind).toBe(
      'delivered',
    );
    expect(field(fake.accepted[0]!.body, 'msgtype')).toBe('actionCard');
  });
});

describe('Slack', () => {
  it('retries after Retry-After when sending faster than 1 message per second', async () => {
    const { channel, clock } = await start('slack');
    expect(channel.rateLimits).toEqual([{ windowMs: 1_000, max: 1 }]);
    const rendered = channel.render(failed);
    expect((await channel.send(rendered, { now: clock.now(), idempotencyKey: 'a' })).kind).toBe('delivered');
    const limited = await channel.send(rendered, { now: clock.now(), idempotencyKey: 'b' });
    expect(limited).toMatchObject({ kind: 'retry', platformCode: 429 });
    expect(limited.kind === 'retry' && limited.at).toBeGreaterThan(clock.now());
    clock.advance(limited.kind === 'retry' ? limited.at - clock.now() : 0);
    expect((await channel.send(rendered, { now: clock.now(), idempotencyKey: 'b' })).kind).toBe('delivered');
  });

  it('reports a revoked webhook (no_service) as permanent', async () => {
    const { config, clock } = await start('slack');
    const ch = channelWith(config, { url: config.url.replace(/\/[^/]+$/, '/WRONGWRONGWRONG') });
    const result = await ch.send(ch.render(failed), { now: clock.now(), idempotencyKey: 'k' });
    expect(result).toMatchObject({ kind: 'permanent', platformCode: 404, platformText: 'no_service' });
    expect(JSON.stringify(result)).not.toContain('WRONGWRONGWRONG');
  });
});

describe('Feishu', () => {
  it('signs the body with timestamp (seconds) and sign', async () => {
    const { fake, channel, clock } = await start('feishu');
    expect((await channel.send(channel.render(failed), { now: clock.now(), idempotencyKey: 'k' })).kind).toBe(
      'delivered',
    );
    expect(field(fake.accepted[0]!.body, 'timestamp')).toBe(String(Math.floor(clock.now() / 1000)));
  });

  it('reports a wrong secret as permanent 19021 with advice', async () => {
    const { config, clock } = await start('feishu');
    const ch = channelWith(config, { secret: 'not-the-secret' });
    const result = await ch.send(ch.render(failed), { now: clock.now(), idempotencyKey: 'k' });
    expect(result).toMatchObject({ kind: 'permanent', platformCode: 19021 });
    expect(JSON.stringify(result)).not.toContain('not-the-secret');
  });

  it('carries the keyword, and reports its absence as 19024', async () => {
    const { config, clock, channel } = await start('feishu', { keyword: 'checkwatch' });
    expect((await channel.send(channel.render(failed), { now: clock.now(), idempotencyKey: 'k' })).kind).toBe(
      'delivered',
    );
    const ch = channelWith(config, { keyword: undefined });
    expect(await ch.send(ch.render(failed), { now: clock.now(), idempotencyKey: 'k' })).toMatchObject({
      kind: 'permanent',
      platformCode: 19024,
    });
  });

  it('retries on 11232 when over 5 messages per second', async () => {
    const { channel, clock } = await start('feishu');
    const rendered = channel.render(failed);
    for (let i = 0; i < 5; i++)
      expect((await channel.send(rendered, { now: clock.now(), idempotencyKey: `k${i}` })).kind).toBe(
        'delivered',
      );
    expect(await channel.send(rendered, { now: clock.now(), idempotencyKey: 'k5' })).toMatchObject({
      kind: 'retry',
      platformCode: 11232,
    });
  });
});

describe('WeCom', () => {
  it('reports a wrong key as permanent 93000', async () => {
    const { config, clock } = await start('wecom');
    const url = new URL(config.url);
    url.searchParams.set('key', 'deadbeef-0000-0000');
    const ch = channelWith(config, { url: url.toString() });
    const result = await ch.send(ch.render(failed), { now: clock.now(), idempotencyKey: 'k' });
    expect(result).toMatchObject({ kind: 'permanent', platformCode: 93000 });
    expect(JSON.stringify(result)).not.toContain('deadbeef-0000-0000');
  });

  it('retries on 45009 after 20 messages in a minute', async () => {
    const { channel, clock } = await start('wecom');
    const rendered = channel.render(failed);
    for (let i = 0; i < 20; i++)
      expect((await channel.send(rendered, { now: clock.now(), idempotencyKey: `k${i}` })).kind).toBe(
        'delivered',
      );
    expect(await channel.send(rendered, { now: clock.now(), idempotencyKey: 'k20' })).toMatchObject({
      kind: 'retry',
      platformCode: 45009,
    });
  });
});

describe('generic webhook', () => {
  it('signs with Standard Webhooks headers and keeps webhook-id stable across retries', async () => {
    const { fake, channel, clock } = await start('webhook', {}, { timeoutMs: 200 });
    fake.injectFault({ kind: '5xx', next: 1 });
    const rendered = channel.render(failed);
    expect((await channel.send(rendered, { now: clock.now(), idempotencyKey: 'msg_1' })).kind).toBe('retry');
    clock.advance(5_000);
    expect((await channel.send(rendered, { now: clock.now(), idempotencyKey: 'msg_1' })).kind).toBe(
      'delivered',
    );
    expect(fake.received.map((m) => m.headers['webhook-id'])).toEqual(['msg_1', 'msg_1']);
    expect(fake.accepted[0]!.headers['webhook-timestamp']).toBe(String(Math.floor(clock.now() / 1000)));
    expect(fake.accepted[0]!.body).toMatchObject({
      version: 1,
      type: 'check.finished',
      check: { outcome: 'failed' },
    });
  });

  it('reports a signature the receiver refuses as permanent, without the secret', async () => {
    const { config, clock } = await start('webhook');
    const other = 'whsec_' + Buffer.from('another-secret-entirely').toString('base64');
    const ch2 = channelWith(config, { secret: other });
    const result = await ch2.send(ch2.render(failed), { now: clock.now(), idempotencyKey: 'k' });
    expect(result).toMatchObject({ kind: 'permanent', platformCode: 401 });
    expect(JSON.stringify(result)).not.toContain(other);
  });
});
