import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../../lib/cli/context';
import { defaultDeps } from '../../../lib/cli/deps';
import type { CliDeps } from '../../../lib/cli/deps';
import { credentialSource } from '../../../lib/credentials';
import type { Simulator } from '../../../lib/sim/index';
import { startSimulator } from '../../../lib/sim/index';
import { runInProcess } from './helpers';

/**
 * The check commands in-process against the ACK simulator on loopback: real signing, real HTTP,
 * real error bodies. The spawned-binary path is covered by e2e.test.ts.
 */

const CLUSTER = 'c0123456789abcdef0123456789abcdef';
const UNKNOWN_CLUSTER = 'c0ffffffffffffffffffffffffffffff';

let sim: Simulator;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  sim = await startSimulator({ seed: 42, checkDurationMs: 60_000, failureRate: 0 });
  env = {
    ALIBABA_CLOUD_ACCESS_KEY_ID: sim.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: sim.accessKeySecret,
    CHECKWATCH_ACK_ENDPOINT: sim.endpoint,
  };
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.clearFaults();
  sim.resetCounters();
  sim.addCluster(CLUSTER);
});

function cli(args: readonly string[], options: Parameters<typeof runInProcess>[2] = {}) {
  return runInProcess(args, env, options);
}

function expectNoSecret(...texts: string[]): void {
  for (const t of texts) expect(t).not.toContain(sim.accessKeySecret);
}

describe('checkwatch check run / get / list against the simulator', () => {
  it('runs a check, then lists and gets it, in human form', async () => {
    const run = await cli([
      'check',
      'run',
      CLUSTER,
      '--type',
      'clusterupgrade',
      '--next-version',
      '1.32.1-aliyun.1',
    ]);
    expect(run.code).toBe(0);
    const checkId = /Started ClusterUpgrade check (\S+)/.exec(run.stdout)?.[1];
    expect(checkId).toBeDefined();
    expect(sim.checkIds(CLUSTER)).toContain(checkId);

    const list = await cli(['check', 'list', CLUSTER]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`… Running\\s+ClusterUpgrade\\s+.*${checkId!}`));

    const get = await cli(['check', 'get', CLUSTER, checkId!]);
    expect(get.code).toBe(0);
    expect(get.stdout.split('\n')[0]).toBe('… Running  ClusterUpgrade check');
    expect(get.stdout).toMatch(/duration {2}running for \d/);
    expectNoSecret(run.stdout, run.stderr, list.stdout, get.stdout, get.stderr);
  });

  it("prints ACK's JSON with --json and the finished status once the check is done", async () => {
    const run = await cli(['check', 'run', CLUSTER, '--type', 'MasterUpgrade', '--json']);
    expect(run.code).toBe(0);
    const started = JSON.parse(run.stdout);
    expect(Object.keys(started).sort()).toEqual(['check_id', 'request_id']);
    sim.finishCheck(CLUSTER, started.check_id, 'Succeeded');

    const get = await cli(['check', 'get', CLUSTER, started.check_id, '--json']);
    expect(get.code).toBe(0);
    const detail = JSON.parse(get.stdout);
    expect(detail).toMatchObject({ check_id: started.check_id, type: 'MasterUpgrade', status: 'Succeeded' });
    expect(detail).toHaveProperty('check_items');
    expect(detail.finished_at).not.toBe('');

    const list = await cli(['check', 'list', CLUSTER, '--type', 'MasterUpgrade', '--json']);
    const { checks } = JSON.parse(list.stdout);
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.every((c: { type: string }) => c.type === 'MasterUpgrade')).toBe(true);
    expect(checks[0]).not.toHaveProperty('check_items');
  });

  it('exits 1 and shows the failing items when the check failed', async () => {
    const checkId = sim.seedCheck({
      clusterId: CLUSTER,
      type: 'ClusterUpgrade',
      durationMs: 0,
      outcome: 'Failed',
      checkItems: {
        KubeletConfig: [
          {
            Group: 'Node',
            Level: { error: { Message: 'kubelet config invalid', Targets: [{ Target: 'np-1' }] } },
          },
        ],
      },
    });
    const get = await cli(['check', 'get', CLUSTER, checkId]);
    expect(get.code).toBe(EXIT.failed);
    expect(get.stdout.split('\n')[0]).toBe('✖ Failed  ClusterUpgrade check');
    expect(get.stdout).toContain('✖ error   Node / KubeletConfig');
    expect(get.stdout).toContain('kubelet config invalid');
    expect(get.stdout).toContain('targets: np-1');
    expect(get.stderr).toBe('');
  });

  it('requires --target for NodePoolUpgrade and sends it with the type', async () => {
    const missing = await cli(['check', 'run', CLUSTER, '--type', 'NodePoolUpgrade']);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toMatch(/--target <node-pool-id> is required/);
    expect(sim.counters.total).toBe(0);

    const run = await cli([
      'check',
      'run',
      CLUSTER,
      '--type',
      'NodePoolUpgrade',
      '--target',
      'np0123',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const list = await cli(['check', 'list', CLUSTER, '--target', 'np0123', '--json']);
    expect(JSON.parse(list.stdout).checks.map((c: { check_id: string }) => c.check_id)).toContain(
      JSON.parse(run.stdout).check_id,
    );
  });
});

