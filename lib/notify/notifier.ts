/**
 * The delivery use case (DESIGN.md, Deliver): given a finished check's key, send it to every routed
 * channel exactly once, over ports only (Store, Channel, Clock, Logger).
 *
 * Per (check, channel):
 * 1. **Claim** the delivery with a conditional write (`Store.claimDelivery`). Of concurrent notifiers
 *    (a duplicate async event, FC's retry, the poller's re-dispatch) exactly one wins; the others see
 *    `claimed` / `delivered` and send nothing. A claim that outlives a crashed sender expires after
 *    `claimMs`, and the poller's re-dispatch picks the check up again.
 * 2. **Pause**: a platform that blocked the channel (DingTalk's 10-minute block) is remembered in the
 *    store (a lease row `chat-pause/<channel>`), so no notifier provokes it again meanwhile.
 * 3. **Rate tokens** from the store's shared counters (lib/notify/rate.ts). No token: the delivery is
 *    recorded `retry` until the slot ends, and the notifier waits for it within its time budget.
 * 4. **Digest**: a notifier that had to wait for a token (the window is tight) gathers the other
 *    completions waiting for the same channel (outbox checks whose delivery is due in `retry`),
 *    claims each, and sends them together as one DigestMessage; every one of them is recorded with the
 *    same platform reply. A notifier that got its token at once sends its check alone.
 * 5. **Send** one attempt; classify by the channel's {@link SendResult}: delivered, permanent (recorded
 *    and reported, never retried) or retry (backoff with full jitter, within the invocation's budget;
 *    what is left is re-dispatched by the poller). The resend of an unknown outcome carries the same
 *    idempotency key (`Delivery.idempotencyKey` → DingTalk `msgUuid`, Standard Webhooks `webhook-id`):
 *    a check sent alone is resent alone; a digest is resent as the same digest under the digest's key
 *    (`Delivery.digestKey` / `digestOf`), never split and never grown.
 * When every routed channel is delivered or permanently failed, the check is archived.
 */
import { createHash } from 'node:crypto';
import type { Channel, SendResult } from '../channels/channel';
import type { Clock } from '../clock';
import type { Config } from '../config';
import { backoffDelay, type RetryPolicy } from '../domain/backoff';
import { isCheckId, isClusterId } from '../domain/check';
import type { CheckMessage, DigestMessage, Outcome } from '../domain/message';
import { resolveChannels, routeMentions, unknownRoutes } from '../domain/routing';
import { describeError, InputError } from '../errors';
import type { Logger } from '../log';
import {
  isStoreConflict,
  type CheckRecord,
  type Delivery,
  type DeliveryResult,
  type PendingCheck,
  type Store,
} from '../store/store';
import { digestItemKey, parseDigestItemKey } from '../store/rules';
import { clusterNamesOf } from './channels';
import { checkMessageOf } from './message';
import { planRate, slotAt, type RatePlan } from './rate';

export interface NotifierSettings {
  /** Backoff for retryable send failures inside one invocation; `maxAttempts` sends per invocation. */
  readonly retry: RetryPolicy;
  /** How long a claim protects a send; must exceed the longest send (channel timeout). */
  readonly claimMs: number;
  /** A send is not started later than this before the deadline. */
  readonly sendBudgetMs: number;
  /** Delay between a token's grant and the message's arrival that the rate plan must tolerate. */
  readonly rateToleranceMs: number;
  /** Waiters for the next rate slot wake spread over this much, so that one of them goes first. */
  readonly wakeJitterMs: number;
  /** At most this many checks in one digest message. */
  readonly maxDigestItems: number;
  /** A delivery still failing this long after the check finished is recorded as failed. */
  readonly giveUpAfterMs: number;
  /** A platform that asks to wait at least this long has blocked the channel for everyone. */
  readonly pauseThresholdMs: number;
}

