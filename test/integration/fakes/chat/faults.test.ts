import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatFake, ChatPlatform } from '../../../fakes/chat/index';
import { dingtalkSign, feishuSign, standardWebhookSign } from '../../../fakes/chat/index';
import type { Answer } from './helpers';
import { fakeClock, fakes, post } from './helpers';

const pool = fakes();
afterEach(() => pool.closeAll());

/** A request each platform accepts, so that faults are the only reason for anything else. */
function validRequest(
  fake: ChatFake,
  nowMs: number,
): { url: string; body: string; headers: Record<string, string> } {
  switch (fake.platform) {
    case 'dingtalk':
      return {
        url: `${fake.url}&timestamp=${nowMs}&sign=${encodeURIComponent(dingtalkSign(nowMs, fake.secret!))}`,
        body: JSON.stringify({ msgtype: 'text', text: { content: 'hello' } }),
        headers: {},
      };
    case 'slack':
      return { url: fake.url, body: JSON.stringify({ text: 'hello' }), headers: {} };
    case 'feishu': {
      const ts = Math.floor(nowMs / 1000);
      const body = {
        timestamp: String(ts),
        sign: feishuSign(ts, fake.secret!),
        msg_type: 'text',
        content: { text: 'hello' },
      };
      return { url: fake.url, body: JSON.stringify(body), headers: {} };
    }
    case 'wecom':
      return {
        url: fake.url,
        body: JSON.stringify({ msgtype: 'text', text: { content: 'hello' } }),
        headers: {},
      };
    case 'webhook': {
      const body = JSON.stringify({ type: 'check.finished' });
      const ts = Math.floor(nowMs / 1000);
      return {
        url: fake.url,
        body,
        headers: {
          'webhook-id': 'msg_1',
          'webhook-timestamp': String(ts),
          'webhook-signature': standardWebhookSign(fake.secret!, 'msg_1', ts, body),
        },
      };
    }
  }
}

const PLATFORMS: ChatPlatform[] = ['dingtalk', 'slack', 'feishu', 'wecom', 'webhook'];

async function start(platform: ChatPlatform, extra: { rateLimit?: boolean; seed?: number } = {}) {
  const clock = fakeClock();
  const fake = await pool.start({ platform, clock: clock.now, ...extra });
  const send = () => {
    const r = validRequest(fake, clock.now());
    return post(r.url, r.body, r.headers);
  };
  return { fake, clock, send };
}

