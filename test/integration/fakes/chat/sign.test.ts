import { describe, expect, it } from 'vitest';
import { dingtalkSign, feishuSign, standardWebhookSign } from '../../../fakes/chat/index';

// Vectors from /work/shared/reference/chat-channels.md: the fakes are the channels' oracle, so their
// own signing must match the platforms' published examples.
describe('chat fake signatures', () => {
  it('computes the DingTalk reference sign (ms timestamp, key = secret)', () => {
    const sign = dingtalkSign(1_700_000_000_000, 'this is secret');
    expect(sign).toBe('sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0=');
    expect(encodeURIComponent(sign)).toBe('sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0%3D');
  });

  it('computes the Feishu reference sign (seconds, key = ts\\nsecret, empty message)', () => {
    expect(feishuSign(1_700_000_000, 'this is secret')).toBe('OfGzRzoUICBOoc8wVra1e4A1hPfbZ9zqXozA8CWVUuY=');
  });

  it('computes the Standard Webhooks reference signature from the Svix docs', () => {
    expect(
      standardWebhookSign(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1_614_265_330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});