export const NOTIFIER_DEFAULTS = {
  retry: { maxAttempts: 5, baseMs: 1_000, capMs: 30_000 },
  claimMs: 60_000,
  sendBudgetMs: 12_000,
  rateToleranceMs: 10_000,
  wakeJitterMs: 2_000,
  maxDigestItems: 50,
  giveUpAfterMs: 24 * 3_600_000,
  pauseThresholdMs: 30_000,
} as const satisfies NotifierSettings;

export interface NotifierDeps {
  readonly store: Store;
  /** Built from configuration only (lib/notify/channels.ts `buildChannels`). */
  readonly channels: ReadonlyMap<string, Channel>;
  readonly config: Config;
  readonly clock: Clock;
  readonly log: Logger;
  /** Jitter source (backoff, wake-up spread); default Math.random. */
  readonly random?: (() => number) | undefined;
  readonly settings?: Partial<NotifierSettings> | undefined;
}

export interface NotifyOptions {
  /** Epoch ms by which `notify` must have returned (FC: start + timeout − margin). */
  readonly deadline: number;
  /** Who claims deliveries (the FC request id, or a process-unique id). */
  readonly holder: string;
}

/**
 * What happened on one channel in this invocation.
 * - `delivered`: sent alone; `digest`: sent in one message with other waiting completions;
 * - `retry-later`: not delivered yet (retryable failure, rate window, platform block); the poller's
 *   re-dispatch comes back for it after `redispatchAfter`;
 * - `permanent`: the platform refused it (now or earlier); recorded, never retried;
 * - `skipped`: already delivered, or another notifier holds the claim right now.
 */
export type ChannelOutcome = 'delivered' | 'digest' | 'retry-later' | 'permanent' | 'skipped';

export interface CheckKey {
  readonly clusterId: string;
  readonly checkId: string;
}

export interface ChannelReport {
  readonly channel: string;
  readonly outcome: ChannelOutcome;
  /** Messages sent to this channel by this invocation (0 when skipped). */
  readonly sends: number;
  readonly platformCode?: string | number | undefined;
  /** The platform's own text for the last reply (secrets masked by the channel). */
  readonly platformText?: string | undefined;
  /** What to do about a permanent failure. */
  readonly hint?: string | undefined;
  /** Why it was skipped or is waiting. */
  readonly reason?: string | undefined;
  readonly nextAttemptAt?: number | undefined;
  /** For `digest`: every check the message carried, this one first. */
  readonly digest?: readonly CheckKey[] | undefined;
}

export interface NotifyReport extends CheckKey {
  /**
   * `done`: every routed channel is delivered or permanently failed, and the check is archived;
   * `pending`: something is left for a later attempt; `unknown-check` / `not-finished`: nothing to do;
   * `already-archived`: delivered earlier (a late duplicate event).
   */
  readonly status: 'done' | 'pending' | 'unknown-check' | 'not-finished' | 'already-archived';
  readonly outcome?: Outcome | undefined;
  readonly channels: readonly ChannelReport[];
  readonly archived: boolean;
}

export interface Notifier {
  notify(clusterId: string, checkId: string, opts: NotifyOptions): Promise<NotifyReport>;
}

type FinishedCheck = CheckRecord & { readonly outcome: Outcome };

interface BatchItem {
  readonly check: FinishedCheck;
  readonly delivery: Delivery;
}

/** A digest whose send had an unknown outcome, reloaded to be resent exactly as it went out. */
interface DigestResend {
  /** The digest's idempotency key, as first sent. */
  readonly key: string;
  /** Its checks as stored (`clusterId/checkId`, in order): kept as is on the next unknown outcome. */
  readonly of: readonly string[];
  /** The checks still found, in that order: what the message carries. */
  readonly checks: readonly FinishedCheck[];
}

const isFinished = (c: CheckRecord): c is FinishedCheck => c.outcome !== undefined;

/** Lease row that spaces out sends to a channel with a very tight limit (see `paceSpacingMs`). */
export function paceLeaseName(channel: string): string {
  return `chat-pace/${channel}`;
}

