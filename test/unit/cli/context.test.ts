import { describe, expect, it } from 'vitest';
import { AckError } from '../../../lib/ack/errors';
import type { AckErrorCode } from '../../../lib/ack/errors';
import { describeFailure, EXIT } from '../../../lib/cli/context';
import { AppError, ConfigError, CredentialsError, InputError } from '../../../lib/errors';
import { Redactor } from '../../../lib/log';

describe('describeFailure', () => {
  it.each<[AckErrorCode, number]>([
    ['ACK_THROTTLED', EXIT.unavailable],
    ['ACK_SERVER_ERROR', EXIT.unavailable],
    ['ACK_NETWORK', EXIT.unavailable],
    ['ACK_TIMEOUT', EXIT.unavailable],
    ['ACK_DEADLINE', EXIT.unavailable],
    ['ACK_CLUSTER_NOT_FOUND', EXIT.notFound],
    ['ACK_CHECK_NOT_FOUND', EXIT.notFound],
    ['ACK_FORBIDDEN', EXIT.credentials],
    ['ACK_BAD_REQUEST', EXIT.usage],
    ['ACK_BAD_RESPONSE', EXIT.failed],
  ])('maps %s to exit code %d', (code, exit) => {
    expect(describeFailure(new AckError(code, 'x'), new Redactor()).exitCode).toBe(exit);
  });

  it('maps input, config and credentials errors to 2, 2 and 3, and anything unknown to 1', () => {
    const r = new Redactor();
    expect(describeFailure(new InputError('bad'), r).exitCode).toBe(2);
    expect(describeFailure(new ConfigError('bad'), r).exitCode).toBe(2);
    expect(describeFailure(new CredentialsError('none'), r).exitCode).toBe(3);
    expect(describeFailure(new AppError('SOMETHING_NEW', 'new'), r).exitCode).toBe(1);
    expect(describeFailure(new TypeError('boom'), r)).toEqual({
      exitCode: 1,
      line: 'checkwatch: unexpected error: TypeError: boom',
    });
  });

  it('prints one line with the message, the stable code and the request id', () => {
    const err = new AckError(
      'ACK_CLUSTER_NOT_FOUND',
      'GetClusterCheck failed: HTTP 404 ErrorClusterNotFound:\ncluster\nnot found',
      {
        requestId: 'F04DF81D-REQ',
      },
    );
    const { line } = describeFailure(err, new Redactor());
    expect(line).not.toContain('\n');
    expect(line).toMatch(
      /^checkwatch: GetClusterCheck failed: HTTP 404 ErrorClusterNotFound: cluster not found \[ACK_CLUSTER_NOT_FOUND\] \(request id F04DF81D-REQ\) — check the cluster id and --region$/,
    );
  });

  it('masks a known secret that found its way into a message', () => {
    const redactor = new Redactor(['SK-super-secret-value']);
    const { line } = describeFailure(new AppError('X', 'signed with SK-super-secret-value'), redactor);
    expect(line).not.toContain('SK-super-secret-value');
    expect(line).toContain('***');
  });
});
