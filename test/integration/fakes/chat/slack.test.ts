import { afterEach, describe, expect, it } from 'vitest';
import { SLACK_LIMITS } from '../../../fakes/chat/index';
import { fakeClock, fakes, post } from './helpers';

const pool = fakes();
afterEach(() => pool.closeAll());

const section = (t: string) => ({ type: 'section', text: { type: 'mrkdwn', text: t } });

describe('Slack incoming webhook fake', () => {
  it('answers 200 ok to a text message and records it', async () => {
    const fake = await pool.start({ platform: 'slack', clock: fakeClock().now });
    expect(fake.url).toMatch(/\/services\/T0[A-Z0-9]+\/B0[A-Z0-9]+\/[A-Za-z0-9]{24}$/);
    expect(fake.secret).toBeUndefined();

    const res = await post(fake.url, { text: 'check *finished*' });

    expect(res.status).toBe(200);
    expect(res.text).toBe('ok');
    expect(fake.accepted.map((m) => m.body)).toEqual([{ text: 'check *finished*' }]);
  });

  it('accepts the form-encoded payload= variant', async () => {
    const fake = await pool.start({ platform: 'slack', clock: fakeClock().now });
    const form = 'payload=' + encodeURIComponent(JSON.stringify({ text: 'via form' }));
    const res = await post(fake.url, form, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.text).toBe('ok');
    expect(fake.accepted[0]!.body).toEqual({ text: 'via form' });
  });

  it('answers 404 no_service for an unknown hook path', async () => {
    const fake = await pool.start({ platform: 'slack', clock: fakeClock().now });
    const res = await post(fake.url.replace(/\/[A-Za-z0-9]{24}$/, '/revokedrevokedrevoked000'), {
      text: 'x',
    });
    expect(res.status).toBe(404);
    expect(res.text).toBe('no_service');
  });

  it('answers 400 invalid_payload for a body that is not JSON and 400 no_text for an empty message', async () => {
    const fake = await pool.start({ platform: 'slack', clock: fakeClock().now, rateLimit: false });
    const notJson = await post(fake.url, '{"text": "unterminated');
    const empty = await post(fake.url, { text: '  ', blocks: [] });
    expect([notJson.status, notJson.text]).toEqual([400, 'invalid_payload']);
    expect([empty.status, empty.text]).toEqual([400, 'no_text']);
    expect(fake.accepted).toHaveLength(0);
  });

  it.each([
    ['51 blocks', Array.from({ length: SLACK_LIMITS.maxBlocks + 1 }, () => ({ type: 'divider' }))],
    ['a section text over 3000 chars', [section('x'.repeat(SLACK_LIMITS.sectionText + 1))]],
    ['a header over 150 chars', [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }]],
    ['a mrkdwn header', [{ type: 'header', text: { type: 'mrkdwn', text: '*h*' } }]],
    [
      '11 fields',
      [{ type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) }],
    ],
    ['a field over 2000 chars', [{ type: 'section', fields: [{ type: 'mrkdwn', text: 'f'.repeat(2001) }] }]],
    ['an unknown block type', [{ type: 'sparkle' }]],
    ['a section with no text', [{ type: 'section' }]],
  ])('answers 400 invalid_blocks for %s', async (_name, blocks) => {
    const fake = await pool.start({ platform: 'slack', clock: fakeClock().now });
    const res = await post(fake.url, { text: 'fallback', blocks });
    expect(res.status).toBe(400);
    expect(res.text).toBe('invalid_blocks');
  });

  it('accepts blocks at the limits and answers msg_blocks_too_long past ~13,000 chars in total', async () => {
    const fake = await pool.start({ platform: 'slack', clock: fakeClock().now, rateLimit: false });
    const atLimits = [
      { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(150) } },
      section('s'.repeat(3000)),
      {
        type: 'section',
        fields: Array.from({ length: 10 }, () => ({ type: 'mrkdwn', text: 'f'.repeat(500) })),
      },
      ...Array.from({ length: 47 }, () => ({ type: 'divider' })),
    ];
    const ok = await post(fake.url, { text: 'fallback', blocks: atLimits });
    const tooLong = await post(fake.url, {
      text: 'fallback',
      blocks: Array.from({ length: 5 }, () => section('x'.repeat(2900))),
    });
    const notArray = await post(fake.url, { text: 'fallback', blocks: { type: 'divider' } });

    expect([ok.status, ok.text]).toEqual([200, 'ok']);
    expect([tooLong.status, tooLong.text]).toEqual([400, 'msg_blocks_too_long']);
    expect([notArray.status, notArray.text]).toEqual([400, 'invalid_blocks_format']);
  });

  it('answers 429 with Retry-After in seconds over one message a second', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'slack', clock: clock.now });
    const first = await post(fake.url, { text: 'one' });
    clock.advance(300);
    const second = await post(fake.url, { text: 'two' });
    clock.advance(700);
    const third = await post(fake.url, { text: 'three' });

    expect(first.text).toBe('ok');
    expect(second.status).toBe(429);
    expect(second.text).toBe('rate_limited');
    expect(second.headers['retry-after']).toBe('1');
    expect(third.text).toBe('ok');
    expect(fake.accepted.map((m) => (m.body as { text: string }).text)).toEqual(['one', 'three']);
  });
});
