import { describe, expect, it } from 'vitest';
import { dingtalkSign, dingtalkSignedUrl } from '../../../lib/channels/dingtalk';
import { feishuSign } from '../../../lib/channels/feishu';
import { webhookSignature } from '../../../lib/channels/webhook';

// Vectors from shared/reference/chat-channels.md.
describe('signatures', () => {
  it('signs DingTalk with HMAC-SHA256(secret, "ts\\nsecret") over a millisecond timestamp', () => {
    expect(dingtalkSign(1_700_000_000_000, 'this is secret')).toBe(
      'sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0=',
    );
  });

  it('URL-encodes the DingTalk sign in the query so "=" and "+" survive', () => {
    const url = dingtalkSignedUrl(
      'https://oapi.dingtalk.com/robot/send?access_token=abc',
      1_700_000_000_000,
      'this is secret',
    );
    expect(url).toBe(
      'https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign=sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0%3D',
    );
  });

  it('leaves the DingTalk URL unsigned when no secret is configured', () => {
    expect(dingtalkSignedUrl('https://oapi.dingtalk.com/robot/send?access_token=abc', 1, undefined)).toBe(
      'https://oapi.dingtalk.com/robot/send?access_token=abc',
    );
  });

  it('signs Feishu with the key "ts\\nsecret" over an empty message and a timestamp in seconds', () => {
    expect(feishuSign(1_700_000_000, 'this is secret')).toBe('OfGzRzoUICBOoc8wVra1e4A1hPfbZ9zqXozA8CWVUuY=');
  });

  it('signs webhooks the Standard Webhooks way (Svix vector)', () => {
    expect(
      webhookSignature(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1_614_265_330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});
