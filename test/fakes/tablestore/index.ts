/**
 * A loopback Tablestore (OTS) server that the real `tablestore` SDK talks to unchanged: protobuf over
 * HTTP POST, `x-ots-*` request signing verified, PlainBuffer rows, real error bodies and statuses, the
 * documented limits, and fault injection for the failure modes the store adapter must survive.
 *
 * Not an emulator of everything: no search index, streams, transactions, SQL or UpdateTable; global
 * secondary indexes are maintained synchronously (the service's are eventually consistent, within
 * milliseconds); TTL is honoured lazily on read; capacity units are nominal.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from '../../../lib/clock';
import { OtsError, otsErrors } from './errors';
import { FaultInjector, type OtsFault } from './faults';
import { Instance } from './instance';
import type { PkValue } from './plainbuffer';
import { type MessageCodec, pb } from './proto';

export type { OtsFault, OtsFaultKind } from './faults';
export { LIMITS } from './instance';

export interface TablestoreFakeOptions {
  /** Port on 127.0.0.1; default 0 (any free port). */
  port?: number;
  /** Instance name the requests must carry in `x-ots-instancename`; default 'checkwatch'. */
  instanceName?: string;
  accessKeyId?: string;
  accessKeySecret?: string;
  /** When set, every request must carry this `x-ots-ststoken`; when unset, none may. */
  stsToken?: string;
  /** Delay added to every answer, in milliseconds. */
  latencyMs?: number;
  /** Seed for `rate` faults. */
  seed?: number;
  /**
   * Time source for cell versions and TTL (so a test can expire rows without waiting). The
   * `x-ots-date` skew check always uses the system clock: the SDK stamps requests with real time.
   */
  clock?: Pick<Clock, 'now'>;
}

/** A row as the fake holds it, latest version of each column, for assertions. */
export interface FakeRow {
  primaryKey: Record<string, string | bigint | Buffer>;
  attributes: Record<string, string | bigint | number | boolean | Buffer>;
}

