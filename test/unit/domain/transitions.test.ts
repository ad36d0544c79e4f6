import { describe, expect, it } from 'vitest';
import type { CheckId, CheckSummary } from '../../../lib/domain/check';
import {
  decide,
  discover,
  DEFAULT_MAX_AGE_MS,
  type Decision,
  type KnownCheck,
  type Observation,
} from '../../../lib/domain/transitions';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const HOUR = 3_600_000;
const prev: KnownCheck = {
  status: 'Running',
  message: 'checking',
  watchedAt: T0,
  createdAt: '2025-01-01T00:00:00.123456789Z',
};

function seen(status: string, extra: Partial<CheckSummary> = {}): Observation {
  return {
    kind: 'seen',
    check: {
      checkId: 'x' as CheckId,
      type: 'ClusterUpgrade',
      status,
      message: 'checking',
      createdAt: '2025-01-01T00:00:00.123456789Z',
      finishedAt: '',
      ...extra,
    },
  };
}

const opts = { maxAgeMs: DEFAULT_MAX_AGE_MS };

describe('decide', () => {
  it.each<[string, KnownCheck, Observation, number, Decision]>([
    ['same status and message is unchanged', prev, seen('Running'), T0 + 5_000, { kind: 'unchanged' }],
    [
      'a new status while running is progress',
      prev,
      seen('Checking'),
      T0 + 5_000,
      { kind: 'progressed', status: 'Checking', message: 'checking' },
    ],
    [
      'a new message is progress',
      prev,
      seen('Running', { message: 'step 2/5' }),
      T0 + 5_000,
      { kind: 'progressed', status: 'Running', message: 'step 2/5' },
    ],
    [
      'Succeeded finishes as passed',
      prev,
      seen('Succeeded', { message: 'task succeed', finishedAt: '2025-01-01T00:04:00Z' }),
      T0 + 240_000,
      {
        kind: 'finished',
        outcome: 'passed',
        status: 'Succeeded',
        message: 'task succeed',
        finishedAt: '2025-01-01T00:04:00Z',
      },
    ],
    [
      'Failed finishes as failed',
      prev,
      seen('Failed', { finishedAt: 'f' }),
      T0 + 1,
      { kind: 'finished', outcome: 'failed', status: 'Failed', message: 'checking', finishedAt: 'f' },
    ],
    [
      'status comparison ignores case (ecctl compares case-insensitively)',
      prev,
      seen('SUCCEEDED'),
      T0 + 1,
      { kind: 'finished', outcome: 'passed', status: 'SUCCEEDED', message: 'checking', finishedAt: '' },
    ],
    [
      'Canceled counts as a failed finish',
      prev,
      seen('Canceled'),
      T0 + 1,
      { kind: 'finished', outcome: 'failed', status: 'Canceled', message: 'checking', finishedAt: '' },
    ],
    [
      'an unknown status is kept verbatim as progress, not rejected',
      prev,
      seen('Quarantined-42'),
      T0 + 1,
      { kind: 'progressed', status: 'Quarantined-42', message: 'checking' },
    ],
    [
      'an unknown status past the maximum age gives up',
      { ...prev, status: 'Quarantined-42' },
      seen('Quarantined-42'),
      T0 + 25 * HOUR,
      { kind: 'gave_up', status: 'Quarantined-42', ageMs: 25 * HOUR - 123 },
    ],
    [
      'a 404 on the check is vanished',
      prev,
      { kind: 'missing' },
      T0 + 1,
      { kind: 'vanished', reason: 'check-not-found' },
    ],
    [
      'a 404 on the cluster is vanished',
      prev,
      { kind: 'cluster-missing' },
      T0 + 1,
      { kind: 'vanished', reason: 'cluster-not-found' },
    ],
    ['a failed poll is unchanged', prev, { kind: 'failed' }, T0 + HOUR, { kind: 'unchanged' }],
    [
      'failed polls past the maximum age give up with the last known status',
      prev,
      { kind: 'failed' },
      T0 + 24 * HOUR + 1_000,
      { kind: 'gave_up', status: 'Running', ageMs: 24 * HOUR + 1_000 - 123 },
    ],
    [
      'a finish observed after the maximum age is still a finish, not a give-up',
      prev,
      seen('Succeeded'),
      T0 + 30 * HOUR,
      { kind: 'finished', outcome: 'passed', status: 'Succeeded', message: 'checking', finishedAt: '' },
    ],
  ])('%s', (_name, known, observation, now, expected) => {
    expect(decide(known, observation, now, opts)).toEqual(expected);
  });

  it('measures age from when we started watching when ACK gives no created_at', () => {
    const known = { ...prev, createdAt: '' };
    expect(decide(known, seen('Running', { createdAt: '' }), T0 + 2 * HOUR, { maxAgeMs: HOUR })).toEqual({
      kind: 'gave_up',
      status: 'Running',
      ageMs: 2 * HOUR,
    });
  });
});

describe('discover', () => {
  const summary = (id: string, status = 'Running'): CheckSummary => ({
    checkId: id as CheckId,
    type: 'ClusterUpgrade',
    status,
    message: '',
    createdAt: '',
    finishedAt: '',
  });

  it('returns only checks outside the baseline, once each', () => {
    const found = discover(new Set(['old-1', 'old-2']), [
      summary('old-1'),
      summary('new-1'),
      summary('new-1'),
      summary('old-2'),
    ]);
    expect(found.map((c) => c.checkId)).toEqual(['new-1']);
  });

  it('returns a check that started and finished between two listings', () => {
    const found = discover(new Set(['old-1']), [summary('old-1', 'Succeeded'), summary('quick', 'Failed')]);
    expect(found).toEqual([summary('quick', 'Failed')]);
  });
});
