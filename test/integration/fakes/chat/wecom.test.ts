import { afterEach, describe, expect, it } from 'vitest';
import { WECOM_LIMITS } from '../../../fakes/chat/index';
import { fakeClock, fakes, post } from './helpers';

const pool = fakes();
afterEach(() => pool.closeAll());

describe('WeCom group robot fake', () => {
  it('accepts a text message with errcode 0', async () => {
    const fake = await pool.start({ platform: 'wecom', clock: fakeClock().now });
    expect(fake.url).toMatch(/\/cgi-bin\/webhook\/send\?key=[0-9a-f-]{36}$/);
    const res = await post(fake.url, {
      msgtype: 'text',
      text: { content: 'done', mentioned_list: ['@all'] },
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(fake.accepted).toHaveLength(1);
  });

  it('answers 93000 invalid webhook url for a wrong key', async () => {
    const fake = await pool.start({ platform: 'wecom', clock: fakeClock().now });
    const res = await post(fake.url.replace(/key=.*$/, 'key=wrong'), {
      msgtype: 'text',
      text: { content: 'x' },
    });
    expect(res.status).toBe(200);
    expect(res.json().errcode).toBe(93000);
    expect(res.json().errmsg).toMatch(/^invalid webhook url, hint: \[/);
  });

  it('answers 40058 for text over 2048 bytes and markdown over 4096 bytes, counting bytes not chars', async () => {
    const fake = await pool.start({ platform: 'wecom', clock: fakeClock().now, rateLimit: false });
    // 700 CJK characters are 2100 UTF-8 bytes.
    const cjk = await post(fake.url, { msgtype: 'text', text: { content: '中'.repeat(700) } });
    const textAtLimit = await post(fake.url, {
      msgtype: 'text',
      text: { content: 'a'.repeat(WECOM_LIMITS.textBytes) },
    });
    const mdAtLimit = await post(fake.url, { msgtype: 'markdown', markdown: { content: 'a'.repeat(4096) } });
    const mdOver = await post(fake.url, { msgtype: 'markdown', markdown: { content: 'a'.repeat(4097) } });

    expect(cjk.json().errcode).toBe(40058);
    expect(textAtLimit.json().errcode).toBe(0);
    expect(mdAtLimit.json().errcode).toBe(0);
    expect(mdOver.json().errcode).toBe(40058);
    expect(mdOver.json().errmsg).toMatch(/^markdown\.content exceed max length 4096/);
  });

  it('answers 45009 over 20 messages a minute and accepts again once the window slides', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'wecom', clock: clock.now });
    const send = () =>
      post(fake.url, { msgtype: 'text', text: { content: 'x' } }).then((r) => r.json().errcode as number);
    const codes = [];
    for (let i = 0; i < 21; i++) {
      codes.push(await send());
      clock.advance(100);
    }
    expect(codes.slice(0, 20).every((c) => c === 0)).toBe(true);
    expect(codes[20]).toBe(45009);
    // The first message was at t0; at t0 + 60 s it has left the window (no block, unlike DingTalk).
    clock.set(1_700_000_000_000 + 60_000);
    expect(await send()).toBe(0);
  });

  it('answers 40008 for an unknown msgtype and 47001 for a body that is not JSON', async () => {
    const fake = await pool.start({ platform: 'wecom', clock: fakeClock().now });
    expect((await post(fake.url, { msgtype: 'sticker' })).json().errcode).toBe(40008);
    expect((await post(fake.url, 'not json')).json().errcode).toBe(47001);
  });
});
