import { describe, expect, it } from 'vitest';
import { summarizeCheckItems } from '../../../lib/domain/check-items';
import type { CheckId, ClusterId } from '../../../lib/domain/check';
import { checkMessageOf, summaryOf } from '../../../lib/notify/message';
import type { CheckRecord } from '../../../lib/store/store';

const RECORD: CheckRecord & { outcome: 'gave_up' } = {
  clusterId: 'c-prod-hz-001' as ClusterId,
  checkId: 'chk-1' as CheckId,
  region: 'cn-hangzhou',
  routes: ['all'],
  source: 'watch',
  status: 'Running',
  message: '',
  type: '',
  target: '',
  createdAt: '',
  finishedAt: '',
  watchedAt: 1_000,
  lastChangeAt: 61_000,
  outcome: 'gave_up',
  dispatchCount: 1,
  version: 3,
};

describe('summaryOf', () => {
  it('keeps a summary written by summarizeCheckItems', () => {
    const s = summarizeCheckItems({
      a: [{ Group: 'g', Level: { error: { Message: 'bad', Targets: [{ Target: 'n1' }] } } }],
    });
    expect(summaryOf(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it.each([undefined, null, 'text', [], { total: 'x' }, { total: 1, counts: {}, failing: [], omitted: 0 }])(
    'reads %j as an empty summary rather than failing the message',
    (raw) => {
      expect(summaryOf(raw)).toMatchObject({ total: 0, recognised: false, failing: [] });
    },
  );

  it('drops malformed failing items and keeps the rest', () => {
    const s = summarizeCheckItems({
      a: [{ Group: 'g', Level: { error: { Message: 'bad', Targets: [] } } }],
    });
    const raw = { ...s, failing: [...s.failing, { name: 3 }, null] };
    expect(summaryOf(raw).failing).toEqual(s.failing);
  });
});

describe('checkMessageOf', () => {
  it('names the cluster from configuration, says "check" for an unknown type and shows how long we watched', () => {
    const msg = checkMessageOf(RECORD, { 'c-prod-hz-001': 'prod' });
    expect(msg).toMatchObject({
      outcome: 'gave_up',
      clusterName: 'prod',
      type: 'check',
      target: undefined,
      durationMs: 60_000,
    });
    expect(msg.consoleUrl).toContain('c-prod-hz-001');
  });

  it('does not take a display name from an inherited property', () => {
    expect(checkMessageOf({ ...RECORD, clusterId: 'constructor' as ClusterId }).clusterName).toBeUndefined();
  });
});
