import { afterEach, describe, expect, it } from 'vitest';
import type { ChatFake } from '../../../fakes/chat/index';
import { DINGTALK_LIMITS, dingtalkSign } from '../../../fakes/chat/index';
import { fakeClock, fakes, post } from './helpers';

const pool = fakes();
afterEach(() => pool.closeAll());

/** The URL a correct client posts to: token plus a URL-encoded sign over a millisecond timestamp. */
function signed(fake: ChatFake, ts: number, secret = fake.secret!): string {
  return `${fake.url}&timestamp=${ts}&sign=${encodeURIComponent(dingtalkSign(ts, secret))}`;
}

const text = (content: string) => ({ msgtype: 'text', text: { content } });

describe('DingTalk robot fake', () => {
  it('accepts a signed text message with errcode 0 and records it', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'dingtalk', clock: clock.now });
    expect(fake.secret).toMatch(/^SEC[0-9a-f]{64}$/);
    expect(fake.url).toMatch(/\/robot\/send\?access_token=[0-9a-f]{64}$/);

    const res = await post(signed(fake, clock.now()), { ...text('check finished'), msgUuid: 'u-1' });

    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(fake.accepted).toHaveLength(1);
    const m = fake.accepted[0]!;
    expect(m.body).toMatchObject({ msgUuid: 'u-1', text: { content: 'check finished' } });
    expect(m.query.timestamp).toBe(String(clock.now()));
    expect(m.reply).toEqual({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' });
  });

  it('refuses a sign that was not URL-encoded (+ arrives as a space) with 310000 sign not match', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'dingtalk', clock: clock.now });
    let ts = clock.now();
    while (!dingtalkSign(ts, fake.secret!).includes('+')) ts -= 1;

    const res = await post(`${fake.url}&timestamp=${ts}&sign=${dingtalkSign(ts, fake.secret!)}`, text('x'));

    expect(res.status).toBe(200);
    expect(res.json().errcode).toBe(310000);
    expect(res.json().errmsg).toMatch(/^sign not match/);
    expect(fake.accepted).toHaveLength(0);
    expect(fake.received).toHaveLength(1);
  });

  it('refuses an unsigned message and one signed with another secret', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'dingtalk', clock: clock.now });
    const unsigned = await post(fake.url, text('x'));
    const wrong = await post(signed(fake, clock.now(), 'SECnot-the-secret'), text('x'));
    expect(unsigned.json().errcode).toBe(310000);
    expect(unsigned.json().errmsg).toMatch(/^sign not match/);
    expect(wrong.json().errmsg).toMatch(/^sign not match/);
    expect(fake.accepted).toHaveLength(0);
  });

  it('refuses a timestamp more than an hour off, or in seconds, with 310000 invalid timestamp', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'dingtalk', clock: clock.now });
    const late = await post(signed(fake, clock.now() - DINGTALK_LIMITS.timestampSkewMs - 1), text('x'));
    const early = await post(signed(fake, clock.now() + DINGTALK_LIMITS.timestampSkewMs + 1), text('x'));
    const seconds = await post(signed(fake, Math.floor(clock.now() / 1000)), text('x'));
    const edge = await post(signed(fake, clock.now() - DINGTALK_LIMITS.timestampSkewMs), text('x'));
    for (const r of [late, early, seconds]) {
      expect(r.json().errcode).toBe(310000);
      expect(r.json().errmsg).toMatch(/^invalid timestamp/);
    }
    expect(edge.json().errcode).toBe(0);
  });

  it('answers 300001 for an unknown access_token', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'dingtalk', clock: clock.now });
    const url = signed(fake, clock.now()).replace(/access_token=[0-9a-f]+/, 'access_token=deadbeef');
    const res = await post(url, text('x'));
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ errcode: 300001, errmsg: 'token is not exist' });
  });

  it('refuses a message without the keyword with 310000 and accepts it in a markdown title', async () => {
    const clock = fakeClock();
    const fake = await pool.start({
      platform: 'dingtalk',
      clock: clock.now,
      secret: '',
      keyword: 'checkwatch',
    });
    expect(fake.secret).toBeUndefined();
    expect(fake.keyword).toBe('checkwatch');

    const missing = await post(fake.url, text('upgrade precheck finished'));
    const inTitle = await post(fake.url, {
      msgtype: 'markdown',
      markdown: { title: '[checkwatch] precheck done', text: '### Precheck\n- all passed' },
    });

    expect(missing.json().errcode).toBe(310000);
    expect(missing.json().errmsg).toMatch(/^keywords not in content/);
    expect(inTitle.json().errcode).toBe(0);
    expect(fake.accepted.map((m) => (m.body as { msgtype: string }).msgtype)).toEqual(['markdown']);
  });

  it('answers 460101 for a body over 20,000 bytes and accepts exactly 20,000', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'dingtalk', clock: clock.now });
    const sized = (bytes: number) => {
      const base = JSON.stringify(text(''));
      return JSON.stringify(text('x'.repeat(bytes - base.length)));
    };
    expect(Buffer.byteLength(sized(20_000))).toBe(20_000);

    const ok = await post(signed(fake, clock.now()), sized(20_000));
    const tooLong = await post(signed(fake, clock.now()), sized(20_001));

    expect(ok.json().errcode).toBe(0);
    expect(tooLong.json().errcode).toBe(460101);
  });

  it('answers 400105 for an unsupported msgtype and 40035 for a body that is not JSON', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'dingtalk', clock: clock.now });
    const bad = await post(signed(fake, clock.now()), { msgtype: 'video', video: {} });
    const notJson = await post(signed(fake, clock.now()), 'msgtype=text', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(bad.json().errcode).toBe(400105);
    expect(notJson.json().errcode).toBe(40035);
  });

  it('accepts 20 messages a minute, answers 410100 to the 21st and stays blocked for ten minutes', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'dingtalk', clock: clock.now });
    const send = () => post(signed(fake, clock.now()), text('x')).then((r) => r.json().errcode as number);

    const first = [];
    for (let i = 0; i < 20; i++) {
      first.push(await send());
      clock.advance(1000);
    }
    expect(first.every((c) => c === 0)).toBe(true);
    expect(await send()).toBe(410100);

    // The minute window has long passed, but the robot is blocked: every message is refused.
    const blockedAt = clock.now();
    clock.advance(61_000);
    expect(await send()).toBe(410100);
    clock.set(blockedAt + DINGTALK_LIMITS.blockMs - 1);
    expect(await send()).toBe(410100);
    clock.set(blockedAt + DINGTALK_LIMITS.blockMs);
    expect(await send()).toBe(0);
    expect(fake.accepted).toHaveLength(21);
  });

  it('does not enforce the rate limit when rateLimit is false', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'dingtalk', clock: clock.now, rateLimit: false });
    for (let i = 0; i < 25; i++) await post(signed(fake, clock.now()), text(`m${i}`));
    expect(fake.accepted).toHaveLength(25);
  });

  it('lifts the block on reset', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'dingtalk', clock: clock.now });
    for (let i = 0; i < 21; i++) await post(signed(fake, clock.now()), text('x'));
    expect(fake.received.at(-1)!.accepted).toBe(false);
    fake.reset();
    expect(fake.received).toHaveLength(0);
    const res = await post(signed(fake, clock.now()), text('x'));
    expect(res.json().errcode).toBe(0);
  });
});