describe('failures: one line on stderr and a documented exit code', () => {
  it('exits 2 for a malformed id without calling ACK', async () => {
    const r = await cli(['check', 'get', 'Not/A/Cluster', 'x']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toMatch(/^checkwatch: invalid cluster id "Not\/A\/Cluster".*\[INVALID_INPUT\]\n$/);
    expect(r.stdout).toBe('');
    expect(sim.counters.total).toBe(0);
  });

  it('exits 2 for an unknown option or a missing argument', async () => {
    expect((await cli(['check', 'list', CLUSTER, '--bogus'])).code).toBe(EXIT.usage);
    expect((await cli(['check', 'get', CLUSTER])).code).toBe(EXIT.usage);
    expect((await cli(['check', 'run', CLUSTER])).code).toBe(EXIT.usage);
  });

  it('exits 4 when the cluster does not exist', async () => {
    const r = await cli(['check', 'list', UNKNOWN_CLUSTER]);
    expect(r.code).toBe(EXIT.notFound);
    expect(r.stderr).toMatch(/\[ACK_CLUSTER_NOT_FOUND\] \(request id [^)]+\)/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('exits 4 when the check does not exist', async () => {
    const r = await cli(['check', 'get', CLUSTER, `1697100584236600453-${CLUSTER}-clustercheck-nopee`]);
    expect(r.code).toBe(EXIT.notFound);
    expect(r.stderr).toContain('[ACK_CHECK_NOT_FOUND]');
  });

  it('exits 5 when ACK keeps throttling past the timeout', async () => {
    sim.injectFault({ kinds: ['throttle'], rate: 1, retryAfterMs: 2000 });
    const r = await cli(['check', 'list', CLUSTER, '--timeout', '1s']);
    expect(r.code).toBe(EXIT.unavailable);
    expect(r.stderr).toMatch(/ACK_THROTTLED/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('retries a throttled call and succeeds when ACK recovers', async () => {
    sim.injectFault({ kinds: ['throttle'], next: 1, retryAfterMs: 10 });
    const r = await cli(['check', 'list', CLUSTER, '--json']);
    expect(r.code).toBe(0);
    expect(sim.counters.ListClusterChecks).toBe(2);
  });

  it('exits 5 when the endpoint is unreachable', async () => {
    const port = await closedPort();
    const r = await cli([
      'check',
      'list',
      CLUSTER,
      '--endpoint',
      `http://127.0.0.1:${port}`,
      '--timeout',
      '1s',
    ]);
    expect(r.code).toBe(EXIT.unavailable);
    expect(r.stderr).toMatch(/ECONNREFUSED/);
  });

  it('exits 3 when the secret is wrong, without printing either secret', async () => {
    const wrong = { ...env, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'wrong-secret-0123456789' };
    const r = await runInProcess(['check', 'list', CLUSTER], wrong);
    expect(r.code).toBe(EXIT.credentials);
    expect(r.stderr).toContain('[ACK_FORBIDDEN]');
    expect(r.stderr).not.toContain('wrong-secret-0123456789');
    expectNoSecret(r.stderr);
  });

  it('exits 3 when no credentials can be found, before any call', async () => {
    const deps: CliDeps = {
      ...defaultDeps,
      credentials: (e) =>
        credentialSource(e, () => ({
          getCredential: () =>
            Promise.reject(new Error('unable to get credentials from any of the providers')),
        })),
    };
    const r = await runInProcess(
      ['check', 'list', CLUSTER],
      { CHECKWATCH_ACK_ENDPOINT: sim.endpoint },
      { deps },
    );
    expect(r.code).toBe(EXIT.credentials);
    expect(r.stderr).toMatch(
      /^checkwatch: no Alibaba Cloud credentials found: set ALIBABA_CLOUD_ACCESS_KEY_ID .*\[CREDENTIALS_MISSING\]\n$/,
    );
    expect(sim.counters.total).toBe(0);
  });

  it('exits 2 when neither a region nor an endpoint is given', async () => {
    const r = await runInProcess(['check', 'list', CLUSTER], {
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'id',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret-123456',
    });
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toMatch(/no region: pass --region/);
  });

  it('exits 130 when interrupted mid-call', async () => {
    sim.injectFault({ kinds: ['latency'], rate: 1, latencyMs: 5000 });
    const stop = new AbortController();
    const pending = cli(['check', 'list', CLUSTER], { shutdown: stop.signal });
    setTimeout(() => {
      stop.abort(new Error('interrupted'));
    }, 100);
    const r = await pending;
    expect(r.code).toBe(EXIT.interrupted);
    expect(r.stderr).toBe('checkwatch: interrupted\n');
  });
});

describe('checkwatch sim in-process', () => {
  it('prints its endpoint and demo ids, serves the demo cluster, and closes on shutdown', async () => {
    const stop = new AbortController();
    let printed!: (text: string) => void;
    const firstOutput = new Promise<string>((resolve) => (printed = resolve));
    const running = runInProcess(
      ['sim', '--demo', '--seed', '3'],
      {},
      { shutdown: stop.signal, onStdout: printed },
    );
    const info = JSON.parse(await firstOutput) as Record<string, string>;
    expect(Object.keys(info).sort()).toEqual([
      'accessKeyId',
      'accessKeySecret',
      'checkId',
      'clusterId',
      'endpoint',
    ]);
    const list = await runInProcess(
      ['check', 'list', info.clusterId!, '--endpoint', info.endpoint!, '--json'],
      {
        ALIBABA_CLOUD_ACCESS_KEY_ID: info.accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: info.accessKeySecret,
      },
    );
    expect(JSON.parse(list.stdout).checks[0]).toMatchObject({ check_id: info.checkId, status: 'Running' });
    stop.abort();
    expect((await running).code).toBe(0);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        resolve(typeof addr === 'object' && addr !== null ? addr.port : 0);
      });
    });
  });
}
