/** SQLite adapter behaviour beyond the shared contract: the file, its migrations, two handles on it. */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckId, ClusterId } from '../../../lib/domain/check';
import { SQLITE_SCHEMA_VERSION, createSqliteStore } from '../../../lib/store/sqlite';

const T0 = 1_700_000_000_000;
const cluster = 'c0123456789abcdef' as ClusterId;
const check = '1697100584236600453-c0123456789abcdef-clustercheck-lboto' as CheckId;
let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'checkwatch-sqlite-'));
  path = join(dir, 'state.db');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('SQLite store file', () => {
  it('creates the schema in WAL mode and keeps data across reopen', async () => {
    const a = createSqliteStore({ path });
    await a.watchCheck(
      { clusterId: cluster, checkId: check, region: 'r', routes: ['ops'], source: 'watch' },
      T0,
    );
    await a.close();
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    raw.close();
    const b = createSqliteStore({ path });
    const pending = await b.listPending();
    expect(pending.checks.map((c) => c.checkId)).toEqual([check]);
    await b.close();
  });

  it('refuses a database written by a newer checkwatch instead of misreading it', async () => {
    const a = createSqliteStore({ path });
    await a.close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => createSqliteStore({ path })).toThrow(expect.objectContaining({ code: 'STORE_INVALID' }));
  });

  it('lets exactly one of two processes’ handles win a conditional write on one file', async () => {
    const a = createSqliteStore({ path });
    const b = createSqliteStore({ path });
    const { check: created } = await a.watchCheck(
      { clusterId: cluster, checkId: check, region: 'r', routes: ['ops'], source: 'watch' },
      T0,
    );
    const { version, ...state } = created;
    const [ra, rb] = await Promise.all([
      a.applyChanges([
        { kind: 'putCheck', check: { ...state, status: 'Running' }, expectedVersion: version },
      ]),
      b.applyChanges([
        { kind: 'putCheck', check: { ...state, status: 'Succeeded' }, expectedVersion: version },
      ]),
    ]);
    expect([ra[0]?.ok, rb[0]?.ok].filter(Boolean)).toHaveLength(1);
    const claims = await Promise.all([
      a.claimDelivery({ clusterId: cluster, checkId: check, channel: 'ops' }, 'a', 1000, T0),
      b.claimDelivery({ clusterId: cluster, checkId: check, channel: 'ops' }, 'b', 1000, T0),
    ]);
    expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    await a.close();
    await b.close();
  });

  it('expires archived checks after the history TTL', async () => {
    const s = createSqliteStore({ path, historyTtlMs: 1000 });
    await s.watchCheck({ clusterId: cluster, checkId: check, region: 'r', routes: [], source: 'watch' }, T0);
    await s.archiveCheck(cluster, check, T0);
    expect((await s.getCheck(cluster, check))?.where).toBe('history');
    const other = '1697100584236600454-c0123456789abcdef-clustercheck-lbotp' as CheckId;
    await s.watchCheck({ clusterId: cluster, checkId: other, region: 'r', routes: [], source: 'watch' }, T0);
    // Purging is lazy (on the next archive), bounded per call.
    await s.archiveCheck(cluster, other, T0 + 1000);
    expect(await s.getCheck(cluster, check)).toBeUndefined();
    await s.close();
  });
});
