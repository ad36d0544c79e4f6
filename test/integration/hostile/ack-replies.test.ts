/**
 * Hostile ACK replies: a loopback server answers the real AckClient with fast-check generated JSON —
 * random shapes for `check_items`, unknown statuses, missing fields, wrong types, random statuses and
 * non-JSON bodies — while the real `runPoller` polls it (Get for a lone check, List for a cluster with
 * several, discovery for a watched cluster). The cycle never crashes; every watched check is either
 * still watched (the failure is logged and retried next cycle) or finished and handed off; and the
 * message of every finished check renders on every channel.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckClient } from '../../../lib/ack/client';
import {
  createChannel,
  CHANNEL_TYPES,
  type ChannelConfig,
  type ChannelType,
} from '../../../lib/channels/channel';
import { systemClock } from '../../../lib/clock';
import type { CheckId, ClusterId } from '../../../lib/domain/check';
import type { DispatchRequest, Dispatcher } from '../../../lib/dispatch/dispatch';
import { silentLogger } from '../../../lib/log';
import { checkMessageOf } from '../../../lib/notify/message';
import { POLLER_ACK_RETRY_POLICY, runPoller } from '../../../lib/poll/cycle';
import { createSqliteStore } from '../../../lib/store/sqlite';
import { CHECK_OUTCOMES, type Store } from '../../../lib/store/store';

const CLUSTER = 'c0hostile0000000000000000000001' as ClusterId;
const CHECK_A = `1697100584236600453-${CLUSTER}-clustercheck-aaaaa` as CheckId;
const CHECK_B = `1697100584236600999-${CLUSTER}-clustercheck-bbbbb` as CheckId;
const CREDS = { accessKeyId: 'test-hostile-ack-key', accessKeySecret: 'hostile-ack-secret-0123456789' };

interface Answer {
  status: number;
  body: string;
}

let server: Server;
let endpoint = '';
let getAnswer: Answer = { status: 200, body: '{}' };
let listAnswer: Answer = { status: 200, body: '{"checks":[]}' };
let ack: AckClient;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const a = /\/checks\/[^/]+$/.test(path) ? getAnswer : listAnswer;
      res.writeHead(a.status, {
        'content-type': 'application/json;charset=utf-8',
        'x-acs-request-id': 'HOSTILE',
      });
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  ack = new AckClient({
    credentials: CREDS,
    region: 'cn-hangzhou',
    endpoint,
    retry: POLLER_ACK_RETRY_POLICY,
    timeoutMs: 2_000,
  });
});

afterAll(async () => {
  await ack.close();
  await new Promise<void>((r) => {
    server.close(() => {
      r();
    });
  });
});

// ─── generators ─────────────────────────────────────────────────────────────────────────────────────

const anyJson = fc.jsonValue({ maxDepth: 3 });
const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });

const status = fc.oneof(
  fc.constantFrom(
    'Succeeded',
    'Failed',
    'Running',
    'Error',
    'Canceled',
    'success',
    'FAILED',
    'Pending',
    'PAUSED',
    '',
  ),
  fc.string({ maxLength: 40 }),
);
const time = fc.oneof(
  fc.constantFrom('2024-01-01T00:00:00.123456789Z', '0001-01-01T00:00:00Z', '', 'yesterday'),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.string({ maxLength: 30 }),
);
/** check_items as ACK shapes them (category → list of items), with every field possibly wrong. */
const checkItems = fc.oneof(
  anyJson,
  fc.dictionary(
    fc.string({ maxLength: 20 }),
    fc.oneof(
      fc.array(
        fc.record(
          {
            name: fc.oneof(fc.string({ maxLength: 60 }), anyJson),
            level: fc.oneof(fc.constantFrom('error', 'warn', 'normal', 'advice', 'ERROR', ''), anyJson),
            value: anyJson,
            description: fc.oneof(fc.string({ maxLength: 3_000 }), anyJson),
            target_type: anyJson,
            targets: fc.oneof(fc.array(fc.string({ maxLength: 30 }), { maxLength: 5 }), anyJson),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 30 },
      ),
      anyJson,
    ),
    { maxKeys: 6 },
  ),
);

/** A check object: each field valid, missing, null or of the wrong type. */
function checkObject(id: CheckId): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      check_id: fc.oneof({ weight: 8, arbitrary: fc.constant(id) }, { weight: 1, arbitrary: anyJson }),
      status: fc.oneof({ weight: 8, arbitrary: status }, { weight: 1, arbitrary: anyJson }),
      type: fc.oneof(fc.constantFrom('ClusterUpgrade', 'NodePoolUpgrade', 'Unknown'), anyJson),
      message: fc.oneof(fc.string({ maxLength: 5_000 }), anyJson),
      created_at: fc.oneof(time, anyJson),
      finished_at: fc.oneof(time, anyJson),
      check_items: checkItems,
      extra: anyJson,
    },
    { requiredKeys: [] },
  );
}

const replyStatus = fc.oneof(
  { weight: 8, arbitrary: fc.constant(200) },
  { weight: 1, arbitrary: fc.constantFrom(400, 404, 429, 500, 502, 503) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 599 }) },
);

