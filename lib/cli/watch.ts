import type { Command } from 'commander';
import { Option } from 'commander';
import { systemClock } from '../clock';
import { AppError, InputError } from '../errors';
import { summaryOf } from '../notify/message';
import type { ApiCheck, ApiCluster } from './backend';
import type { CliContext } from './context';
import { CliExit, EXIT } from './context';
import type { CliDeps } from './deps';
import { formatTime, itemCountsText, statusText } from './format';
import { parseCheckId, parseCheckType, parseClusterId, parseDuration } from './parse';
import type { BackendFlags, Session } from './session';
import { addBackendOptions, withSession } from './session';
import { deliveriesText, exitCodeFor, progressLine, waitForCheck } from './wait';

/**
 * The subscription commands: `watch check|cluster`, `run`, `unwatch check|cluster`, `ls`, `show`.
 * Each works on the configured store (direct mode) or on a deployed API (`--api URL`), through one
 * {@link Backend}; `--json` prints the API's own JSON views.
 */

interface CommonOptions extends BackendFlags {
  readonly json?: boolean;
}
interface WatchOptions extends CommonOptions {
  readonly route: string[];
  readonly region?: string;
  readonly wait?: boolean;
  readonly timeout: number;
  readonly interval: number;
}
interface RunOptions extends WatchOptions {
  readonly type: string;
  readonly target?: string;
  readonly nextVersion?: string;
}
interface LsOptions extends CommonOptions {
  readonly cluster?: string;
  readonly status?: string;
  readonly limit?: number;
}

/** The check a person reads: status line, fields, items, deliveries. */
export function formatWatchedCheck(view: ApiCheck, now: number): string {
  const lines: string[] = [];
  const status = view.status ?? '';
  lines.push(
    `${status === '' ? '… (not yet polled)' : statusText(status)}  ${view.type ?? 'check'}  [${view.state}]`,
  );
  const field = (name: string, value: string | null | undefined): void => {
    if (value !== null && value !== undefined && value !== '') lines.push(`  ${name.padEnd(10)} ${value}`);
  };
  field('check', view.check_id);
  field('cluster', view.cluster_id);
  field('region', view.region);
  field('target', view.target);
  field('outcome', view.outcome);
  field('created', view.created_at === null ? null : formatTime(view.created_at));
  field('finished', view.finished_at === null ? null : formatTime(view.finished_at));
  field('watched', view.watched_at);
  field('source', view.source);
  field('routes', view.routes.length === 0 ? '(none: nobody is notified)' : view.routes.join(', '));
  field('message', view.message);
  if (view.summary !== null && view.summary !== undefined) {
    const summary = summaryOf(view.summary);
    field('items', itemCountsText(summary));
    for (const item of summary.failing) {
      lines.push(
        `    ${item.level.padEnd(7)} ${item.group === undefined ? item.name : `${item.group} / ${item.name}`}`,
      );
      if (item.message !== '') lines.push(`            ${item.message}`);
    }
  }
  for (const d of view.deliveries ?? []) {
    const when = d.sent_at === null ? '' : ` at ${d.sent_at}`;
    const err = d.last_error === null ? '' : ` — ${d.last_error}`;
    lines.push(
      `  delivery   ${d.channel}: ${d.state}${when} (${String(d.attempts)} attempt${d.attempts === 1 ? '' : 's'})${err}`,
    );
  }
  if (view.outcome === null) lines.push(`  progress   ${progressLine(view, now).text}`);
  return lines.join('\n');
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const render = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [render(header), ...rows.map(render)].join('\n');
}

