import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLUSTER_ID } from '../../../lib/cli/sim';
import type { Simulator } from '../../../lib/sim';
import { startSimulator } from '../../../lib/sim';
import type { ChatFake } from '../../fakes/chat';
import { startChatFake } from '../../fakes/chat';
import type { SpawnedSim } from './helpers';
import { isolatedEnv, removeIsolatedHomes, runSpawned, spawnSim } from './helpers';
import type { SpawnedServe } from './spawn-serve';
import { spawnServe } from './spawn-serve';

/**
 * `--wait` end to end with the built binary: in direct mode (a SQLite file in a temp dir, `checkwatch
 * sim` child processes, no serve: the CLI polls and notifies by itself) and in `--api` mode against a
 * `checkwatch serve` child process. Every run notifies a loopback DingTalk fake that verifies the sign.
 */

let dir: string;
let ding: ChatFake;

function configFile(name: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      store: { type: 'sqlite', path: join(dir, `${name}.sqlite`) },
      channels: { ops: { type: 'dingtalk', url: { env: 'T_DING_URL' }, secret: { env: 'T_DING_SECRET' } } },
      routes: { team: { channels: ['ops'] } },
      defaults: { routes: ['team'] },
      ...extra,
    }),
  );
  return path;
}

function messagesAbout(checkId: string): number {
  return ding.accepted.filter((m) => m.raw.includes(checkId)).length;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'checkwatch-cli-wait-'));
  ding = await startChatFake({ platform: 'dingtalk', rateLimit: false });
});

afterAll(async () => {
  await ding.close();
  rmSync(dir, { recursive: true, force: true });
  removeIsolatedHomes();
});