/**
 * Minimum time between two sends to a channel whose limit allows fewer than 3 per window: one window's
 * share per message plus a margin for a send that takes longer than the next one (at most one window).
 */
export function paceSpacingMs(
  limit: { readonly windowMs: number; readonly max: number },
  toleranceMs: number,
): number {
  return Math.ceil(limit.windowMs / Math.max(1, limit.max)) + Math.min(toleranceMs, limit.windowMs);
}

/** Lease row that records a platform's block of a channel. */
export function pauseLeaseName(channel: string): string {
  return `chat-pause/${channel}`;
}

/** A digest's idempotency key: stable for the same set of checks, so its resend can be deduplicated. */
export function digestKey(items: readonly { readonly idempotencyKey: string }[]): string {
  const keys = items.map((i) => i.idempotencyKey).sort();
  return 'dg' + createHash('sha256').update(keys.join('\n')).digest('hex').slice(0, 30);
}

/** What a stored text says about a send result (the platform's words first, then ours). */
function resultText(r: SendResult): string {
  switch (r.kind) {
    case 'delivered':
      return r.platformText ?? 'ok';
    case 'retry':
      return r.platformText === undefined || r.platformText === ''
        ? r.reason
        : `${r.reason}: ${r.platformText}`;
    case 'permanent': {
      const code = r.platformCode === undefined ? '' : `[${String(r.platformCode)}] `;
      return `${code}${r.platformText} — ${r.hint}`;
    }
    default: {
      const unreachable: never = r;
      return unreachable;
    }
  }
}

/**
 * Builds the notifier. `channels` and `config` come from configuration only: nothing a caller passes
 * to `notify` can name a URL or a secret.
 */
