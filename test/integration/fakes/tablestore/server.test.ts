import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TablestoreFake, startTablestoreFake } from '../../../fakes/tablestore';
import { startFromArgs } from '../../../fakes/tablestore/standalone';
import { attrs, clientFor, condition, createTable, failure, type Sdk } from './helpers';

const put = (client: Sdk, id: string, v = 'x'): Promise<unknown> =>
  client.putRow({
    tableName: 'faults',
    condition: condition('IGNORE'),
    primaryKey: [{ id }],
    attributeColumns: [{ v }],
  });
const get = (client: Sdk, id: string): Promise<Sdk> =>
  client.getRow({ tableName: 'faults', primaryKey: [{ id }] });

describe('tablestore fake: authentication', () => {
  let fake: TablestoreFake;

  beforeAll(async () => {
    fake = await startTablestoreFake({
      instanceName: 'inst',
      accessKeyId: 'ak',
      accessKeySecret: 'right-secret',
      stsToken: 'sts-1',
    });
    await createTable(clientFor(fake, { stsToken: 'sts-1' }), 'faults', [{ name: 'id', type: 'STRING' }]);
  });
  afterAll(async () => {
    await fake.close();
  });

  it('accepts the signed requests of a client with the right secret and STS token', async () => {
    const client = clientFor(fake, { stsToken: 'sts-1' });
    await put(client, 'signed');
    expect(attrs((await get(client, 'signed')).row)).toEqual({ v: 'x' });
  });

  it('answers a wrong secret with 403 OTSAuthFailed and applies nothing', async () => {
    const f = await failure(put(clientFor(fake, { secretAccessKey: 'wrong', stsToken: 'sts-1' }), 'forged'));
    expect(f.status).toBe(403);
    expect(f.message).toContain('OTSAuthFailed');
    expect(f.message).toContain('Signature mismatch.');
    expect(fake.rows('faults').map((r) => r.primaryKey.id)).not.toContain('forged');
  });

  it('answers a wrong instance name, a wrong access key id, and a missing or wrong STS token with OTSAuthFailed', async () => {
    for (const overrides of [
      { instancename: 'other', stsToken: 'sts-1' },
      { accessKeyId: 'nobody', stsToken: 'sts-1' },
      {},
      { stsToken: 'sts-2' },
    ]) {
      const f = await failure(get(clientFor(fake, overrides), 'signed'));
      expect(f).toMatchObject({ status: 403, otsCode: 'OTSAuthFailed' });
    }
  });

  it('answers an unsigned request and an unknown operation with the service errors', async () => {
    const raw = (path: string, method = 'POST'): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = request(`${fake.endpoint}${path}`, { method }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
          });
        });
        req.on('error', reject);
        req.end();
      });
    expect(await raw('/GetRow')).toMatchObject({
      status: 400,
      body: expect.stringContaining('Missing header'),
    });
    expect(await raw('/Frobnicate')).toMatchObject({
      status: 400,
      body: expect.stringContaining('Unsupported operation'),
    });
    expect(await raw('/GetRow', 'GET')).toMatchObject({
      status: 405,
      body: expect.stringContaining('OTSMethodNotAllowed'),
    });
  });
});

