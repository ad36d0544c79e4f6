import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHECK_ITEM_LIMITS, summarizeCheckItems } from '../../../lib/domain/check-items';
import { ACK_ITEMS, hugeItems } from '../channels/fixtures';

describe('summarizeCheckItems', () => {
  it('counts the documented Group/Level shape per level and lists non-normal items worst first', () => {
    const s = summarizeCheckItems(ACK_ITEMS);
    expect(s.recognised).toBe(true);
    expect(s.total).toBe(5);
    expect(s.counts).toEqual({ error: 1, warning: 1, advice: 1, normal: 2, unknown: 0 });
    expect(s.failing.map((f) => [f.name, f.level])).toEqual([
      ['NodeDiskPressure', 'error'],
      ['DeprecatedAPIs', 'warning'],
      ['PodDisruptionBudget', 'advice'],
    ]);
    expect(s.failing[0]).toMatchObject({
      group: 'NodeHealth',
      message: 'disk usage 95% on the root volume exceeds 85%',
      targets: ['cn-hangzhou.10.0.0.1', 'cn-hangzhou.10.0.0.2'],
    });
    expect(s.omitted).toBe(0);
  });

  it('counts the doc sample it cannot read as unrecognised items instead of failing', () => {
    const s = summarizeCheckItems({ key: [{ test: 'test', test2: 1 }] });
    expect(s).toMatchObject({ total: 1, recognised: false, counts: { unknown: 1 } });
  });

  it.each([
    ['undefined', undefined, 0],
    ['null', null, 0],
    ['an empty object', {}, 0],
    ['a string', 'weird', 1],
    ['a number', 42, 1],
    ['an array of strings', ['a', 'b'], 2],
    ['a map of non-arrays', { a: 1, b: { Level: 'error', Message: 'flat' } }, 2],
  ])('never throws on %s', (_name, raw, total) => {
    const s = summarizeCheckItems(raw);
    expect(s.total).toBe(total);
  });

  it('reads the flat variant { Level: "error", Message, Targets: [strings] } case-insensitively', () => {
    const s = summarizeCheckItems({ x: [{ level: 'ERROR', message: 'boom', targets: ['a', 'b'] }] });
    expect(s.recognised).toBe(true);
    expect(s.failing[0]).toMatchObject({ level: 'error', message: 'boom', targets: ['a', 'b'] });
  });

  it('takes the worst level when an item carries several', () => {
    const s = summarizeCheckItems({ x: [{ Level: { normal: {}, warning: { Message: 'w' }, advice: {} } }] });
    expect(s.failing[0]).toMatchObject({ level: 'warning', message: 'w' });
  });

  it('caps items, messages and targets when ACK returns 5000 failing items', () => {
    const s = summarizeCheckItems(hugeItems(5000));
    expect(s.total).toBe(5000);
    expect(s.failing).toHaveLength(CHECK_ITEM_LIMITS.failingItems);
    expect(s.omitted).toBe(5000 - CHECK_ITEM_LIMITS.failingItems);
    expect(s.failing.every((f) => f.level === 'error')).toBe(true);
    for (const f of s.failing) {
      expect(Array.from(f.message).length).toBeLessThanOrEqual(CHECK_ITEM_LIMITS.messageChars);
      expect(f.targets.length).toBeLessThanOrEqual(CHECK_ITEM_LIMITS.targetsPerItem);
      expect(f.moreTargets).toBe(5);
    }
  });

  it('survives a getter that throws', () => {
    const evil = {
      get a(): unknown {
        throw new Error('boom');
      },
    };
    expect(summarizeCheckItems(evil).total).toBe(0);
  });

  it('never throws and keeps counts consistent for arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => {
        const s = summarizeCheckItems(raw);
        const sum = Object.values(s.counts).reduce((a, b) => a + b, 0);
        expect(sum).toBe(s.total);
        expect(s.failing.length + s.omitted).toBe(s.total - s.counts.normal);
        expect(s.failing.length).toBeLessThanOrEqual(CHECK_ITEM_LIMITS.failingItems);
      }),
      { numRuns: 300 },
    );
  });
});