export function createNotifier(deps: NotifierDeps): Notifier {
  const { store, clock, config } = deps;
  const s: NotifierSettings = { ...NOTIFIER_DEFAULTS, ...deps.settings };
  const random = deps.random ?? Math.random;
  const clusterNames = clusterNamesOf(config);
  const plans = new Map<string, RatePlan[]>();

  const plansFor = (channel: Channel): RatePlan[] => {
    let p = plans.get(channel.name);
    if (p === undefined) {
      p = channel.rateLimits.map((l) => planRate(l, s.rateToleranceMs));
      plans.set(channel.name, p);
    }
    return p;
  };

  const routesOf = (check: PendingCheck): readonly string[] =>
    // A watch that named no route hears the default routes (as the API applies them at watch time).
    check.routes.length > 0 ? check.routes : config.defaults.routes;

  const routedChannels = (check: PendingCheck & { readonly outcome: Outcome }): string[] =>
    resolveChannels(routesOf(check), config.routes, check.outcome, check.clusterId, check.type);

  /** The message for one channel: the routes that sent the check there may add people to mention. */
  const message = (check: FinishedCheck, channelName: string): CheckMessage => {
    const msg = checkMessageOf(check, clusterNames);
    const mentions = routeMentions(
      routesOf(check),
      config.routes,
      check.outcome,
      check.clusterId,
      check.type,
      channelName,
    );
    return mentions === undefined ? msg : { ...msg, mentions };
  };

  /** Sleeps until `at` (+ jitter) when a send can still start before the deadline afterwards. */
  const waitUntil = async (at: number, jitterMs: number, opts: NotifyOptions): Promise<boolean> => {
    const wake = at + Math.floor(random() * jitterMs);
    if (wake + s.sendBudgetMs > opts.deadline) return false;
    const now = clock.now();
    if (wake > now) await clock.sleep(wake - now);
    return true;
  };

  /** When the channel is paused by its platform, until when; else 0. */
  const pausedUntil = async (channel: string, now: number): Promise<number> => {
    const lease = await store.readLease(pauseLeaseName(channel));
    return lease !== undefined && lease.holder !== '' && lease.until > now ? lease.until : 0;
  };

  const pause = async (channel: string, until: number, holder: string, log: Logger): Promise<void> => {
    const now = clock.now();
    try {
      // Another notifier's pause may already hold the row: either way the channel is paused.
      await store.acquireLease(pauseLeaseName(channel), holder, Math.max(1, until - now), now);
      log.warn('channel paused by the platform', { channel, until: new Date(until).toISOString() });
    } catch (err) {
      log.warn('could not record the channel pause', { channel, error: describeError(err) });
    }
  };

  /** Takes one token from every limit of the channel; undefined when granted, else when to retry. */
  const takeToken = async (channel: Channel, now: number): Promise<number | undefined> => {
    for (const plan of plansFor(channel)) {
      if (plan.limit.max < 3) {
        // Too tight for fixed-window counters (Slack: 1 per second): space sends out instead. The
        // pace lease is free only once `spacing` has passed since the last grant, across notifiers.
        const spacing = paceSpacingMs(plan.limit, s.rateToleranceMs);
        const holder = `pace-${now.toString(36)}-${Math.floor(random() * 1e9).toString(36)}`;
        const r = await store.acquireLease(paceLeaseName(channel.name), holder, spacing, now);
        if (!r.acquired) return r.until;
        continue;
      }
      const slot = slotAt(plan, now);
      const granted = await store.takeRateTokens(channel.name, slot.key, plan.perSlot, 1, slot.ttlMs, now);
      // A token already taken from an earlier limit is not given back: erring on the side of fewer.
      if (granted < 1) return slot.endsAt;
    }
    return undefined;
  };

  /** Records a result for a claimed delivery; a lost claim is logged (the other claimer records it). */
  const finish = async (d: Delivery, result: DeliveryResult, log: Logger): Promise<void> => {
    try {
      await store.finishDelivery(d, result, clock.now());
    } catch (err) {
      if (!isStoreConflict(err)) throw err;
      log.warn('delivery claim was lost before its result was recorded', {
        clusterId: d.clusterId,
        checkId: d.checkId,
        channel: d.channel,
      });
    }
  };

  /** Archives a pending check once every routed channel is delivered or permanently failed. */
  const archiveIfComplete = async (check: FinishedCheck, log: Logger): Promise<boolean> => {
    const routed = routedChannels(check);
    const deliveries = await store.listDeliveries(check.clusterId, check.checkId);
    const complete = routed.every((ch) =>
      deliveries.some((d) => d.channel === ch && (d.state === 'delivered' || d.state === 'failed')),
    );
    if (!complete) return false;
    for (let i = 0; ; i++) {
      try {
        await store.archiveCheck(check.clusterId, check.checkId, clock.now());
        return true;
      } catch (err) {
        // The poller rewrote the row meanwhile (a re-dispatch): archiving again is idempotent.
        if (!isStoreConflict(err) || i >= 2) {
          log.warn('archive failed; a later re-dispatch archives it', { error: describeError(err) });
          return false;
        }
      }
    }
  };

  /**
   * The other completions waiting for `channelName`: pending outbox checks routed to it whose delivery
   * is in `retry` and due. Each is claimed; the claims are the proof that no one else sends them.
   * An `uncertain` delivery (an earlier send may have arrived) is left out: its resend must carry the
   * key it first went out under (its own, or its digest's), and a new digest goes under another.
   */
  const gather = async (
    channelName: string,
    own: BatchItem,
    opts: NotifyOptions,
    log: Logger,
  ): Promise<BatchItem[]> => {
    const items: BatchItem[] = [own];
    const pending = await store.listPending();
    const candidates = pending.checks
      .filter(
        (c): c is PendingCheck & { outcome: Outcome } =>
          c.outcome !== undefined &&
          !(c.clusterId === own.check.clusterId && c.checkId === own.check.checkId) &&
          routedChannels({ ...c, outcome: c.outcome }).includes(channelName),
      )
      // Oldest completions first: they have waited longest.
      .sort((a, b) => a.lastChangeAt - b.lastChangeAt || (a.checkId < b.checkId ? -1 : 1));
    const CHUNK = 16;
    for (let i = 0; i < candidates.length && items.length < s.maxDigestItems; i += CHUNK) {
      const views = await Promise.all(
        candidates.slice(i, i + CHUNK).map((c) => store.getCheck(c.clusterId, c.checkId)),
      );
      for (const view of views) {
        if (items.length >= s.maxDigestItems) break;
        if (view?.where !== 'pending' || !isFinished(view.check)) continue;
        const now = clock.now();
        const d = view.deliveries.find((x) => x.channel === channelName);
        if (d?.state !== 'retry' || d.uncertain === true || (d.nextAttemptAt ?? 0) > now) continue;
        const claim = await store
          .claimDelivery(
            { clusterId: view.check.clusterId, checkId: view.check.checkId, channel: channelName },
            opts.holder,
            s.claimMs,
            now,
          )
          .catch((err: unknown) => {
            // Contended by its own notifier right now: it is being handled; leave it out.
            if (isStoreConflict(err)) return undefined;
            throw err;
          });
        if (claim?.claimed !== true) continue;
        if (claim.delivery.uncertain === true) {
          // Became uncertain between the read and the claim: hand it straight back, due now.
          await finish(
            claim.delivery,
            {
              state: 'retry',
              lastError: claim.delivery.lastError ?? '',
              nextAttemptAt: now,
              uncertain: true,
            },
            log,
          );
          continue;
        }
        items.push({ check: view.check, delivery: claim.delivery });
      }
    }
    if (items.length > 1) log.info('digest gathered', { channel: channelName, items: items.length });
    return items;
  };

  /** Renders one message for the batch; a digest that does not fit whole gives back its tail. */
  const renderBatch = async (
    channel: Channel,
    batch: BatchItem[],
    log: Logger,
  ): Promise<{ items: BatchItem[]; rendered: ReturnType<Channel['render']> }> => {
    let items = batch;
    for (;;) {
      const msg: CheckMessage | DigestMessage =
        items.length === 1 && items[0] !== undefined
          ? message(items[0].check, channel.name)
          : { items: items.map((i) => message(i.check, channel.name)) };
      const rendered = channel.render(msg);
      if (!rendered.truncated || items.length <= 2) return { items, rendered };
      // A digest line left out as "and N more" would be recorded delivered without being shown.
      const keep = Math.max(2, Math.floor(items.length / 2));
      const dropped = items.slice(keep);
      items = items.slice(0, keep);
      for (const d of dropped) {
        await finish(
          d.delivery,
          {
            state: 'retry',
            lastError: 'did not fit in the digest; goes in the next one',
            nextAttemptAt: clock.now(),
          },
          log,
        );
      }
    }
  };

  /**
   * Reloads the digest that `own` went out in when that send's outcome was unknown: every check it
   * carried that is still found, in the order sent (`own` included even if the stored list lost it).
   */
  const loadDigest = async (own: BatchItem, key: string): Promise<DigestResend> => {
    const of = own.delivery.digestOf ?? [];
    const ownKey = digestItemKey(own.check.clusterId, own.check.checkId);
    const names = of.includes(ownKey) ? of : [ownKey, ...of];
    const loaded = await Promise.all(
      names.map(async (name): Promise<FinishedCheck | undefined> => {
        if (name === ownKey) return own.check;
        const ids = parseDigestItemKey(name);
        if (ids === undefined) return undefined;
        const view = await store.getCheck(ids.clusterId, ids.checkId);
        return view !== undefined && isFinished(view.check) ? view.check : undefined;
      }),
    );
    return { key, of, checks: loaded.filter((c): c is FinishedCheck => c !== undefined) };
  };

  /**
   * After a digest resend was delivered: records it delivered for the digest's other checks too. One
   * that cannot be claimed (another notifier holds it, or it is not due) is left alone: its own resend
   * is the same digest under the same key, which the receiver deduplicates.
   */
  const settleDigest = async (
    resend: DigestResend,
    own: BatchItem,
    channelName: string,
    sentAt: number,
    opts: NotifyOptions,
    log: Logger,
  ): Promise<void> => {
    for (const check of resend.checks) {
      if (check.clusterId === own.check.clusterId && check.checkId === own.check.checkId) continue;
      const claim = await store
        .claimDelivery(
          { clusterId: check.clusterId, checkId: check.checkId, channel: channelName },
          opts.holder,
          s.claimMs,
          clock.now(),
        )
        .catch((err: unknown) => {
          if (isStoreConflict(err)) return undefined;
          throw err;
        });
      if (claim?.claimed !== true) continue;
      const itemLog = log.child({ clusterId: check.clusterId, checkId: check.checkId });
      await finish(claim.delivery, { state: 'delivered', sentAt }, itemLog);
      await archiveIfComplete(check, itemLog);
    }
  };

  /** Delivers one finished check to one channel; loops over claim → token → send within the budget. */
  const deliverChannel = async (
    check: FinishedCheck,
    name: string,
    opts: NotifyOptions,
    parentLog: Logger,
  ): Promise<ChannelReport> => {
    const log = parentLog.child({ channel: name });
    const channel = deps.channels.get(name);
    const key = { clusterId: check.clusterId, checkId: check.checkId, channel: name };
    let sends = 0;
    let failures = 0;
    let deferred = false;
    // Set once a send in this invocation may have arrived: from then on only a resend under the same
    // key is safe (alone under its own key, or the same digest under the digest's key), never a new
    // digest.
    let unknownSeen = false;
    let last: {
      platformCode?: string | number | undefined;
      platformText?: string | undefined;
      reason: string;
    } = {
      reason: 'no attempt within the time budget',
    };
    const later = (at: number | undefined): ChannelReport => ({
      channel: name,
      outcome: 'retry-later',
      sends,
      ...last,
      nextAttemptAt: at,
    });

    for (;;) {
      const now = clock.now();
      if (now + s.sendBudgetMs > opts.deadline) return later(undefined);
      const claim = await store.claimDelivery(key, opts.holder, s.claimMs, now);
      if (!claim.claimed) {
        const d = claim.delivery;
        switch (claim.reason) {
          case 'delivered':
            return { channel: name, outcome: 'skipped', sends, reason: 'already delivered' };
          case 'failed':
            return {
              channel: name,
              outcome: 'permanent',
              sends,
              platformText: d.lastError,
              reason: 'refused earlier',
            };
          case 'claimed':
            return { channel: name, outcome: 'skipped', sends, reason: 'another notifier is sending it' };
          case 'not-due': {
            const at = d.nextAttemptAt ?? now;
            if (d.lastError !== undefined) last = { reason: d.lastError };
            if (await waitUntil(at, s.wakeJitterMs, opts)) continue;
            return later(at);
          }
          default: {
            const unreachable: never = claim.reason;
            return unreachable;
          }
        }
      }
      const own: BatchItem = { check, delivery: claim.delivery };

      if (channel === undefined) {
        // Routes are checked against configured channels at load time; this is a wiring mistake.
        const text = `channel "${name}" is not configured in this process`;
        await finish(own.delivery, { state: 'failed', lastError: text }, log);
        log.error('routed channel is not configured', {});
        return { channel: name, outcome: 'permanent', sends, platformText: text };
      }

      const paused = await pausedUntil(name, now);
      const denied = paused > 0 ? paused : await takeToken(channel, now);
      if (denied !== undefined) {
        const why =
          paused > 0
            ? `the platform blocked this channel until ${new Date(paused).toISOString()}`
            : 'rate limited: waiting for the next window of this channel';
        last = { reason: why };
        deferred = true;
        await finish(own.delivery, { state: 'retry', lastError: why, nextAttemptAt: denied }, log);
        if (await waitUntil(denied, s.wakeJitterMs, opts)) continue;
        return later(denied);
      }

      // An uncertain delivery is resent exactly as it went out, so the receiver can deduplicate it: the
      // same digest under the digest's key, or alone under its own key. Otherwise, when the window was
      // tight for us, whoever else is waiting for this channel goes in the same message.
      const resendKey = own.delivery.uncertain === true ? own.delivery.digestKey : undefined;
      const resend = resendKey === undefined ? undefined : await loadDigest(own, resendKey);
      const alone = unknownSeen || own.delivery.uncertain === true;
      let items: BatchItem[];
      let rendered: ReturnType<Channel['render']>;
      if (resend === undefined) {
        const gathered = deferred && !alone ? await gather(name, own, opts, log) : [own];
        ({ items, rendered } = await renderBatch(channel, gathered, log));
      } else {
        // Only `own` is claimed; the others are carried, never split off or added to.
        items = [own];
        rendered = channel.render({ items: resend.checks.map((c) => message(c, name)) });
      }
      const isDigestSend = resend !== undefined || items.length > 1;
      const idempotencyKey =
        resend?.key ??
        (items.length > 1 ? digestKey(items.map((i) => i.delivery)) : own.delivery.idempotencyKey);
      // What a digest whose outcome turns out unknown records, so that its resend is the same digest.
      const digestOf =
        resend?.of ??
        (items.length > 1 ? items.map((i) => digestItemKey(i.check.clusterId, i.check.checkId)) : undefined);
      const carried: CheckKey[] =
        resend === undefined
          ? items.map(keyOf)
          : [
              keyOf(own),
              ...resend.checks
                .filter((c) => !(c.clusterId === check.clusterId && c.checkId === check.checkId))
                .map((c) => ({ clusterId: c.clusterId, checkId: c.checkId })),
            ];
      const sentAt = clock.now();
      const signal = AbortSignal.timeout(Math.max(1, opts.deadline - sentAt));
      const result = await channel.send(rendered, { now: sentAt, idempotencyKey, signal });
      sends += 1;
      const text = resultText(result);
      const fields = {
        kind: result.kind,
        platformCode: result.platformCode,
        items: carried.length,
        bytes: rendered.bytes,
        ...(resend === undefined ? {} : { resend: 'digest' }),
      };

      switch (result.kind) {
        case 'delivered': {
          for (const i of items) await finish(i.delivery, { state: 'delivered', sentAt }, log);
          log.info(isDigestSend ? 'digest delivered' : 'delivered', fields);
          for (const i of items.slice(1)) await archiveIfComplete(i.check, log.child({ ...keyOf(i) }));
          if (resend !== undefined) await settleDigest(resend, own, name, sentAt, opts, log);
          return {
            channel: name,
            outcome: isDigestSend ? 'digest' : 'delivered',
            sends,
            platformCode: result.platformCode,
            platformText: result.platformText,
            digest: isDigestSend ? carried : undefined,
          };
        }
        case 'permanent': {
          for (const i of items) await finish(i.delivery, { state: 'failed', lastError: text }, log);
          log.warn('delivery refused', { ...fields, platformText: result.platformText, hint: result.hint });
          for (const i of items.slice(1)) await archiveIfComplete(i.check, log.child({ ...keyOf(i) }));
          return {
            channel: name,
            outcome: 'permanent',
            sends,
            platformCode: result.platformCode,
            platformText: result.platformText,
            hint: result.hint,
            digest: isDigestSend ? carried : undefined,
          };
        }
        case 'retry': {
          const now2 = clock.now();
          if (result.at - now2 >= s.pauseThresholdMs) await pause(name, result.at, opts.holder, log);
          const delay = backoffDelay(failures, s.retry, random, Math.max(0, result.at - now2));
          failures += 1;
          const nextAttemptAt = now2 + delay;
          last = {
            platformCode: result.platformCode,
            platformText: result.platformText,
            reason: result.reason,
          };
          // A check that has failed to go out for a day is reported as failed rather than kept forever.
          const givenUp = now2 - check.lastChangeAt >= s.giveUpAfterMs;
          if (result.unknownOutcome === true) unknownSeen = true;
          for (const i of items) {
            const uncertain = result.unknownOutcome === true || i.delivery.uncertain === true;
            const record: DeliveryResult = givenUp
              ? { state: 'failed', lastError: `gave up after ${sends} attempt(s): ${text}` }
              : {
                  state: 'retry',
                  lastError: text,
                  nextAttemptAt,
                  uncertain,
                  // A digest that may have arrived is resent whole, under the same key.
                  ...(uncertain && digestOf !== undefined ? { digestKey: idempotencyKey, digestOf } : {}),
                };
            await finish(i.delivery, record, log);
          }
          log.warn('send failed; will retry', {
            ...fields,
            reason: result.reason,
            unknownOutcome: result.unknownOutcome === true,
            nextAttemptAt,
            givenUp,
          });
          if (givenUp) {
            return {
              channel: name,
              outcome: 'permanent',
              sends,
              ...last,
              hint: 'retried for too long; check the channel and the platform',
            };
          }
          if (failures < s.retry.maxAttempts && (await waitUntil(nextAttemptAt, 0, opts))) continue;
          return later(nextAttemptAt);
        }
        default: {
          const unreachable: never = result;
          return unreachable;
        }
      }
    }
  };

  return {
    async notify(clusterId: string, checkId: string, opts: NotifyOptions): Promise<NotifyReport> {
      if (!isClusterId(clusterId) || !isCheckId(checkId)) {
        throw new InputError('notify needs a valid cluster id and check id');
      }
      const log = deps.log.child({ clusterId, checkId });
      const base = { clusterId, checkId };
      const view = await store.getCheck(clusterId, checkId);
      if (view === undefined) {
        log.info('nothing to notify: unknown check', {});
        return { ...base, status: 'unknown-check', channels: [], archived: false };
      }
      const check = view.check;
      if (!isFinished(check)) {
        log.info('nothing to notify: the check is not finished', {});
        return { ...base, status: 'not-finished', channels: [], archived: false };
      }
      const routed = routedChannels(check);
      if (view.where === 'history') {
        // Archived: every routed channel was settled before. A late event must not send anything.
        const channels = routed.map((ch): ChannelReport => {
          const d = view.deliveries.find((x) => x.channel === ch);
          return d?.state === 'failed'
            ? {
                channel: ch,
                outcome: 'permanent',
                sends: 0,
                platformText: d.lastError,
                reason: 'refused earlier',
              }
            : { channel: ch, outcome: 'skipped', sends: 0, reason: 'already delivered' };
        });
        return { ...base, status: 'already-archived', outcome: check.outcome, channels, archived: true };
      }
      const unknown = unknownRoutes(routesOf(check), config.routes);
      if (unknown.length > 0) log.warn('the check names routes that are not configured', { routes: unknown });

      const settled = await Promise.allSettled(routed.map((ch) => deliverChannel(check, ch, opts, log)));
      const failed = settled.find((r) => r.status === 'rejected');
      // Every channel finished its attempt before we give up on the store: no send is left running.
      if (failed !== undefined) throw failed.reason;
      const channels = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const archived = await archiveIfComplete(check, log);
      log.info('notify done', {
        outcome: check.outcome,
        archived,
        channels: channels.map((c) => ({ channel: c.channel, outcome: c.outcome, sends: c.sends })),
      });
      return {
        ...base,
        status: archived ? 'done' : 'pending',
        outcome: check.outcome,
        channels,
        archived,
      };
    },
  };
}

function keyOf(i: BatchItem): CheckKey {
  return { clusterId: i.check.clusterId, checkId: i.check.checkId };
}
