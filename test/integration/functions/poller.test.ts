/**
 * The poller FC handler against the ACK simulator, the Tablestore fake and the FC fake, configured only
 * through environment variables and the invocation context, as Function Compute runs it — first from
 * source, then as the esbuild bundle that is deployed.
 */
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckId, ClusterId } from '../../../lib/domain/check';
import { encodeDispatchEvent, parseDispatchEvent } from '../../../lib/dispatch/dispatch';
import { startSimulator, type Simulator } from '../../../lib/sim/index';
import { shardOf } from '../../../lib/store/rules';
import { createTablestoreStore, type TablestoreStore } from '../../../lib/store/tablestore';
import { createPollerHandler, type PollerContext as FcContext, type PollerResponse } from '../../../functions/poller/index';
import { startFcFake, type FcFake } from '../../fakes/fc/index';
import { startTablestoreFake, type TablestoreFake } from '../../fakes/tablestore/index';

const CREDS = {
  accessKeyId: 'STS.NTestFunctionRoleKey',
  accessKeySecret: 'function-role-secret-0123456789',
  securityToken: 'function-role-sts-token-abcdefghij',
};
const ACCOUNT = '1234567890123456';
const SHARDS = 4;

let sim: Simulator;
let ots: TablestoreFake;
let fc: FcFake;
let store: TablestoreStore;
let env: Record<string, string>;

beforeAll(async () => {
  sim = await startSimulator({ seed: 11, ...CREDS, checkDurationMs: 600_000 });
  ots = await startTablestoreFake({
    accessKeyId: CREDS.accessKeyId,
    accessKeySecret: CREDS.accessKeySecret,
    stsToken: CREDS.securityToken,
  });
  fc = await startFcFake({ ...CREDS, accountId: ACCOUNT });
  env = {
    CHECKWATCH_STORE: 'tablestore',
    CHECKWATCH_OTS_ENDPOINT: ots.endpoint,
    CHECKWATCH_OTS_INSTANCE: ots.instanceName,
    CHECKWATCH_OTS_CREATE_TABLES: 'true',
    CHECKWATCH_ACK_ENDPOINT: sim.endpoint,
    CHECKWATCH_DISPATCH: 'fc',
    CHECKWATCH_FC_ENDPOINT: fc.endpoint,
    CHECKWATCH_NOTIFIER_FUNCTION: 'checkwatch-notifier',
    CHECKWATCH_POLLER_FUNCTION: 'checkwatch-poller',
    CHECKWATCH_SHARDS: String(SHARDS),
  };
  store = createTablestoreStore({
    endpoint: ots.endpoint,
    instanceName: ots.instanceName,
    credentials: CREDS,
    shards: SHARDS,
    autoCreate: true,
  });
  await store.ensureSchema();
});

afterAll(async () => {
  await store.close();
  await sim.close();
  await ots.close();
  await fc.close();
});

let seq = 0;
function cluster(): ClusterId {
  seq += 1;
  return `cf0${String(seq).padStart(29, '0')}` as ClusterId;
}

function timerEvent(): Buffer {
  return Buffer.from(
    JSON.stringify({ triggerTime: new Date().toISOString(), triggerName: 'every-minute', payload: '{}' }),
  );
}

function context(requestId: string, timeout = 3): FcContext {
  return {
    requestId,
    credentials: { ...CREDS },
    function: { name: 'checkwatch-poller', timeout, memory: 256 },
    region: 'cn-hangzhou',
    accountId: ACCOUNT,
  };
}

async function watchFinished(outcome = 'Succeeded'): Promise<{ clusterId: ClusterId; checkId: CheckId }> {
  const clusterId = cluster();
  const checkId = sim.seedCheck({ clusterId, durationMs: 600_000 }) as CheckId;
  sim.finishCheck(clusterId, checkId, outcome);
  await store.watchCheck(
    { clusterId, checkId, region: 'cn-hangzhou', routes: ['ops'], source: 'watch' },
    Date.now(),
  );
  return { clusterId, checkId };
}

function notifyInvocations(): { clusterId: string; checkId: string }[] {
  return fc.invocations.flatMap((inv) => {
    if (inv.functionName !== 'checkwatch-notifier') return [];
    const r = parseDispatchEvent(inv.body);
    return r.kind === 'notify' ? [{ clusterId: r.clusterId, checkId: r.checkId }] : [];
  });
}

