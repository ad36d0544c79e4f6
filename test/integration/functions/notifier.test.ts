/**
 * The notifier's Function Compute handler, invoked as FC invokes it: an async event Buffer (the JSON
 * the poller's dispatcher sends) and a context object, against the Tablestore fake (STS credentials
 * from the context) or SQLite, with configuration from environment variables only.
 */
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  handler,
  resetInstance,
  type FcContext,
  type NotifierResult,
} from '../../../functions/notifier/index';
import type { CheckId, ClusterId } from '../../../lib/domain/check';
import { encodeDispatchEvent } from '../../../lib/dispatch/dispatch';
import { createSqliteStore } from '../../../lib/store/sqlite';
import { createTablestoreStore } from '../../../lib/store/tablestore';
import { startChatFake, type ChatFake } from '../../fakes/chat/index';
import { startTablestoreFake } from '../../fakes/tablestore/index';
import { seedFinished } from '../notify/helpers';

const CLUSTER = 'c-fc-hz-00001';
const STS_TOKEN = 'CAISfakeStsTokenForTheNotifierRole0123456789';
const closers: (() => Promise<void>)[] = [];
let savedEnv: NodeJS.ProcessEnv;
let stderr: string[];

beforeEach(() => {
  savedEnv = { ...process.env };
  stderr = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await resetInstance();
  for (const c of closers.splice(0).reverse()) await c();
  process.env = savedEnv;
});

function eventFor(checkId: string, generation = 1): Buffer {
  return Buffer.from(encodeDispatchEvent({ kind: 'notify', clusterId: CLUSTER, checkId, generation }));
}

function contextOf(requestId: string, credentials?: FcContext['credentials']): FcContext {
  return {
    requestId,
    credentials,
    function: { name: 'checkwatch-notifier', timeout: 30, memory: 256, handler: 'index.handler' },
    region: 'cn-hangzhou',
    accountId: '1234567890123456',
  };
}

async function dingtalk(): Promise<ChatFake> {
  const fake = await startChatFake({ platform: 'dingtalk', keyword: 'checkwatch' });
  closers.push(() => fake.close());
  return fake;
}

function channelEnv(fake: ChatFake): Record<string, string> {
  return {
    DING_URL: fake.url,
    DING_SECRET: fake.secret ?? '',
    CHECKWATCH_CONFIG: JSON.stringify({
      channels: {
        ops: {
          type: 'dingtalk',
          url: { env: 'DING_URL' },
          secret: { env: 'DING_SECRET' },
          keyword: 'checkwatch',
        },
      },
      routes: { failures: { channels: ['ops'], outcomes: ['failed', 'gave_up', 'vanished'] } },
      defaults: { routes: ['failures'] },
    }),
  };
}

function summaryLines(requestId: string): Record<string, unknown>[] {
  return stderr
    .flatMap((chunk) => chunk.split('\n'))
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.requestId === requestId && l.msg === 'notifier done');
}

