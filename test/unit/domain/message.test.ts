import { describe, expect, it } from 'vitest';
import { consoleUrl, durationOf, formatDuration, itemCountsText } from '../../../lib/domain/message';
import { summarizeCheckItems } from '../../../lib/domain/check-items';
import { ACK_ITEMS, checkMessage } from '../channels/fixtures';

describe('message model', () => {
  it('links the cluster overview in the ACK console with the region', () => {
    expect(consoleUrl('cn-hangzhou', 'c123abc')).toBe(
      'https://cs.console.aliyun.com/#/k8s/cluster/c123abc/v2/info/overview?region=cn-hangzhou',
    );
  });

  it('encodes ids so a hostile id cannot change the link target', () => {
    expect(consoleUrl('cn?x', 'a/../b')).not.toContain('/../');
  });

  it.each([
    [0, '0s', '0秒'],
    [16_000, '16s', '16秒'],
    [240_000, '4m 0s', '4分0秒'],
    [3_723_000, '1h 2m', '1小时2分'],
    [90_000_000, '1d 1h', '1天1小时'],
  ])('formats %i ms as %s / %s', (ms, en, zh) => {
    expect(formatDuration(ms, 'en')).toBe(en);
    expect(formatDuration(ms, 'zh')).toBe(zh);
  });

  it('derives the duration from ACK timestamps with nanoseconds when none is given', () => {
    expect(durationOf(checkMessage('passed'))).toBe(240_000);
    expect(durationOf(checkMessage('passed', { durationMs: 5 }))).toBe(5);
    expect(durationOf(checkMessage('vanished'))).toBeUndefined();
  });

  it('summarises counts, worst level first, and says when the format was not recognised', () => {
    expect(itemCountsText(summarizeCheckItems(ACK_ITEMS), 'en')).toBe(
      '5 checked: 1 error, 1 warning, 1 advice, 2 normal',
    );
    expect(itemCountsText(summarizeCheckItems({ k: [{ a: 1 }, { b: 2 }] }), 'en')).toBe(
      '2 check items (format not recognised)',
    );
    expect(itemCountsText(summarizeCheckItems(undefined), 'zh')).toBe('未返回检查项');
  });
});
