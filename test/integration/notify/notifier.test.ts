/**
 * The delivery use case against a real SQLite store and the chat platform fakes (real signatures,
 * body codes, rate limits and faults), with a fake clock shared by the notifier and the fakes.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type LoadedConfig } from '../../../lib/config';
import type { CheckId, ClusterId } from '../../../lib/domain/check';
import { createLogger } from '../../../lib/log';
import { buildChannels } from '../../../lib/notify/channels';
import { createNotifier, pauseLeaseName, type NotifierSettings } from '../../../lib/notify/notifier';
import { createSqliteStore } from '../../../lib/store/sqlite';
import type { Store } from '../../../lib/store/store';
import {
  startChatFake,
  type ChatFake,
  type ChatFakeOptions,
  type ChatPlatform,
} from '../../fakes/chat/index';
import { FakeClock } from '../../support/fake-clock';
import { drive, secretsOf, seedFinished } from './helpers';

const CLUSTER = 'c-prod-hz-001';
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

interface ChannelSpec {
  platform: ChatPlatform;
  fake?: Partial<ChatFakeOptions>;
  /** Extra channel settings (as in the config file). */
  settings?: Record<string, unknown>;
  /** Give the channel a wrong secret (the fake keeps its own). */
  wrongSecret?: boolean;
}

interface Rig {
  clock: FakeClock;
  store: Store;
  fakes: Record<string, ChatFake>;
  loaded: LoadedConfig;
  lines: string[];
  dbPath: string;
  notify(
    checkId: string,
    holder?: string,
    clusterId?: string,
  ): ReturnType<ReturnType<typeof createNotifier>['notify']>;
  notifierFor(holder: string): ReturnType<typeof createNotifier>;
}

async function rig(
  specs: Record<string, ChannelSpec>,
  options: { routes?: Record<string, unknown>; settings?: Partial<NotifierSettings>; file?: boolean } = {},
): Promise<Rig> {
  const clock = new FakeClock();
  const env: Record<string, string> = {};
  const fakes: Record<string, ChatFake> = {};
  const channels: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const fake = await startChatFake({ platform: spec.platform, clock: () => clock.now(), ...spec.fake });
    open.push(fake);
    fakes[name] = fake;
    const envName = name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
    env[`${envName}_URL`] = fake.url;
    const channel: Record<string, unknown> = {
      type: spec.platform,
      url: { env: `${envName}_URL` },
      timeout: '2s',
      ...spec.settings,
    };
    if (fake.secret !== undefined) {
      env[`${envName}_SECRET`] = spec.wrongSecret === true ? `${fake.secret.slice(0, -4)}XXXX` : fake.secret;
      channel.secret = { env: `${envName}_SECRET` };
    }
    if (fake.keyword !== undefined && channel.keyword === undefined) channel.keyword = fake.keyword;
    channels[name] = channel;
  }
  const routes = options.routes ?? { all: { channels: Object.keys(specs) } };
  const loaded = loadConfig({
    env: { ...env, CHECKWATCH_CONFIG: JSON.stringify({ channels, routes, defaults: { routes: ['all'] } }) },
  });
  const lines: string[] = [];
  const log = createLogger({
    level: 'debug',
    redactor: loaded.redactor,
    write: (l) => lines.push(l),
    now: () => clock.now(),
  });
  const dir = mkdtempSync(join(tmpdir(), 'cw-notify-'));
  const dbPath = join(dir, 'checkwatch.sqlite');
  const store = createSqliteStore({ path: options.file === true ? dbPath : ':memory:' });
  open.push(store);
  const built = buildChannels(loaded.config, { log });
  let seed = 7;
  const random = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const notifierFor = (holder: string) =>
    createNotifier({
      store,
      channels: built,
      config: loaded.config,
      clock,
      log: log.child({ holder }),
      random,
      settings: options.settings,
    });
  const notify = (checkId: string, holder = 'n1', clusterId = CLUSTER) =>
    drive(clock, notifierFor(holder).notify(clusterId, checkId, { deadline: clock.now() + 600_000, holder }));
  return { clock, store, fakes, loaded, lines, dbPath, notify, notifierFor };
}

function fakeOf(r: Rig, name: string): ChatFake {
  const f = r.fakes[name];
  if (f === undefined) throw new Error(`no fake ${name}`);
  return f;
}

