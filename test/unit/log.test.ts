import { describe, expect, it } from 'vitest';
import { createLogger, Redactor } from '../../lib/log';
import { AppError } from '../../lib/errors';

function capture(redactor: Redactor) {
  const lines: string[] = [];
  const log = createLogger({ redactor, write: (l) => lines.push(l), now: () => 0 });
  return { log, lines };
}

describe('logger redaction', () => {
  it('masks registered secret values wherever they appear', () => {
    const { log, lines } = capture(new Redactor(['SEC-very-secret-1']));
    log.info('sending with SEC-very-secret-1', {
      note: 'x SEC-very-secret-1 y',
      nested: { a: ['SEC-very-secret-1'] },
    });
    expect(lines.join('\n')).not.toContain('SEC-very-secret-1');
    expect(JSON.parse(lines[0]!).note).toBe('x *** y');
  });

  it('masks secret-named fields and secret parts of webhook URLs', () => {
    const { log, lines } = capture(new Redactor());
    log.warn('post', {
      accessKeySecret: 'abc123456',
      authorization: 'ACS3-HMAC-SHA256 Credential=x',
      target: 'https://oapi.dingtalk.com/robot/send?access_token=deadbeefcafe&timestamp=1',
      slack: 'see https://hooks.slack.com/services/T000/B000/XXXXXXXX now',
      wecom: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcdef-123',
    });
    const rec = JSON.parse(lines[0]!);
    expect(rec.accessKeySecret).toBe('***');
    expect(rec.authorization).toBe('***');
    expect(rec.target).toBe('https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=1');
    expect(rec.slack).toBe('see https://hooks.slack.com/services/*** now');
    expect(rec.wecom).toContain('key=***');
  });

  it('logs errors by code and message, redacted', () => {
    const { log, lines } = capture(new Redactor(['tok-0123456789']));
    log.error('failed', { err: new AppError('X_FAILED', 'bad tok-0123456789', { retryable: true }) });
    const rec = JSON.parse(lines[0]!);
    expect(rec.err).toEqual({
      name: 'AppError',
      message: 'bad ***',
      code: 'X_FAILED',
      retryable: true,
      details: {},
    });
  });

  it('filters by level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    log.info('hidden');
    log.warn('shown');
    expect(lines).toHaveLength(1);
  });
});