describe('tablestore fake: fault injection and counters', () => {
  let fake: TablestoreFake;
  let client: Sdk;

  beforeAll(async () => {
    fake = await startTablestoreFake({ seed: 42 });
    client = clientFor(fake);
    await createTable(client, 'faults', [{ name: 'id', type: 'STRING' }]);
  });
  afterAll(async () => {
    await fake.close();
  });

  it('answers OTSServerBusy (503) without applying the write', async () => {
    fake.injectFault({ kind: 'busy', operation: 'PutRow', next: 1 });
    const f = await failure(put(client, 'busy'));
    expect(f).toMatchObject({ status: 503, otsCode: 'OTSServerBusy' });
    expect((await get(client, 'busy')).row).toEqual({});
    await put(client, 'busy'); // the fault was for the next request only
    expect(attrs((await get(client, 'busy')).row)).toEqual({ v: 'x' });
  });

  it('answers OTSRowOperationConflict (409) without applying the write', async () => {
    fake.injectFault({ kind: 'conflict', operation: 'BatchWriteRow', next: 1 });
    const f = await failure(
      client.batchWriteRow({
        tables: [
          {
            tableName: 'faults',
            rows: [
              {
                type: 'PUT',
                condition: condition('IGNORE'),
                primaryKey: [{ id: 'conflict' }],
                attributeColumns: [{ v: 1 }],
              },
            ],
          },
        ],
      }),
    );
    expect(f).toMatchObject({ status: 409, otsCode: 'OTSRowOperationConflict' });
    expect(fake.rows('faults').map((r) => r.primaryKey.id)).not.toContain('conflict');
  });

  it('answers OTSTimeout (503) after applying the write', async () => {
    fake.injectFault({ kind: 'timeoutAfterWrite', operation: 'PutRow', next: 1 });
    const f = await failure(put(client, 'timeout', 'applied'));
    expect(f).toMatchObject({ status: 503, otsCode: 'OTSTimeout' });
    expect(attrs((await get(client, 'timeout')).row)).toEqual({ v: 'applied' });
  });

  it('resets the connection without applying the write', async () => {
    fake.injectFault({ kind: 'reset', operation: 'PutRow', next: 1 });
    const f = await failure(put(client, 'reset'));
    expect(f.status).toBe('NetworkingError');
    expect((await get(client, 'reset')).row).toEqual({});
  });

  it('delays answers by the injected latency', async () => {
    const remove = fake.injectFault({ kind: 'latency', operation: 'GetRow', latencyMs: 80 });
    const started = performance.now();
    await get(client, 'busy');
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    remove();
    const again = performance.now();
    await get(client, 'busy');
    expect(performance.now() - again).toBeLessThan(75);
  });

  it('fails only the targeted operation, and a rate fault fires reproducibly for a seed', async () => {
    const remove = fake.injectFault({ kind: 'busy', operation: 'GetRow', rate: 0.5 });
    await put(client, 'untargeted'); // PutRow is not targeted
    const outcomes: boolean[] = [];
    for (let i = 0; i < 40; i++) {
      outcomes.push(
        await get(client, 'untargeted').then(
          () => true,
          () => false,
        ),
      );
    }
    remove();
    const failures = outcomes.filter((ok) => !ok).length;
    expect(failures).toBeGreaterThan(5);
    expect(failures).toBeLessThan(35);

    // Same seed, same sequence of decisions.
    const twin = await startTablestoreFake({ seed: 42 });
    try {
      const twinClient = clientFor(twin);
      await createTable(twinClient, 'faults', [{ name: 'id', type: 'STRING' }]);
      await twinClient.putRow({
        tableName: 'faults',
        condition: condition('IGNORE'),
        primaryKey: [{ id: 'untargeted' }],
        attributeColumns: [{ v: 'x' }],
      });
      twin.injectFault({ kind: 'busy', operation: 'GetRow', rate: 0.5 });
      const twinOutcomes: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        twinOutcomes.push(
          await get(twinClient, 'untargeted').then(
            () => true,
            () => false,
          ),
        );
      }
      expect(twinOutcomes).toEqual(outcomes);
    } finally {
      await twin.close();
    }
  });

  it('fails the next N matching requests and then stops', async () => {
    fake.injectFault({ kind: 'busy', next: 2 });
    expect((await failure(get(client, 'x'))).otsCode).toBe('OTSServerBusy');
    expect((await failure(put(client, 'x'))).otsCode).toBe('OTSServerBusy');
    await put(client, 'x');
    fake.injectFault({ kind: 'busy' });
    expect((await failure(get(client, 'x'))).otsCode).toBe('OTSServerBusy');
    fake.clearFaults();
    await get(client, 'x');
  });

  it('counts requests per API and in total', async () => {
    fake.resetCounters();
    await put(client, 'c1');
    await put(client, 'c2');
    await get(client, 'c1');
    await client.batchGetRow({
      tables: [{ tableName: 'faults', primaryKey: [[{ id: 'c1' }], [{ id: 'c2' }]] }],
    });
    expect(fake.counters).toEqual({ total: 4, PutRow: 2, GetRow: 1, BatchGetRow: 1 });
  });
});

describe('tablestore fake: standalone start', () => {
  it('starts from command-line flags and serves the SDK', async () => {
    const fake = await startFromArgs(['--port', '0', '--instance', 'solo', '--latency', '1']);
    try {
      expect(fake.instanceName).toBe('solo');
      expect(fake.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const client = clientFor(fake);
      await createTable(client, 'solo_table', [{ name: 'id', type: 'STRING' }]);
      expect((await client.listTable({})).tableNames).toEqual(['solo_table']);
    } finally {
      await fake.close();
    }
  });

  it('rejects a malformed flag', async () => {
    await expect(startFromArgs(['--port', 'abc'])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