describe('chat fake faults', () => {
  it.each(PLATFORMS)('%s: answers a valid message normally when no fault is injected', async (platform) => {
    const { fake, send } = await start(platform);
    const res = await send();
    expect(res.status).toBeLessThan(300);
    expect(fake.accepted).toHaveLength(1);
  });

  it.each(PLATFORMS)(
    '%s: 5xx answers 503 with a text body for the next N requests, then recovers',
    async (platform) => {
      const { fake, send } = await start(platform, { rateLimit: false });
      fake.injectFault({ kind: '5xx', next: 2 });
      const a = await send();
      const b = await send();
      const c = await send();
      expect([a.status, a.text]).toEqual([503, 'Service Unavailable']);
      expect(b.status).toBe(503);
      expect(c.status).toBeLessThan(300);
      expect(fake.received.map((m) => m.accepted)).toEqual([false, false, true]);
    },
  );

  it('5xx uses the given status', async () => {
    const { fake, send } = await start('slack');
    fake.injectFault({ kind: '5xx', code: 502, text: 'upstream reset' });
    const res = await send();
    expect([res.status, res.text]).toEqual([502, 'upstream reset']);
  });

  it('html answers a 502 gateway page', async () => {
    const { fake, send } = await start('dingtalk');
    fake.injectFault({ kind: 'html' });
    const res = await send();
    expect(res.status).toBe(502);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.text).toContain('<h1>502 Bad Gateway</h1>');
    expect(fake.accepted).toHaveLength(0);
  });

  it.each(PLATFORMS)('%s: garbage answers 200 with a body that is not JSON (nor "ok")', async (platform) => {
    const { fake, send } = await start(platform);
    fake.injectFault({ kind: 'garbage' });
    const res = await send();
    expect(res.status).toBe(200);
    expect(res.text).not.toBe('ok');
    expect(() => JSON.parse(res.text) as unknown).toThrow();
    expect(fake.accepted).toHaveLength(0);
  });

  it('empty answers 200 with an empty body', async () => {
    const { fake, send } = await start('feishu');
    fake.injectFault({ kind: 'empty' });
    const res = await send();
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(fake.accepted).toHaveLength(0);
  });

  it.each([
    ['dingtalk', 200, (r: Answer) => r.json().errcode, 410100],
    ['feishu', 200, (r: Answer) => r.json().code, 11232],
    ['wecom', 200, (r: Answer) => r.json().errcode, 45009],
    ['slack', 429, (r: Answer) => r.text, 'rate_limited'],
    ['webhook', 429, (r: Answer) => r.status, 429],
  ] as const)(
    '%s: rateLimit forces the platform rate-limit reply',
    async (platform, status, pick, expected) => {
      const { fake, send } = await start(platform);
      fake.injectFault({ kind: 'rateLimit', delayMs: 2500 });
      const res = await send();
      expect(res.status).toBe(status);
      expect(pick(res)).toBe(expected);
      if (platform === 'slack' || platform === 'webhook') expect(res.headers['retry-after']).toBe('3');
      expect(fake.accepted).toHaveLength(0);
    },
  );

  it.each([
    ['dingtalk', undefined, 200, '{"errcode":-1,"errmsg":"系统繁忙"}'],
    ['dingtalk', 400102, 200, '{"errcode":400102,"errmsg":"机器人已停用"}'],
    ['feishu', 9499, 400, '{"code":9499,"data":{},"msg":"Bad Request"}'],
    ['feishu', 19022, 200, '{"code":19022,"data":{},"msg":"Ip Not Allowed"}'],
    ['slack', 'channel_is_archived', 410, 'channel_is_archived'],
    ['slack', 'rollup_error', 500, 'rollup_error'],
    ['webhook', 410, 410, 'HTTP 410'],
  ] as const)('%s: code %s answers with the platform status %s', async (platform, code, status, body) => {
    const { fake, send } = await start(platform);
    fake.injectFault(code === undefined ? { kind: 'code' } : { kind: 'code', code });
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.text).toBe(body);
    expect(fake.accepted).toHaveLength(0);
  });

  it('code on WeCom keeps the errmsg hint tail', async () => {
    const { fake, send } = await start('wecom');
    fake.injectFault({ kind: 'code', code: 93000 });
    const res = await send();
    expect(res.json().errcode).toBe(93000);
    expect(res.json().errmsg).toMatch(/^invalid webhook url, hint: \[\d+\]/);
  });

  it('code uses the given text', async () => {
    const { fake, send } = await start('dingtalk');
    fake.injectFault({ kind: 'code', code: 400013, text: 'group dissolved' });
    expect((await send()).json()).toEqual({ errcode: 400013, errmsg: 'group dissolved' });
  });

  it('slow answers after delayMs and still delivers the message', async () => {
    const { fake, send } = await start('wecom');
    fake.injectFault({ kind: 'slow', delayMs: 150 });
    const t0 = performance.now();
    const res = await send();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(res.json().errcode).toBe(0);
    expect(fake.accepted).toHaveLength(1);
  });

  it('timeoutAfterReceipt records the message as accepted and never answers (the unknown outcome)', async () => {
    const { fake, clock } = await start('dingtalk');
    fake.injectFault({ kind: 'timeoutAfterReceipt' });
    const r = validRequest(fake, clock.now());
    const attempt = request(r.url, {
      method: 'POST',
      body: r.body,
      headers: { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(150),
    });
    await expect(attempt).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(fake.accepted).toHaveLength(1);
    expect(fake.accepted[0]!.reply).toEqual({ status: 0, body: '' });
    // A retry with the same msgUuid is the "at most one duplicate" case; the fake does not dedup.
    const retry = await post(validRequest(fake, clock.now()).url, r.body);
    expect(retry.json().errcode).toBe(0);
    expect(fake.accepted).toHaveLength(2);
  });

  it('timeoutAfterReceipt with delayMs answers late', async () => {
    const { fake, send } = await start('slack');
    fake.injectFault({ kind: 'timeoutAfterReceipt', delayMs: 100 });
    const t0 = performance.now();
    const res = await send();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
    expect(res.text).toBe('ok');
    expect(fake.accepted[0]!.reply).toEqual({ status: 200, body: 'ok' });
  });

  it('closes promptly while a timeoutAfterReceipt answer is held', async () => {
    const { fake, clock } = await start('feishu');
    fake.injectFault({ kind: 'timeoutAfterReceipt' });
    const r = validRequest(fake, clock.now());
    const pending = request(r.url, {
      method: 'POST',
      body: r.body,
      headers: { 'content-type': 'application/json' },
    });
    await expect.poll(() => fake.received.length).toBe(1);
    await fake.close();
    await expect(pending).rejects.toBeInstanceOf(Error);
  });

  it('rate faults fire on a seeded, repeatable subset of requests', async () => {
    const runs: boolean[][] = [];
    for (const seed of [7, 7, 8]) {
      const { fake, send } = await start('wecom', { seed, rateLimit: false });
      fake.injectFault({ kind: '5xx', rate: 0.5 });
      for (let i = 0; i < 30; i++) await send();
      runs.push(fake.received.map((m) => m.accepted));
    }
    const faulted = runs[0]!.filter((a) => !a).length;
    expect(faulted).toBeGreaterThan(5);
    expect(faulted).toBeLessThan(25);
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).not.toEqual(runs[0]);
  });

  it('rate with next stops after N firings', async () => {
    const { fake, send } = await start('wecom', { rateLimit: false });
    fake.injectFault({ kind: '5xx', rate: 1, next: 3 });
    for (let i = 0; i < 5; i++) await send();
    expect(fake.received.map((m) => m.reply.status)).toEqual([503, 503, 503, 200, 200]);
  });

  it('removes a fault with the returned function and all of them with clearFaults', async () => {
    const { fake, send } = await start('slack', { rateLimit: false });
    const remove = fake.injectFault({ kind: '5xx', rate: 1 });
    expect((await send()).status).toBe(503);
    remove();
    expect((await send()).status).toBe(200);
    fake.injectFault({ kind: 'html', rate: 1 });
    fake.injectFault({ kind: 'empty', next: 5 });
    expect((await send()).status).toBe(502);
    fake.clearFaults();
    expect((await send()).text).toBe('ok');
  });

  it('does not count faulted requests toward the rate limit', async () => {
    const { fake, send } = await start('wecom');
    fake.injectFault({ kind: '5xx', next: 5 });
    for (let i = 0; i < 26; i++) await send();
    expect(fake.accepted).toHaveLength(20);
    expect(fake.received).toHaveLength(26);
    expect(fake.received.at(-1)!.reply.body).toContain('"errcode":45009');
  });

  it('rejects a fault rate outside [0, 1]', async () => {
    const { fake } = await start('slack');
    expect(() => fake.injectFault({ kind: '5xx', rate: 2 })).toThrow(RangeError);
  });
});
