import { describe, expect, it } from 'vitest';
import type { ChannelConfig, ChannelType } from '../../../lib/channels/channel';
import { createChannel } from '../../../lib/channels/channel';
import { DINGTALK_MAX_BODY_BYTES } from '../../../lib/channels/dingtalk';
import { FEISHU_MAX_BODY_BYTES } from '../../../lib/channels/feishu';
import { SLACK_LIMITS } from '../../../lib/channels/slack';
import { WECOM_MAX_CONTENT_BYTES } from '../../../lib/channels/wecom';
import { WEBHOOK_MAX_BODY_BYTES } from '../../../lib/channels/webhook';
import { summarizeCheckItems } from '../../../lib/domain/check-items';
import type { CheckMessage, DigestMessage, Language, Outcome } from '../../../lib/domain/message';
import { checkMessage, digest, hugeItems } from './fixtures';

const URLS: Record<ChannelType, string> = {
  dingtalk: 'https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef',
  slack: 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX',
  feishu: 'https://open.feishu.cn/open-apis/bot/v2/hook/00000000-0000-0000-0000-000000000000',
  wecom: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=00000000-0000',
  webhook: 'https://receiver.example/hook',
};

function config(type: ChannelType, language: Language, extra: Record<string, unknown> = {}): ChannelConfig {
  const base = { name: `${type}-${language}`, url: URLS[type], language, ...extra };
  switch (type) {
    case 'dingtalk':
      return { ...base, type, secret: 'SECxxxxxxxx', keyword: 'ACK' };
    case 'feishu':
      return { ...base, type, secret: 'feishu-secret' };
    case 'webhook':
      return { ...base, type, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };
    case 'slack':
    case 'wecom':
      return { ...base, type };
  }
}

const MENTIONS = { mobiles: ['13800000000'], userIds: ['ou_abc123'], slackIds: ['U024BE7LH', 'here'] };

/** The text a platform will check and show: everything in the body that is a string. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

/** Block Kit limits as Slack enforces them (reference/chat-channels.md). */
function assertSlackLimits(body: string): void {
  interface TextObject {
    type: string;
    text: string;
  }
  interface SlackBlock {
    type: string;
    text?: TextObject;
    fields?: TextObject[];
  }
  const payload = JSON.parse(body) as { text: string; blocks: SlackBlock[] };
  expect(payload.text.length).toBeGreaterThan(0);
  expect(payload.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  let total = 0;
  for (const b of payload.blocks) {
    if (b.type === 'header') {
      expect(b.text?.type).toBe('plain_text');
      const header = b.text?.text ?? '';
      expect(header.length).toBeLessThanOrEqual(SLACK_LIMITS.headerChars);
      total += header.length;
    }
    if (b.type === 'section') {
      if (b.text !== undefined) {
        expect(b.text.text.length).toBeGreaterThan(0);
        expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionChars);
        total += b.text.text.length;
      }
      if (b.fields !== undefined) {
        expect(b.fields.length).toBeLessThanOrEqual(SLACK_LIMITS.fields);
        for (const f of b.fields) {
          expect(f.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldChars);
          total += f.text.length;
        }
      }
    }
  }
  expect(total).toBeLessThan(13_000);
}

function assertWithinLimits(type: ChannelType, body: string, bytes: number): void {
  expect(Buffer.byteLength(body)).toBe(bytes);
  switch (type) {
    case 'dingtalk':
      expect(bytes).toBeLessThanOrEqual(DINGTALK_MAX_BODY_BYTES - 200);
      break;
    case 'feishu':
      expect(bytes).toBeLessThanOrEqual(FEISHU_MAX_BODY_BYTES - 100);
      break;
    case 'wecom':
      expect(
        Buffer.byteLength((JSON.parse(body) as { markdown: { content: string } }).markdown.content),
      ).toBeLessThanOrEqual(WECOM_MAX_CONTENT_BYTES);
      break;
    case 'slack':
      assertSlackLimits(body);
      break;
    case 'webhook':
      expect(bytes).toBeLessThanOrEqual(WEBHOOK_MAX_BODY_BYTES);
      break;
  }
}

const TYPES: ChannelType[] = ['dingtalk', 'slack', 'feishu', 'wecom', 'webhook'];
const OUTCOMES: Outcome[] = ['passed', 'failed', 'gave_up', 'vanished'];
const LANGUAGES: Language[] = ['en', 'zh'];

