/**
 * Bench 5 — a notification burst: 1,000 completions routed to one DingTalk robot, one Slack incoming
 * webhook and one Feishu bot, with the platforms' real rate limits enforced by the fakes (DingTalk 20
 * messages per minute per robot, …).
 *
 * Time is simulated: one FakeClock drives the notifiers, the store and the three fakes (their rate
 * windows read it), and moves only while every notifier is waiting on it — so a burst that takes
 * minutes of platform time runs in seconds. HTTP to the fakes and SQLite I/O are real.
 *
 * Model of Function Compute: every completion gets its own notifier invocation, all at once (the
 * poller dispatched them in one cycle), each with FC's 120 s timeout as its deadline. What an
 * invocation leaves in `retry` is re-dispatched by the poller `redispatchAfter` (120 s) later: the
 * bench re-invokes the notifier for every check still pending, in waves, until nothing is pending.
 */
import { loadConfig } from '../lib/config';
import { silentLogger } from '../lib/log';
import { buildChannels } from '../lib/notify/channels';
import { createNotifier, type NotifyReport } from '../lib/notify/notifier';
import { POLL_DEFAULTS } from '../lib/poll/cycle';
import { createSqliteStore } from '../lib/store/sqlite';
import { startChatFake, type ChatFake } from '../test/fakes/chat/index';
import { drive, seedFinished } from '../test/integration/notify/helpers';
import { FakeClock } from '../test/support/fake-clock';
import { clusterId, checkIdFor, round, row, writeResult, type BenchReport, type Machine } from './common';

const CHANNELS = ['ding', 'slack', 'feishu'] as const;

/** Bench 5. */
export async function runBurstBench(m: Machine, completions = 1_000): Promise<BenchReport> {
  const realStart = performance.now();
  const clock = new FakeClock(Date.now());
  const fakes: Record<(typeof CHANNELS)[number], ChatFake> = {
    ding: await startChatFake({ platform: 'dingtalk', clock: () => clock.now() }),
    slack: await startChatFake({ platform: 'slack', clock: () => clock.now() }),
    feishu: await startChatFake({ platform: 'feishu', clock: () => clock.now() }),
  };
  const store = createSqliteStore({ path: ':memory:' });
  try {
    const env: Record<string, string> = {
      DING_URL: fakes.ding.url,
      DING_SECRET: fakes.ding.secret ?? '',
      SLACK_URL: fakes.slack.url,
      FEISHU_URL: fakes.feishu.url,
      FEISHU_SECRET: fakes.feishu.secret ?? '',
    };
    const loaded = loadConfig({
      env: {
        ...env,
        CHECKWATCH_CONFIG: JSON.stringify({
          channels: {
            ding: { type: 'dingtalk', url: { env: 'DING_URL' }, secret: { env: 'DING_SECRET' } },
            slack: { type: 'slack', url: { env: 'SLACK_URL' } },
            feishu: { type: 'feishu', url: { env: 'FEISHU_URL' }, secret: { env: 'FEISHU_SECRET' } },
          },
          routes: { all: { channels: [...CHANNELS] } },
          defaults: { routes: ['all'] },
        }),
      },
    });
    const channels = buildChannels(loaded.config, { log: silentLogger });
    const keys = Array.from({ length: completions }, (_, i) => {
      const cluster = clusterId(i, 0x300);
      return { clusterId: cluster, checkId: checkIdFor(cluster, i) };
    });
    for (const k of keys) await seedFinished(store, k.clusterId, k.checkId, ['all'], clock.now());
    const t0 = clock.now();

    let seed = 7;
    const random = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const notifier = createNotifier({
      store,
      channels,
      config: loaded.config,
      clock,
      log: silentLogger,
      random,
    });
    let pending = keys;
    let waves = 0;
    let invocations = 0;
    const outcomes: Record<string, number> = {};
    while (pending.length > 0 && waves < 30) {
      waves += 1;
      const deadline = clock.now() + 120_000;
      const wave = pending;
      invocations += wave.length;
      const reports: NotifyReport[] = await drive(
        clock,
        Promise.all(
          wave.map((k, i) =>
            notifier.notify(k.clusterId, k.checkId, { deadline, holder: `w${waves}-n${i}` }),
          ),
        ),
      );
      for (const r of reports)
        for (const c of r.channels) outcomes[c.outcome] = (outcomes[c.outcome] ?? 0) + 1;
      const left = await store.listPending();
      const still = new Set(left.checks.map((c) => `${c.clusterId}/${c.checkId}`));
      pending = keys.filter((k) => still.has(`${k.clusterId}/${k.checkId}`));
      // The poller's re-dispatch comes back for what is left after `redispatchAfter`.
      if (pending.length > 0) await clock.advance(POLL_DEFAULTS.redispatchAfterMs);
    }
    const drainMs = clock.now() - t0;

    const perChannel: Record<string, unknown> = {};
    let refusedTotal = 0;
    let lost = 0;
    let duplicates = 0;
    for (const ch of CHANNELS) {
      const fake = fakes[ch];
      const refused = fake.received.filter((x) => !x.accepted);
      refusedTotal += refused.length;
      const digests = fake.accepted.filter((x) => keys.filter((k) => x.raw.includes(k.clusterId)).length > 1);
      let delivered = 0;
      for (const k of keys) {
        const d = (await store.listDeliveries(k.clusterId, k.checkId)).find((x) => x.channel === ch);
        if (d?.state === 'delivered') delivered += 1;
        else lost += 1;
        const carrying = fake.accepted.filter((x) => x.raw.includes(k.clusterId)).length;
        if (carrying > 1) duplicates += carrying - 1;
      }
      perChannel[ch] = {
        requests: fake.received.length,
        accepted: fake.accepted.length,
        digests: digests.length,
        refused: refused.length,
        refusedReplies: [...new Set(refused.map((x) => x.reply.body.slice(0, 120)))].slice(0, 5),
        delivered,
      };
    }
    const realMs = performance.now() - realStart;
    const pc = perChannel as Record<string, { accepted: number; digests: number; requests: number }>;
    const rows = [
      row(
        'burst',
        'messages sent (ding/slack/feishu)',
        CHANNELS.map((c) => pc[c]?.accepted ?? 0).join(' / '),
      ),
      row('burst', 'of which digests', CHANNELS.map((c) => pc[c]?.digests ?? 0).join(' / ')),
      row('burst', 'rate-limit/other refusals provoked', refusedTotal, {
        goal: '0',
        met: refusedTotal === 0,
      }),
      row('burst', 'deliveries lost', lost, { goal: '0', met: lost === 0 }),
      row('burst', 'duplicate deliveries', duplicates, { goal: '0', met: duplicates === 0 }),
      row('burst', 'time to drain s (simulated)', round(drainMs / 1000, 1)),
      row('burst', 'notifier invocations (waves)', `${invocations} (${waves})`),
    ];
    const data = {
      completions,
      channels: CHANNELS,
      setup:
        'FakeClock shared by notifiers, store and fakes (simulated time; real HTTP and SQLite). One notifier invocation per completion, all at once, deadline = now + 120 s (FC timeout); what is left is re-invoked after redispatchAfter (120 s), in waves.',
      drainSimulatedMs: drainMs,
      realMs: Math.round(realMs),
      waves,
      invocations,
      outcomes,
      perChannel,
      refusedTotal,
      lost,
      duplicates,
    };
    writeResult('burst', m, data);
    return { name: 'burst', rows, data };
  } finally {
    await store.close();
    for (const f of Object.values(fakes)) await f.close();
  }
}
