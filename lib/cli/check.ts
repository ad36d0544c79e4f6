import type { Command } from 'commander';
import { Option } from 'commander';
import type { AckApi, CallOptions } from '../ack/api';
import type { AccessKey } from '../ack/signer';
import { classifyStatus } from '../domain/check';
import { InputError } from '../errors';
import type { LogLevel } from '../log';
import { createLogger } from '../log';
import type { CliContext } from './context';
import { CliExit, EXIT } from './context';
import type { CliDeps } from './deps';
import { checkDetailJson, checkSummaryJson, formatCheckDetail, formatCheckList } from './format';
import { parseCheckId, parseCheckType, parseClusterId, parseDuration } from './parse';

/**
 * `checkwatch check get|list|run`: the three ACK cluster-check operations, one call each, printed for a
 * human or, with `--json`, as ACK's own JSON. Later groups (`watch`, `run --wait`) reuse
 * {@link withAck} and the ACK options.
 */

/** Options every command that talks to ACK accepts. */
export interface AckCommandOptions {
  readonly region?: string;
  readonly endpoint?: string;
  readonly vpc?: boolean;
  readonly timeout: number;
  readonly json?: boolean;
}

/** The env variables that give defaults to the ACK options. */
export const ENV_REGION = 'CHECKWATCH_REGION';
export const ENV_ENDPOINT = 'CHECKWATCH_ACK_ENDPOINT';
export const ENV_LOG_LEVEL = 'CHECKWATCH_LOG_LEVEL';
/** The region the aliyun CLI and the SDKs read; a fallback after ours. */
const ENV_ALIBABA_REGION = 'ALIBABA_CLOUD_REGION_ID';

const DEFAULT_TIMEOUT = '60s';
/**
 * With an explicit endpoint the region only labels the client (V3 signatures do not include it),
 * so a simulator or a private endpoint works without one.
 */
const REGION_WITH_ENDPOINT = 'cn-hangzhou';

/** Adds `--region`, `--endpoint`, `--vpc`, `--timeout` and `--json` to a command. */
export function addAckOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--region <region>', `region of the cluster, e.g. cn-hangzhou (env ${ENV_REGION})`))
    .addOption(
      new Option(
        '--endpoint <url>',
        `ACK OpenAPI endpoint override, e.g. https://cs-vpc.cn-hangzhou.aliyuncs.com or a simulator (env ${ENV_ENDPOINT})`,
      ),
    )
    .option('--vpc', 'use the VPC endpoint cs-vpc.<region>.aliyuncs.com')
    .addOption(
      new Option('--timeout <duration>', 'give up after this long, retries included (e.g. 30s, 2m)')
        .argParser(parseDuration)
        .default(parseDuration(DEFAULT_TIMEOUT), DEFAULT_TIMEOUT),
    )
    .option('--json', "print ACK's JSON response instead of the human view");
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** Region and endpoint from flags, then env, with a usage error when neither names a place to call. */
export function resolveTarget(
  opts: Pick<AckCommandOptions, 'region' | 'endpoint'>,
  env: NodeJS.ProcessEnv,
): { region: string; endpoint: string | undefined } {
  const endpoint = opts.endpoint ?? envValue(env, ENV_ENDPOINT);
  const region = opts.region ?? envValue(env, ENV_REGION) ?? envValue(env, ENV_ALIBABA_REGION);
  if (region !== undefined) {
    if (!/^[a-z]{2,}(-[a-z0-9]+)+$/.test(region)) {
      throw new InputError(`invalid region "${region}": expected a region id such as cn-hangzhou`, {
        details: { option: '--region' },
      });
    }
    return { region, endpoint };
  }
  if (endpoint !== undefined) return { region: REGION_WITH_ENDPOINT, endpoint };
  throw new InputError(`no region: pass --region <region> or set ${ENV_REGION} (or --endpoint <url>)`, {
    details: { option: '--region' },
  });
}

function logLevel(env: NodeJS.ProcessEnv): LogLevel {
  const v = envValue(env, ENV_LOG_LEVEL)?.toLowerCase();
  // Quiet by default: a person reads stdout; retries and such go to stderr only when asked for.
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'error' ? v : 'error';
}

/**
 * Runs `fn` with an ACK client built from the command's options: credentials are resolved first (so
 * "no credentials" is reported before any network call) and registered with the redactor, the client
 * is closed afterwards whatever happens.
 */
export async function withAck<T>(
  ctx: CliContext,
  deps: CliDeps,
  opts: AckCommandOptions,
  fn: (ack: AckApi, call: CallOptions) => Promise<T>,
): Promise<T> {
  const { region, endpoint } = resolveTarget(opts, ctx.io.env);
  const source = deps.credentials(ctx.io.env);
  const register = (key: AccessKey): AccessKey => {
    ctx.redactor.add(key.accessKeySecret);
    ctx.redactor.add(key.securityToken);
    return key;
  };
  register(await source());
  const ack = await deps.createAck({
    credentials: async () => register(await source()),
    region,
    endpoint,
    vpc: opts.vpc === true,
    log: createLogger({
      level: logLevel(ctx.io.env),
      redactor: ctx.redactor,
      write: (line) => {
        ctx.io.stderr(line + '\n');
      },
    }).child({ component: 'ack' }),
  });
  try {
    return await fn(ack, { deadline: ctx.now() + opts.timeout, signal: ctx.io.shutdown });
  } finally {
    await ack.close();
  }
}

