/**
 * Invariant violations the fault soak found, each pinned by the smallest test that shows it. Each
 * test failed before its fix in lib/ (docs/RELIABILITY.md, "Found by the soak").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WEBHOOK_RATE_LIMITS } from '../../lib/channels/webhook';
import { systemClock } from '../../lib/clock';
import type { CheckId, ClusterId } from '../../lib/domain/check';
import { loadConfig } from '../../lib/config';
import { silentLogger } from '../../lib/log';
import { buildChannels } from '../../lib/notify/channels';
import { createNotifier, NOTIFIER_DEFAULTS } from '../../lib/notify/notifier';
import { planRate, slotAt } from '../../lib/notify/rate';
import { AckGate } from '../../lib/poll/gate';
import { createSqliteStore } from '../../lib/store/sqlite';
import { startChatFake, type ChatFake } from '../fakes/chat/index';
import { seedFinished } from '../integration/notify/helpers';
import { FakeClock } from '../support/fake-clock';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Whether `p` settles (resolves or rejects) once the event loop has run a few turns. */
async function settles(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  return settled;
}

/** A notifier over SQLite with one webhook channel (300 ms timeout) and no retry inside a send. */
async function webhookRig() {
  const hook: ChatFake = await startChatFake({ platform: 'webhook' });
  closers.push(() => hook.close());
  const loaded = loadConfig({
    env: {
      HOOK_URL: hook.url,
      HOOK_SECRET: hook.secret ?? '',
      CHECKWATCH_CONFIG: JSON.stringify({
        channels: {
          hook: { type: 'webhook', url: { env: 'HOOK_URL' }, secret: { env: 'HOOK_SECRET' }, timeout: 300 },
        },
        routes: { all: { channels: ['hook'] } },
      }),
    },
  });
  const store = createSqliteStore({ path: ':memory:', shards: 2 });
  closers.push(() => store.close());
  const notifier = createNotifier({
    store,
    channels: buildChannels(loaded.config),
    config: loaded.config,
    clock: systemClock,
    log: silentLogger,
    random: () => 0,
    settings: { retry: { maxAttempts: 1, baseMs: 10, capMs: 10 }, sendBudgetMs: 400, wakeJitterMs: 0 },
  });
  return { hook, store, notifier };
}

