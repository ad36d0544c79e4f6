/**
 * A soak worker: one child process standing in for one Function Compute instance of the poller or the
 * notifier. It is wired like the functions (Tablestore adapter, ACK client, FC dispatcher, channels
 * built from configuration) but with the soak's short timings, and serves one request at a time:
 *
 *   stdin  (JSON lines): `{"id":1,"kind":"poll","deadline":<epoch ms>}` | `{"id":2,"kind":"notify","event":"…"}`
 *   stdout (JSON lines): `{"id":1,"ok":true,"result":{…}}` | `{"id":2,"ok":false,"code":"…","retry":true}`
 *   stderr: the JSON log lines (the harness scans every one of them for secrets).
 *
 * Run: `node --import tsx test/soak/worker.ts poller|notifier`, with `SOAK_WORKER` (JSON, no secrets)
 * and the secrets in `SOAK_AK_ID`, `SOAK_AK_SECRET`, `SOAK_STS_TOKEN` and the channel variables named
 * by `CHECKWATCH_CONFIG`. The harness SIGKILLs workers at random points: nothing here may rely on
 * finishing what it started.
 */
import { createInterface } from 'node:readline';
import { AckClient } from '../../lib/ack/client';
import { systemClock } from '../../lib/clock';
import { loadConfig } from '../../lib/config';
import type { ScheduleOptions } from '../../lib/domain/schedule';
import { parseDispatchEvent } from '../../lib/dispatch/dispatch';
import { createFcDispatcher } from '../../lib/dispatch/fc';
import { isAppError } from '../../lib/errors';
import { createLogger } from '../../lib/log';
import { buildChannels } from '../../lib/notify/channels';
import { createNotifier, type NotifierSettings } from '../../lib/notify/notifier';
import { POLLER_ACK_RETRY_POLICY, runPoller } from '../../lib/poll/cycle';
import { createTablestoreStore } from '../../lib/store/tablestore';
import { shouldRetry } from '../../functions/notifier/index';

/** What the harness tells a worker (endpoints and timings; secrets travel in their own variables). */
export interface WorkerSpec {
  readonly otsEndpoint: string;
  readonly otsInstance: string;
  readonly ackEndpoint: string;
  readonly fcEndpoint: string;
  readonly fcAccountId: string;
  readonly shards: number;
  readonly maxAgeMs: number;
  readonly redispatchAfterMs: number;
  readonly leaseTtlMs: number;
  readonly ackTimeoutMs: number;
  readonly schedule: ScheduleOptions;
  readonly notifier: Partial<NotifierSettings>;
}

export type WorkerRequest =
  | { readonly id: number; readonly kind: 'poll'; readonly deadline: number }
  | { readonly id: number; readonly kind: 'notify'; readonly event: string; readonly deadline: number };

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly result: Record<string, unknown> }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly retry: boolean };

function required(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`soak worker: ${name} is not set`);
  return v;
}

function main(): void {
  const role = process.argv[2];
  if (role !== 'poller' && role !== 'notifier') throw new Error('usage: worker.ts poller|notifier');
  const spec = JSON.parse(required('SOAK_WORKER')) as WorkerSpec;
  const credentials = {
    accessKeyId: required('SOAK_AK_ID'),
    accessKeySecret: required('SOAK_AK_SECRET'),
    securityToken: required('SOAK_STS_TOKEN'),
  };
  const loaded = loadConfig({ env: process.env });
  loaded.redactor.add(credentials.accessKeySecret);
  loaded.redactor.add(credentials.securityToken);
  const log = createLogger({ redactor: loaded.redactor, level: 'info' }, { role, pid: process.pid });

  const store = createTablestoreStore({
    endpoint: spec.otsEndpoint,
    instanceName: spec.otsInstance,
    credentials,
    shards: spec.shards,
    retry: { maxAttempts: 4, baseMs: 20, capMs: 200 },
    socketTimeoutMs: 3_000,
  });

  let handle: (req: WorkerRequest) => Promise<Record<string, unknown>>;
  if (role === 'poller') {
    const ack = new AckClient({
      credentials,
      region: 'cn-hangzhou',
      endpoint: spec.ackEndpoint,
      timeoutMs: spec.ackTimeoutMs,
      retry: POLLER_ACK_RETRY_POLICY,
      log,
    });
    const dispatch = createFcDispatcher({
      accountId: spec.fcAccountId,
      region: 'cn-hangzhou',
      endpoint: spec.fcEndpoint,
      notifierFunction: 'checkwatch-notifier',
      pollerFunction: 'checkwatch-poller',
      credentials,
      timeoutMs: 2_000,
      retry: { maxAttempts: 2, baseMs: 50, capMs: 200 },
      log,
    });
    handle = async (req) => {
      const result = await runPoller(
        { store, ack, dispatch, clock: systemClock, log: log.child({ invocation: req.id }) },
        {
          holder: `soak-poller-${process.pid}-${req.id}`,
          shards: spec.shards,
          deadline: req.deadline,
          marginMs: 300,
          loop: true,
          maxAgeMs: spec.maxAgeMs,
          redispatchAfterMs: spec.redispatchAfterMs,
          leaseTtlMs: spec.leaseTtlMs,
          ackCallBudgetMs: spec.ackTimeoutMs * 2,
          maxSleepMs: 1_000,
          schedule: spec.schedule,
        },
      );
      return { status: result.status, iterations: result.iterations, ...result.totals };
    };
  } else {
    const channels = buildChannels(loaded.config, { log });
    const notifier = createNotifier({
      store,
      channels,
      config: loaded.config,
      clock: systemClock,
      log,
      settings: spec.notifier,
    });
    handle = async (req) => {
      if (req.kind !== 'notify') throw new Error('a notifier instance only handles notify events');
      const event = parseDispatchEvent(req.event);
      if (event.kind !== 'notify') throw new Error('not a notify event');
      const report = await notifier.notify(event.clusterId, event.checkId, {
        deadline: req.deadline,
        holder: `soak-notifier-${process.pid}-${req.id}`,
      });
      return {
        status: report.status,
        archived: report.archived,
        channels: report.channels.map((c) => ({ channel: c.channel, outcome: c.outcome, sends: c.sends })),
      };
    };
  }

  const reply = (r: WorkerReply): void => {
    process.stdout.write(JSON.stringify(r) + '\n');
  };
  // One request at a time, as FC runs one request per instance.
  let chain = Promise.resolve();
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const req = JSON.parse(line) as WorkerRequest;
    chain = chain.then(async () => {
      try {
        reply({ id: req.id, ok: true, result: await handle(req) });
      } catch (err) {
        log.error('invocation failed', { invocation: req.id, error: err });
        reply({ id: req.id, ok: false, code: isAppError(err) ? err.code : 'ERROR', retry: shouldRetry(err) });
      }
    });
  });
  lines.on('close', () => {
    void chain.then(() => store.close()).finally(() => process.exit(0));
  });
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
}

try {
  main();
} catch (err) {
  process.stderr.write(`soak worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
