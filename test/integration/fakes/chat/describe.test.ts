import { describe, expect, it } from 'vitest';
import { describeMessage } from '../../../fakes/chat/index';
import { formatForSink, parseArgs } from '../../../fakes/chat/standalone';

describe('describeMessage (what a person sees in the app)', () => {
  it('renders DingTalk markdown as plain lines: headings, quotes, bold, links, lists', () => {
    const out = describeMessage('dingtalk', {
      msgtype: 'markdown',
      markdown: {
        title: 'ignored in the chat body',
        text: '### Upgrade precheck passed\n> cluster **prod-1**\n- [Open console](https://cs.console.aliyun.com/x)\n\n@13800000000',
      },
    });
    expect(out).toBe(
      'Upgrade precheck passed\n│ cluster prod-1\n• Open console (https://cs.console.aliyun.com/x)\n\n@13800000000',
    );
  });

  it('renders a DingTalk actionCard with its buttons', () => {
    const out = describeMessage('dingtalk', {
      msgtype: 'actionCard',
      actionCard: {
        title: 't',
        text: '## Failed\n3 items',
        btns: [{ title: 'Fix', actionURL: 'https://a' }],
      },
    });
    expect(out).toBe('Failed\n3 items\n[Fix] → https://a');
  });

  it('renders Slack blocks (header, mrkdwn links and mentions, fields, divider, context, buttons)', () => {
    const out = describeMessage('slack', {
      text: 'fallback not shown when there are blocks',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Precheck failed' } },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: '*Cluster* <https://x.y/z|prod-1>, cc <@U123> <!here>' },
        },
        { type: 'section', fields: [{ type: 'mrkdwn', text: '*Type*\nupgrade' }] },
        { type: 'divider' },
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: 'checkwatch' },
            { type: 'plain_text', text: 'c-1' },
          ],
        },
        {
          type: 'actions',
          elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open' }, url: 'https://x' }],
        },
      ],
    });
    expect(out.split('\n')).toEqual([
      'PRECHECK FAILED',
      'Cluster prod-1 (https://x.y/z), cc @U123 @here',
      '  Type',
      '  upgrade',
      '────────────────────────',
      'checkwatch · c-1',
      '[Open] → https://x',
    ]);
  });

  it('renders Slack text when there are no blocks, decoding entities', () => {
    expect(describeMessage('slack', { text: 'a &lt; b &amp; <https://x|link>' })).toBe(
      'a < b & link (https://x)',
    );
  });

  it('renders a Feishu card with header, lark_md, mentions, buttons and notes', () => {
    const out = describeMessage('feishu', {
      msg_type: 'interactive',
      card: {
        header: { title: { tag: 'plain_text', content: 'Check done' }, template: 'green' },
        elements: [
          {
            tag: 'div',
            text: {
              tag: 'lark_md',
              content: '**Cluster** prod <at user_id="ou_1">Li</at> <at user_id="all"></at>',
            },
          },
          { tag: 'hr' },
          {
            tag: 'action',
            actions: [{ tag: 'button', text: { tag: 'plain_text', content: 'Open' }, url: 'https://x' }],
          },
          { tag: 'note', elements: [{ tag: 'plain_text', content: 'checkwatch' }] },
        ],
      },
    });
    expect(out.split('\n')).toEqual([
      'CHECK DONE',
      'Cluster prod @Li @all',
      '────────────────────────',
      '[Open] → https://x',
      'checkwatch',
    ]);
  });

  it('renders a Feishu post and a card given as a JSON string', () => {
    expect(
      describeMessage('feishu', {
        msg_type: 'post',
        content: {
          post: {
            zh_cn: {
              title: 'T',
              content: [
                [
                  { tag: 'text', text: 'a ' },
                  { tag: 'a', text: 'l', href: 'https://x' },
                ],
              ],
            },
          },
        },
      }),
    ).toBe('T\na l (https://x)');
    expect(
      describeMessage('feishu', {
        msg_type: 'interactive',
        card: JSON.stringify({ elements: [{ tag: 'markdown', content: '**ok**' }] }),
      }),
    ).toBe('ok');
  });

  it('renders WeCom markdown (font tags, <@user>) and text mentions', () => {
    expect(
      describeMessage('wecom', {
        msgtype: 'markdown',
        markdown: { content: '**Done** <font color="warning">2 failed</font>\n<@zhangsan>' },
      }),
    ).toBe('Done 2 failed\n@zhangsan');
    expect(
      describeMessage('wecom', {
        msgtype: 'text',
        text: { content: 'hi', mentioned_list: ['wang', '@all'] },
      }),
    ).toBe('hi\n@wang @all');
  });

  it('renders a generic webhook body by its type and text, else as JSON', () => {
    expect(describeMessage('webhook', { type: 'check.finished', text: 'prod-1 passed' })).toBe(
      '[check.finished]\nprod-1 passed',
    );
    expect(describeMessage('webhook', { a: 1 })).toBe('{"a":1}');
  });

  it('says so for a body it cannot read, or one with nothing to show', () => {
    expect(describeMessage('slack', 'not json')).toBe('(unreadable message)');
    expect(describeMessage('dingtalk', { msgtype: 'text', text: { content: '' } })).toBe('(empty message)');
  });
});

describe('standalone chat sink', () => {
  it('parses the documented arguments', () => {
    expect(
      parseArgs('feishu', ['--port', '8080', '--secret', 's', '--keyword', 'k', '--no-rate-limit']),
    ).toEqual({
      platform: 'feishu',
      port: 8080,
      secret: 's',
      keyword: 'k',
      rateLimit: false,
      quiet: false,
    });
  });

  it('refuses unknown platforms, arguments and missing values', () => {
    expect(() => parseArgs('teams', [])).toThrow(/unknown chat platform/);
    expect(() => parseArgs('slack', ['--prot', '1'])).toThrow(/unknown argument "--prot"/);
    expect(() => parseArgs('slack', ['--port'])).toThrow(/--port needs a value/);
    expect(() => parseArgs('slack', ['--port', '70000'])).toThrow(/--port/);
  });

  it('formats an accepted message with a platform and time header', () => {
    const out = formatForSink('wecom', {
      at: Date.UTC(2024, 0, 2, 3, 4, 5),
      path: '/cgi-bin/webhook/send',
      query: {},
      headers: {},
      body: { msgtype: 'text', text: { content: 'line one\nline two' } },
      raw: '',
      accepted: true,
      reply: { status: 200, body: '' },
    });
    expect(out).toBe('── wecom · 03:04:05 ──\n  line one\n  line two\n');
  });
});
