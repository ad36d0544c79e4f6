import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { AckApi } from '../ack/api';
import type { AccessKey } from '../ack/signer';
import type { Config, LoadedConfig } from '../config';
import { loadConfig } from '../config';
import type { LogLevel, Logger } from '../log';
import { createLogger } from '../log';
import type { Store } from '../store/store';
import type { TablestoreStore } from '../store/tablestore';
import { ENV_LOG_LEVEL } from './check';
import type { CliContext } from './context';
import type { CliDeps } from './deps';

/**
 * Direct mode: the CLI works on the configured store and calls ACK itself, with the same use cases and
 * adapters the functions and `serve` use. This file resolves the configuration (`--config F`, else
 * ./checkwatch.yaml when present, else env and defaults) and opens the store and the ACK client.
 */

/** Read when `--config` is not given and the file exists in the working directory. */
export const DEFAULT_CONFIG_FILE = 'checkwatch.yaml';

export interface ConfigFlag {
  readonly config?: string;
}

/** Adds `--config <file>` to a command. */
export function addConfigOption(cmd: Command): Command {
  return cmd.option(
    '--config <file>',
    `configuration file (YAML or JSON); default ./${DEFAULT_CONFIG_FILE} when present, else env and defaults`,
  );
}

/** The file `loadConfig` should read: the flag, else ./checkwatch.yaml if present, else none (env only). */
export function configFileFor(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag !== undefined && flag !== '') return flag;
  // CHECKWATCH_CONFIG_FILE is honoured by loadConfig itself; the default file only when it is unset.
  if (env.CHECKWATCH_CONFIG_FILE !== undefined && env.CHECKWATCH_CONFIG_FILE !== '') return undefined;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined;
}

/** Every secret value the configuration resolved, by its dotted path. */
export function secretValues(loaded: LoadedConfig): string[] {
  const out: string[] = [];
  for (const path of loaded.secretPaths) {
    let node: unknown = loaded.config;
    for (const key of path.split('.')) {
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
    }
    if (typeof node === 'string') out.push(node);
  }
  return out;
}

/**
 * Loads and validates the configuration and teaches the CLI's redactor every secret in it, so no error
 * line printed afterwards can carry a webhook token or an API token.
 */
export function loadCliConfig(ctx: CliContext, flag: string | undefined): LoadedConfig {
  const loaded = loadConfig({ file: configFileFor(flag, ctx.io.env), env: ctx.io.env });
  for (const secret of secretValues(loaded)) ctx.redactor.add(secret);
  return loaded;
}

function logLevel(env: NodeJS.ProcessEnv, fallback: LogLevel): LogLevel {
  const v = env[ENV_LOG_LEVEL]?.trim().toLowerCase();
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'error' ? v : fallback;
}

/** JSON log lines on stderr, through the CLI's redactor; quiet (errors only) unless CHECKWATCH_LOG_LEVEL says. */
export function cliLogger(ctx: CliContext, fallback: LogLevel = 'error'): Logger {
  return createLogger({
    level: logLevel(ctx.io.env, fallback),
    redactor: ctx.redactor,
    write: (line) => {
      ctx.io.stderr(line + '\n');
    },
    now: ctx.now,
  });
}

/** Resolves the Alibaba Cloud credentials once (registering them with the redactor). */
async function accessKey(ctx: CliContext, deps: CliDeps): Promise<AccessKey> {
  const key = await deps.credentials(ctx.io.env)();
  ctx.redactor.add(key.accessKeySecret);
  ctx.redactor.add(key.securityToken);
  return key;
}

/** Opens the configured store: SQLite (created on first use) or Tablestore (tables made by `init`). */
export async function openStore(
  ctx: CliContext,
  deps: CliDeps,
  config: Config,
): Promise<Store | TablestoreStore> {
  const store = config.store;
  switch (store.type) {
    case 'sqlite': {
      const { createSqliteStore } = await import('../store/sqlite');
      return createSqliteStore({
        path: store.path,
        shards: config.defaults.shards,
        historyTtlMs: config.defaults.retention,
      });
    }
    case 'tablestore': {
      const key = await accessKey(ctx, deps);
      const { createTablestoreStore } = await import('../store/tablestore');
      return createTablestoreStore({
        endpoint: store.endpoint,
        instanceName: store.instance,
        credentials: key,
        tablePrefix: store.tablePrefix,
        shards: config.defaults.shards,
        historyTtlDays: Math.max(1, Math.round(config.defaults.retention / 86_400_000)),
        autoCreate: store.createTables,
      });
    }
    default: {
      const unreachable: never = store;
      return unreachable;
    }
  }
}

/** The ACK client the configuration describes (region, endpoint override, VPC), with the credential chain. */
export async function openAck(
  ctx: CliContext,
  deps: CliDeps,
  config: Config,
  log: Logger,
): Promise<AckApi & { close(): Promise<void> }> {
  const source = deps.credentials(ctx.io.env);
  const register = (key: AccessKey): AccessKey => {
    ctx.redactor.add(key.accessKeySecret);
    ctx.redactor.add(key.securityToken);
    return key;
  };
  // Resolved once up front so "no credentials" is reported before any store write or network call.
  register(await source());
  return deps.createAck({
    credentials: async () => register(await source()),
    region: config.region,
    endpoint: config.ack.endpoint,
    vpc: config.ack.vpc,
    timeoutMs: config.ack.timeout,
    log: log.child({ component: 'ack' }),
  });
}
