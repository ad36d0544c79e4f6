import { describe, expect, it } from 'vitest';
import type { CheckDetail, CheckId, CheckSummary } from '../../../lib/domain/check';
import {
  checkDetailJson,
  checkSummaryJson,
  durationText,
  formatCheckDetail,
  formatCheckList,
  formatDuration,
  formatTime,
  statusText,
} from '../../../lib/cli/format';

const CLUSTER = 'c0123456789abcdef0123456789abcdef';
const CHECK = `1697100584236600453-${CLUSTER}-clustercheck-lboto` as CheckId;

/** The GetClusterCheck doc sample (reference/ack-api.md), in checkwatch's model. */
const DOC_SAMPLE: CheckDetail = {
  checkId: CHECK,
  type: 'ClusterUpgrade',
  status: 'Succeeded',
  message: 'task succeed',
  createdAt: '2023-10-16T08:31:20.292030178Z',
  finishedAt: '2023-10-16T08:35:20.292030178Z',
  checkItems: { key: [{ test: 'test', test2: 1 }] },
};

const FAILED: CheckDetail = {
  ...DOC_SAMPLE,
  status: 'Failed',
  message: 'check failed',
  checkItems: {
    APIServiceCheck: [
      {
        Group: 'ClusterResource',
        Level: {
          error: {
            Message: 'APIService v1beta1.metrics.k8s.io is unavailable',
            Targets: [{ Target: 'v1beta1.metrics.k8s.io' }],
          },
        },
      },
    ],
    DeprecatedAPI: [
      {
        Group: 'ClusterResource',
        Level: { warning: { Message: 'deprecated API in use', Targets: [{ Target: 'a' }, { Target: 'b' }] } },
      },
    ],
    NodeReady: [{ Group: 'Node', Level: { normal: { Message: '', Targets: [{ Target: 'node-1' }] } } }],
  },
};

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [850, '850ms'],
    [16_000, '16s'],
    [240_000, '4m 0s'],
    [65_400, '1m 5s'],
    [3_780_000, '1h 3m'],
    [97_200_000, '1d 3h'],
    [-5, '0ms'],
  ])('renders %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatTime', () => {
  it('shows an ACK nanosecond timestamp to the second in UTC', () => {
    expect(formatTime('2023-10-16T08:31:20.292030178Z')).toBe('2023-10-16 08:31:20 UTC');
  });
  it('shows a dash for an absent timestamp and keeps an unparseable one verbatim', () => {
    expect(formatTime('')).toBe('-');
    expect(formatTime('yesterday')).toBe('yesterday');
  });
});

describe('statusText and durationText', () => {
  it('marks succeeded, failed and unknown statuses with distinct symbols', () => {
    expect(statusText('Succeeded')).toBe('✔ Succeeded');
    expect(statusText('FAILED')).toBe('✖ FAILED');
    expect(statusText('Pending')).toBe('… Pending');
    expect(statusText('')).toBe('… (no status)');
  });

  it('says how long a finished check took and how long a running one has been running', () => {
    expect(durationText(DOC_SAMPLE, 0)).toBe('took 4m 0s');
    const running: CheckSummary = { ...DOC_SAMPLE, status: 'Running', finishedAt: '' };
    const created = Date.parse('2023-10-16T08:31:20.292Z');
    expect(durationText(running, created + 12_000)).toBe('running for 12s');
  });
});

