import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { createFcDispatcher } from '../../../lib/dispatch/fc';
import { startFcFake, type FcFake } from '../../fakes/fc/index';

// Its own file, so that this worker has not loaded the SDK through another test before.
const require = createRequire(import.meta.url);
const fc2Entry = require.resolve('@alicloud/fc2');
const aliOssEntry = createRequire(fc2Entry).resolve('ali-oss');

let fake: FcFake;
beforeAll(async () => {
  fake = await startFcFake();
});
afterAll(async () => {
  await fake.close();
});

it('loads @alicloud/fc2 (and ali-oss) only on the first dispatch, not when the dispatcher is created', async () => {
  expect(require.cache[fc2Entry]).toBeUndefined();

  const dispatcher = createFcDispatcher({
    accountId: fake.accountId,
    region: 'cn-hangzhou',
    endpoint: fake.endpoint,
    notifierFunction: 'checkwatch-notifier',
    pollerFunction: 'checkwatch-poller',
    credentials: { accessKeyId: fake.accessKeyId, accessKeySecret: fake.accessKeySecret },
  });
  expect(require.cache[fc2Entry]).toBeUndefined();
  expect(require.cache[aliOssEntry]).toBeUndefined();

  const result = await dispatcher.dispatch({ kind: 'poll-shard', shard: 0, generation: 1 });
  expect(result.status).toBe('dispatched');
  expect(require.cache[fc2Entry]).toBeDefined();
  expect(require.cache[aliOssEntry]).toBeDefined();
});
