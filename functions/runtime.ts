/**
 * What the three Function Compute handlers share: the FC 3.0 context they read, the function role's
 * STS credentials taken from it, the logger built from configuration, and the Tablestore and ACK
 * settings derived from configuration. Type-only imports of the adapters keep this module free of
 * SDK code, so each handler still loads its adapters lazily on the first invocation.
 */
import type { AckClientOptions } from '../lib/ack/client';
import type { AccessKey } from '../lib/ack/signer';
import type { Clock } from '../lib/clock';
import type { Config, LoadedConfig } from '../lib/config';
import { ConfigError, CredentialsError, describeError } from '../lib/errors';
import { createLogger, type Logger, type LogLevel } from '../lib/log';
import type { TablestoreStoreOptions } from '../lib/store/tablestore';

/** The parts of the FC 3.0 invocation context checkwatch reads. */
export interface FcContext {
  readonly requestId: string;
  readonly credentials?:
    | {
        readonly accessKeyId?: string | undefined;
        readonly accessKeySecret?: string | undefined;
        readonly securityToken?: string | undefined;
      }
    | undefined;
  readonly function?:
    | {
        readonly name?: string | undefined;
        readonly timeout?: number | undefined;
        readonly memory?: number | undefined;
      }
    | undefined;
  readonly region?: string | undefined;
  readonly accountId?: string | undefined;
}

/** The STS credentials of the function's role, or undefined when the context carries none. */
export function contextCredentials(context: FcContext): AccessKey | undefined {
  const c = context.credentials;
  const accessKeyId = c?.accessKeyId ?? '';
  const accessKeySecret = c?.accessKeySecret ?? '';
  if (accessKeyId === '' || accessKeySecret === '') return undefined;
  const token = c?.securityToken;
  return token === undefined || token === ''
    ? { accessKeyId, accessKeySecret }
    : { accessKeyId, accessKeySecret, securityToken: token };
}

/** Like {@link contextCredentials}, but a missing role is an error that says what to do. */
export function requireCredentials(context: FcContext, fn: string): AccessKey {
  const creds = contextCredentials(context);
  if (creds === undefined) {
    throw new CredentialsError(
      `the invocation context carries no credentials: give the ${fn} function a role (s.yaml \`role\`)`,
    );
  }
  return creds;
}

/** Identifies a set of credentials, to rebuild cached adapters when the STS keys rotate. */
export function credentialsFingerprint(creds: AccessKey): string {
  return `${creds.accessKeyId}\n${creds.securityToken ?? ''}`;
}

/** The JSON-line logger for a function: level from `CHECKWATCH_LOG_LEVEL`, secrets from the config. */
export function functionLogger(
  loaded: LoadedConfig,
  env: Readonly<Record<string, string | undefined>>,
  options: { readonly write?: ((line: string) => void) | undefined; readonly clock: Clock },
): Logger {
  const level = (env.CHECKWATCH_LOG_LEVEL ?? 'info') as LogLevel;
  return createLogger({
    level: ['debug', 'info', 'warn', 'error'].includes(level) ? level : 'info',
    redactor: loaded.redactor,
    ...(options.write === undefined ? {} : { write: options.write }),
    now: () => options.clock.now(),
  });
}

/** Tablestore settings from configuration; functions always run on the Tablestore store. */
export function tablestoreOptions(
  config: Config,
  credentials: AccessKey,
  fn: string,
): Omit<TablestoreStoreOptions, 'onRequest'> {
  const sc = config.store;
  if (sc.type !== 'tablestore') {
    throw new ConfigError(`the ${fn} function needs the Tablestore store (CHECKWATCH_STORE=tablestore)`, {
      path: 'CHECKWATCH_STORE',
    });
  }
  return {
    endpoint: sc.endpoint,
    instanceName: sc.instance,
    tablePrefix: sc.tablePrefix,
    autoCreate: sc.createTables,
    shards: config.defaults.shards,
    historyTtlDays: Math.max(1, Math.round(config.defaults.retention / 86_400_000)),
    credentials,
  };
}

/**
 * ACK client settings from configuration. The client asks `current()` for credentials before every
 * attempt, so a cached client always signs with the current invocation's STS keys.
 */
export function ackOptions(
  config: Config,
  current: () => AccessKey | undefined,
  deps: { readonly clock: Clock; readonly log: Logger },
): AckClientOptions {
  return {
    credentials: () => {
      const creds = current();
      return creds === undefined
        ? Promise.reject(new CredentialsError('no invocation credentials'))
        : Promise.resolve(creds);
    },
    region: config.region,
    endpoint: config.ack.endpoint,
    vpc: config.ack.vpc,
    timeoutMs: config.ack.timeout,
    clock: deps.clock,
    log: deps.log,
  };
}

/** Closes replaced adapters; a failure to close is logged, never thrown. */
export async function closeQuietly(
  closers: readonly (() => Promise<void>)[],
  log: Logger | undefined,
): Promise<void> {
  await Promise.all(closers.map((c) => c())).catch((err: unknown) => {
    log?.warn('closing old adapters failed', { error: describeError(err) });
  });
}
