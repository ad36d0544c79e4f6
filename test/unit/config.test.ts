import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadConfig, maskedConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';

function fileWith(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cw-config-'));
  const path = join(dir, 'checkwatch.yaml');
  writeFileSync(path, text);
  return path;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const FULL = `
region: cn-beijing
store: { type: sqlite, path: /tmp/cw.sqlite }
channels:
  ops-ding:
    type: dingtalk
    url: { env: DING_URL }
    secret: { env: DING_SECRET }
    keyword: checkwatch
    language: zh
  dev-slack:
    type: slack
    url: { env: SLACK_URL }
routes:
  failures: { channels: [ops-ding], outcomes: [failed, gave_up, vanished] }
  everything: { channels: [dev-slack] }
defaults: { routes: [failures, everything], maxAge: 12h }
api: { tokens: [{ env: API_TOKEN }] }
`;
const ENV = {
  DING_URL: 'https://oapi.dingtalk.com/robot/send?access_token=tok-123456',
  DING_SECRET: 'SECabcdef123456',
  SLACK_URL: 'https://hooks.slack.com/services/T1/B1/abcdef',
  API_TOKEN: 'api-token-123456',
};

describe('loadConfig', () => {
  it('gives working defaults with no file: SQLite, inline dispatch, cn-hangzhou', () => {
    const { config } = loadConfig({ env: {} });
    expect(config.store).toEqual({ type: 'sqlite', path: 'checkwatch.sqlite' });
    expect(config.dispatch).toEqual({ type: 'inline' });
    expect(config.region).toBe('cn-hangzhou');
    expect(config.defaults.maxAge).toBe(24 * 3_600_000);
    expect(config.ack.concurrency).toBe(8);
  });

  it('resolves secrets from the environment and registers them for redaction', () => {
    const loaded = loadConfig({ file: fileWith(FULL), env: ENV });
    const ding = loaded.config.channels['ops-ding'];
    expect(ding?.type === 'dingtalk' && ding.secret).toBe('SECabcdef123456');
    expect(ding?.url).toBe(ENV.DING_URL);
    expect(loaded.config.api.tokens).toEqual(['api-token-123456']);
    expect(loaded.config.defaults.maxAge).toBe(12 * 3_600_000);
    expect(loaded.redactor.text(`x ${ENV.DING_SECRET} ${ENV.API_TOKEN}`)).toBe('x *** ***');
    const masked = JSON.stringify(maskedConfig(loaded));
    for (const secret of Object.values(ENV)) expect(masked).not.toContain(secret);
    expect(masked).toContain('"keyword":"checkwatch"');
  });

  it('names the missing environment variable behind a secret', () => {
    const err = errorOf(() => loadConfig({ file: fileWith(FULL), env: { ...ENV, DING_SECRET: undefined } }));
    expect(err.message).toBe('channels.ops-ding.secret: environment variable DING_SECRET is not set');
  });

  it('rejects unknown keys with their path', () => {
    const err = errorOf(() =>
      loadConfig({ file: fileWith('region: cn-hangzhou\nack: { endpoint: x, retries: 3 }\n'), env: {} }),
    );
    expect(err.message).toContain('ack: unknown key "retries"');
  });

  it('rejects a bad value with its path and what was expected', () => {
    const err = errorOf(() => loadConfig({ file: fileWith('defaults: { maxAge: forever }\n'), env: {} }));
    expect(err.message).toContain('defaults.maxAge');
    expect(err.message).toContain('expected a duration');
  });

  it('rejects a route that names an unconfigured channel', () => {
    const err = errorOf(() =>
      loadConfig({ file: fileWith('routes: { r: { channels: [nope] } }\n'), env: {} }),
    );
    expect(err.message).toBe('routes.r.channels.0: no channel named "nope" is configured');
  });

  it('names the environment variable when an override is malformed', () => {
    const err = errorOf(() => loadConfig({ env: { CHECKWATCH_SHARDS: 'many' } }));
    expect(err.message).toBe('CHECKWATCH_SHARDS: expected a whole number, got "many"');
  });

  it('builds a Function Compute configuration from environment variables alone', () => {
    const { config } = loadConfig({
      env: {
        CHECKWATCH_STORE: 'tablestore',
        CHECKWATCH_OTS_ENDPOINT: 'https://inst.cn-hangzhou.vpc.tablestore.aliyuncs.com',
        CHECKWATCH_OTS_INSTANCE: 'inst',
        CHECKWATCH_DISPATCH: 'fc',
        CHECKWATCH_FC_ACCOUNT_ID: '1234567890123456',
        CHECKWATCH_NOTIFIER_FUNCTION: 'checkwatch-notifier',
        CHECKWATCH_POLLER_FUNCTION: 'checkwatch-poller',
        CHECKWATCH_CONFIG: '{"channels":{"d":{"type":"dingtalk","url":{"env":"D"}}}}',
        D: 'https://oapi.dingtalk.com/robot/send?access_token=abcdef',
      },
    });
    expect(config.store).toMatchObject({ type: 'tablestore', instance: 'inst', tablePrefix: 'checkwatch_' });
    expect(config.dispatch).toMatchObject({ type: 'fc', qualifier: 'LATEST', internal: true });
    expect(Object.keys(config.channels)).toEqual(['d']);
  });

  it('rejects a template that uses an undocumented variable, naming it', () => {
    const doc = {
      channels: {
        s: { type: 'slack', url: 'https://hooks.example/x', titleTemplate: '{{outcome_text}} {{clustr_id}}' },
      },
    };
    const err = errorOf(() => loadConfig({ env: { CHECKWATCH_CONFIG: JSON.stringify(doc) } }));
    expect(err.message).toContain('channels.s.titleTemplate: unknown template variable {{clustr_id}}');
    const ok = { channels: { s: { ...doc.channels.s, titleTemplate: '{{outcome_text}} {{cluster_id}}' } } };
    expect(
      loadConfig({ env: { CHECKWATCH_CONFIG: JSON.stringify(ok) } }).config.channels.s?.titleTemplate,
    ).toContain('{{cluster_id}}');
  });

  it('infers the store type from a single store setting given by env', () => {
    expect(loadConfig({ env: { CHECKWATCH_SQLITE_PATH: '/tmp/x.sqlite' } }).config.store).toEqual({
      type: 'sqlite',
      path: '/tmp/x.sqlite',
    });
    const err = errorOf(() => loadConfig({ env: { CHECKWATCH_OTS_INSTANCE: 'inst' } }));
    expect(err.message).toContain('store.endpoint');
  });

  it('refuses YAML that is not a mapping, and YAML tags that would construct objects', () => {
    expect(errorOf(() => loadConfig({ file: fileWith('- a\n- b\n'), env: {} })).message).toContain(
      'expected a mapping',
    );
    expect(() => loadConfig({ file: fileWith('region: !!js/function "x"\n'), env: {} })).toThrow(ConfigError);
  });

  it('never throws anything but a ConfigError on fuzzed documents', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (doc) => {
        try {
          loadConfig({ env: { CHECKWATCH_CONFIG: JSON.stringify(doc) } });
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          expect((err as ConfigError).message).not.toMatch(/\n\s+at /);
        }
      }),
      { numRuns: 300 },
    );
  });
});