async function deliveryOf(store: Store, checkId: string, channel: string, clusterId = CLUSTER) {
  const rows = await store.listDeliveries(clusterId as ClusterId, checkId as CheckId);
  return rows.find((d) => d.channel === channel);
}

describe('notify: every platform', () => {
  it('delivers a failed check to DingTalk, Slack, Feishu, WeCom and a webhook, then archives it', async () => {
    const r = await rig({
      ding: { platform: 'dingtalk', fake: { keyword: 'checkwatch' } },
      slack: { platform: 'slack' },
      feishu: { platform: 'feishu' },
      wecom: { platform: 'wecom' },
      hook: { platform: 'webhook' },
    });
    await seedFinished(r.store, CLUSTER, 'chk-all-1', ['all'], r.clock.now());
    const report = await r.notify('chk-all-1');
    expect(report.status).toBe('done');
    expect(report.archived).toBe(true);
    expect(report.channels.map((c) => [c.channel, c.outcome, c.sends])).toEqual([
      ['ding', 'delivered', 1],
      ['slack', 'delivered', 1],
      ['feishu', 'delivered', 1],
      ['wecom', 'delivered', 1],
      ['hook', 'delivered', 1],
    ]);
    for (const name of ['ding', 'slack', 'feishu', 'wecom', 'hook']) {
      const fake = fakeOf(r, name);
      expect(fake.accepted, name).toHaveLength(1);
      expect(fake.accepted[0]?.raw, name).toContain(CLUSTER);
      const d = await deliveryOf(r.store, 'chk-all-1', name);
      expect(d, name).toMatchObject({ state: 'delivered', attempts: 1, sentAt: r.clock.now() });
    }
    const view = await r.store.getCheck(CLUSTER as ClusterId, 'chk-all-1' as CheckId);
    expect(view?.where).toBe('history');
  });

  it('sends only to the routes that match the outcome, and archives a check with no routed channel at once', async () => {
    const r = await rig(
      { ding: { platform: 'dingtalk' }, slack: { platform: 'slack' } },
      {
        routes: {
          failures: { channels: ['ding'], outcomes: ['failed', 'gave_up', 'vanished'] },
          all: { channels: ['slack'] },
        },
      },
    );
    await seedFinished(r.store, CLUSTER, 'chk-pass-1', ['failures', 'all'], r.clock.now(), 'passed');
    const passed = await r.notify('chk-pass-1');
    expect(passed.channels.map((c) => c.channel)).toEqual(['slack']);
    expect(fakeOf(r, 'ding').received).toHaveLength(0);

    await seedFinished(r.store, CLUSTER, 'chk-pass-2', ['failures'], r.clock.now(), 'passed');
    const none = await r.notify('chk-pass-2');
    expect(none).toMatchObject({ status: 'done', archived: true, channels: [] });
    expect(fakeOf(r, 'ding').received).toHaveLength(0);
  });

  it("mentions the people a route names, on that route's channels only, and only for the outcomes it asks", async () => {
    const r = await rig(
      { ding: { platform: 'dingtalk' }, slack: { platform: 'slack' } },
      {
        routes: {
          all: { channels: ['ding', 'slack'] },
          oncall: {
            channels: ['ding'],
            outcomes: ['failed'],
            mentions: { onFailureOnly: true, mobiles: ['13800000000'], userIds: ['oncall-1'] },
          },
        },
      },
    );
    await seedFinished(r.store, CLUSTER, 'chk-mention-1', ['all', 'oncall'], r.clock.now(), 'failed');
    await seedFinished(r.store, CLUSTER, 'chk-mention-2', ['all', 'oncall'], r.clock.now(), 'passed');
    await r.notify('chk-mention-1');
    await r.notify('chk-mention-2');
    const ding = fakeOf(r, 'ding').accepted;
    expect(ding).toHaveLength(2);
    const failed = ding.find((m) => m.raw.includes('chk-mention-1'))?.body as {
      at?: { atMobiles: string[]; atUserIds: string[] };
    };
    expect(failed.at).toMatchObject({ atMobiles: ['13800000000'], atUserIds: ['oncall-1'] });
    expect(JSON.stringify(failed)).toContain('@13800000000');
    const passed = ding.find((m) => m.raw.includes('chk-mention-2'))?.body as { at?: unknown };
    expect(passed.at).toBeUndefined();
    // The route reaches only DingTalk: Slack gets the check, without anyone mentioned.
    expect(
      fakeOf(r, 'slack')
        .accepted.map((m) => m.raw)
        .join(''),
    ).not.toContain('oncall-1');
  });

  it('uses the default routes for a watch that named none', async () => {
    const r = await rig({ slack: { platform: 'slack' } });
    await seedFinished(r.store, CLUSTER, 'chk-default-1', [], r.clock.now());
    const report = await r.notify('chk-default-1');
    expect(report.channels.map((c) => [c.channel, c.outcome])).toEqual([['slack', 'delivered']]);
  });
});

