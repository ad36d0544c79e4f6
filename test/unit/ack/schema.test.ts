import { describe, expect, it } from 'vitest';
import { parseCheckDetail, parseCheckList, parseRunResult } from '../../../lib/ack/schema';

const ID = '1697100584236600453-ce0da5a1d627e4e9e9f96cae8ad07abcd-clustercheck-lboto';
const DOC_SAMPLE = {
  check_id: ID,
  type: 'ClusterUpgrade',
  status: 'Succeeded',
  message: 'task succeed',
  created_at: '2023-10-16T08:31:20.292030178Z',
  finished_at: '2023-10-16T08:35:20.292030178Z',
  check_items: { key: [{ test: 'test', test2: 1 }] },
};

describe('GetClusterCheck response', () => {
  it('parses the documented sample, keeping timestamps verbatim', () => {
    const r = parseCheckDetail(DOC_SAMPLE);
    expect(r).toEqual({
      ok: true,
      value: {
        checkId: ID,
        type: 'ClusterUpgrade',
        status: 'Succeeded',
        message: 'task succeed',
        createdAt: '2023-10-16T08:31:20.292030178Z',
        finishedAt: '2023-10-16T08:35:20.292030178Z',
        checkItems: { key: [{ test: 'test', test2: 1 }] },
      },
    });
  });

  it('keeps an unknown status verbatim instead of rejecting it', () => {
    const r = parseCheckDetail({ ...DOC_SAMPLE, status: 'WaitingForApproval' });
    expect(r.ok && r.value.status).toBe('WaitingForApproval');
  });

  it.each([[null], ['text'], [42], [[]], [[{ odd: true }]], [{ a: { b: [1, { c: null }] } }]])(
    'accepts check_items of any shape (%j)',
    (items) => {
      const r = parseCheckDetail({ ...DOC_SAMPLE, check_items: items });
      expect(r.ok && r.value.checkItems).toEqual(items);
    },
  );

  it('reads missing or null descriptive fields as empty and ignores unknown keys', () => {
    const r = parseCheckDetail({ check_id: ID, status: 'Running', finished_at: null, extra: { x: 1 } });
    expect(r).toEqual({
      ok: true,
      value: {
        checkId: ID,
        type: '',
        status: 'Running',
        message: '',
        createdAt: '',
        finishedAt: '',
        checkItems: null,
      },
    });
  });

  it.each([
    ['no check_id', { status: 'Running' }, 'check_id'],
    ['a check id with a slash', { check_id: 'a/b', status: 'Running' }, 'check_id'],
    ['no status', { check_id: ID }, 'status'],
    ['a numeric status', { check_id: ID, status: 3 }, 'status'],
    ['an array body', [], '(root)'],
    ['a string body', 'ok', '(root)'],
  ])('rejects %s, naming the field', (_what, body, field) => {
    const r = parseCheckDetail(body);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issue.startsWith(field)).toBe(true);
  });
});

describe('ListClusterChecks response', () => {
  it('returns summaries without check_items', () => {
    const { check_items: _, ...summary } = DOC_SAMPLE;
    const r = parseCheckList({ checks: [summary, { ...summary, check_id: `${ID}x`, status: 'Running' }] });
    expect(r.ok && r.value.map((c) => [c.checkId, c.status])).toEqual([
      [ID, 'Succeeded'],
      [`${ID}x`, 'Running'],
    ]);
    expect(r.ok && 'checkItems' in (r.value[0] ?? {})).toBe(false);
  });

  it.each([{ checks: [] }, { checks: null }, {}])('reads an empty cluster (%j) as no checks', (body) => {
    expect(parseCheckList(body)).toEqual({ ok: true, value: [] });
  });

  it('rejects a list whose entry lacks a check id', () => {
    const r = parseCheckList({ checks: [{ status: 'Running' }] });
    expect(!r.ok && r.issue).toMatch(/^checks\.0\.check_id/);
  });

  it('rejects checks that is not an array', () => {
    expect(parseCheckList({ checks: 'none' }).ok).toBe(false);
  });
});

describe('RunClusterCheck response', () => {
  it('returns the new check id and request id', () => {
    expect(parseRunResult({ request_id: 'F04DF81D', check_id: ID })).toEqual({
      ok: true,
      value: { checkId: ID, requestId: 'F04DF81D' },
    });
  });

  it('tolerates a missing request id but not a missing check id', () => {
    expect(parseRunResult({ check_id: ID })).toEqual({ ok: true, value: { checkId: ID, requestId: '' } });
    expect(parseRunResult({ request_id: 'x' }).ok).toBe(false);
  });
});
