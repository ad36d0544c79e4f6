import * as z from 'zod/mini';
import type { AckApi, CallOptions } from '../ack/api';
import type { Clock } from '../clock';
import type { Config } from '../config';
import { classifyStatus, type CheckId, type CheckSummary, type ClusterId } from '../domain/check';
import { AppError } from '../errors';
import type { Logger } from '../log';
import { MAX_BASELINE, MAX_MESSAGE_CHARS, truncate } from '../store/rules';
import {
  CHECK_OUTCOMES,
  type CheckOutcome,
  type CheckRecord,
  type CheckView,
  type ClusterWatch,
  type ListChecksFilter,
  type PendingCheck,
  type Store,
} from '../store/store';
import {
  checkIdField,
  checkTypeField,
  clusterIdField,
  invalidInput,
  limitField,
  optionsField,
  parseInput,
  regionField,
  routesField,
  statusFilterField,
  targetField,
  type FieldError,
} from './schema';

/**
 * The subscription use cases (DESIGN.md, "Subscribe"): watch a known check, run a check and watch it,
 * watch a whole cluster, and read or drop what is watched. One implementation behind two doors: the
 * HTTP API (lib/api/http.ts) and the CLI's direct mode. Every input is validated here, whichever door
 * it came through; failures are `InputError`s (`INVALID_INPUT`, `details.fields = [{path, message}]`,
 * paths in the API's snake_case names), `AckError`s and `StoreError`s, passed through with their codes.
 */
export interface WatchService {
  /** Watches a known check (idempotent: routes are merged). Asks ACK once, so a typo'd id is a 404 now. */
  watchCheck(input: {
    clusterId: string;
    checkId: string;
    region?: string | undefined;
    routes?: string[] | undefined;
  }): Promise<{ created: boolean; check: CheckRecord }>;
  /** RunClusterCheck, then watches the new check (source `run`). */
  runAndWatch(input: {
    clusterId: string;
    type: string;
    target?: string | undefined;
    options?: Record<string, string> | undefined;
    region?: string | undefined;
    routes?: string[] | undefined;
  }): Promise<{ checkId: string; requestId: string; check: CheckRecord }>;
  /**
   * Watches every check that appears on a cluster from now on. `baseline` is how many of the checks ACK
   * lists today are left out (the finished ones): they are never replayed. Checks still running at
   * subscription are not in the baseline, so the poller discovers and reports them.
   */
  watchCluster(input: {
    clusterId: string;
    region?: string | undefined;
    routes?: string[] | undefined;
  }): Promise<{ created: boolean; cluster: ClusterWatch; baseline: number }>;
  /**
   * Watched and archived checks, pending first, as the store returns them. `status` is `pending` /
   * `history` (where the check is), one of our outcomes that ACK has no status for (`passed`,
   * `gave_up`, `vanished`), or else an ACK status compared case-insensitively (`Running`, `failed`).
   */
  listChecks(filter: {
    clusterId?: string | undefined;
    status?: string | undefined;
    limit?: number | undefined;
  }): Promise<CheckRecord[]>;
  /** A check with its deliveries (each with the platform's own text); undefined when unknown. */
  getCheck(clusterId: string, checkId: string): Promise<CheckView | undefined>;
  listWatches(): Promise<{ checks: PendingCheck[]; clusters: ClusterWatch[] }>;
  /** False when the check was not being watched. */
  unwatchCheck(clusterId: string, checkId: string): Promise<boolean>;
  unwatchCluster(clusterId: string): Promise<boolean>;
}

export interface WatchServiceDeps {
  readonly store: Store;
  readonly ack: AckApi;
  readonly config: Config;
  /** Must be the clock the ACK client measures its deadlines with (the system clock in production). */
  readonly clock: Clock;
  readonly log: Logger;
  /** Time one API request may spend on an ACK call, retries included (default 10 s). */
  readonly ackDeadlineMs?: number | undefined;
}

export const DEFAULT_ACK_DEADLINE_MS = 10_000;

// zod/mini (see lib/api/schema.ts): parseInput words the issues.
const watchCheckInput = z.object({
  clusterId: clusterIdField,
  checkId: checkIdField,
  region: z.optional(regionField),
  routes: z.optional(routesField),
});

