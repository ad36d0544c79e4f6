import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLUSTER_ID } from '../../../lib/cli/sim';
import type { SpawnedSim } from './helpers';
import { isolatedEnv, removeIsolatedHomes, runSpawned, spawnSim } from './helpers';

/**
 * The built binary end to end: `checkwatch sim` as a child process, its printed credentials passed
 * to other `checkwatch` processes through the standard env variables and `--endpoint`.
 * (vitest's globalSetup rebuilds dist/cli before the run.)
 */

let sim: SpawnedSim;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  sim = await spawnSim(
    ['--seed', '7', '--demo', '--check-duration', '1s', '--failure-rate', '0'],
    isolatedEnv(),
  );
  env = isolatedEnv({
    ALIBABA_CLOUD_ACCESS_KEY_ID: sim.info.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: sim.info.accessKeySecret,
  });
});

afterAll(async () => {
  const { code, signal } = await sim.stop('SIGTERM');
  // Graceful: SIGTERM closes the server and exits 0 (checked here so every run asserts it).
  expect({ code, signal }).toEqual({ code: 0, signal: null });
  removeIsolatedHomes();
});

describe('checkwatch (built binary) against checkwatch sim', () => {
  it('prints one JSON line with the endpoint, credentials and the demo ids', () => {
    expect(sim.info.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.info.accessKeyId).not.toBe('');
    expect(sim.info.accessKeySecret).not.toBe('');
    expect(sim.info.clusterId).toBe(DEMO_CLUSTER_ID);
    expect(sim.info.checkId).toContain(`-${DEMO_CLUSTER_ID}-clustercheck-`);
  });

  it('runs a check, follows it to Succeeded and prints the result', async () => {
    const ep = ['--endpoint', sim.info.endpoint];
    const run = await runSpawned(
      ['check', 'run', DEMO_CLUSTER_ID, '--type', 'ClusterUpgrade', '--json', ...ep],
      env,
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const checkId: string = JSON.parse(run.stdout).check_id;

    let status = '';
    const deadline = Date.now() + 15_000;
    while (status !== 'Succeeded' && Date.now() < deadline) {
      const get = await runSpawned(['check', 'get', DEMO_CLUSTER_ID, checkId, '--json', ...ep], env);
      expect(get.code).toBe(0);
      status = JSON.parse(get.stdout).status;
    }
    expect(status).toBe('Succeeded');

    const human = await runSpawned(['check', 'get', DEMO_CLUSTER_ID, checkId, ...ep], env);
    expect(human.code).toBe(0);
    expect(human.stdout.split('\n')[0]).toBe('✔ Succeeded  ClusterUpgrade check');
    expect(human.stdout).toMatch(/finished {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(took \d/);
    expect(human.stdout).toMatch(/items {5}\d+ items?:/);
    expect(human.stdout + human.stderr).not.toContain(sim.info.accessKeySecret);

    const list = await runSpawned(['check', 'list', DEMO_CLUSTER_ID, ...ep], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(checkId);
    expect(list.stdout).toContain(sim.info.checkId!);
  });

  it('takes the endpoint from CHECKWATCH_ACK_ENDPOINT', async () => {
    const r = await runSpawned(['check', 'list', DEMO_CLUSTER_ID, '--json'], {
      ...env,
      CHECKWATCH_ACK_ENDPOINT: sim.info.endpoint,
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).checks.length).toBeGreaterThan(0);
  });

  it('exits 4 with one line for an unknown cluster', async () => {
    const r = await runSpawned(
      ['check', 'list', 'c0nosuchcluster000000000000000000', '--endpoint', sim.info.endpoint],
      env,
    );
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^checkwatch: .*\[ACK_CLUSTER_NOT_FOUND\][^\n]*\n$/);
  });

  it('exits 3 with a hint when no credentials are configured anywhere', async () => {
    const r = await runSpawned(
      ['check', 'list', DEMO_CLUSTER_ID, '--endpoint', sim.info.endpoint],
      isolatedEnv(),
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^checkwatch: no Alibaba Cloud credentials found: .*\[CREDENTIALS_MISSING\]\n$/);
  });

  it('reads credentials from an aliyun CLI profile through the SDK chain', async () => {
    const profileEnv = isolatedEnv();
    const dir = join(profileEnv.HOME!, '.aliyun');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        current: 'default',
        profiles: [
          {
            name: 'default',
            mode: 'AK',
            access_key_id: sim.info.accessKeyId,
            access_key_secret: sim.info.accessKeySecret,
          },
        ],
      }),
    );
    const r = await runSpawned(
      ['check', 'list', DEMO_CLUSTER_ID, '--endpoint', sim.info.endpoint, '--json'],
      profileEnv,
    );
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(r.stdout).checks.length).toBeGreaterThan(0);
  });

  it('prints its version and help with the exit codes, exiting 0', async () => {
    const version = await runSpawned(['--version'], env);
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
    const help = await runSpawned(['--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
    expect(help.stdout).toContain('4    cluster or check not found');
  });
});

describe('checkwatch sim lifecycle', () => {
  it('closes and exits 0 on SIGINT', async () => {
    const other = await spawnSim(['--port', '0'], isolatedEnv());
    expect(Object.keys(other.info).sort()).toEqual(['accessKeyId', 'accessKeySecret', 'endpoint']);
    const { code, signal } = await other.stop('SIGINT');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });

  it('exits 2 for an invalid port', async () => {
    const r = await runSpawned(['sim', '--port', '70000'], isolatedEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/expected a port number 0-65535/);
  });
});
