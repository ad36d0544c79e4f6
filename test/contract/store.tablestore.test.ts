import { createTablestoreStore } from '../../lib/store/tablestore';
import { startTablestoreFake, type TablestoreFake } from '../fakes/tablestore/index';
import { storeContract } from './store.suite';

let fake: TablestoreFake | undefined;

/** Each test gets its own fake instance (a real instance allows 64 tables; tests would exhaust one). */
storeContract('Tablestore (over the loopback fake)', {
  faultsSupported: true,
  create: async () => {
    const f = await startTablestoreFake({ seed: 7 });
    fake = f;
    const store = createTablestoreStore({
      endpoint: f.endpoint,
      instanceName: f.instanceName,
      credentials: { accessKeyId: f.accessKeyId, accessKeySecret: f.accessKeySecret },
      tablePrefix: 'contract_',
      shards: 8,
      socketTimeoutMs: 5_000,
      retry: { maxAttempts: 4, baseMs: 1, capMs: 5 },
    });
    await store.ensureSchema();
    return {
      store,
      shards: 8,
      faults: {
        inject: (fault) => f.injectFault(fault),
        clear: () => {
          f.clearFaults();
        },
      },
    };
  },
  dispose: async () => {
    await fake?.close();
    fake = undefined;
  },
});