const runInput = z
  .object({
    clusterId: clusterIdField,
    type: checkTypeField,
    target: z.optional(targetField),
    options: z.optional(optionsField),
    region: z.optional(regionField),
    routes: z.optional(routesField),
  })
  .check(
    z.superRefine((v, ctx) => {
      if (v.type === 'NodePoolUpgrade' && v.target === undefined) {
        ctx.addIssue({ code: 'custom', path: ['target'], message: 'required when type is NodePoolUpgrade' });
      }
    }),
  );

const watchClusterInput = z.object({
  clusterId: clusterIdField,
  region: z.optional(regionField),
  routes: z.optional(routesField),
});

const listInput = z.object({
  clusterId: z.optional(clusterIdField),
  status: z.optional(statusFilterField),
  limit: z.optional(limitField),
});

const keyInput = z.object({ clusterId: clusterIdField, checkId: checkIdField });
const clusterKeyInput = z.object({ clusterId: clusterIdField });

export type { CheckRecord, CheckView, ClusterWatch, PendingCheck } from '../store/store';

/** Builds the {@link WatchService} over a store and the ACK port. */
export function createWatchService(deps: WatchServiceDeps): WatchService {
  const { store, ack, config, clock } = deps;
  const log = deps.log.child({ component: 'api' });
  const deadlineMs = deps.ackDeadlineMs ?? DEFAULT_ACK_DEADLINE_MS;

  const regionOf = (clusterId: string, given: string | undefined): string =>
    given ??
    (Object.hasOwn(config.clusters, clusterId) ? config.clusters[clusterId]?.region : undefined) ??
    config.region;

  const callOptions = (region: string): CallOptions => ({ region, deadline: clock.now() + deadlineMs });

  /** Route names must be configured: a watch that names an unknown route would notify nobody. */
  const routesOf = (given: readonly string[] | undefined): string[] => {
    if (given === undefined) return [...config.defaults.routes];
    const errors: FieldError[] = [];
    given.forEach((name, i) => {
      if (!Object.hasOwn(config.routes, name)) {
        errors.push({ path: `routes.${i}`, message: `no route named "${name}" is configured` });
      }
    });
    if (errors.length > 0) throw invalidInput('unknown route', errors);
    return [...new Set(given)];
  };

  return {
    async watchCheck(input) {
      const v = parseInput(watchCheckInput, input, 'watch');
      const clusterId = v.clusterId as ClusterId;
      const checkId = v.checkId as CheckId;
      const routes = routesOf(v.routes);
      const region = regionOf(clusterId, v.region);
      // One GetClusterCheck: a typo'd id is a 404 now rather than a "vanished" notice later, and the
      // row starts with ACK's type and created_at (the age limit counts from there).
      const detail = await ack.getClusterCheck(clusterId, checkId, callOptions(region));
      const result = await store.watchCheck(
        {
          clusterId,
          checkId,
          region,
          routes,
          source: 'watch',
          type: detail.type,
          status: detail.status,
          message: truncate(detail.message, MAX_MESSAGE_CHARS),
          createdAt: detail.createdAt,
        },
        clock.now(),
      );
      log.info('watching check', { clusterId, checkId, created: result.created, routes });
      return { created: result.created, check: result.check };
    },

    async runAndWatch(input) {
      const v = parseInput(runInput, input, 'check run');
      const clusterId = v.clusterId as ClusterId;
      const routes = routesOf(v.routes);
      const region = regionOf(clusterId, v.region);
      const run = await ack.runClusterCheck(
        clusterId,
        {
          type: v.type,
          target: v.target,
          // fromEntries defines own properties: no key can reach a prototype.
          options: Object.fromEntries(Object.entries(v.options ?? {})),
        },
        callOptions(region),
      );
      try {
        const result = await store.watchCheck(
          {
            clusterId,
            checkId: run.checkId,
            region,
            routes,
            source: 'run',
            type: v.type,
            target: v.target ?? '',
          },
          clock.now(),
        );
        log.info('started and watching check', {
          clusterId,
          checkId: run.checkId,
          requestId: run.requestId,
          routes,
        });
        return { checkId: run.checkId, requestId: run.requestId, check: result.check };
      } catch (err) {
        // The check is running in ACK but we could not record it: say which one, so the caller can
        // watch it (POST /v1/watches/checks) instead of starting another.
        log.error('check started but not watched', { clusterId, checkId: run.checkId, error: err });
        if (err instanceof AppError) {
          throw new AppError(
            err.code,
            `check ${run.checkId} was started but could not be watched: ${err.message}`,
            {
              retryable: err.retryable,
              cause: err,
              details: { ...err.details, check_id: run.checkId, ack_request_id: run.requestId },
            },
          );
        }
        throw err;
      }
    },

    async watchCluster(input) {
      const v = parseInput(watchClusterInput, input, 'cluster watch');
      const clusterId = v.clusterId as ClusterId;
      const routes = routesOf(v.routes);
      const region = regionOf(clusterId, v.region);
      const listed = await ack.listClusterChecks(clusterId, undefined, callOptions(region));
      const baseline = baselineOf(listed);
      const result = await store.watchCluster({ clusterId, region, routes, baseline }, clock.now());
      log.info('watching cluster', {
        clusterId,
        created: result.created,
        baseline: result.cluster.baseline.length,
        routes,
      });
      return {
        created: result.created,
        cluster: result.cluster,
        baseline: result.cluster.baseline.length,
      };
    },

    async listChecks(filter) {
      const v = parseInput(listInput, filter, 'filter');
      return store.listChecks({
        ...(v.clusterId === undefined ? {} : { clusterId: v.clusterId as ClusterId }),
        ...statusFilter(v.status),
        limit: v.limit,
      });
    },

    async getCheck(clusterId, checkId) {
      const v = parseInput(keyInput, { clusterId, checkId }, 'check');
      return store.getCheck(v.clusterId as ClusterId, v.checkId as CheckId);
    },

    async listWatches() {
      const pending = await store.listPending();
      return { checks: pending.checks, clusters: pending.clusters };
    },

    async unwatchCheck(clusterId, checkId) {
      const v = parseInput(keyInput, { clusterId, checkId }, 'check');
      const removed = await store.unwatchCheck(v.clusterId as ClusterId, v.checkId as CheckId);
      if (removed) log.info('stopped watching check', { clusterId: v.clusterId, checkId: v.checkId });
      return removed;
    },

    async unwatchCluster(clusterId) {
      const v = parseInput(clusterKeyInput, { clusterId }, 'cluster');
      const removed = await store.unwatchCluster(v.clusterId as ClusterId);
      if (removed) log.info('stopped watching cluster', { clusterId: v.clusterId });
      return removed;
    },
  };
}

