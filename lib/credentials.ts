import type { AccessKey } from './ack/signer';
import { CredentialsError } from './errors';

/**
 * Alibaba Cloud credentials for the CLI and the self-hosted process (never on Function Compute, where
 * `context.credentials` is the only source: reference/ack-api.md).
 *
 * Order: the explicit environment variables first — a fast path that never loads the SDK — then the
 * standard chain of `@alicloud/credentials` (env, OIDC/RRSA, aliyun CLI profile, ~/.alibabacloud
 * credentials file, ECS RAM role, credentials URI). The SDK costs ≈80 ms to require, so it is loaded
 * only when the fast path does not apply.
 */

export const ENV_ACCESS_KEY_ID = 'ALIBABA_CLOUD_ACCESS_KEY_ID';
export const ENV_ACCESS_KEY_SECRET = 'ALIBABA_CLOUD_ACCESS_KEY_SECRET';
export const ENV_SECURITY_TOKEN = 'ALIBABA_CLOUD_SECURITY_TOKEN';

/** The one-line hint every "no credentials" error ends with. */
export const CREDENTIALS_HINT =
  `set ${ENV_ACCESS_KEY_ID} and ${ENV_ACCESS_KEY_SECRET} (plus ${ENV_SECURITY_TOKEN} for STS), ` +
  'configure RRSA (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE), ' +
  'an aliyun CLI profile (~/.aliyun/config.json, ALIBABA_CLOUD_PROFILE) or an ECS RAM role';

/** What the SDK's `getCredential()` resolves to (a `CredentialModel`); only the fields we read. */
interface SdkCredentialModel {
  readonly accessKeyId?: unknown;
  readonly accessKeySecret?: unknown;
  readonly securityToken?: unknown;
}

/** One credential source: each call may refresh (STS from RRSA or an ECS role expires). */
export type CredentialSource = () => Promise<AccessKey>;

/** How the SDK chain is reached; replaced in tests so that no test depends on the host's profile. */
export type ChainFactory = () => { getCredential(): Promise<SdkCredentialModel> };

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/**
 * The explicit env credentials, or undefined when neither id nor secret is set. Half a key pair is a
 * configuration mistake, not a reason to silently fall through to another identity.
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): AccessKey | undefined {
  const accessKeyId = nonEmpty(env[ENV_ACCESS_KEY_ID]);
  const accessKeySecret = nonEmpty(env[ENV_ACCESS_KEY_SECRET]);
  if (accessKeyId === undefined && accessKeySecret === undefined) return undefined;
  if (accessKeyId === undefined || accessKeySecret === undefined) {
    const missing = accessKeyId === undefined ? ENV_ACCESS_KEY_ID : ENV_ACCESS_KEY_SECRET;
    throw new CredentialsError(`${missing} is not set while its pair is: set both or neither`);
  }
  const securityToken = nonEmpty(env[ENV_SECURITY_TOKEN]);
  return securityToken === undefined
    ? { accessKeyId, accessKeySecret }
    : { accessKeyId, accessKeySecret, securityToken };
}

/**
 * Loads `@alicloud/credentials` on first use and returns its default chain. The package is CommonJS
 * with `exports.default = Credential`; a bundler or an ESM wrapper may hand us either the namespace
 * or the class itself, so both shapes are accepted.
 */
export const sdkChain: ChainFactory = () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose: ≈80 ms saved when env credentials are set.
  const mod = require('@alicloud/credentials') as unknown;
  const ctor = pickConstructor(mod);
  if (ctor === undefined) {
    throw new CredentialsError('@alicloud/credentials has an unexpected shape: no Credential class found');
  }
  return new ctor();
};

type CredentialCtor = new () => { getCredential(): Promise<SdkCredentialModel> };

function pickConstructor(mod: unknown): CredentialCtor | undefined {
  const candidates: unknown[] = [mod];
  if (mod !== null && typeof mod === 'object' && 'default' in mod) {
    const first = mod.default;
    candidates.unshift(first);
    if (first !== null && typeof first === 'object' && 'default' in first) {
      candidates.unshift(first.default);
    }
  }
  for (const c of candidates) if (typeof c === 'function') return c as CredentialCtor;
  return undefined;
}

function toAccessKey(model: SdkCredentialModel): AccessKey {
  const { accessKeyId, accessKeySecret, securityToken } = model;
  if (typeof accessKeyId !== 'string' || accessKeyId === '') {
    throw new CredentialsError(`the credential chain returned no AccessKey id: ${CREDENTIALS_HINT}`);
  }
  if (typeof accessKeySecret !== 'string' || accessKeySecret === '') {
    throw new CredentialsError(`the credential chain returned no AccessKey secret: ${CREDENTIALS_HINT}`);
  }
  return typeof securityToken === 'string' && securityToken !== ''
    ? { accessKeyId, accessKeySecret, securityToken }
    : { accessKeyId, accessKeySecret };
}

/**
 * A credential source: the env fast path when it applies (constant), otherwise one SDK chain instance
 * asked on every call, so STS credentials from RRSA or an ECS role are refreshed by the SDK itself.
 *
 * The SDK reads `process.env` and the home directory on its own; `env` governs the fast path only.
 * Failures become `CredentialsError` with a one-line hint. The SDK's own message is kept as `cause`
 * and never copied into ours: it can quote a whole CLI config file, secrets included.
 */
export function credentialSource(env: NodeJS.ProcessEnv, chain: ChainFactory = sdkChain): CredentialSource {
  const fromEnv = credentialsFromEnv(env);
  if (fromEnv !== undefined) return () => Promise.resolve(fromEnv);
  let instance: ReturnType<ChainFactory> | undefined;
  return async () => {
    let model: SdkCredentialModel;
    try {
      instance ??= chain();
      model = await instance.getCredential();
    } catch (err) {
      if (err instanceof CredentialsError) throw err;
      throw new CredentialsError(`no Alibaba Cloud credentials found: ${CREDENTIALS_HINT}`, { cause: err });
    }
    return toAccessKey(model);
  };
}

/**
 * Resolves credentials once: env variables first (no SDK load), else the `@alicloud/credentials`
 * default chain. Throws `CredentialsError` (code `CREDENTIALS_MISSING`) with a hint when none is found.
 */
export async function loadCredentials(
  env: NodeJS.ProcessEnv,
  chain: ChainFactory = sdkChain,
): Promise<AccessKey> {
  return credentialSource(env, chain)();
}
