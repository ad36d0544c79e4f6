/**
 * The deployed artefacts, end to end: `npm run build` produces dist/<fn>/index.js, and those bundles
 * (not the sources) do the job the way Function Compute runs them. The poller bundle's handler gets a
 * timer event Buffer and a context carrying STS credentials; it polls the ACK simulator, keeps state in
 * the Tablestore fake and dispatches asynchronously to the FC fake; the async event the FC fake recorded
 * is handed to the notifier bundle's handler, whose messages reach the fake DingTalk and Slack.
 * Each handler runs in a fresh `node` process, as on FC: the `tablestore` SDK is sloppy-mode code that
 * leaks globals, and a process that already loaded it unbundled would hide a bundle that breaks it
 * (regression: "use strict" over the bundle made every GetRange throw `key is not defined`).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
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

/** Runs `exports.handler(event, context)` of a bundle in a fresh node process; resolves its result and log. */
function invokeBundle(
  fn: string,
  event: Buffer,
  ctx: Record<string, unknown>,
): Promise<{ result: Record<string, unknown>; log: string }> {
  const script = `
    const mod = require(process.argv[1]);
    mod.handler(Buffer.from(process.argv[2], 'base64'), JSON.parse(process.argv[3])).then(
      (r) => process.stdout.write(JSON.stringify(r)),
      (e) => { process.stderr.write(String(e && e.stack)); process.exit(1); },
    );`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', script, join(ROOT, 'dist', fn, 'index.js'), event.toString('base64'), JSON.stringify(ctx)],
      { env: { ...process.env, ...bundleEnv }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err !== null) reject(new Error(`${fn} bundle failed: ${stderr}`));
        else resolve({ result: JSON.parse(stdout) as Record<string, unknown>, log: stderr });
      },
    );
  });
}

let sim: Simulator;
let ots: TablestoreFake;
let fc: FcFake;
let ding: ChatFake;
let slack: ChatFake;
let store: TablestoreStore;
let bundleEnv: Record<string, string> = {};

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
  bundleEnv = {
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
    DINGTALK_SECRET: ding.secret ?? '',
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
  };
  store = createTablestoreStore({
    endpoint: ots.endpoint,
    instanceName: ots.instanceName,
    credentials: CREDS,
    shards: 4,
    autoCreate: true,
  });
  await store.ensureSchema();
}, 120_000);

afterAll(async () => {
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
    const polled = await invokeBundle('poller', timer, context('checkwatch-poller', 'req-poll-1', 20));
    expect(polled.result).toMatchObject({ status: 'polled' });

    const notify = fc.invocations.filter((i) => i.functionName === 'checkwatch-notifier');
    expect(notify).toHaveLength(1);
    expect(notify[0]?.invocationType).toBe('Async');
    expect(notify[0]?.taskId).toMatch(/^cw_n_/);

    const event = Buffer.from(notify[0]?.body ?? '');
    const delivered = await invokeBundle('notifier', event, context('checkwatch-notifier', 'req-n-1', 30));
    expect(delivered.result).toMatchObject({ ok: true });

    expect(ding.accepted).toHaveLength(1);
    expect(slack.accepted).toHaveLength(1);
    const dingText = JSON.stringify(ding.accepted[0]?.body);
    expect(dingText).toContain(CLUSTER);
    expect(dingText).toContain('checkwatch');
    expect(JSON.stringify(slack.accepted[0]?.body)).toContain(checkId);

    // A duplicate async delivery of the same event (FC is at-least-once) sends nothing more.
    const again = await invokeBundle('notifier', event, context('checkwatch-notifier', 'req-n-2', 30));
    expect(ding.accepted).toHaveLength(1);
    expect(slack.accepted).toHaveLength(1);

    const logs = polled.log + delivered.log + again.log;
    expect(polled.log).toContain('req-poll-1');
    expect(delivered.log).toContain('req-n-1');
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