describe('notifier handler on Tablestore', () => {
  it('delivers with the STS credentials from the context, archives, and logs one summary line', async () => {
    const ots = await startTablestoreFake({ stsToken: STS_TOKEN });
    closers.push(() => ots.close());
    const fake = await dingtalk();
    const credentials = {
      accessKeyId: ots.accessKeyId,
      accessKeySecret: ots.accessKeySecret,
      securityToken: STS_TOKEN,
    };
    const seeder = createTablestoreStore({
      endpoint: ots.endpoint,
      instanceName: ots.instanceName,
      credentials,
      autoCreate: true,
    });
    await seeder.ensureSchema();
    await seedFinished(seeder, CLUSTER, 'chk-ots-1', ['failures'], Date.now());
    await seeder.close();
    Object.assign(process.env, channelEnv(fake), {
      CHECKWATCH_STORE: 'tablestore',
      CHECKWATCH_OTS_ENDPOINT: ots.endpoint,
      CHECKWATCH_OTS_INSTANCE: ots.instanceName,
    });

    const result = await handler(eventFor('chk-ots-1'), contextOf('req-ots-1', credentials));
    expect(result).toMatchObject({
      ok: true,
      requestId: 'req-ots-1',
      status: 'done',
      archived: true,
      channels: [{ channel: 'ops', outcome: 'delivered', sends: 1 }],
    });
    expect(fake.accepted).toHaveLength(1);
    const lines = summaryLines('req-ots-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ clusterId: CLUSTER, checkId: 'chk-ots-1', status: 'done' });

    // FC retries the same async event: nothing is sent again.
    const again = await handler(eventFor('chk-ots-1'), contextOf('req-ots-2', credentials));
    expect(again).toMatchObject({ ok: true, status: 'already-archived' });
    expect(fake.received).toHaveLength(1);

    const output = stderr.join('');
    for (const secret of [
      credentials.accessKeySecret,
      STS_TOKEN,
      fake.secret ?? '',
      new URL(fake.url).searchParams.get('access_token') ?? '',
    ]) {
      expect(secret.length).toBeGreaterThan(5);
      expect(output).not.toContain(secret);
      expect(JSON.stringify(result)).not.toContain(secret);
    }
  });

  it('throws so that FC retries the event when the store cannot be reached', async () => {
    const ots = await startTablestoreFake();
    const endpoint = ots.endpoint;
    await ots.close();
    const fake = await dingtalk();
    Object.assign(process.env, channelEnv(fake), {
      CHECKWATCH_STORE: 'tablestore',
      CHECKWATCH_OTS_ENDPOINT: endpoint,
      CHECKWATCH_OTS_INSTANCE: 'checkwatch',
    });
    const credentials = {
      accessKeyId: 'STS.fake',
      accessKeySecret: 'fake-secret-123456',
      securityToken: STS_TOKEN,
    };
    await expect(handler(eventFor('chk-down-1'), contextOf('req-down-1', credentials))).rejects.toMatchObject(
      {
        code: 'STORE_UNAVAILABLE',
      },
    );
    expect(fake.received).toHaveLength(0);
  });
});

describe('notifier handler on SQLite', () => {
  function sqliteEnv(fake: ChatFake): string {
    const path = join(mkdtempSync(join(tmpdir(), 'cw-fn-')), 'checkwatch.sqlite');
    Object.assign(process.env, channelEnv(fake), {
      CHECKWATCH_STORE: 'sqlite',
      CHECKWATCH_SQLITE_PATH: path,
    });
    return path;
  }

  it('delivers a finished check from an async event Buffer', async () => {
    const fake = await dingtalk();
    const path = sqliteEnv(fake);
    const seeder = createSqliteStore({ path });
    await seedFinished(seeder, CLUSTER, 'chk-sql-1', ['failures'], Date.now());
    await seeder.close();

    const result: NotifierResult = await handler(eventFor('chk-sql-1'), contextOf('req-sql-1'));
    expect(result).toMatchObject({ ok: true, status: 'done', archived: true });
    expect(fake.accepted).toHaveLength(1);
    const reader = createSqliteStore({ path });
    closers.push(() => reader.close());
    const view = await reader.getCheck(CLUSTER as ClusterId, 'chk-sql-1' as CheckId);
    expect(view?.where).toBe('history');
    expect(view?.deliveries[0]).toMatchObject({ channel: 'ops', state: 'delivered', attempts: 1 });
  });

  it('returns without retrying for an event that is not a notify request', async () => {
    const fake = await dingtalk();
    sqliteEnv(fake);
    await expect(handler(Buffer.from('{"hello":1}'), contextOf('req-bad-1'))).resolves.toMatchObject({
      ok: false,
      error: 'INVALID_INPUT',
    });
    const shard = Buffer.from(encodeDispatchEvent({ kind: 'poll-shard', shard: 3, generation: 1 }));
    await expect(handler(shard, contextOf('req-bad-2'))).resolves.toMatchObject({
      ok: false,
      error: 'WRONG_FUNCTION',
    });
    expect(fake.received).toHaveLength(0);
  });

  it('reports an unknown check without sending anything', async () => {
    const fake = await dingtalk();
    sqliteEnv(fake);
    await expect(handler(eventFor('chk-nobody'), contextOf('req-unknown'))).resolves.toMatchObject({
      ok: true,
      status: 'unknown-check',
    });
    expect(fake.received).toHaveLength(0);
  });

  it('works the same once bundled by esbuild (as deployed)', async () => {
    const fake = await dingtalk();
    const path = sqliteEnv(fake);
    const seeder = createSqliteStore({ path });
    await seedFinished(seeder, CLUSTER, 'chk-bundle-1', ['failures'], Date.now());
    await seeder.close();
    // Inside node_modules so that the external better-sqlite3 resolves from the bundle's location.
    const outfile = join(process.cwd(), 'node_modules', '.cache', 'checkwatch-test', 'notifier', 'index.js');
    await build({
      entryPoints: [join(process.cwd(), 'functions/notifier/index.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      logLevel: 'silent',
      external: ['better-sqlite3', 'proxy-agent'],
    });
    const require = createRequire(import.meta.url);
    const bundled = require(outfile) as {
      handler: typeof handler;
      resetInstance: typeof resetInstance;
    };
    closers.push(() => bundled.resetInstance());
    const result = await bundled.handler(eventFor('chk-bundle-1'), contextOf('req-bundle-1'));
    expect(result).toMatchObject({ ok: true, status: 'done', channels: [{ outcome: 'delivered' }] });
    expect(fake.accepted).toHaveLength(1);
  });
});