function answerOf(body: fc.Arbitrary<unknown>): fc.Arbitrary<Answer> {
  return fc.record({
    status: replyStatus,
    body: fc.oneof(
      { weight: 8, arbitrary: body.map((b) => (b === undefined ? '' : JSON.stringify(b))) },
      { weight: 1, arbitrary: anyJson.map((b) => JSON.stringify(b)) },
      { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    ),
  });
}

const listBody = fc.oneof(
  fc.record(
    {
      checks: fc.oneof(
        fc
          .tuple(checkObject(CHECK_A), checkObject(CHECK_B), maybe(checkObject(`${CHECK_B}x` as CheckId)))
          .map((t) => t.filter((x) => x !== undefined)),
        anyJson,
      ),
    },
    { requiredKeys: [] },
  ),
  anyJson,
);

type Path = 'get' | 'list' | 'discover';

// ─── the property ───────────────────────────────────────────────────────────────────────────────────

function channelConfig(type: ChannelType): ChannelConfig {
  const common = { name: `r-${type}`, language: 'en' as const };
  switch (type) {
    case 'dingtalk':
      return { ...common, type, url: 'https://oapi.dingtalk.com/robot/send?access_token=x', keyword: 'cw' };
    case 'feishu':
      return { ...common, type, url: 'https://open.feishu.cn/open-apis/bot/v2/hook/x' };
    case 'slack':
      return { ...common, type, url: 'https://hooks.slack.com/services/T/B/X' };
    case 'wecom':
      return { ...common, type, url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x' };
    case 'webhook':
      return { ...common, type, url: 'https://example.invalid/hook', secret: 'whsec_aG9zdGlsZQ==' };
    default: {
      const unreachable: never = type;
      return unreachable;
    }
  }
}

async function seedStore(store: Store, path: Path): Promise<void> {
  const now = Date.now();
  const routes = ['ops'];
  if (path === 'discover') {
    await store.watchCluster({ clusterId: CLUSTER, region: 'cn-hangzhou', routes, baseline: [] }, now);
    return;
  }
  await store.watchCheck(
    { clusterId: CLUSTER, checkId: CHECK_A, region: 'cn-hangzhou', routes, source: 'watch' },
    now,
  );
  if (path === 'list') {
    await store.watchCheck(
      { clusterId: CLUSTER, checkId: CHECK_B, region: 'cn-hangzhou', routes, source: 'watch' },
      now,
    );
  }
}

describe('hostile ACK replies to the poller', () => {
  it('never crashes the cycle; every check stays watched or is finished, handed off once, and renders everywhere', async () => {
    const seen = { finished: 0, stillWatched: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Path>('get', 'list', 'discover'),
        answerOf(checkObject(CHECK_A)),
        answerOf(listBody),
        async (path, get, list) => {
          getAnswer = get;
          listAnswer = list;
          const store = createSqliteStore({ path: ':memory:', shards: 2 });
          const dispatched: DispatchRequest[] = [];
          const dispatch: Dispatcher = {
            dispatch: (req) => {
              dispatched.push(req);
              return Promise.resolve({ status: 'dispatched' });
            },
          };
          try {
            await seedStore(store, path);
            const result = await runPoller(
              { store, ack, dispatch, clock: systemClock, log: silentLogger, random: () => 0.5 },
              {
                holder: 'hostile',
                shards: 2,
                deadline: Date.now() + 4_000,
                marginMs: 500,
                loop: false,
                ackCallBudgetMs: 800,
                schedule: { steps: [{ afterMs: 0, intervalMs: 100 }], clusterIdleMs: 100 },
              },
            );
            expect(['polled', 'idle']).toContain(result.status);

            const pending = await store.listPending();
            const finished = pending.checks.filter((c) => c.outcome !== undefined);
            seen.finished += finished.length;
            seen.stillWatched += pending.checks.length - finished.length;
            for (const c of pending.checks) {
              if (c.outcome !== undefined) expect(CHECK_OUTCOMES).toContain(c.outcome);
            }
            if (path !== 'discover') {
              // Nothing is lost: every watched check is still there, finished or not.
              const ids = pending.checks.map((c) => c.checkId).sort();
              expect(ids).toEqual(path === 'get' ? [CHECK_A] : [CHECK_A, CHECK_B].sort());
            }
            // Each finished check is handed off exactly once, after its row was written.
            const handed = dispatched.flatMap((d) => (d.kind === 'notify' ? [d.checkId] : []));
            expect(handed.sort()).toEqual(finished.map((c) => c.checkId as string).sort());

            for (const c of finished) {
              const view = await store.getCheck(c.clusterId, c.checkId);
              expect(view).toBeDefined();
              const record = view?.check;
              if (record?.outcome === undefined) throw new Error('finished check lost its outcome');
              const msg = checkMessageOf({ ...record, outcome: record.outcome });
              for (const type of CHANNEL_TYPES) {
                const r = createChannel(channelConfig(type)).render(msg);
                expect(r.bytes).toBeGreaterThan(0);
                expect(() => JSON.parse(r.body) as unknown).not.toThrow();
              }
            }
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 80 },
    );
    // The generators reach both sides: replies the poller could use, and replies it had to skip.
    expect(seen.finished).toBeGreaterThan(0);
    expect(seen.stillWatched).toBeGreaterThan(0);
  }, 60_000);
});
