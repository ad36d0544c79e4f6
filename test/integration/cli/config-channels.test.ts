import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatFake } from '../../fakes/chat';
import { startChatFake } from '../../fakes/chat';
import { runInProcess } from './helpers';

/** `config check` and `channels list|test`, in-process, against the loopback DingTalk and Slack fakes. */

let dir: string;
let ding: ChatFake;
let slack: ChatFake;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'checkwatch-cli-config-'));
  ding = await startChatFake({ platform: 'dingtalk', rateLimit: false });
  slack = await startChatFake({ platform: 'slack', rateLimit: false });
});

afterAll(async () => {
  await ding.close();
  await slack.close();
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, doc: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

function chatConfig(dingSecret: string): string {
  return writeConfig(`chat-${dingSecret.length}-${Math.random().toString(36).slice(2)}.json`, {
    channels: {
      ops: { type: 'dingtalk', url: { env: 'T_DING_URL' }, secret: { env: 'T_DING_SECRET' } },
      team: { type: 'slack', url: { env: 'T_SLACK_URL' } },
    },
    routes: { everyone: { channels: ['ops', 'team'] } },
  });
}

describe('checkwatch config check', () => {
  it('prints the resolved configuration with every secret masked', async () => {
    const literal = 'SEC-literal-secret-0123456789';
    const file = writeConfig('masked.yaml', {
      channels: {
        ops: {
          type: 'dingtalk',
          url: 'https://oapi.dingtalk.com/robot/send?access_token=tok-abcdef123456',
          secret: literal,
        },
        hook: { type: 'webhook', url: 'https://example.com/hook', secret: { env: 'T_WHSEC' } },
      },
      api: { tokens: [{ env: 'T_API_TOKEN' }] },
    });
    const env = { T_WHSEC: 'whsec_c2VjcmV0LXdlYmhvb2sta2V5', T_API_TOKEN: 'api-token-0123456789' };
    for (const args of [
      ['config', 'check', '--config', file],
      ['config', 'check', '--config', file, '--json'],
    ]) {
      const r = await runInProcess(args, env);
      expect(r.code).toBe(0);
      for (const secret of [literal, 'tok-abcdef123456', env.T_WHSEC, env.T_API_TOKEN]) {
        expect(r.stdout + r.stderr).not.toContain(secret);
      }
      expect(r.stdout).toContain('***');
    }
    const human = await runInProcess(['config', 'check', '--config', file], env);
    expect(human.stdout).toContain('Configuration is valid');
    expect(human.stdout).toContain('2 channels, 0 routes, store sqlite, dispatch inline.');
    const json = JSON.parse(
      (await runInProcess(['config', 'check', '--config', file, '--json'], env)).stdout,
    );
    expect(json.config.channels.ops).toMatchObject({ type: 'dingtalk', url: '***', secret: '***' });
    expect(json.config.api.tokens).toEqual(['***']);
  });

  it('exits 2 naming the offending setting when the configuration is invalid', async () => {
    const file = writeConfig('bad.json', { routes: { r: { channels: ['nope'] } } });
    const r = await runInProcess(['config', 'check', '--config', file], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('routes.r.channels.0: no channel named "nope" is configured');
    expect(r.stderr).toContain('[CONFIG_INVALID]');
  });
});

describe('checkwatch channels', () => {
  it('lists the configured channels with the routes that use them', async () => {
    const file = chatConfig(ding.secret ?? '');
    const env = { T_DING_URL: ding.url, T_DING_SECRET: ding.secret ?? '', T_SLACK_URL: slack.url };
    const r = await runInProcess(['channels', 'list', '--config', file, '--json'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).channels).toEqual([
      { name: 'ops', type: 'dingtalk', language: 'en', signed: true, routes: ['everyone'] },
      { name: 'team', type: 'slack', language: 'en', signed: false, routes: ['everyone'] },
    ]);
  });

  it('prints the platform verdict when DingTalk accepts the sample message', async () => {
    const file = chatConfig(ding.secret ?? '');
    const before = ding.accepted.length;
    const r = await runInProcess(['channels', 'test', 'ops', '--config', file], {
      T_DING_URL: ding.url,
      T_DING_SECRET: ding.secret ?? '',
      T_SLACK_URL: slack.url,
    });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.trim()).toBe('ops (dingtalk): DingTalk accepted the message (ok).');
    expect(ding.accepted.length).toBe(before + 1);
  });

  it('says "sign not match — check the secret and the machine clock" and exits 1 for a wrong secret', async () => {
    const file = chatConfig('x');
    const wrong = 'SEC0000000000000000000000000000000000000000000000000000000000000000';
    const r = await runInProcess(['channels', 'test', 'ops', '--config', file, '--json'], {
      T_DING_URL: ding.url,
      T_DING_SECRET: wrong,
      T_SLACK_URL: slack.url,
    });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ channel: 'ops', result: 'permanent', platform_code: 310000 });
    expect(out.verdict).toContain(
      'DingTalk refused: sign not match — check the secret and the machine clock',
    );
    expect(r.stdout).not.toContain(wrong);
  });

  it('tests a Slack channel through the same code', async () => {
    const file = chatConfig(ding.secret ?? '');
    const r = await runInProcess(['channels', 'test', 'team', '--config', file], {
      T_DING_URL: ding.url,
      T_DING_SECRET: ding.secret ?? '',
      T_SLACK_URL: slack.url,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Slack accepted the message');
  });

  it('exits 2 listing the configured names for an unknown channel', async () => {
    const file = chatConfig(ding.secret ?? '');
    const r = await runInProcess(['channels', 'test', 'nope', '--config', file], {
      T_DING_URL: ding.url,
      T_DING_SECRET: ding.secret ?? '',
      T_SLACK_URL: slack.url,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no channel named "nope" is configured; configured: ops, team');
  });
});
