import { describe, expect, it } from 'vitest';
import { dingtalkSignature, plainMarkdown, plainMrkdwn } from '../../../lib/sink/chat-sink';

describe('demo chat sink rendering and signing', () => {
  it("signs like DingTalk's documented vector", () => {
    expect(dingtalkSignature('1700000000000', 'this is secret')).toBe(
      'sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0=',
    );
  });

  it('shows DingTalk markdown as read: no heading marks, bold, escapes or link targets', () => {
    expect(
      plainMarkdown('#### ACK ❌ Failed\n- **Cluster**: x\n- **\\[error\\]** y\n[console](https://e.x/a)'),
    ).toBe('ACK ❌ Failed\n- Cluster: x\n- [error] y\nconsole');
  });

  it('shows Slack mrkdwn as read', () => {
    expect(plainMrkdwn('*Cluster*: <https://e.x|console> `np-1` <@U024BE7LH> &lt;b&gt;')).toBe(
      'Cluster: console np-1 @U024BE7LH <b>',
    );
  });
});