/**
 * The ids a new cluster watch must not report: the checks already finished at subscription. A check
 * still running is left out on purpose, so the poller discovers it and reports how it ends. Bounded by
 * the store's baseline limit, keeping the newest (the oldest are the least likely to be listed again).
 */
export function baselineOf(listed: readonly CheckSummary[]): string[] {
  const finished = listed.filter((c) => classifyStatus(c.status) !== 'running');
  const ids = [...new Set(finished.map((c) => c.checkId as string))];
  if (ids.length <= MAX_BASELINE) return ids;
  const created = new Map(finished.map((c) => [c.checkId as string, c.createdAt]));
  return ids
    .sort((a, b) => (created.get(b) ?? '').localeCompare(created.get(a) ?? ''))
    .slice(0, MAX_BASELINE);
}

/** Outcomes that are not also ACK statuses: `failed` stays ACK's `Failed`, which every failed check has. */
const OUTCOME_ONLY: readonly CheckOutcome[] = CHECK_OUTCOMES.filter((o) => o !== 'failed');

function statusFilter(status: string | undefined): Pick<ListChecksFilter, 'where' | 'status' | 'outcome'> {
  if (status === undefined) return {};
  const s = status.toLowerCase();
  if (s === 'pending' || s === 'history') return { where: s };
  const outcome = OUTCOME_ONLY.find((o) => o === s);
  return outcome === undefined ? { status } : { outcome };
}