export interface TablestoreFake {
  readonly endpoint: string;
  readonly instanceName: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** Requests received per API name (`'PutRow'`, `'BatchWriteRow'`, …) plus `'total'`. */
  readonly counters: Readonly<Record<string, number>>;
  resetCounters(): void;
  /** Adds a fault; the returned function removes it. */
  injectFault(fault: OtsFault): () => void;
  clearFaults(): void;
  /** Data tables (not index tables), sorted. */
  tableNames(): string[];
  /** Live (unexpired) rows of a table or index table; throws for an unknown table. */
  rowCount(table: string): number;
  /** Live rows of a table or index table in key order; throws for an unknown table. */
  rows(table: string): FakeRow[];
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;
const MAX_DATE_SKEW_MS = 15 * 60 * 1000;
const API_VERSION = '2015-12-31';
const REQUIRED_HEADERS = [
  'x-ots-date',
  'x-ots-apiversion',
  'x-ots-accesskeyid',
  'x-ots-instancename',
  'x-ots-contentmd5',
  'x-ots-signature',
] as const;

type Handler = (instance: Instance, body: Buffer) => Uint8Array;

/** Binds an API to its request codec, its semantics and its response codec. */
function api<T>(
  request: MessageCodec<T>,
  response: MessageCodec<object>,
  run: (i: Instance, r: T) => object,
): Handler {
  return (instance, body) => {
    let decoded: T;
    try {
      decoded = request.decode(body);
    } catch (err) {
      // protobufjs rejects missing proto2 `required` fields and malformed bytes, as the service does.
      throw otsErrors.parameterInvalid(
        `Invalid request body: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    return response.encode(run(instance, decoded)).finish();
  };
}

const APIS: Record<string, Handler> = {
  CreateTable: api(pb.CreateTableRequest, pb.CreateTableResponse, (i, r) => i.createTable(r)),
  ListTable: api(pb.ListTableRequest, pb.ListTableResponse, (i) => i.listTable()),
  DeleteTable: api(pb.DeleteTableRequest, pb.DeleteTableResponse, (i, r) => i.deleteTable(r)),
  DescribeTable: api(pb.DescribeTableRequest, pb.DescribeTableResponse, (i, r) => i.describeTable(r)),
  CreateIndex: api(pb.CreateIndexRequest, pb.CreateIndexResponse, (i, r) => i.createIndex(r)),
  DropIndex: api(pb.DropIndexRequest, pb.DropIndexResponse, (i, r) => i.dropIndex(r)),
  GetRow: api(pb.GetRowRequest, pb.GetRowResponse, (i, r) => i.getRow(r)),
  PutRow: api(pb.PutRowRequest, pb.PutRowResponse, (i, r) => i.putRow(r)),
  UpdateRow: api(pb.UpdateRowRequest, pb.UpdateRowResponse, (i, r) => i.updateRow(r)),
  DeleteRow: api(pb.DeleteRowRequest, pb.DeleteRowResponse, (i, r) => i.deleteRow(r)),
  GetRange: api(pb.GetRangeRequest, pb.GetRangeResponse, (i, r) => i.getRange(r)),
  BatchGetRow: api(pb.BatchGetRowRequest, pb.BatchGetRowResponse, (i, r) => i.batchGetRow(r)),
  BatchWriteRow: api(pb.BatchWriteRowRequest, pb.BatchWriteRowResponse, (i, r) => i.batchWriteRow(r)),
};

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The OTS string to sign: `/Api\nPOST\n\n` + sorted `name:value` of x-ots-* headers + `\n`. */
export function otsStringToSign(apiName: string, headers: Record<string, string>): string {
  const canonical = Object.keys(headers)
    .map((k) => k.toLowerCase())
    .filter((k) => k.startsWith('x-ots-') && k !== 'x-ots-signature')
    .sort()
    .map((k) => `${k}:${headers[k] ?? ''}`)
    .join('\n');
  return `/${apiName}\nPOST\n\n${canonical}\n`;
}

function plainValue(v: { type: string; value?: unknown }): string | bigint | number | boolean | Buffer {
  return v.value as string | bigint | number | boolean | Buffer;
}

/** Starts the fake on 127.0.0.1 and resolves once it listens. */
export async function startTablestoreFake(options: TablestoreFakeOptions = {}): Promise<TablestoreFake> {
  const instanceName = options.instanceName ?? 'checkwatch';
  const accessKeyId = options.accessKeyId ?? 'fake-access-key-id';
  const accessKeySecret = options.accessKeySecret ?? 'fake-access-key-secret';
  const stsToken = options.stsToken;
  const baseLatency = options.latencyMs ?? 0;
  const clock = options.clock ?? systemClock;
  const instance = new Instance(() => clock.now());
  const faults = new FaultInjector(options.seed ?? 1);
  let counters: Record<string, number> = { total: 0 };
  const closing = new AbortController();
  let requestSeq = 0;
  const requestPrefix = randomBytes(4).toString('hex');

  const authenticate = (req: IncomingMessage, apiName: string, body: Buffer): void => {
    for (const name of REQUIRED_HEADERS) {
      if (header(req, name) === undefined) throw otsErrors.parameterInvalid(`Missing header: '${name}'.`);
    }
    const date = header(req, 'x-ots-date') ?? '';
    const at = Date.parse(date);
    if (Number.isNaN(at)) throw otsErrors.parameterInvalid(`Invalid date format: ${date}.`);
    if (Math.abs(Date.now() - at) > MAX_DATE_SKEW_MS) {
      throw otsErrors.authFailed(`Mismatch between system time and x-ots-date: ${date}.`);
    }
    if (header(req, 'x-ots-apiversion') !== API_VERSION) {
      throw otsErrors.parameterInvalid(`Unsupported API version: ${header(req, 'x-ots-apiversion') ?? ''}.`);
    }
    if (header(req, 'x-ots-instancename') !== instanceName)
      throw otsErrors.authFailed('The instance is not found.');
    if (!safeEqual(header(req, 'x-ots-accesskeyid') ?? '', accessKeyId)) {
      throw otsErrors.authFailed('The AccessKeyID does not exist.');
    }
    const token = header(req, 'x-ots-ststoken');
    const tokenOk =
      stsToken === undefined ? token === undefined : token !== undefined && safeEqual(token, stsToken);
    if (!tokenOk) {
      throw otsErrors.authFailed('The security token you provided is invalid.');
    }
    const signed: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) signed[k] = Array.isArray(v) ? v.join(',') : v;
    }
    const expected = createHmac('sha1', accessKeySecret)
      .update(otsStringToSign(apiName, signed))
      .digest('base64');
    if (!safeEqual(header(req, 'x-ots-signature') ?? '', expected))
      throw otsErrors.authFailed('Signature mismatch.');
    const md5 = createHash('md5').update(body).digest('base64');
    if (header(req, 'x-ots-contentmd5') !== md5) {
      throw otsErrors.authFailed(
        'Mismatch between MD5 value of request body and x-ots-contentmd5 in header.',
      );
    }
  };

  const send = (res: ServerResponse, requestId: string, status: number, body: Uint8Array): void => {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, {
      'content-type': 'application/x-protobuf',
      'content-length': body.length,
      'x-ots-requestid': requestId,
      'x-ots-contenttype': 'protocol buffer',
      'x-ots-date': new Date().toISOString(),
      'x-ots-contentmd5': createHash('md5').update(body).digest('base64'),
    });
    res.end(body);
  };

  const sendError = (res: ServerResponse, requestId: string, err: OtsError): void => {
    send(res, requestId, err.status, pb.Error.encode({ code: err.code, message: err.message }).finish());
  };

  const sleep = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (closing.signal.aborted) {
        resolve(false);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        closing.signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      closing.signal.addEventListener('abort', onAbort, { once: true });
    });

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    tooLarge: boolean,
  ): Promise<void> => {
    requestSeq += 1;
    const requestId = `${requestPrefix}-${requestSeq.toString(16).padStart(8, '0')}`;
    const apiName = (req.url ?? '/').split('?')[0]?.slice(1) ?? '';
    counters.total = (counters.total ?? 0) + 1;
    const handler = Object.prototype.hasOwnProperty.call(APIS, apiName) ? APIS[apiName] : undefined;
    if (handler !== undefined) counters[apiName] = (counters[apiName] ?? 0) + 1;
    try {
      if (req.method !== 'POST') throw otsErrors.methodNotAllowed();
      if (tooLarge) throw otsErrors.bodyTooLarge();
      if (handler === undefined) throw otsErrors.parameterInvalid(`Unsupported operation: '${apiName}'.`);
      authenticate(req, apiName, body);
      const { latencyMs, failure } = faults.pick(apiName);
      const delay = baseLatency + latencyMs;
      if (delay > 0 && !(await sleep(delay))) return;
      switch (failure) {
        case 'reset':
          req.socket.destroy();
          return;
        case 'busy':
          throw otsErrors.serverBusy();
        case 'conflict':
          throw otsErrors.rowOperationConflict();
        case 'timeoutAfterWrite': {
          handler(instance, body);
          throw otsErrors.timeout();
        }
        case undefined:
          send(res, requestId, 200, handler(instance, body));
      }
    } catch (err) {
      if (err instanceof OtsError) {
        sendError(res, requestId, err);
        return;
      }
      // A bug in the fake: answer like the service's internal error and keep the cause visible.
      process.stderr.write(
        `tablestore fake: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      sendError(res, requestId, otsErrors.internal());
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks), tooLarge);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const requireTable = (name: string): NonNullable<ReturnType<Instance['table']>> => {
    const table = instance.table(name);
    if (table === undefined) throw new Error(`tablestore fake: no table ${name}`);
    return table;
  };
  const liveRows = (name: string): ReturnType<ReturnType<typeof requireTable>['scan']> => {
    const table = requireTable(name);
    const min = table.schema.primaryKey.map(() => ({ type: 'infMin' }) as const);
    const max = table.schema.primaryKey.map(() => ({ type: 'infMax' }) as const);
    return table.scan(min, max, false, clock.now());
  };

  return {
    endpoint: `http://127.0.0.1:${port}`,
    instanceName,
    accessKeyId,
    accessKeySecret,
    get counters() {
      return { ...counters };
    },
    resetCounters: () => {
      counters = { total: 0 };
    },
    injectFault: (fault) => faults.add(fault),
    clearFaults: () => {
      faults.clear();
    },
    tableNames: () => instance.tableNames(),
    rowCount: (name) => {
      let n = 0;
      for (const _row of liveRows(name)) n++;
      return n;
    },
    rows: (name) => {
      const table = requireTable(name);
      const out: FakeRow[] = [];
      for (const row of liveRows(name)) {
        const primaryKey: FakeRow['primaryKey'] = {};
        table.schema.primaryKey.forEach((col, i) => {
          primaryKey[col.name] = (row.pk[i] as PkValue).value;
        });
        const attributes: FakeRow['attributes'] = {};
        for (const [column, cells] of table.liveColumns(row, clock.now())) {
          const latest = cells[0];
          if (latest !== undefined) attributes[column] = plainValue(latest.value);
        }
        out.push({ primaryKey, attributes });
      }
      return out;
    },
    close: async () => {
      closing.abort();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
    },
  };
}
