import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/log';
import { DispatchError, taskIdFor, type DispatchRequest } from '../../../lib/dispatch/dispatch';
import { createInlineDispatcher } from '../../../lib/dispatch/inline';

const CLUSTER = 'c0123456789abcdef0123456789abcdef';
const CHECK = `1697100584236600453-${CLUSTER}-clustercheck-lboto`;
const NOTIFY: DispatchRequest = { kind: 'notify', clusterId: CLUSTER, checkId: CHECK, generation: 0 };

/** A promise the test settles by hand, to hold a handler "running". */
function gate(): { promise: Promise<void>; open: () => void; fail: (e: Error) => void } {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

describe('inline dispatcher', () => {
  it('returns before the handler runs, like an async invocation', async () => {
    const calls: string[] = [];
    const d = createInlineDispatcher({
      notify: (clusterId, checkId) => {
        calls.push(`${clusterId}/${checkId}`);
        return Promise.resolve();
      },
    });
    const result = await d.dispatch(NOTIFY);
    expect(result).toEqual({ status: 'dispatched', requestId: taskIdFor(NOTIFY) });
    await d.drain();
    expect(calls).toEqual([`${CLUSTER}/${CHECK}`]);
  });

  it('does not start the handler inside the dispatch call', () => {
    let started = false;
    const d = createInlineDispatcher({
      notify: () => {
        started = true;
        return Promise.resolve();
      },
    });
    void d.dispatch(NOTIFY);
    expect(started).toBe(false);
    return d.drain().then(() => {
      expect(started).toBe(true);
    });
  });

  it('answers duplicate for a task id that is still running, and runs it again once it settled', async () => {
    const g = gate();
    let runs = 0;
    const d = createInlineDispatcher({
      notify: () => {
        runs += 1;
        return g.promise;
      },
    });
    expect((await d.dispatch(NOTIFY)).status).toBe('dispatched');
    expect(await d.dispatch(NOTIFY)).toEqual({ status: 'duplicate' });
    expect(d.inFlight).toBe(1);
    g.open();
    await d.drain();
    expect(runs).toBe(1);
    expect((await d.dispatch(NOTIFY)).status).toBe('dispatched');
    await d.drain();
    expect(runs).toBe(2);
  });

  it('runs another generation of the same check concurrently (a deliberate re-dispatch)', async () => {
    const g = gate();
    let runs = 0;
    const d = createInlineDispatcher({
      notify: () => {
        runs += 1;
        return g.promise;
      },
    });
    await d.dispatch(NOTIFY);
    expect((await d.dispatch({ ...NOTIFY, generation: 1 })).status).toBe('dispatched');
    await Promise.resolve();
    await Promise.resolve();
    expect(d.inFlight).toBe(2);
    g.open();
    await d.drain();
    expect(runs).toBe(2);
  });

  it('logs a failing handler instead of throwing it to the dispatcher, and frees the task id', async () => {
    const lines: string[] = [];
    const d = createInlineDispatcher(
      {
        notify: () => Promise.reject(new DispatchError('store down', { retryable: true })),
      },
      { log: createLogger({ write: (l) => lines.push(l) }) },
    );
    expect((await d.dispatch(NOTIFY)).status).toBe('dispatched');
    await d.drain();
    expect(d.inFlight).toBe(0);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'error',
      taskId: taskIdFor(NOTIFY),
      error: { code: 'DISPATCH_FAILED' },
    });
  });

  it('logs a handler that throws synchronously', async () => {
    const lines: string[] = [];
    const d = createInlineDispatcher(
      {
        notify: () => {
          throw new Error('boom');
        },
      },
      { log: createLogger({ write: (l) => lines.push(l) }) },
    );
    await d.dispatch(NOTIFY);
    await d.drain();
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['inline task failed']);
  });

  it('runs poll-shard requests through pollShard', async () => {
    const shards: number[] = [];
    const d = createInlineDispatcher({
      notify: () => Promise.resolve(),
      pollShard: (shard) => {
        shards.push(shard);
        return Promise.resolve();
      },
    });
    await d.dispatch({ kind: 'poll-shard', shard: 4, generation: 9 });
    await d.drain();
    expect(shards).toEqual([4]);
  });

  it('refuses poll-shard with a non-retryable DispatchError when no pollShard handler exists', async () => {
    const d = createInlineDispatcher({ notify: () => Promise.resolve() });
    const err: unknown = await d
      .dispatch({ kind: 'poll-shard', shard: 0, generation: 0 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DispatchError);
    expect((err as DispatchError).retryable).toBe(false);
  });

  it('drains work that handlers dispatch while draining', async () => {
    const order: string[] = [];
    const d = createInlineDispatcher({
      notify: async () => {
        order.push('notify');
        await Promise.resolve();
      },
      pollShard: async () => {
        order.push('shard');
        await d.dispatch(NOTIFY);
      },
    });
    await d.dispatch({ kind: 'poll-shard', shard: 0, generation: 0 });
    await d.drain();
    expect(order).toEqual(['shard', 'notify']);
    expect(d.inFlight).toBe(0);
  });
});