describe('notify: failures are classified and recorded with the platform text', () => {
  it('records a DingTalk keyword refusal (HTTP 200, errcode 310000) as permanent and does not retry it', async () => {
    const r = await rig({
      ding: { platform: 'dingtalk', fake: { keyword: 'robot-word' }, settings: { keyword: 'other' } },
    });
    await seedFinished(r.store, CLUSTER, 'chk-kw-1', ['all'], r.clock.now());
    const report = await r.notify('chk-kw-1');
    expect(report.channels[0]).toMatchObject({ outcome: 'permanent', sends: 1, platformCode: 310000 });
    expect(report.channels[0]?.platformText).toContain('keywords not in content');
    expect(report.status).toBe('done');
    const d = await deliveryOf(r.store, 'chk-kw-1', 'ding');
    expect(d?.state).toBe('failed');
    expect(d?.lastError).toContain('keywords not in content');
    // A re-dispatch of the archived check sends nothing.
    const again = await r.notify('chk-kw-1', 'n2');
    expect(again.status).toBe('already-archived');
    expect(fakeOf(r, 'ding').received).toHaveLength(1);
  });

  it('records a Feishu sign mismatch (code 19021) as permanent', async () => {
    const r = await rig({ feishu: { platform: 'feishu', wrongSecret: true } });
    await seedFinished(r.store, CLUSTER, 'chk-sign-1', ['all'], r.clock.now());
    const report = await r.notify('chk-sign-1');
    expect(report.channels[0]).toMatchObject({ outcome: 'permanent', platformCode: 19021 });
    expect((await deliveryOf(r.store, 'chk-sign-1', 'feishu'))?.lastError).toMatch(/19021/);
  });

  it('records a revoked Slack webhook (404 no_service) as permanent', async () => {
    const r = await rig({ slack: { platform: 'slack' } });
    fakeOf(r, 'slack').injectFault({ kind: 'code', code: 'no_service' });
    await seedFinished(r.store, CLUSTER, 'chk-slack-404', ['all'], r.clock.now());
    const report = await r.notify('chk-slack-404');
    expect(report.channels[0]).toMatchObject({ outcome: 'permanent', sends: 1 });
    expect(report.channels[0]?.platformText).toContain('no_service');
    expect((await deliveryOf(r.store, 'chk-slack-404', 'slack'))?.state).toBe('failed');
  });

  it('retries a 503 with backoff inside the invocation and delivers on the second attempt', async () => {
    const r = await rig({ wecom: { platform: 'wecom' } });
    fakeOf(r, 'wecom').injectFault({ kind: '5xx', code: 503 });
    await seedFinished(r.store, CLUSTER, 'chk-503-1', ['all'], r.clock.now());
    const t0 = r.clock.now();
    const report = await r.notify('chk-503-1');
    expect(report.channels[0]).toMatchObject({ outcome: 'delivered', sends: 2 });
    expect(fakeOf(r, 'wecom').accepted).toHaveLength(1);
    // The platform's hint (5 s for a server error) is the floor of the backoff.
    expect((fakeOf(r, 'wecom').received[1]?.at ?? 0) - t0).toBeGreaterThanOrEqual(5_000);
    expect(await deliveryOf(r.store, 'chk-503-1', 'wecom')).toMatchObject({
      state: 'delivered',
      attempts: 2,
    });
  });

  it('leaves a rate-limited WeCom delivery in retry with the platform text when the time budget ends', async () => {
    const r = await rig({ wecom: { platform: 'wecom' } });
    fakeOf(r, 'wecom').injectFault({ kind: 'rateLimit', next: 10 });
    await seedFinished(r.store, CLUSTER, 'chk-45009', ['all'], r.clock.now());
    const report = await drive(
      r.clock,
      r.notifierFor('n1').notify(CLUSTER, 'chk-45009', { deadline: r.clock.now() + 30_000, holder: 'n1' }),
    );
    expect(report.status).toBe('pending');
    expect(report.channels[0]).toMatchObject({ outcome: 'retry-later', platformCode: 45009 });
    const d = await deliveryOf(r.store, 'chk-45009', 'wecom');
    expect(d?.state).toBe('retry');
    expect(d?.lastError).toContain('api freq out of limit');
    expect(d?.nextAttemptAt).toBeGreaterThan(r.clock.now());
    const view = await r.store.getCheck(CLUSTER as ClusterId, 'chk-45009' as CheckId);
    expect(view?.where).toBe('pending');
  });

  it('pauses a DingTalk robot the platform blocked, so no other notifier provokes it meanwhile', async () => {
    const r = await rig({ ding: { platform: 'dingtalk' } });
    fakeOf(r, 'ding').injectFault({ kind: 'rateLimit' });
    await seedFinished(r.store, CLUSTER, 'chk-block-1', ['all'], r.clock.now());
    await seedFinished(r.store, CLUSTER, 'chk-block-2', ['all'], r.clock.now());
    const first = await drive(
      r.clock,
      r.notifierFor('n1').notify(CLUSTER, 'chk-block-1', { deadline: r.clock.now() + 60_000, holder: 'n1' }),
    );
    expect(first.channels[0]).toMatchObject({ outcome: 'retry-later', platformCode: 410100 });
    const lease = await r.store.readLease(pauseLeaseName('ding'));
    expect(lease?.until).toBeGreaterThanOrEqual(r.clock.now() + 9 * 60_000);
    const second = await drive(
      r.clock,
      r.notifierFor('n2').notify(CLUSTER, 'chk-block-2', { deadline: r.clock.now() + 60_000, holder: 'n2' }),
    );
    expect(second.channels[0]).toMatchObject({ outcome: 'retry-later', sends: 0 });
    expect(fakeOf(r, 'ding').received).toHaveLength(1);
  });
});