describe('direct mode: checkwatch run --wait on a SQLite store, no serve running', () => {
  let passSim: SpawnedSim;
  let failSim: SpawnedSim;
  beforeAll(async () => {
    const simArgs = ['--demo', '--check-duration', '1s', '--seed', '5'];
    [passSim, failSim] = await Promise.all([
      spawnSim([...simArgs, '--failure-rate', '0'], isolatedEnv()),
      spawnSim([...simArgs, '--failure-rate', '1'], isolatedEnv()),
    ]);
  });
  afterAll(async () => {
    await Promise.all([passSim.stop(), failSim.stop()]);
  });

  const envFor = (sim: SpawnedSim): NodeJS.ProcessEnv =>
    isolatedEnv({
      ALIBABA_CLOUD_ACCESS_KEY_ID: sim.info.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: sim.info.accessKeySecret,
      CHECKWATCH_ACK_ENDPOINT: sim.info.endpoint,
      T_DING_URL: ding.url,
      T_DING_SECRET: ding.secret ?? '',
    });

  it('exits 0 once a passing check is finished and its notification delivered', async () => {
    const config = configFile('direct-pass');
    const env = envFor(passSim);
    const r = await runSpawned(
      ['run', DEMO_CLUSTER_ID, '--type', 'ClusterUpgrade', '--wait', '--config', config],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const checkId = /Started ClusterUpgrade check (\S+) and watching it/.exec(r.stdout)?.[1] ?? '';
    expect(checkId).toContain(DEMO_CLUSTER_ID);
    expect(r.stdout).toContain('… ClusterUpgrade Running');
    expect(r.stdout).toContain('Finished: passed (Succeeded); ops delivered');
    expect(messagesAbout(checkId)).toBe(1);

    const show = await runSpawned(['show', DEMO_CLUSTER_ID, checkId, '--json', '--config', config], env);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({
      state: 'done',
      outcome: 'passed',
      deliveries: [{ channel: 'ops', state: 'delivered', attempts: 1 }],
    });
    const ls = await runSpawned(['ls', '--config', config], env);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(
      new RegExp(`done\\s+Succeeded\\s+passed\\s+ClusterUpgrade\\s+${DEMO_CLUSTER_ID}\\s+${checkId}`),
    );
  });

  it('exits 1 once a failing check is finished and notified', async () => {
    const config = configFile('direct-fail');
    const r = await runSpawned(
      ['run', DEMO_CLUSTER_ID, '--type', 'ClusterUpgrade', '--wait', '--json', '--config', config],
      envFor(failSim),
    );
    expect(r.code).toBe(1);
    const final = JSON.parse(r.stdout.trim());
    expect(final).toMatchObject({ state: 'done', outcome: 'failed', status: 'Failed' });
    expect(messagesAbout(final.check_id)).toBe(1);
  });

  it('watches a known check, then unwatches it, in direct mode without --wait', async () => {
    const config = configFile('direct-watch');
    const env = envFor(passSim);
    const w = await runSpawned(
      ['watch', 'check', DEMO_CLUSTER_ID, passSim.info.checkId ?? '', '--config', config],
      env,
    );
    expect(w.code).toBe(0);
    expect(w.stdout).toContain(`Watching check ${passSim.info.checkId}.`);
    const again = await runSpawned(
      ['watch', 'check', DEMO_CLUSTER_ID, passSim.info.checkId ?? '', '--config', config],
      env,
    );
    expect(again.stdout).toContain('Already watching');
    const un = await runSpawned(
      ['unwatch', 'check', DEMO_CLUSTER_ID, passSim.info.checkId ?? '', '--config', config],
      env,
    );
    expect(un.stdout).toContain('Stopped watching');
    const gone = await runSpawned(
      ['show', DEMO_CLUSTER_ID, passSim.info.checkId ?? '', '--config', config],
      env,
    );
    expect(gone.code).toBe(4);
  });
});

describe('--api mode against checkwatch serve', () => {
  let sim: Simulator;
  let serve: SpawnedServe;
  const token = 'api-token-for-tests-0123456789';
  let cliEnv: NodeJS.ProcessEnv;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 9, clusters: [DEMO_CLUSTER_ID] });
    serve = await spawnServe(
      ['--config', configFile('serve'), '--tick', '200ms'],
      isolatedEnv({
        ALIBABA_CLOUD_ACCESS_KEY_ID: sim.accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: sim.accessKeySecret,
        CHECKWATCH_ACK_ENDPOINT: sim.endpoint,
        CHECKWATCH_API_TOKEN_ENVS: 'T_API_TOKEN',
        T_API_TOKEN: token,
        T_DING_URL: ding.url,
        T_DING_SECRET: ding.secret ?? '',
        CHECKWATCH_LOG_LEVEL: 'warn',
      }),
    );
    cliEnv = isolatedEnv({ CHECKWATCH_API_TOKEN: token });
  });
  afterAll(async () => {
    const ended = await serve.stop('SIGTERM');
    await sim.close();
    // Graceful stop on SIGTERM: exit 0, and no secret in its logs.
    expect(ended).toEqual({ code: 0, signal: null });
    expect(serve.stderr()).not.toContain(token);
  });

  it('delivers the notification for a check subscribed through the API, and --wait exits 0', async () => {
    const checkId = sim.seedCheck({ clusterId: DEMO_CLUSTER_ID, durationMs: 1_000, outcome: 'Succeeded' });
    const r = await runSpawned(
      ['watch', 'check', DEMO_CLUSTER_ID, checkId, '--wait', '--api', serve.url],
      cliEnv,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Finished: passed (Succeeded); ops delivered');
    expect(messagesAbout(checkId)).toBe(1);
  });

  it('exits 1 for a failed check, with the failing items delivered', async () => {
    const checkId = sim.seedCheck({ clusterId: DEMO_CLUSTER_ID, durationMs: 1_000, outcome: 'Failed' });
    const r = await runSpawned(
      ['watch', 'check', DEMO_CLUSTER_ID, checkId, '--wait', '--api', serve.url],
      cliEnv,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Finished: failed (Failed)');
    const sent = ding.accepted.find((m) => m.raw.includes(checkId));
    expect(sent?.raw).toContain('error');
  });

  it('lists the watches through the API and refuses a wrong token with exit 3', async () => {
    const ls = await runSpawned(['ls', '--json', '--api', serve.url], cliEnv);
    expect(ls.code).toBe(0);
    expect(JSON.parse(ls.stdout).checks.length).toBeGreaterThanOrEqual(2);
    const denied = await runSpawned(
      ['ls', '--api', serve.url, '--token', 'wrong-token-0123456789'],
      isolatedEnv(),
    );
    expect(denied.code).toBe(3);
    expect(denied.stderr).not.toContain('wrong-token-0123456789');
  });
});
