import { describe, expect, it } from 'vitest';
import { sampleMessage, verdictText } from '../../../lib/cli/channels';
import { loadConfig } from '../../../lib/config';

describe('channels test verdicts', () => {
  it('says the platform accepted the message, with its own text', () => {
    expect(verdictText('dingtalk', { kind: 'delivered', platformCode: 0, platformText: 'ok' })).toBe(
      'DingTalk accepted the message (ok).',
    );
  });

  it('gives the channel hint and the platform text for a permanent refusal', () => {
    expect(
      verdictText('dingtalk', {
        kind: 'permanent',
        platformCode: 310000,
        platformText: 'sign not match',
        hint: 'DingTalk refused: sign not match — check the secret and the machine clock',
      }),
    ).toBe(
      'DingTalk refused: sign not match — check the secret and the machine clock (the platform said: sign not match)',
    );
  });

  it('says a retryable answer would be retried and whether the message may have arrived', () => {
    const text = verdictText('slack', {
      kind: 'retry',
      at: 0,
      reason: 'Slack rate limit (HTTP 429)',
      platformText: 'rate_limited',
      unknownOutcome: true,
    });
    expect(text).toContain('Slack did not take the message now: Slack rate limit (HTTP 429)');
    expect(text).toContain('may have arrived anyway');
  });

  it('samples a failed check with a failing item on the first configured cluster', () => {
    const { config } = loadConfig({
      env: {
        CHECKWATCH_CONFIG: JSON.stringify({
          clusters: { c0aaaaaaaaaaaaaa: { name: 'prod', region: 'cn-beijing' } },
        }),
      },
    });
    const msg = sampleMessage(config, Date.parse('2025-01-01T00:00:00Z'));
    expect(msg).toMatchObject({
      outcome: 'failed',
      clusterId: 'c0aaaaaaaaaaaaaa',
      clusterName: 'prod',
      region: 'cn-beijing',
    });
    expect(msg.summary.failing).toHaveLength(1);
  });
});