describe('notify: exactly once', () => {
  it('does not notify twice when the notifier is invoked twice for the same check', async () => {
    const r = await rig({ ding: { platform: 'dingtalk' }, hook: { platform: 'webhook' } });
    await seedFinished(r.store, CLUSTER, 'chk-dup-1', ['all'], r.clock.now());
    const first = await r.notify('chk-dup-1', 'fc-req-1');
    const second = await r.notify('chk-dup-1', 'fc-req-2');
    expect(first.status).toBe('done');
    expect(second.status).toBe('already-archived');
    expect(second.channels.every((c) => c.outcome === 'skipped' && c.sends === 0)).toBe(true);
    expect(fakeOf(r, 'ding').received).toHaveLength(1);
    expect(fakeOf(r, 'hook').received).toHaveLength(1);
  });

  it('does not notify twice when two notifiers run concurrently for the same check', async () => {
    const r = await rig({ ding: { platform: 'dingtalk' }, slack: { platform: 'slack' } });
    await seedFinished(r.store, CLUSTER, 'chk-race-1', ['all'], r.clock.now());
    const deadline = r.clock.now() + 600_000;
    const [a, b] = await drive(
      r.clock,
      Promise.all([
        r.notifierFor('a').notify(CLUSTER, 'chk-race-1', { deadline, holder: 'a' }),
        r.notifierFor('b').notify(CLUSTER, 'chk-race-1', { deadline, holder: 'b' }),
      ]),
    );
    expect(fakeOf(r, 'ding').accepted).toHaveLength(1);
    expect(fakeOf(r, 'slack').accepted).toHaveLength(1);
    const sends = [...a.channels, ...b.channels].reduce((n, c) => n + c.sends, 0);
    expect(sends).toBe(2);
    const view = await r.store.getCheck(CLUSTER as ClusterId, 'chk-race-1' as CheckId);
    expect(view?.where).toBe('history');
  });

  it('does not send again when the poller re-dispatches a check that is waiting for its retry', async () => {
    const r = await rig({ slack: { platform: 'slack' } });
    fakeOf(r, 'slack').injectFault({ kind: '5xx', code: 500 });
    await seedFinished(r.store, CLUSTER, 'chk-redisp-1', ['all'], r.clock.now());
    const deadline = r.clock.now() + 1_000;
    const first = await drive(
      r.clock,
      r.notifierFor('a').notify(CLUSTER, 'chk-redisp-1', { deadline: deadline + 12_000, holder: 'a' }),
    );
    expect(first.channels[0]?.outcome).toBe('retry-later');
    // A re-dispatch before the retry is due, with no time to wait for it: it sends nothing.
    const early = await drive(
      r.clock,
      r.notifierFor('b').notify(CLUSTER, 'chk-redisp-1', { deadline: r.clock.now() + 12_001, holder: 'b' }),
    );
    expect(early.channels[0]).toMatchObject({ outcome: 'retry-later', sends: 0 });
    const late = await r.notify('chk-redisp-1', 'c');
    expect(late.channels[0]).toMatchObject({ outcome: 'delivered', sends: 1 });
    expect(fakeOf(r, 'slack').accepted).toHaveLength(1);
  });

  it('resends with the same DingTalk msgUuid after a timeout whose outcome is unknown', async () => {
    const r = await rig({ ding: { platform: 'dingtalk', settings: { timeout: 300 } } });
    fakeOf(r, 'ding').injectFault({ kind: 'timeoutAfterReceipt' });
    await seedFinished(r.store, CLUSTER, 'chk-uuid-1', ['all'], r.clock.now());
    const report = await r.notify('chk-uuid-1');
    expect(report.channels[0]).toMatchObject({ outcome: 'delivered', sends: 2 });
    const received = fakeOf(r, 'ding').received;
    expect(received).toHaveLength(2);
    const uuids = received.map((m) => (m.body as { msgUuid?: string }).msgUuid);
    expect(uuids[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(uuids[1]).toBe(uuids[0]);
    const d = await deliveryOf(r.store, 'chk-uuid-1', 'ding');
    expect(d?.idempotencyKey).toBe(uuids[0]);
  });

  it('resends with the same webhook-id after a timeout whose outcome is unknown', async () => {
    const r = await rig({ hook: { platform: 'webhook', settings: { timeout: 300 } } });
    fakeOf(r, 'hook').injectFault({ kind: 'timeoutAfterReceipt' });
    await seedFinished(r.store, CLUSTER, 'chk-whid-1', ['all'], r.clock.now());
    const report = await r.notify('chk-whid-1');
    expect(report.channels[0]?.outcome).toBe('delivered');
    const ids = fakeOf(r, 'hook').received.map((m) => m.headers['webhook-id']);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBeTruthy();
    expect(ids[1]).toBe(ids[0]);
  });
});

describe('notify: rate limits and digests', () => {
  it('delivers a burst of 100 completions to one DingTalk robot exactly once each, with zero rate-limit errors', async () => {
    const r = await rig({ ding: { platform: 'dingtalk' } });
    const ids = Array.from({ length: 100 }, (_, i) => `burst-${String(i).padStart(3, '0')}-x`);
    for (const id of ids) await seedFinished(r.store, id, `chk-${id}`, ['all'], r.clock.now());
    const deadline = r.clock.now() + 120_000;
    const reports = await drive(
      r.clock,
      Promise.all(
        ids.map((id, i) => r.notifierFor(`n${i}`).notify(id, `chk-${id}`, { deadline, holder: `n${i}` })),
      ),
    );
    const fake = fakeOf(r, 'ding');
    const refused = fake.received.filter((m) => !m.accepted);
    expect(refused.map((m) => m.reply.body)).toEqual([]);
    // Every cluster appears in exactly one accepted message (alone or in a digest).
    for (const id of ids) {
      const carrying = fake.accepted.filter((m) => m.raw.includes(id));
      expect(carrying, id).toHaveLength(1);
    }
    expect(fake.accepted.length).toBeLessThan(20);
    expect(reports.some((rep) => rep.channels[0]?.outcome === 'digest')).toBe(true);
    for (const id of ids) {
      const d = await deliveryOf(r.store, `chk-${id}`, 'ding', id);
      expect(d?.state, id).toBe('delivered');
    }
    const pending = await r.store.listPending();
    expect(pending.checks).toEqual([]);
  });

  it('paces a Slack webhook (1 message a second) across a window boundary, so it provokes no 429', async () => {
    // Regression (bench burst: 15 Slack 429s): a fixed 1-per-second window lets two sends through
    // 20 ms apart when the first falls at the end of one window and the second at the start of the next.
    const r = await rig({ slack: { platform: 'slack' } }, { settings: { wakeJitterMs: 0 } });
    await r.clock.advance(1_000 - (r.clock.now() % 1_000) - 10);
    await seedFinished(r.store, 'pace-001-x', 'chk-p1', ['all'], r.clock.now());
    await seedFinished(r.store, 'pace-002-x', 'chk-p2', ['all'], r.clock.now());
    await r.notify('chk-p1', 'n1', 'pace-001-x');
    await r.clock.advance(20);
    await r.notify('chk-p2', 'n2', 'pace-002-x');
    const fake = fakeOf(r, 'slack');
    expect(fake.received.filter((m) => !m.accepted).map((m) => m.reply.status)).toEqual([]);
    expect(fake.accepted).toHaveLength(2);
    const [first, second] = fake.accepted.map((m) => m.at);
    expect(second! - first!).toBeGreaterThanOrEqual(1_000);
  });

  it('sends completions alone while the window has room', async () => {
    const r = await rig({ ding: { platform: 'dingtalk' } });
    await seedFinished(r.store, 'quiet-001-x', 'chk-q1', ['all'], r.clock.now());
    await seedFinished(r.store, 'quiet-002-x', 'chk-q2', ['all'], r.clock.now());
    const a = await r.notify('chk-q1', 'n1', 'quiet-001-x');
    const b = await r.notify('chk-q2', 'n2', 'quiet-002-x');
    expect([a.channels[0]?.outcome, b.channels[0]?.outcome]).toEqual(['delivered', 'delivered']);
    expect(fakeOf(r, 'ding').accepted).toHaveLength(2);
  });
});

describe('notify: secrets', () => {
  it('writes no webhook token or sign secret to any log line or stored row', async () => {
    const r = await rig(
      {
        ding: { platform: 'dingtalk' },
        feishu: { platform: 'feishu', wrongSecret: true },
        slack: { platform: 'slack' },
        wecom: { platform: 'wecom' },
        hook: { platform: 'webhook', settings: { timeout: 300 } },
      },
      { file: true },
    );
    fakeOf(r, 'hook').injectFault({ kind: 'timeoutAfterReceipt' });
    fakeOf(r, 'wecom').injectFault({ kind: 'code', code: 93000 });
    fakeOf(r, 'slack').injectFault({ kind: '5xx', code: 502 });
    await seedFinished(r.store, CLUSTER, 'chk-secret-1', ['all'], r.clock.now());
    const report = await r.notify('chk-secret-1');
    expect(report.channels.map((c) => c.outcome)).toEqual([
      'delivered',
      'permanent',
      'delivered',
      'permanent',
      'delivered',
    ]);
    const secrets = [
      ...Object.values(r.fakes).flatMap(secretsOf),
      ...Object.values(r.fakes).map((f) => f.url),
    ];
    // The secrets include something for every platform (the test would pass vacuously otherwise).
    expect(secrets.length).toBeGreaterThanOrEqual(10);
    const rows = JSON.stringify([
      await r.store.getCheck(CLUSTER as ClusterId, 'chk-secret-1' as CheckId),
      await r.store.listChecks({ where: 'all' }),
    ]);
    expect(r.lines.length).toBeGreaterThan(5);
    await r.store.close();
    const files = [r.dbPath, `${r.dbPath}-wal`].filter((p) => existsSync(p));
    const bytes = files.map((p) => readFileSync(p).toString('latin1')).join('\n');
    expect(bytes).toContain('chk-secret-1');
    for (const secret of secrets) {
      for (const line of r.lines) expect(line).not.toContain(secret);
      expect(rows).not.toContain(secret);
      expect(bytes).not.toContain(secret);
    }
  });
});
