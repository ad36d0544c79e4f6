import { describe, expect, it } from 'vitest';
import { ConfigError, CredentialsError } from '../../../lib/errors';
import { createFcDispatcher, type FcDispatchOptions } from '../../../lib/dispatch/fc';

const valid: FcDispatchOptions = {
  accountId: '1234567890123456',
  region: 'cn-hangzhou',
  notifierFunction: 'checkwatch-notifier',
  pollerFunction: 'checkwatch-poller',
  qualifier: 'LATEST',
  credentials: { accessKeyId: 'LTAI-example', accessKeySecret: 'secret-example' },
};

function thrown(options: FcDispatchOptions): unknown {
  try {
    createFcDispatcher(options);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('createFcDispatcher configuration checks (no SDK needed)', () => {
  it('accepts a valid configuration, with or without qualifier, endpoint and internal', () => {
    expect(thrown(valid)).toBeUndefined();
    expect(
      thrown({ ...valid, endpoint: 'https://fc.example.internal:8443', internal: true }),
    ).toBeUndefined();
    expect(thrown({ ...valid, qualifier: '3' })).toBeUndefined();
  });

  it.each([
    ['accountId', { accountId: 'acc-123' }],
    ['region', { region: 'Hangzhou' }],
    ['notifierFunction', { notifierFunction: 'bad/name' }],
    ['pollerFunction', { pollerFunction: '9starts-with-digit' }],
    ['qualifier', { qualifier: 'has space' }],
    ['endpoint', { endpoint: 'http://127.0.0.1:1/with/path' }],
  ] as const)('names %s when it is malformed', (path, patch) => {
    const err = thrown({ ...valid, ...patch });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).details.path).toBe(path);
  });

  it('refuses empty keys and STS keys without their token, without echoing the secret', () => {
    const empty = thrown({ ...valid, credentials: { accessKeyId: '', accessKeySecret: 'secret-example' } });
    expect(empty).toBeInstanceOf(CredentialsError);
    const sts = thrown({
      ...valid,
      credentials: { accessKeyId: 'STS.abc', accessKeySecret: 'sts-secret-xyz' },
    });
    expect(sts).toBeInstanceOf(CredentialsError);
    expect(JSON.stringify((sts as CredentialsError).toJSON())).not.toContain('sts-secret-xyz');
  });
});
