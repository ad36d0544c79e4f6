import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../../lib/store/sqlite';
import { storeContract } from './store.suite';

storeContract('SQLite (:memory:)', {
  create: () => Promise.resolve({ store: createSqliteStore({ path: ':memory:', shards: 8 }), shards: 8 }),
});

let dir: string | undefined;
storeContract('SQLite (file, WAL)', {
  create: () => {
    dir = mkdtempSync(join(tmpdir(), 'checkwatch-store-'));
    return Promise.resolve({
      store: createSqliteStore({ path: join(dir, 'state.db'), shards: 4 }),
      shards: 4,
    });
  },
  dispose: () => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
    return Promise.resolve();
  },
});