describe('formatCheckDetail', () => {
  it('renders the documented sample with status, timing, message and an honest item count', () => {
    const text = formatCheckDetail(CLUSTER, DOC_SAMPLE, 0);
    expect(text.split('\n')[0]).toBe('✔ Succeeded  ClusterUpgrade check');
    expect(text).toContain(`check     ${CHECK}`);
    expect(text).toContain(`cluster   ${CLUSTER}`);
    expect(text).toContain('created   2023-10-16 08:31:20 UTC');
    expect(text).toContain('finished  2023-10-16 08:35:20 UTC (took 4m 0s)');
    expect(text).toContain('message   task succeed');
    // The sample's items have no Level: counted, not invented.
    expect(text).toContain('items     1 check item (unrecognised format; see --json)');
  });

  it('lists counts per level and every non-normal item, worst first, with group, message and targets', () => {
    const text = formatCheckDetail(CLUSTER, FAILED, 0);
    expect(text.split('\n')[0]).toBe('✖ Failed  ClusterUpgrade check');
    expect(text).toContain('items     3 items: 1 error, 1 warning, 1 normal');
    const errorAt = text.indexOf('✖ error   ClusterResource / APIServiceCheck');
    const warningAt = text.indexOf('⚠ warning ClusterResource / DeprecatedAPI');
    expect(errorAt).toBeGreaterThan(0);
    expect(warningAt).toBeGreaterThan(errorAt);
    expect(text).toContain('APIService v1beta1.metrics.k8s.io is unavailable');
    expect(text).toContain('targets: v1beta1.metrics.k8s.io');
    expect(text).toContain('targets: a, b');
    expect(text).not.toContain('NodeReady');
  });

  it('shows a running check with its elapsed time and no finished line', () => {
    const running: CheckDetail = { ...DOC_SAMPLE, status: 'Running', finishedAt: '', checkItems: {} };
    const text = formatCheckDetail(CLUSTER, running, Date.parse('2023-10-16T08:32:20.292Z'));
    expect(text).toContain('duration  running for 1m 0s');
    expect(text).not.toContain('finished');
    expect(text).toContain('items     none reported');
  });

  it('does not fail on check_items of an unexpected shape', () => {
    for (const checkItems of [null, 'text', 42, [1, 2], { a: 'b' }]) {
      expect(() => formatCheckDetail(CLUSTER, { ...DOC_SAMPLE, checkItems }, 0)).not.toThrow();
    }
  });
});

describe('formatCheckList', () => {
  it('prints a table newest first with a count line', () => {
    const older: CheckSummary = { ...DOC_SAMPLE, checkId: 'older-check' as CheckId };
    const newer: CheckSummary = {
      ...DOC_SAMPLE,
      checkId: 'newer-check' as CheckId,
      type: 'NodePoolUpgrade',
      status: 'Running',
      createdAt: '2023-10-17T00:00:00Z',
      finishedAt: '',
    };
    const lines = formatCheckList(CLUSTER, [older, newer], Date.parse('2023-10-17T00:00:30Z')).split('\n');
    expect(lines[0]).toMatch(/^STATUS\s+TYPE\s+CREATED\s+DURATION\s+CHECK ID$/);
    expect(lines[1]).toMatch(
      /^… Running\s+NodePoolUpgrade\s+2023-10-17 00:00:00 UTC\s+running for 30s\s+newer-check$/,
    );
    expect(lines[2]).toMatch(
      /^✔ Succeeded\s+ClusterUpgrade\s+2023-10-16 08:31:20 UTC\s+took 4m 0s\s+older-check$/,
    );
    expect(lines.at(-1)).toBe(`2 checks on cluster ${CLUSTER}`);
  });

  it('says so when a cluster has no checks', () => {
    expect(formatCheckList(CLUSTER, [], 0)).toBe(`No checks on cluster ${CLUSTER}.`);
  });
});

describe('JSON output', () => {
  it("uses ACK's own field names so --json matches the API response", () => {
    expect(checkDetailJson(DOC_SAMPLE)).toEqual({
      check_id: CHECK,
      type: 'ClusterUpgrade',
      status: 'Succeeded',
      message: 'task succeed',
      created_at: '2023-10-16T08:31:20.292030178Z',
      finished_at: '2023-10-16T08:35:20.292030178Z',
      check_items: { key: [{ test: 'test', test2: 1 }] },
    });
    expect(checkSummaryJson(DOC_SAMPLE)).not.toHaveProperty('check_items');
  });
});