interface ListOptions extends AckCommandOptions {
  readonly type?: string;
  readonly target?: string;
}
interface RunOptions extends AckCommandOptions {
  readonly type: string;
  readonly target?: string;
  readonly nextVersion?: string;
}

/** Registers the `check` command group. */
export function registerCheckCommands(program: Command, ctx: CliContext, deps: CliDeps): void {
  const check = program
    .command('check')
    .description('get, list and run ACK cluster checks (one API call each)')
    .addHelpText(
      'after',
      `
Examples:
  checkwatch check run c0123456789abcdef0123456789abcdef --type ClusterUpgrade --next-version 1.32.1-aliyun.1
  checkwatch check list c0123456789abcdef0123456789abcdef --type ClusterUpgrade
  checkwatch check get c0123456789abcdef0123456789abcdef 1697100584236600453-c0123456789abcdef0123456789abcdef-clustercheck-lboto`,
    );

  addAckOptions(
    check
      .command('get')
      .description('show one check: status, timing, failing items (GetClusterCheck)')
      .argument('<cluster-id>', 'the cluster, e.g. c0123456789abcdef0123456789abcdef')
      .argument('<check-id>', 'the check, as printed by `check run` or `check list`'),
  )
    .addHelpText(
      'after',
      `
Prints the status, when the check was created and finished, how long it took, the items counted per
level (error, warning, advice, normal) and every item that is not normal with its message and targets.
Exits 1 when the check failed, 0 otherwise (running included).

Examples:
  checkwatch check get c0123456789abcdef0123456789abcdef 1697100584236600453-c0123456789abcdef0123456789abcdef-clustercheck-lboto --region cn-hangzhou
  checkwatch check get <cluster-id> <check-id> --json | jq .status`,
    )
    .action(async (rawCluster: string, rawCheck: string, opts: AckCommandOptions) => {
      const clusterId = parseClusterId(rawCluster);
      const checkId = parseCheckId(rawCheck);
      const detail = await withAck(ctx, deps, opts, (ack, call) =>
        ack.getClusterCheck(clusterId, checkId, call),
      );
      if (opts.json === true) ctx.json(checkDetailJson(detail));
      else ctx.out(formatCheckDetail(clusterId, detail, ctx.now()));
      if (classifyStatus(detail.status) === 'failed') throw new CliExit(EXIT.failed);
    });

  addAckOptions(
    check
      .command('list')
      .description('list the checks of a cluster, newest first (ListClusterChecks)')
      .argument('<cluster-id>', 'the cluster')
      .option('--type <type>', 'only checks of this type, e.g. ClusterUpgrade')
      .option('--target <target>', 'only checks with this target, e.g. a node-pool id'),
  )
    .addHelpText(
      'after',
      `
Examples:
  checkwatch check list c0123456789abcdef0123456789abcdef
  checkwatch check list c0123456789abcdef0123456789abcdef --type NodePoolUpgrade --target np0123 --json`,
    )
    .action(async (rawCluster: string, opts: ListOptions) => {
      const clusterId = parseClusterId(rawCluster);
      const filter = { type: opts.type, target: opts.target };
      const checks = await withAck(ctx, deps, opts, (ack, call) =>
        ack.listClusterChecks(clusterId, filter, call),
      );
      if (opts.json === true) ctx.json({ checks: checks.map(checkSummaryJson) });
      else ctx.out(formatCheckList(clusterId, checks, ctx.now()));
    });

  addAckOptions(
    check
      .command('run')
      .description('start a check (RunClusterCheck) and print its id')
      .argument('<cluster-id>', 'the cluster')
      .requiredOption('--type <type>', 'ClusterUpgrade, MasterUpgrade, NodePoolUpgrade or ClusterMigrate')
      .option('--target <target>', 'the node-pool id (required for NodePoolUpgrade)')
      .option('--next-version <version>', 'the Kubernetes version to check against, e.g. 1.32.1-aliyun.1'),
  )
    .addHelpText(
      'after',
      `
Examples:
  checkwatch check run c0123456789abcdef0123456789abcdef --type ClusterUpgrade --next-version 1.32.1-aliyun.1
  checkwatch check run c0123456789abcdef0123456789abcdef --type NodePoolUpgrade --target np0123456789abcdef`,
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
      const input = {
        type,
        target: target === '' ? undefined : target,
        options: nextVersion === undefined || nextVersion === '' ? {} : { next_version: nextVersion },
      };
      const started = await withAck(ctx, deps, opts, (ack, call) =>
        ack.runClusterCheck(clusterId, input, call),
      );
      if (opts.json === true) {
        ctx.json({ request_id: started.requestId, check_id: started.checkId });
        return;
      }
      ctx.out(`Started ${type} check ${started.checkId}`);
      ctx.out(`  cluster   ${clusterId}`);
      if (started.requestId !== '') ctx.out(`  request   ${started.requestId}`);
      ctx.out(`Follow it with: checkwatch check get ${clusterId} ${started.checkId}`);
    });
}
