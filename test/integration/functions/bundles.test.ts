/**
 * The deployed artefacts, end to end: `npm run build` produces dist/<fn>/index.js, and those bundles
 * (not the sources) do the job the way Function Compute runs them. The poller bundle's handler gets a
 * timer event Buffer and a context carrying STS credentials; it polls the ACK simulator, keeps state in
 * the Tablestore fake and dispatches asynchronously to the FC fake; the async event the FC fake recorded
 * is handed to the notifier bundle's handler, whose messages reach the fake DingTalk and Slack.
 * The `tablestore` SDK is sloppy-mode code: this also proves the bundles keep it working.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckId, ClusterId } from '../../../lib/domain/check';
import { startSimulator, type Simulator } from '../../../lib/sim/index';
import { createTablestoreStore, type TablestoreStore } from '../../../lib/store/tablestore';
import { startChatFake, type ChatFake } from '../../fakes/chat/index';
import { startFcFake, type FcFake } from '../../fakes/fc/index';
import { startTablestoreFake, type TablestoreFake } from '../../fakes/tablestore/index';

const ROOT = join(__dirname, '..', '..', '..');
const CREDS = {
  accessKeyId: 'STS.NBundleRoleKey0001',
  accessKeySecret: 'bundle-role-secret-0123456789',
  securityToken: 'bundle-role-sts-token-abcdefghij',
};
const ACCOUNT = '1234567890123456';
const CLUSTER = 'cb0000000000000000000000000000001' as ClusterId;

interface FcHandlerModule {
  handler(event: Buffer, context: Record<string, unknown>): Promise<Record<string, unknown>>;
}

let sim: Simulator;
let ots: TablestoreFake;
let fc: FcFake;
let ding: ChatFake;
let slack: ChatFake;
let store: TablestoreStore;
const savedEnv = { ...process.env };
const logLines: string[] = [];
const originalWrite = process.stderr.write.bind(process.stderr);

function context(fn: string, requestId: string, timeout: number): Record<string, unknown> {
  return {
    requestId,
    credentials: CREDS,
    function: { name: fn, handler: 'index.handler', memory: 256, timeout },
    region: 'cn-hangzhou',
    accountId: ACCOUNT,
  };
}

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs', '--quiet'], { cwd: ROOT, stdio: 'inherit' });
  sim = await startSimulator({ seed: 7, ...CREDS });
  ots = await startTablestoreFake({
    accessKeyId: CREDS.accessKeyId,
    accessKeySecret: CREDS.accessKeySecret,
    stsToken: CREDS.securityToken,
  });
  fc = await startFcFake({ ...CREDS, accountId: ACCOUNT });
  ding = await startChatFake({ platform: 'dingtalk', keyword: 'checkwatch' });
  slack = await startChatFake({ platform: 'slack' });
  Object.assign(process.env, {
    CHECKWATCH_STORE: 'tablestore',
    CHECKWATCH_OTS_ENDPOINT: ots.endpoint,
    CHECKWATCH_OTS_INSTANCE: ots.instanceName,
    CHECKWATCH_OTS_CREATE_TABLES: 'true',
    CHECKWATCH_ACK_ENDPOINT: sim.endpoint,
    CHECKWATCH_DISPATCH: 'fc',
    CHECKWATCH_FC_ENDPOINT: fc.endpoint,
    CHECKWATCH_FC_ACCOUNT_ID: ACCOUNT,
    CHECKWATCH_NOTIFIER_FUNCTION: 'checkwatch-notifier',
    CHECKWATCH_POLLER_FUNCTION: 'checkwatch-poller',
    CHECKWATCH_SHARDS: '4',
    DINGTALK_URL: ding.url,
    DINGTALK_SECRET: ding.secret,
    SLACK_URL: slack.url,
    CHECKWATCH_CONFIG: JSON.stringify({
      channels: {
        ops: {
          type: 'dingtalk',
          url: { env: 'DINGTALK_URL' },
          secret: { env: 'DINGTALK_SECRET' },
          keyword: 'checkwatch',
        },
        dev: { type: 'slack', url: { env: 'SLACK_URL' } },
      },
      routes: { all: { channels: ['ops', 'dev'] } },
      defaults: { routes: ['all'] },
    }),
  });
  store = createTablestoreStore({
    endpoint: ots.endpoint,
    instanceName: ots.instanceName,
    credentials: CREDS,
    shards: 4,
    autoCreate: true,
  });
  await store.ensureSchema();
  // Capture what the bundles log, to check no secret leaks into a log line.
  process.stderr.write = (chunk: string | Uint8Array) => {
    logLines.push(String(chunk));
    return true;
  };
}, 120_000);

afterAll(async () => {
  process.stderr.write = originalWrite;
  process.env = savedEnv;
  await store.close();
  await Promise.all([sim.close(), ots.close(), fc.close(), ding.close(), slack.close()]);
});

describe('the bundled functions', () => {
  it('builds one CommonJS bundle per function', () => {
    for (const fn of ['poller', 'notifier', 'api']) {
      const file = join(ROOT, 'dist', fn, 'index.js');
      expect(existsSync(file), file).toBe(true);
      expect(statSync(file).size).toBeGreaterThan(10_000);
    }
  });

  it('detect a finished check and deliver it to DingTalk and Slack, bundle to bundle', async () => {
    const requireDist = createRequire(join(ROOT, 'dist', 'poller', 'index.js'));
    const poller = requireDist('./index.js') as FcHandlerModule;
    const notifier = requireDist('../notifier/index.js') as FcHandlerModule;

    sim.addCluster(CLUSTER);
    const checkId = sim.seedCheck({
      clusterId: CLUSTER,
      type: 'ClusterUpgrade',
      durationMs: 1_500,
      outcome: 'Failed',
    });
    await store.watchCheck(
      {
        clusterId: CLUSTER,
        checkId: checkId as CheckId,
        region: 'cn-hangzhou',
        routes: ['all'],
        source: 'watch',
      },
      Date.now(),
    );

    const timer = Buffer.from(
      JSON.stringify({ triggerTime: new Date().toISOString(), triggerName: 'every-minute', payload: '{}' }),
    );
    const polled = await poller.handler(timer, context('checkwatch-poller', 'req-poll-1', 20));
    expect(polled).toMatchObject({ status: 'polled' });

    const notify = fc.invocations.filter((i) => i.functionName === 'checkwatch-notifier');
    expect(notify).toHaveLength(1);
    expect(notify[0]?.invocationType).toBe('Async');
    expect(notify[0]?.taskId).toMatch(/^cw_n_/);

    const delivered = await notifier.handler(
      Buffer.from(notify[0]?.body ?? ''),
      context('checkwatch-notifier', 'req-n-1', 30),
    );
    expect(delivered).toMatchObject({ ok: true });

    expect(ding.accepted).toHaveLength(1);
    expect(slack.accepted).toHaveLength(1);
    const dingText = JSON.stringify(ding.accepted[0]?.body);
    expect(dingText).toContain(CLUSTER);
    expect(dingText).toContain('checkwatch');
    expect(JSON.stringify(slack.accepted[0]?.body)).toContain(checkId);

    // A duplicate async delivery of the same event (FC is at-least-once) sends nothing more.
    await notifier.handler(Buffer.from(notify[0]?.body ?? ''), context('checkwatch-notifier', 'req-n-2', 30));
    expect(ding.accepted).toHaveLength(1);
    expect(slack.accepted).toHaveLength(1);

    const logs = logLines.join('');
    expect(logs).toContain('req-poll-1');
    for (const secret of [
      CREDS.accessKeySecret,
      CREDS.securityToken,
      ding.secret ?? 'x',
      new URL(ding.url).searchParams.get('access_token') ?? 'x',
    ]) {
      expect(logs).not.toContain(secret);
    }
  }, 60_000);
});