/** `ls`: the cluster watches, then the checks. */
export function formatLs(clusters: readonly ApiCluster[], checks: readonly ApiCheck[]): string {
  const parts: string[] = [];
  if (clusters.length > 0) {
    parts.push(
      table(
        ['WATCHED CLUSTER', 'REGION', 'ROUTES', 'LAST LISTED'],
        clusters.map((c) => [c.cluster_id, c.region, c.routes.join(',') || '-', c.last_listed_at ?? '-']),
      ),
    );
    parts.push('');
  }
  if (checks.length === 0) parts.push('No checks.');
  else
    parts.push(
      table(
        ['STATE', 'STATUS', 'OUTCOME', 'TYPE', 'CLUSTER', 'CHECK ID'],
        checks.map((c) => [
          c.state,
          c.status ?? '-',
          c.outcome ?? '-',
          c.type ?? '-',
          c.cluster_id,
          c.check_id,
        ]),
      ),
    );
  return parts.join('\n');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function addWatchOptions(cmd: Command): Command {
  return addBackendOptions(cmd)
    .option(
      '--route <name>',
      'notify through this configured route (repeatable; default: defaults.routes)',
      collect,
      [],
    )
    .option('--region <region>', 'region of the cluster (default: clusters.<id>.region, then region)')
    .option('--wait', 'follow the check until it is finished and notified; exit 0 passed, 1 otherwise')
    .addOption(
      new Option('--timeout <duration>', 'with --wait: give up after this long (exit 5)')
        .argParser(parseDuration)
        .default(parseDuration('2h'), '2h'),
    )
    .addOption(
      new Option('--interval <duration>', 'with --wait: how often to look')
        .argParser(parseDuration)
        .default(1_000, '1s'),
    )
    .option('--json', 'print JSON (the API view) instead of the human view');
}

function routesOf(opts: WatchOptions): string[] | undefined {
  return opts.route.length === 0 ? undefined : opts.route;
}

/** After a watch was created: either report it, or `--wait` for it and exit by its outcome. */
async function afterWatch(
  ctx: CliContext,
  session: Session,
  opts: WatchOptions,
  check: ApiCheck,
  headline: string,
): Promise<void> {
  if (opts.wait !== true) {
    if (opts.json === true) ctx.json(check);
    else {
      ctx.out(headline);
      ctx.out(formatWatchedCheck(check, ctx.now()));
    }
    return;
  }
  if (opts.json !== true) ctx.out(headline);
  const final = await waitForCheck(ctx, session.backend, check.cluster_id, check.check_id, {
    step: () => session.step(),
    intervalMs: opts.interval,
    timeoutMs: opts.timeout,
    json: opts.json === true,
    sleep: (ms, signal) => systemClock.sleep(ms, signal),
  });
  if (opts.json === true) ctx.json(final);
  else {
    const deliveries = deliveriesText(final);
    ctx.out(
      `Finished: ${final.outcome ?? 'unknown'} (${final.status ?? '-'})` +
        (deliveries === '' ? '; no channel routed' : `; ${deliveries}`),
    );
  }
  const code = exitCodeFor(final.outcome);
  if (code !== EXIT.ok) throw new CliExit(code);
}

/** Ctrl-C during `--wait` leaves the watch in place: say so. */
function interruptedNote(ctx: CliContext, err: unknown): never {
  if (err instanceof CliExit && err.exitCode === EXIT.interrupted) {
    ctx.io.stderr('checkwatch: interrupted; the watch stays in place (unwatch it to stop notifications)\n');
  }
  throw err;
}

/** Registers watch, run, unwatch, ls and show. */
export function registerWatchCommands(program: Command, ctx: CliContext, deps: CliDeps): void {
  const watch = program
    .command('watch')
    .description('get notified when a check (or any check of a cluster) finishes');

  addWatchOptions(
    watch
      .command('check')
      .description('watch a known check; notify the routed channels when it finishes')
      .argument('<cluster-id>', 'the cluster')
      .argument('<check-id>', 'the check, as printed by `check run` or `check list`'),
  )
    .addHelpText(
      'after',
      `
Idempotent: watching a check twice keeps one watch and merges the routes.

Examples:
  checkwatch watch check c0123456789abcdef0123456789abcdef <check-id> --route ops
  checkwatch watch check <cluster-id> <check-id> --wait && echo "precheck passed"
  checkwatch watch check <cluster-id> <check-id> --api https://checkwatch.example.com  # token: $CHECKWATCH_API_TOKEN`,
    )
    .action(async (rawCluster: string, rawCheck: string, opts: WatchOptions) => {
      const clusterId = parseClusterId(rawCluster);
      const checkId = parseCheckId(rawCheck);
      await withSession(ctx, deps, opts, async (session) => {
        const r = await session.backend.watchCheck({
          clusterId,
          checkId,
          region: opts.region,
          routes: routesOf(opts),
        });
        const headline = r.created
          ? `Watching check ${checkId}.`
          : `Already watching check ${checkId} (routes merged).`;
        await afterWatch(ctx, session, opts, r.check, headline).catch((err: unknown) =>
          interruptedNote(ctx, err),
        );
      });
    });

  addBackendOptions(
    watch
      .command('cluster')
      .description('watch a whole cluster: every check that appears on it from now on is reported')
      .argument('<cluster-id>', 'the cluster')
      .option('--route <name>', 'notify through this configured route (repeatable)', collect, [])
      .option('--region <region>', 'region of the cluster')
      .option('--json', 'print JSON'),
  )
    .addHelpText(
      'after',
      `
Checks ACK already lists as finished are never replayed; checks still running are reported when they finish.

Examples:
  checkwatch watch cluster c0123456789abcdef0123456789abcdef --route ops`,
    )
    .action(async (rawCluster: string, opts: WatchOptions) => {
      const clusterId = parseClusterId(rawCluster);
      await withSession(ctx, deps, opts, async (session) => {
        const r = await session.backend.watchCluster({
          clusterId,
          region: opts.region,
          routes: routesOf(opts),
        });
        if (opts.json === true) {
          ctx.json({ created: r.created, cluster: r.cluster, baseline: r.baseline });
          return;
        }
        ctx.out(
          r.created
            ? `Watching cluster ${clusterId}.`
            : `Already watching cluster ${clusterId} (routes merged).`,
        );
        ctx.out(
          `  ${String(r.baseline)} finished ${r.baseline === 1 ? 'check is' : 'checks are'} left out; new and running checks will be reported` +
            (r.cluster.routes.length === 0
              ? ' (no routes: nobody is notified).'
              : ` to ${r.cluster.routes.join(', ')}.`),
        );
      });
    });

  addWatchOptions(
    program
      .command('run')
      .description(
        'start a check (RunClusterCheck) and watch it: RunClusterCheck that tells you when it is done',
      )
      .argument('<cluster-id>', 'the cluster')
      .requiredOption('--type <type>', 'ClusterUpgrade, MasterUpgrade, NodePoolUpgrade or ClusterMigrate')
      .option('--target <target>', 'the node-pool id (required for NodePoolUpgrade)')
      .option('--next-version <version>', 'the Kubernetes version to check against, e.g. 1.32.1-aliyun.1'),
  )
    .addHelpText(
      'after',
      `
With --wait it is a CI gate: exit 0 when the check passed, 1 when it failed (or vanished, or was given up).
In direct mode --wait polls ACK and sends the notifications itself when no \`checkwatch serve\` is running.

Examples:
  checkwatch run c0123456789abcdef0123456789abcdef --type ClusterUpgrade --next-version 1.32.1-aliyun.1 --wait
  checkwatch run <cluster-id> --type NodePoolUpgrade --target np0123 --route ops --api http://checkwatch:8080`,
    )
    .action(async (rawCluster: string, opts: RunOptions) => {
      const clusterId = parseClusterId(rawCluster);
      const type = parseCheckType(opts.type);
      const target = opts.target?.trim();
      if (type === 'NodePoolUpgrade' && (target === undefined || target === '')) {
        throw new InputError('--target <node-pool-id> is required with --type NodePoolUpgrade', {
          details: { option: '--target' },
        });
      }
      const nextVersion = opts.nextVersion?.trim();
      await withSession(ctx, deps, opts, async (session) => {
        const r = await session.backend.runAndWatch({
          clusterId,
          type,
          target: target === '' ? undefined : target,
          options:
            nextVersion === undefined || nextVersion === '' ? undefined : { next_version: nextVersion },
          region: opts.region,
          routes: routesOf(opts),
        });
        const headline = `Started ${type} check ${r.checkId} and watching it${r.requestId === '' ? '' : ` (request ${r.requestId})`}.`;
        await afterWatch(ctx, session, opts, r.check, headline).catch((err: unknown) =>
          interruptedNote(ctx, err),
        );
      });
    });

  const unwatch = program.command('unwatch').description('stop watching a check or a cluster');
  addBackendOptions(
    unwatch
      .command('check')
      .description('stop watching a check (nobody is notified when it finishes)')
      .argument('<cluster-id>', 'the cluster')
      .argument('<check-id>', 'the check')
      .option('--json', 'print JSON'),
  ).action(async (rawCluster: string, rawCheck: string, opts: CommonOptions) => {
    const clusterId = parseClusterId(rawCluster);
    const checkId = parseCheckId(rawCheck);
    await withSession(ctx, deps, opts, async ({ backend }) => {
      const removed = await backend.unwatchCheck(clusterId, checkId);
      if (opts.json === true) ctx.json({ removed });
      else
        ctx.out(
          removed ? `Stopped watching check ${checkId}.` : `Check ${checkId} was not watched; nothing to do.`,
        );
    });
  });
  addBackendOptions(
    unwatch
      .command('cluster')
      .description('stop watching a cluster (checks already discovered stay watched)')
      .argument('<cluster-id>', 'the cluster')
      .option('--json', 'print JSON'),
  ).action(async (rawCluster: string, opts: CommonOptions) => {
    const clusterId = parseClusterId(rawCluster);
    await withSession(ctx, deps, opts, async ({ backend }) => {
      const removed = await backend.unwatchCluster(clusterId);
      if (opts.json === true) ctx.json({ removed });
      else
        ctx.out(
          removed
            ? `Stopped watching cluster ${clusterId}.`
            : `Cluster ${clusterId} was not watched; nothing to do.`,
        );
    });
  });

  addBackendOptions(
    program
      .command('ls')
      .description('list watched clusters and checks (watched, being notified, and recent history)')
      .option('--cluster <cluster-id>', 'only this cluster')
      .option('--status <status>', 'passed, failed, gave_up, vanished, pending, history, or an ACK status')
      .option('--limit <n>', 'at most this many checks (default 100)', (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 1000)
          throw new InputError(`--limit: expected 1-1000, got "${v}"`);
        return n;
      })
      .option('--json', 'print JSON'),
  ).action(async (opts: LsOptions) => {
    const clusterId = opts.cluster === undefined ? undefined : parseClusterId(opts.cluster);
    await withSession(ctx, deps, opts, async ({ backend }) => {
      const watches = await backend.listWatches();
      const checks = await backend.listChecks({
        ...(clusterId === undefined ? {} : { clusterId }),
        ...(opts.status === undefined ? {} : { status: opts.status }),
        ...(opts.limit === undefined ? {} : { limit: opts.limit }),
      });
      const clusters =
        clusterId === undefined
          ? watches.clusters
          : watches.clusters.filter((c) => c.cluster_id === clusterId);
      if (opts.json === true) ctx.json({ clusters, checks });
      else ctx.out(formatLs(clusters, checks));
    });
  });

  addBackendOptions(
    program
      .command('show')
      .description('show a watched (or recently notified) check with its deliveries')
      .argument('<cluster-id>', 'the cluster')
      .argument('<check-id>', 'the check')
      .option('--json', 'print JSON'),
  ).action(async (rawCluster: string, rawCheck: string, opts: CommonOptions) => {
    const clusterId = parseClusterId(rawCluster);
    const checkId = parseCheckId(rawCheck);
    await withSession(ctx, deps, opts, async ({ backend }) => {
      const view = await backend.getCheck(clusterId, checkId);
      if (view === undefined) {
        throw new AppError(
          'CHECK_NOT_WATCHED',
          `check ${checkId} on cluster ${clusterId} is not watched and not in the history`,
          {
            details: { clusterId, checkId },
          },
        );
      }
      if (opts.json === true) ctx.json(view);
      else ctx.out(formatWatchedCheck(view, ctx.now()));
    });
  });
}
