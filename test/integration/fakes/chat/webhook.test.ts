import { afterEach, describe, expect, it } from 'vitest';
import type { ChatFake } from '../../../fakes/chat/index';
import { standardWebhookSign } from '../../../fakes/chat/index';
import { fakeClock, fakes, post } from './helpers';

const pool = fakes();
afterEach(() => pool.closeAll());

function headers(fake: ChatFake, id: string, tsSeconds: number, body: string, secret = fake.secret!) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(tsSeconds),
    'webhook-signature': standardWebhookSign(secret, id, tsSeconds, body),
  };
}

describe('Standard Webhooks receiver fake', () => {
  it('answers 204 to a correctly signed delivery and records its webhook-id', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'webhook', clock: clock.now });
    expect(fake.secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    expect(fake.url).toMatch(/\/hook$/);
    const body = JSON.stringify({ type: 'check.finished', data: { checkId: 'c-1' } });

    const first = await post(fake.url, body, headers(fake, 'msg_1', clock.now() / 1000, body));
    const retry = await post(fake.url, body, headers(fake, 'msg_1', clock.now() / 1000 + 30, body));

    expect(first.status).toBe(204);
    expect(retry.status).toBe(204);
    expect(fake.accepted.map((m) => m.headers['webhook-id'])).toEqual(['msg_1', 'msg_1']);
    expect(fake.accepted[0]!.body).toEqual({ type: 'check.finished', data: { checkId: 'c-1' } });
  });

  it('answers 401 to a signature made with another secret or over a re-serialised body', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'webhook', clock: clock.now });
    const ts = clock.now() / 1000;
    const body = '{"a":1}';
    const other = await post(
      fake.url,
      body,
      headers(fake, 'm', ts, body, 'whsec_' + Buffer.from('other').toString('base64')),
    );
    const reserialised = await post(fake.url, '{"a": 1}', headers(fake, 'm', ts, body));
    expect(other.status).toBe(401);
    expect(reserialised.status).toBe(401);
    expect(fake.accepted).toHaveLength(0);
  });

  it('answers 401 to a timestamp more than five minutes off and to missing headers', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'webhook', clock: clock.now });
    const body = '{}';
    const now = clock.now() / 1000;
    const old = await post(fake.url, body, headers(fake, 'm', now - 301, body));
    const future = await post(fake.url, body, headers(fake, 'm', now + 301, body));
    const edge = await post(fake.url, body, headers(fake, 'm', now - 300, body));
    const bare = await post(fake.url, body);
    expect([old.status, old.text]).toEqual([401, 'Message timestamp too old']);
    expect(future.status).toBe(401);
    expect(edge.status).toBe(204);
    expect(bare.status).toBe(401);
  });

  it('accepts when one of several space-separated signatures matches (key rotation)', async () => {
    const clock = fakeClock();
    const fake = await pool.start({ platform: 'webhook', clock: clock.now });
    const body = '{"x":true}';
    const h = headers(fake, 'm', clock.now() / 1000, body);
    const res = await post(fake.url, body, {
      ...h,
      'webhook-signature': `v1,bm90IGl0 ${h['webhook-signature']}`,
    });
    expect(res.status).toBe(204);
  });

  it('answers 404 for another path', async () => {
    const fake = await pool.start({ platform: 'webhook', clock: fakeClock().now });
    const res = await post(fake.url.replace(/\/hook$/, '/other'), '{}');
    expect(res.status).toBe(404);
  });
});