describe('poller function (source)', () => {
  it('polls on a timer event, hands the finished check to the notifier, and logs one line per cycle', async () => {
    const lines: string[] = [];
    const poller = createPollerHandler({ env, write: (l) => lines.push(l) });
    try {
      const { clusterId, checkId } = await watchFinished();
      const res = await poller.handle(timerEvent(), context('req-timer-1'));
      expect(res).toMatchObject({ status: 'polled', trigger: 'timer', requestId: 'req-timer-1' });
      expect(res.totals.finished).toBe(1);
      expect(notifyInvocations()).toContainEqual({ clusterId, checkId });
      expect((await store.getCheck(clusterId, checkId))?.check.outcome).toBe('passed');

      const cycles = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === 'poll cycle');
      expect(cycles.length).toBeGreaterThanOrEqual(1);
      expect(cycles[0]).toMatchObject({ requestId: 'req-timer-1', due: 1, finished: 1, dispatched: 1 });
      expect(cycles[0]?.storeRequests).toEqual(expect.any(Number));
      expect(cycles[0]?.storeRequests).toBeGreaterThan(0);
      expect(cycles[0]?.ackGet).toBe(1);
      expect(cycles[0]?.durationMs).toEqual(expect.any(Number));
      const all = lines.join('\n');
      expect(all).not.toContain(CREDS.accessKeySecret);
      expect(all).not.toContain(CREDS.securityToken);
    } finally {
      await poller.close();
    }
  });

  it('costs one store request and no ACK call when nothing is pending', async () => {
    // A separate table prefix: an empty pending set, whatever the other tests left behind.
    const poller = createPollerHandler({
      env: { ...env, CHECKWATCH_OTS_TABLE_PREFIX: 'idle_' },
      write: () => undefined,
    });
    try {
      await poller.handle(timerEvent(), context('req-warmup')); // creates the tables
      const before = { ots: ots.counters.total ?? 0, ack: sim.counters.total };
      const res = await poller.handle(timerEvent(), context('req-idle'));
      expect(res.status).toBe('idle');
      expect((ots.counters.total ?? 0) - before.ots).toBe(1);
      expect(sim.counters.total - before.ack).toBe(0);
    } finally {
      await poller.close();
    }
  });

  it('polls only its shard on a poll-shard dispatch event', async () => {
    const poller = createPollerHandler({ env, write: () => undefined });
    try {
      const a = await watchFinished('Failed');
      const shard = shardOf(a.clusterId, SHARDS);
      const event = Buffer.from(encodeDispatchEvent({ kind: 'poll-shard', shard, generation: 1 }));
      const res: PollerResponse = await poller.handle(event, context('req-shard'));
      expect(res).toMatchObject({ trigger: 'poll-shard', shard });
      expect((await store.getCheck(a.clusterId, a.checkId))?.check.outcome).toBe('failed');
      const lease = await store.readLease(`poller-${shard}`, shard);
      expect(lease?.holder).toBe('');
    } finally {
      await poller.close();
    }
  });

  it('fails with the variable name when a setting is malformed, and touches nothing', async () => {
    const poller = createPollerHandler({
      env: { ...env, CHECKWATCH_SHARDS: 'many' },
      write: () => undefined,
    });
    const before = ots.counters.total ?? 0;
    await expect(poller.handle(timerEvent(), context('req-bad'))).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('CHECKWATCH_SHARDS') as unknown,
    });
    expect(ots.counters.total ?? 0).toBe(before);
  });

  it('refuses a malformed event and a notify event with an input error', async () => {
    const poller = createPollerHandler({ env, write: () => undefined });
    await expect(poller.handle(Buffer.from('{"triggerName":1}'), context('req-x'))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    const notify = encodeDispatchEvent({
      kind: 'notify',
      clusterId: cluster(),
      checkId: 'abc-1',
      generation: 1,
    });
    await expect(poller.handle(Buffer.from(notify), context('req-y'))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('fails clearly when the context carries no credentials', async () => {
    const poller = createPollerHandler({ env, write: () => undefined });
    await expect(
      poller.handle(timerEvent(), { ...context('req-nocreds'), credentials: undefined }),
    ).rejects.toMatchObject({ code: 'CREDENTIALS_MISSING' });
  });
});

describe('poller function (esbuild bundle)', () => {
  it('bundles, and the bundle handles a timer event against the fakes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-poller-'));
    try {
      const outfile = join(dir, 'index.js');
      await build({
        entryPoints: [join(__dirname, '../../../functions/poller/index.ts')],
        outfile,
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        minify: true,
        logLevel: 'silent',
        external: ['better-sqlite3', 'proxy-agent'],
      });
      Object.assign(process.env, env, { CHECKWATCH_LOG_LEVEL: 'warn' });
      const mod = createRequire(outfile)(outfile) as {
        handler: (event: Buffer, ctx: FcContext) => Promise<PollerResponse>;
      };
      const { clusterId, checkId } = await watchFinished();
      const res = await mod.handler(timerEvent(), context('req-bundle'));
      expect(res.status).toBe('polled');
      expect(notifyInvocations()).toContainEqual({ clusterId, checkId });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
