import { describe, expect, it } from 'vitest';
import type { ChainFactory } from '../../../lib/credentials';
import { credentialSource, credentialsFromEnv, loadCredentials } from '../../../lib/credentials';
import { CredentialsError } from '../../../lib/errors';

/** A chain that must not be reached: the env fast path never loads the SDK. */
const unreachable: ChainFactory = () => {
  throw new Error('the SDK chain was loaded although env credentials were set');
};

function chainReturning(model: Record<string, unknown>): { factory: ChainFactory; calls: () => number } {
  let calls = 0;
  return {
    factory: () => ({
      getCredential: () => {
        calls += 1;
        return Promise.resolve(model);
      },
    }),
    calls: () => calls,
  };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('loadCredentials', () => {
  it('takes the env variables first without loading the SDK chain', async () => {
    const key = await loadCredentials(
      { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIexample', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret-value-1' },
      unreachable,
    );
    expect(key).toEqual({ accessKeyId: 'LTAIexample', accessKeySecret: 'secret-value-1' });
  });

  it('includes the STS security token when it is set', async () => {
    const key = await loadCredentials(
      {
        ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.id',
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'secret-value-2',
        ALIBABA_CLOUD_SECURITY_TOKEN: 'token-value-2',
      },
      unreachable,
    );
    expect(key.securityToken).toBe('token-value-2');
  });

  it('refuses half a key pair instead of falling through to another identity', () => {
    expect(() => credentialsFromEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIexample' })).toThrow(
      /ALIBABA_CLOUD_ACCESS_KEY_SECRET is not set/,
    );
    expect(() => credentialsFromEnv({ ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'only-secret' })).toThrow(
      CredentialsError,
    );
  });

  it('treats blank env variables as unset', () => {
    expect(
      credentialsFromEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: ' ', ALIBABA_CLOUD_ACCESS_KEY_SECRET: '' }),
    ).toBe(undefined);
  });

  it('falls back to the SDK chain and maps its model to an AccessKey', async () => {
    const chain = chainReturning({
      accessKeyId: 'STS.chain',
      accessKeySecret: 'chain-secret',
      securityToken: 'chain-token',
    });
    const key = await loadCredentials({}, chain.factory);
    expect(key).toEqual({
      accessKeyId: 'STS.chain',
      accessKeySecret: 'chain-secret',
      securityToken: 'chain-token',
    });
  });

  it('asks the chain again on every call so expiring STS credentials are refreshed', async () => {
    const chain = chainReturning({ accessKeyId: 'id', accessKeySecret: 'chain-secret' });
    const source = credentialSource({}, chain.factory);
    await source();
    await source();
    expect(chain.calls()).toBe(2);
  });

  it('reports a chain failure as CREDENTIALS_MISSING with a hint, never quoting the SDK message', async () => {
    const leaky: ChainFactory = () => ({
      getCredential: () =>
        Promise.reject(
          new Error('parse aliyun cli config failed: {"access_key_secret":"LEAKED-SECRET-123"}'),
        ),
    });
    const err = await rejection(loadCredentials({}, leaky));
    expect(err).toBeInstanceOf(CredentialsError);
    const e = err as CredentialsError;
    expect(e.code).toBe('CREDENTIALS_MISSING');
    expect(e.message).not.toContain('LEAKED-SECRET-123');
    expect(e.message).toContain('ALIBABA_CLOUD_ACCESS_KEY_ID');
    expect(e.message).not.toContain('\n');
    expect((e.cause as Error).message).toContain('aliyun cli config');
  });

  it('refuses a chain answer without a secret', async () => {
    const err = await rejection(
      loadCredentials({}, chainReturning({ accessKeyId: 'id', accessKeySecret: '' }).factory),
    );
    expect(err).toBeInstanceOf(CredentialsError);
  });
});