const cases: Array<[ChannelType, string, Language, CheckMessage | DigestMessage]> = [];
for (const type of TYPES)
  for (const language of LANGUAGES) {
    for (const outcome of OUTCOMES) cases.push([type, outcome, language, checkMessage(outcome)]);
    cases.push([type, 'digest', language, digest(4)]);
  }

describe('renderers', () => {
  it.each(cases)('renders %s / %s / %s as the snapshot', (type, _label, language, msg) => {
    const channel = createChannel(config(type, language, { mentions: { ...MENTIONS, onFailureOnly: true } }));
    const rendered = channel.render(msg);
    expect(rendered.truncated).toBe(false);
    assertWithinLimits(type, rendered.body, rendered.bytes);
    expect(JSON.parse(rendered.body)).toMatchSnapshot();
  });

  it.each(LANGUAGES)('renders a DingTalk actionCard with a console button (%s)', (language) => {
    const rendered = createChannel(config('dingtalk', language, { format: 'actionCard' })).render(
      checkMessage('failed'),
    );
    const body = JSON.parse(rendered.body);
    expect(body.msgtype).toBe('actionCard');
    expect(body.actionCard.singleURL).toBe(checkMessage('failed').consoleUrl);
    expect(body).toMatchSnapshot();
  });

  describe.each(TYPES)('%s', (type) => {
    it('stays within the platform limits with 5000 failing items and says how many were left out', () => {
      for (const language of LANGUAGES) {
        const msg = checkMessage('failed', { summary: summarizeCheckItems(hugeItems(5000)) });
        const rendered = createChannel(config(type, language, { mentions: MENTIONS })).render(msg);
        assertWithinLimits(type, rendered.body, rendered.bytes);
        const text = strings(JSON.parse(rendered.body)).join('\n');
        if (type === 'webhook') {
          // The webhook carries the capped summary as data; its text lists every capped item.
          expect(JSON.parse(rendered.body).check.items.omitted).toBe(4950);
          expect(text).toContain(language === 'en' ? 'and 4950 more' : '另有 4950 项');
        } else {
          expect(rendered.truncated).toBe(true);
          expect(text).toMatch(language === 'en' ? /…and \d+ more/ : /…另有 \d+ 项未显示/);
          const hidden = Number((language === 'en' ? /and (\d+) more/ : /另有 (\d+) 项/).exec(text)?.[1]);
          const shown = (text.match(/\\?\[(error|warning|错误|警告)\\?\]/g) ?? []).length;
          expect(shown).toBeGreaterThan(0);
          expect(shown + hidden).toBe(5000);
        }
      }
    });

    it('stays within the limits when a template or ACK message alone is enormous', () => {
      const huge = 'Z'.repeat(60_000);
      const msg = checkMessage('failed', { message: huge, summary: summarizeCheckItems(hugeItems(100)) });
      const rendered = createChannel(
        config(type, 'en', { bodyTemplate: `{{message}} ${huge}`, titleTemplate: huge }),
      ).render(msg);
      assertWithinLimits(type, rendered.body, rendered.bytes);
      if (type !== 'webhook') expect(rendered.truncated).toBe(true);
    });

    it('still says something true when check_items has an unrecognised shape', () => {
      const msg = checkMessage('passed', {
        summary: summarizeCheckItems({ key: [{ test: 'test', test2: 1 }] }),
      });
      const rendered = createChannel(config(type, 'en')).render(msg);
      expect(strings(JSON.parse(rendered.body)).join('\n')).toContain('1 check item (format not recognised)');
    });

    it('fits a digest of 500 completions, with "and N more" when they do not all fit', () => {
      const rendered = createChannel(config(type, 'zh')).render(digest(500));
      assertWithinLimits(type, rendered.body, rendered.bytes);
      const text = strings(JSON.parse(rendered.body)).join('\n');
      expect(text).toContain('500 个集群检查已结束');
      if (type !== 'webhook') {
        expect(rendered.truncated).toBe(true);
        expect(text).toMatch(/另有 \d+ 项未显示/);
      }
    });

    it('is pure: the same message renders to the same bytes and is not modified', () => {
      const msg = checkMessage('failed');
      const copy = structuredClone(msg);
      const channel = createChannel(config(type, 'en', { clusterNames: { other: 'x' } }));
      expect(channel.render(msg).body).toBe(channel.render(msg).body);
      expect(msg).toEqual(copy);
    });
  });

  it('puts the DingTalk keyword into every message, huge and digest included', () => {
    const channel = createChannel({ ...config('dingtalk', 'zh'), keyword: '集群告警' } as ChannelConfig);
    for (const msg of [
      checkMessage('passed'),
      checkMessage('failed', { summary: summarizeCheckItems(hugeItems(5000)) }),
      digest(300),
    ]) {
      const body = JSON.parse(channel.render(msg).body);
      expect(body.markdown.title).toContain('集群告警');
      expect(body.markdown.text).toContain('集群告警');
    }
  });

  it('puts the Feishu keyword into the card when one is configured', () => {
    const channel = createChannel({ ...config('feishu', 'en'), keyword: 'checkwatch' } as ChannelConfig);
    expect(JSON.parse(channel.render(checkMessage('passed')).body).card.header.title.content).toContain(
      'checkwatch',
    );
  });

  it('mentions people only on failure when onFailureOnly is set', () => {
    const mentions = { ...MENTIONS, onFailureOnly: true };
    const ding = createChannel(config('dingtalk', 'en', { mentions }));
    expect(JSON.parse(ding.render(checkMessage('passed')).body).at).toBeUndefined();
    const failed = JSON.parse(ding.render(checkMessage('failed')).body);
    expect(failed.at).toEqual({ atMobiles: ['13800000000'], atUserIds: ['ou_abc123'], isAtAll: false });
    expect(failed.markdown.text).toContain('@13800000000');

    const slack = createChannel(config('slack', 'en', { mentions }));
    expect(slack.render(checkMessage('passed')).body).not.toContain('<@U024BE7LH>');
    expect(slack.render(checkMessage('gave_up')).body).toContain('<@U024BE7LH> <!here>');

    const wecom = createChannel(config('wecom', 'en', { mentions }));
    expect(wecom.render(checkMessage('failed')).body).toContain('<@ou_abc123>');
    const feishu = createChannel(config('feishu', 'en', { mentions }));
    expect(feishu.render(checkMessage('vanished')).body).toContain('<at id=ou_abc123></at>');
  });

  it('escapes values so a cluster name cannot inject mentions or markup', () => {
    const msg = checkMessage('failed', { clusterName: '<!channel> <@U1> <at id=all></at> [x](http://evil)' });
    // Slack parses mentions in mrkdwn (`text`, sections, fields), not in the plain_text header.
    const slack = JSON.parse(createChannel(config('slack', 'en')).render(msg).body);
    const mrkdwn = [
      slack.text,
      ...slack.blocks.filter((b: { type: string }) => b.type !== 'header').flatMap(strings),
    ].join('\n');
    expect(mrkdwn).not.toContain('<!channel>');
    expect(mrkdwn).not.toContain('<@U1>');
    expect(mrkdwn).toContain('&lt;!channel&gt;');
    const card = JSON.parse(createChannel(config('feishu', 'en')).render(msg).body).card;
    const larkMd = strings(
      card.elements.filter((e: { text?: { tag: string } }) => e.text?.tag === 'lark_md'),
    ).join('\n');
    expect(larkMd).not.toContain('<at id=all>');
    expect(larkMd).toContain('&lt;at id=all&gt;');
    const wecom = createChannel(config('wecom', 'en')).render(msg).body;
    expect(wecom).not.toContain('<@U1>');
    const ding = JSON.parse(createChannel(config('dingtalk', 'en')).render(msg).body);
    expect(ding.markdown.text).not.toContain('[x](http://evil)');
    expect(ding.markdown.text).toContain('\\[x\\](http://evil)');
  });

  it('uses the configured display name when the message has none', () => {
    const msg = checkMessage('passed', { clusterName: undefined });
    const rendered = createChannel(
      config('slack', 'en', { clusterNames: { [msg.clusterId]: 'billing-prod' } }),
    ).render(msg);
    expect(rendered.body).toContain('ClusterUpgrade on billing-prod');
  });

  it('applies title and body templates, placing failing_items where the template says', () => {
    const channel = createChannel(
      config('wecom', 'en', {
        titleTemplate: '{{emoji}} {{cluster}} {{check_type}}: {{outcome_text}}',
        bodyTemplate: 'Status **{{status}}** after {{duration}}\n{{failing_items}}\n[open]({{console_url}})',
      }),
    );
    const content: string = JSON.parse(channel.render(checkMessage('failed')).body).markdown.content;
    expect(content).toContain('❌ prod-hangzhou ClusterUpgrade: Check failed');
    expect(content).toContain('Status **Failed** after 4m 0s');
    expect(content.indexOf('NodeDiskPressure')).toBeLessThan(content.indexOf('[open]('));
    expect(content.match(/NodeDiskPressure/g)).toHaveLength(1);
  });
});
