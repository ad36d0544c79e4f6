import { describe, expect, it } from 'vitest';
import type { ApiCheck } from '../../../lib/cli/backend';
import { apiCheckSchema } from '../../../lib/cli/backend';
import { deliveriesText, exitCodeFor, isSettled, progressLine } from '../../../lib/cli/wait';

const NOW = Date.parse('2025-01-01T00:10:00Z');

function view(over: Partial<ApiCheck> = {}): ApiCheck {
  return apiCheckSchema.parse({
    cluster_id: 'c0123456789abcdef0123456789abcdef',
    check_id: '1-c0123456789abcdef0123456789abcdef-clustercheck-abcde',
    state: 'watching',
    region: 'cn-hangzhou',
    routes: ['team'],
    source: 'run',
    type: 'ClusterUpgrade',
    target: null,
    status: 'Running',
    message: '',
    outcome: null,
    created_at: '2025-01-01T00:09:30.123456789Z',
    finished_at: null,
    watched_at: '2025-01-01T00:09:31.000Z',
    summary: null,
    ...over,
  });
}

describe('--wait progress', () => {
  it.each([
    ['passed', 0],
    ['failed', 1],
    ['gave_up', 1],
    ['vanished', 1],
  ] as const)('exits %s → %i', (outcome, code) => {
    expect(exitCodeFor(outcome)).toBe(code);
  });

  it('is settled only once the check is archived (finished and notified)', () => {
    expect(isSettled(view())).toBe(false);
    expect(isSettled(view({ state: 'notifying', outcome: 'passed', status: 'Succeeded' }))).toBe(false);
    expect(isSettled(view({ state: 'done', outcome: 'passed', status: 'Succeeded' }))).toBe(true);
  });

  it('shows the status and how long the check has been running', () => {
    expect(progressLine(view(), NOW).text).toBe('… ClusterUpgrade Running for 29s');
  });

  it('does not count a check nobody has polled yet as running', () => {
    expect(progressLine(view({ status: null }), NOW).text).toBe(
      '… ClusterUpgrade waiting for the first poll',
    );
  });

  it('keeps the same key while only the elapsed time changes, so a pipe gets one line per change', () => {
    expect(progressLine(view(), NOW).key).toBe(progressLine(view(), NOW + 5_000).key);
    expect(progressLine(view(), NOW).key).not.toBe(progressLine(view({ status: 'Succeeded' }), NOW).key);
  });

  it('names every delivery and the platform text of a failing one', () => {
    const v = view({
      state: 'notifying',
      status: 'Failed',
      outcome: 'failed',
      deliveries: [
        {
          channel: 'ding',
          state: 'delivered',
          attempts: 1,
          last_error: null,
          sent_at: '2025-01-01T00:10:00Z',
        },
        { channel: 'slack', state: 'retry', attempts: 1, last_error: 'rate_limited', sent_at: null },
      ],
    });
    expect(deliveriesText(v)).toBe('ding delivered, slack retry (rate_limited)');
    expect(progressLine(v, NOW).text).toBe(
      '✖ failed (Failed) — notifying: ding delivered, slack retry (rate_limited)',
    );
  });
});
