import { describe, expect, it } from 'vitest';
import { classifyStatus, parseAckTime } from '../../../lib/domain/check';
import { GO_ZERO_TIME, RUNNING_STATUS, SimModel, makeCheckId, rfc3339Nano } from '../../../lib/sim/model';
import { deriveRng, mulberry32 } from '../../../lib/sim/rng';

const CLUSTER = 'c0123456789abcdef0123456789abcdef';
const CHECK_ID = /^\d{19}-c0123456789abcdef0123456789abcdef-clustercheck-[a-z]{5}$/;
const NANO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;

describe('simulated ids and timestamps', () => {
  it('formats check ids as <19-digit ns>-<cluster>-clustercheck-<5 lowercase>', () => {
    const id = makeCheckId(CLUSTER, Date.parse('2023-10-12T08:49:44.236Z'), 600453, mulberry32(1));
    expect(id).toMatch(CHECK_ID);
    expect(id.startsWith('1697100584236600453-')).toBe(true);
  });

  it('writes RFC 3339 with nanoseconds that the domain parser reads back', () => {
    const ms = Date.parse('2023-10-16T08:31:20.292Z');
    const text = rfc3339Nano(ms, 30178);
    expect(text).toBe('2023-10-16T08:31:20.292030178Z');
    expect(parseAckTime(text)).toBe(ms);
  });
});

describe('SimModel lifecycle', () => {
  it('reports Running, then the outcome once the duration has passed', () => {
    let now = 1_700_000_000_000;
    const model = new SimModel(7, () => now, 8000);
    const check = model.add({ clusterId: CLUSTER, outcome: 'Failed' });
    expect(check.checkId).toMatch(CHECK_ID);
    expect(model.summary(check)).toMatchObject({ status: RUNNING_STATUS, finished_at: GO_ZERO_TIME });
    expect(model.items(check)).toEqual({});
    now += 7999;
    expect(model.statusOf(check)).toBe(RUNNING_STATUS);
    now += 1;
    const done = model.summary(check);
    expect(done).toMatchObject({ status: 'Failed', message: 'task failed' });
    expect(done.created_at).toMatch(NANO);
    expect(done.finished_at).toMatch(NANO);
    expect(parseAckTime(done.finished_at)).toBe(now);
  });

  it('finishes a check early with another outcome when forced', () => {
    const now = 1_700_000_000_000;
    const model = new SimModel(7, () => now, 60_000);
    const check = model.add({ clusterId: CLUSTER });
    model.finish(CLUSTER, check.checkId, 'Cancelled');
    expect(model.statusOf(check)).toBe('Cancelled');
    expect(check.finishAtMs).toBe(now);
  });

  it('throws an InputError when finishing an unknown check', () => {
    const model = new SimModel(7, () => 0, 1);
    expect(() => {
      model.finish(CLUSTER, 'nope', 'Failed');
    }).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }) as Error);
  });

  it('gives failed checks failing items and succeeded checks none', () => {
    const now = 1_700_000_000_000;
    const model = new SimModel(3, () => now, 0);
    for (let i = 0; i < 30; i++) {
      const failed = model.add({ clusterId: CLUSTER, outcome: 'Failed' });
      const ok = model.add({ clusterId: CLUSTER, outcome: 'Succeeded' });
      const levels = (items: unknown): string[] =>
        Object.values(items as Record<string, { Group: string; Level: Record<string, unknown> }[]>).flatMap(
          (entries) => entries.flatMap((e) => Object.keys(e.Level)),
        );
      expect(levels(model.items(failed))).toContain('error');
      expect(levels(model.items(ok))).not.toContain('error');
      for (const entries of Object.values(model.items(failed) as Record<string, unknown[]>)) {
        expect(entries[0]).toMatchObject({ Group: expect.any(String), Level: expect.any(Object) });
      }
    }
  });

  it('reproduces ids, outcomes and items from the seed, and keeps items stable across reads', () => {
    const make = (seed: number): unknown[] => {
      const model = new SimModel(seed, () => 1_700_000_000_000, 0);
      return [1, 2, 3].map(() => {
        const c = model.add({ clusterId: CLUSTER, outcome: 'Failed' });
        expect(model.items(c)).toEqual(model.items(c));
        return [c.checkId, model.summary(c), model.items(c)];
      });
    };
    expect(make(42)).toEqual(make(42));
    expect(make(42)).not.toEqual(make(43));
  });

  it('returns overridden items verbatim, null included', () => {
    const model = new SimModel(1, () => 0, 0);
    const c = model.add({ clusterId: CLUSTER, checkItems: null });
    expect(model.items(c)).toBeNull();
  });

  it('uses messages that match the status class', () => {
    const model = new SimModel(1, () => 10, 0);
    for (const outcome of ['Succeeded', 'Failed', 'Weird']) {
      const s = model.summary(model.add({ clusterId: CLUSTER, outcome, createdAt: 0 }));
      expect(s.status).toBe(outcome);
      expect(classifyStatus(s.status)).toBe(outcome === 'Weird' ? 'running' : outcome.toLowerCase());
    }
  });
});

describe('deriveRng', () => {
  it('gives independent, reproducible streams per label', () => {
    const a1 = deriveRng(1, 'faults');
    const a2 = deriveRng(1, 'faults');
    const b = deriveRng(1, 'data');
    const seqA1 = [a1(), a1(), a1()];
    expect([a2(), a2(), a2()]).toEqual(seqA1);
    expect([b(), b(), b()]).not.toEqual(seqA1);
  });
});