describe('regressions found by the fault soak', () => {
  it('AckGate: a queued call still settles when the waiter woken before it fails on a brake past its deadline (soak seed 20261127: every poller hung)', async () => {
    const clock = new FakeClock();
    const gate = new AckGate(1, clock);
    const now = clock.now();
    const first = deferred();
    // One call holds the only slot; two more queue behind it, each with a 5 s deadline.
    const running = gate.run(() => first.promise, now + 60_000);
    const second = gate.run(() => Promise.resolve('second'), now + 5_000);
    const third = gate.run(() => Promise.resolve('third'), now + 5_000);
    second.catch(() => undefined);
    third.catch(() => undefined);
    // ACK throttles for longer than the queued calls' deadlines (x-acs-retry-after: 10 s).
    gate.throttled(10_000);
    first.resolve();
    await running;
    // The woken waiter gives up at once with ACK_DEADLINE...
    await expect(second).rejects.toMatchObject({ code: 'ACK_DEADLINE' });
    // ...and must pass the turn on: otherwise nothing ever wakes the third call, the poll cycle's
    // Promise.all never settles, and the invocation hangs until FC kills it at its timeout.
    expect(await settles(third)).toBe(true);
  });

  it('notifier: never folds a delivery whose earlier send had an unknown outcome into a digest with another key (soak seed 20261127: 3 duplicates)', async () => {
    const { hook, store, notifier } = await webhookRig();
    const cluster = 'c-regress-digest-1';
    const a = `1700000000000000001-${cluster}-clustercheck-aaaaa`;
    const b = `1700000000000000002-${cluster}-clustercheck-bbbbb`;
    await seedFinished(store, cluster, a, ['all'], Date.now());
    await seedFinished(store, cluster, b, ['all'], Date.now());

    // A's send reaches the webhook, but the answer never comes: outcome unknown, A stays in retry.
    hook.injectFault({ kind: 'timeoutAfterReceipt' });
    const first = await notifier.notify(cluster, a, { deadline: Date.now() + 2_000, holder: 'n1' });
    expect(first.channels[0]?.outcome).toBe('retry-later');

    // The channel's window is full for the next 3 s: B has to wait, and then gathers what else waits (A).
    const plan = planRate(
      WEBHOOK_RATE_LIMITS[0] ?? { windowMs: 1_000, max: 50 },
      NOTIFIER_DEFAULTS.rateToleranceMs,
    );
    const start = Date.now();
    for (let t = start; t < start + 3_000; t += plan.slotMs) {
      const slot = slotAt(plan, t);
      await store.takeRateTokens('hook', slot.key, plan.perSlot, plan.perSlot, slot.ttlMs, t);
    }
    await notifier.notify(cluster, b, { deadline: Date.now() + 10_000, holder: 'n2' });

    // Every copy of A the receiver accepted must carry one webhook-id, so that it can deduplicate.
    const idsForA = hook.accepted.filter((m) => m.raw.includes(a)).map((m) => m.headers['webhook-id']);
    expect(idsForA.length).toBeGreaterThanOrEqual(1);
    expect(new Set(idsForA).size).toBe(1);
  }, 30_000);

  it('notifier: resends a digest whose send had an unknown outcome as the same digest under the same key (soak seed 20261127: 1 duplicate)', async () => {
    const { hook, store, notifier } = await webhookRig();
    const cluster = 'c-regress-digest-2';
    const checks = ['aaaaa', 'bbbbb', 'ccccc'].map(
      (s, i) => `170000000000000000${String(i + 1)}-${cluster}-clustercheck-${s}`,
    );
    const [a, b, c] = checks as [string, string, string];
    for (const id of checks) await seedFinished(store, cluster, id, ['all'], Date.now());

    // The channel's window is full for the next 1.5 s: B and C are deferred (their deadline is too close
    // to wait), then A waits for the window and gathers them into one digest.
    const plan = planRate(
      WEBHOOK_RATE_LIMITS[0] ?? { windowMs: 1_000, max: 50 },
      NOTIFIER_DEFAULTS.rateToleranceMs,
    );
    const start = Date.now();
    for (let t = start; t < start + 1_500; t += plan.slotMs) {
      const slot = slotAt(plan, t);
      await store.takeRateTokens('hook', slot.key, plan.perSlot, plan.perSlot, slot.ttlMs, t);
    }
    for (const id of [b, c]) {
      const r = await notifier.notify(cluster, id, { deadline: Date.now() + 500, holder: 'n0' });
      expect(r.channels[0]?.outcome).toBe('retry-later');
    }
    // The digest reaches the webhook, but the answer never comes: outcome unknown for all three.
    hook.injectFault({ kind: 'timeoutAfterReceipt' });
    const first = await notifier.notify(cluster, a, { deadline: Date.now() + 10_000, holder: 'n1' });
    expect(first.channels[0]?.outcome).toBe('retry-later');
    expect(hook.accepted).toHaveLength(1);

    // The resend (whichever check's notifier comes first) must be that digest again, under its key.
    const second = await notifier.notify(cluster, b, { deadline: Date.now() + 5_000, holder: 'n2' });
    expect(second.channels[0]?.outcome).toBe('digest');
    for (const id of [a, c])
      await notifier.notify(cluster, id, { deadline: Date.now() + 5_000, holder: 'n3' });

    // Every check the receiver accepted must carry one webhook-id (the digest's), so it can deduplicate.
    const firstId = hook.accepted[0]?.headers['webhook-id'];
    for (const id of checks) {
      const ids = hook.accepted.filter((m) => m.raw.includes(id)).map((m) => m.headers['webhook-id']);
      expect(ids.length).toBeGreaterThanOrEqual(1);
      expect(new Set(ids)).toEqual(new Set([firstId]));
    }
    // And the resend settled the whole digest: nothing is left to send.
    for (const id of checks) {
      const view = await store.getCheck(cluster as ClusterId, id as CheckId);
      expect(view?.where).toBe('history');
    }
  }, 30_000);
});
