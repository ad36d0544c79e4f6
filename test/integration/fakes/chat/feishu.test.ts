import { afterEach, describe, expect, it } from 'vitest';
import type { ChatFake } from '../../../fakes/chat/index';
import { FEISHU_LIMITS, feishuSign } from '../../../fakes/chat/index';
import { fakeClock, fakes, post } from './helpers';

const pool = fakes();
afterEach(() => pool.closeAll());

const SUCCESS = { StatusCode: 0, StatusMessage: 'success', code: 0, data: {}, msg: 'success' };

/** A correctly signed Feishu text message: timestamp in seconds, sign as top-level fields. */
function signedText(fake: ChatFake, nowMs: number, t = 'check finished', secret = fake.secret!) {
  const timestamp = String(Math.floor(nowMs / 1000));
  return { timestamp, sign: feishuSign(timestamp, secret), msg_type: 'text', content: { text: t } };
}

describe('Feishu custom bot fake', () => {
  it('accepts a signed message with the success body', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'feishu', clock: clock.now });
    expect(fake.url).toMatch(/\/open-apis\/bot\/v2\/hook\/[0-9a-f-]{36}$/);
    expect(fake.secret).toBeDefined();

    const res = await post(fake.url, signedText(fake, clock.now()));

    expect(res.status).toBe(200);
    expect(res.json()).toEqual(SUCCESS);
    expect(fake.accepted).toHaveLength(1);
  });

  it.each([
    ['another secret', (f: ChatFake, now: number) => signedText(f, now, 'x', 'wrong')],
    ['no sign', (f: ChatFake, now: number) => ({ ...signedText(f, now), sign: undefined })],
    [
      'a timestamp in milliseconds',
      (f: ChatFake, now: number) => ({
        ...signedText(f, now),
        timestamp: String(now),
        sign: feishuSign(now, f.secret!),
      }),
    ],
    [
      'a timestamp more than an hour old',
      (f: ChatFake, now: number) => signedText(f, now - (FEISHU_LIMITS.timestampSkewSeconds + 2) * 1000),
    ],
  ])('answers 19021 for %s', async (_name, make) => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'feishu', clock: clock.now });
    const res = await post(fake.url, make(fake, clock.now()));
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      code: 19021,
      data: {},
      msg: 'sign match fail or timestamp is not within one hour from current time',
    });
    expect(fake.accepted).toHaveLength(0);
  });

  it('answers 19001 for an unknown hook id', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'feishu', clock: clock.now });
    const res = await post(
      fake.url.replace(/[0-9a-f-]{36}$/, '00000000-0000-4000-a000-000000000000'),
      signedText(fake, clock.now()),
    );
    expect(res.json().code).toBe(19001);
  });

  it('answers 19024 when the keyword is missing and accepts it inside a card', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'feishu', clock: clock.now, secret: '', keyword: 'ACK' });
    const missing = await post(fake.url, { msg_type: 'text', content: { text: 'done' } });
    const inCard = await post(fake.url, {
      msg_type: 'interactive',
      card: { header: { title: { tag: 'plain_text', content: 'ACK check done' } }, elements: [] },
    });
    expect(missing.json()).toEqual({ code: 19024, data: {}, msg: 'Key Words Not Found' });
    expect(inCard.json().code).toBe(0);
  });

  it('answers HTTP 400 with 9499 for invalid JSON and for a body over 20 KB', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'feishu', clock: clock.now });
    const invalid = await post(fake.url, '{"msg_type":');
    const big = signedText(fake, clock.now(), 'x'.repeat(FEISHU_LIMITS.maxBodyBytes));
    const tooBig = await post(fake.url, big);
    expect(invalid.status).toBe(400);
    expect(invalid.json().code).toBe(9499);
    expect(tooBig.status).toBe(400);
    expect(tooBig.json().code).toBe(9499);
  });

  it('answers 19002 when msg_type is missing', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'feishu', clock: clock.now });
    const { msg_type: _omit, ...noType } = signedText(fake, clock.now());
    const res = await post(fake.url, noType);
    expect(res.json()).toEqual({ code: 19002, data: {}, msg: 'params error, msg_type need' });
  });

  it('answers 11232 over 5 messages a second and over 100 a minute', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'feishu', clock: clock.now });
    const send = () => post(fake.url, signedText(fake, clock.now())).then((r) => r.json().code as number);

    const burst = [];
    for (let i = 0; i < 6; i++) burst.push(await send());
    expect(burst).toEqual([0, 0, 0, 0, 0, 11232]);

    // 5 a second for the rest of the minute fills the 100/min window.
    for (let s = 1; s < 20; s++) {
      clock.advance(1000);
      for (let i = 0; i < 5; i++) expect(await send()).toBe(0);
    }
    clock.advance(1000);
    expect(await send()).toBe(11232);
    clock.advance(60_000);
    expect(await send()).toBe(0);
    expect(fake.accepted).toHaveLength(101);
  });
});
