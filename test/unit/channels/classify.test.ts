import { describe, expect, it } from 'vitest';
import type { SendContext, SendResult } from '../../../lib/channels/channel';
import { classifyDingTalk } from '../../../lib/channels/dingtalk';
import { classifyFeishu } from '../../../lib/channels/feishu';
import type { HttpReply } from '../../../lib/channels/http';
import { Transport, parseRetryAfter } from '../../../lib/channels/http';
import { classifySlack } from '../../../lib/channels/slack';
import { classifyWebhook } from '../../../lib/channels/webhook';
import { classifyWeCom } from '../../../lib/channels/wecom';
import { NOW } from './fixtures';

const TOKEN = 'a1b2c3d4e5f6a7b8c9d0';
const ctx: SendContext = { now: NOW, idempotencyKey: 'key-1' };
const transport = new Transport({
  platform: 'Test',
  channel: 'test',
  secrets: [`https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`, TOKEN],
});

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpReply => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  text: JSON.stringify(body),
});
const raw = (status: number, text: string, headers: Record<string, string> = {}): HttpReply => ({
  status,
  headers,
  text,
});

type Expect = 'delivered' | 'permanent' | `retry+${number}` | 'retry?';

function check(result: SendResult, expected: Expect): void {
  if (expected === 'delivered' || expected === 'permanent') {
    expect(result.kind).toBe(expected);
    return;
  }
  expect(result.kind).toBe('retry');
  if (result.kind !== 'retry') return;
  if (expected === 'retry?') {
    expect(result.unknownOutcome).toBe(true);
  } else {
    expect(result.at - NOW).toBe(Number(expected.slice('retry+'.length)));
  }
}

describe('DingTalk reply classification', () => {
  it.each<[string, HttpReply, Expect]>([
    ['errcode 0', json(200, { errcode: 0, errmsg: 'ok' }), 'delivered'],
    ['-1 system busy', json(200, { errcode: -1, errmsg: '系统繁忙' }), 'retry+10000'],
    ['410100 sent too fast', json(200, { errcode: 410100, errmsg: 'send too fast' }), 'retry+600000'],
    ['130101 legacy too fast', json(200, { errcode: 130101, errmsg: 'send too fast' }), 'retry+600000'],
    ['310000 keywords', json(200, { errcode: 310000, errmsg: 'keywords not in content' }), 'permanent'],
    ['310000 sign', json(200, { errcode: 310000, errmsg: 'sign not match' }), 'permanent'],
    ['310000 timestamp', json(200, { errcode: 310000, errmsg: 'invalid timestamp' }), 'permanent'],
    ['310000 ip', json(200, { errcode: 310000, errmsg: 'ip X.X.X.X not in whitelist' }), 'permanent'],
    ['400013 dissolved', json(200, { errcode: 400013, errmsg: 'group dissolved' }), 'permanent'],
    ['400101 token', json(200, { errcode: 400101, errmsg: 'access_token not exist' }), 'permanent'],
    ['300001 token', json(200, { errcode: 300001, errmsg: 'token is not exist' }), 'permanent'],
    ['300005 token', json(200, { errcode: 300005, errmsg: 'token is not exist' }), 'permanent'],
    ['400102 disabled', json(200, { errcode: 400102, errmsg: 'robot stopped' }), 'permanent'],
    ['400105 msgtype', json(200, { errcode: 400105, errmsg: 'unsupported msgtype' }), 'permanent'],
    ['430101 unsafe', json(200, { errcode: 430101, errmsg: 'unsafe link' }), 'permanent'],
    ['430104 content', json(200, { errcode: 430104, errmsg: 'inappropriate content' }), 'permanent'],
    ['460101 too long', json(200, { errcode: 460101, errmsg: 'message too long' }), 'permanent'],
    ['101002 legacy too long', json(200, { errcode: 101002, errmsg: 'message too long' }), 'permanent'],
    ['an unknown errcode', json(200, { errcode: 999999, errmsg: 'new thing' }), 'permanent'],
    ['errcode as a string', json(200, { errcode: '0', errmsg: 'ok' }), 'delivered'],
    ['a 200 with garbage', raw(200, '{"errc'), 'retry?'],
    ['a 200 with an empty body', raw(200, ''), 'retry?'],
    [
      'a 502 gateway page',
      raw(502, '<html><title>502 Bad Gateway</title></html>', { 'content-type': 'text/html' }),
      'retry+5000',
    ],
    ['a 503 text', raw(503, 'Service Unavailable'), 'retry+5000'],
    ['a 429 with Retry-After', raw(429, 'slow down', { 'retry-after': '30' }), 'retry+30000'],
    ['a 404 page', raw(404, 'not found'), 'permanent'],
  ])('classifies %s', (_name, reply, expected) => {
    check(classifyDingTalk(reply, ctx, transport), expected);
  });

  it('never calls a 200 with a non-zero errcode delivered', () => {
    for (const errcode of [-1, 1, 310000, 410100, 88]) {
      expect(classifyDingTalk(json(200, { errcode, errmsg: 'x' }), ctx, transport).kind).not.toBe(
        'delivered',
      );
    }
  });

  it('gives a hint for each kind of security failure, with the platform text kept verbatim', () => {
    const sign = classifyDingTalk(json(200, { errcode: 310000, errmsg: 'sign not match' }), ctx, transport);
    expect(sign).toMatchObject({ kind: 'permanent', platformCode: 310000, platformText: 'sign not match' });
    expect(sign.kind === 'permanent' && sign.hint).toMatch(/secret and the machine clock/);
    const kw = classifyDingTalk(
      json(200, { errcode: 310000, errmsg: 'keywords not in content' }),
      ctx,
      transport,
    );
    expect(kw.kind === 'permanent' && kw.hint).toMatch(/keyword/);
  });

  it('masks the access token when the platform echoes it back', () => {
    const r = classifyDingTalk(
      json(200, { errcode: 300001, errmsg: `token ${TOKEN} is not exist` }),
      ctx,
      transport,
    );
    expect(JSON.stringify(r)).not.toContain(TOKEN);
  });
});

describe('Slack reply classification', () => {
  it.each<[string, HttpReply, Expect]>([
    ['200 ok', raw(200, 'ok'), 'delivered'],
    ['429 with Retry-After', raw(429, 'rate_limited', { 'retry-after': '7' }), 'retry+7000'],
    ['429 without Retry-After', raw(429, ''), 'retry+1000'],
    ['invalid_payload', raw(400, 'invalid_payload'), 'permanent'],
    ['no_text', raw(400, 'no_text'), 'permanent'],
    ['invalid_blocks', raw(400, 'invalid_blocks'), 'permanent'],
    ['msg_blocks_too_long', raw(400, 'msg_blocks_too_long'), 'permanent'],
    ['too_many_attachments', raw(400, 'too_many_attachments'), 'permanent'],
    ['channel_not_found', raw(404, 'channel_not_found'), 'permanent'],
    ['channel_is_archived', raw(410, 'channel_is_archived'), 'permanent'],
    ['action_prohibited', raw(403, 'action_prohibited'), 'permanent'],
    ['posting_to_general_channel_denied', raw(403, 'posting_to_general_channel_denied'), 'permanent'],
    ['no_service', raw(404, 'no_service'), 'permanent'],
    ['no_active_hooks', raw(404, 'no_active_hooks'), 'permanent'],
    ['invalid_token', raw(403, 'invalid_token'), 'permanent'],
    ['team_disabled', raw(403, 'team_disabled'), 'permanent'],
    ['rollup_error', raw(500, 'rollup_error'), 'retry+5000'],
    ['a 503', raw(503, 'upstream connect error'), 'retry+5000'],
    ['a 200 that is not ok', raw(200, '<html>captive portal</html>'), 'retry?'],
    ['an unknown 4xx word', raw(400, 'something_new'), 'permanent'],
  ])('classifies %s', (_name, reply, expected) => {
    check(classifySlack(reply, ctx, transport), expected);
  });
});

describe('Feishu reply classification', () => {
  it.each<[string, HttpReply, Expect]>([
    ['code 0', json(200, { code: 0, msg: 'success', data: {} }), 'delivered'],
    ['legacy StatusCode 0', json(200, { StatusCode: 0, StatusMessage: 'success' }), 'delivered'],
    ['11232 rate limited', json(200, { code: 11232, msg: 'frequency limited' }), 'retry+60000'],
    ['9499 too many requests', json(200, { code: 9499, msg: 'too many request' }), 'retry+60000'],
    ['9499 bad request (HTTP 400)', json(400, { code: 9499, msg: 'Bad Request' }), 'permanent'],
    [
      '19021 sign',
      json(200, {
        code: 19021,
        msg: 'sign match fail or timestamp is not within one hour from current time',
      }),
      'permanent',
    ],
    ['19022 ip', json(200, { code: 19022, msg: 'Ip Not Allowed' }), 'permanent'],
    ['19024 keyword', json(200, { code: 19024, msg: 'Key Words Not Found' }), 'permanent'],
    ['an unknown code', json(200, { code: 19001, msg: 'param invalid' }), 'permanent'],
    ['an unknown code on a 5xx', json(503, { code: 1, msg: 'internal' }), 'retry+5000'],
    ['a 200 with garbage', raw(200, '{"StatusCode":0,"Stat'), 'retry?'],
    ['a 502 gateway page', raw(502, '<!DOCTYPE html><html>bad gateway</html>'), 'retry+5000'],
  ])('classifies %s', (_name, reply, expected) => {
    check(classifyFeishu(reply, ctx, transport), expected);
  });

  it('gives the sign hint for 19021', () => {
    const r = classifyFeishu(json(200, { code: 19021, msg: 'sign match fail' }), ctx, transport);
    expect(r).toMatchObject({ kind: 'permanent', platformCode: 19021, platformText: 'sign match fail' });
    expect(r.kind === 'permanent' && r.hint).toMatch(/secret and the machine clock/);
  });
});

describe('WeCom reply classification', () => {
  it.each<[string, HttpReply, Expect]>([
    ['errcode 0', json(200, { errcode: 0, errmsg: 'ok' }), 'delivered'],
    ['45009 freq limit', json(200, { errcode: 45009, errmsg: 'api freq out of limit' }), 'retry+60000'],
    ['-1 busy', json(200, { errcode: -1, errmsg: 'system busy' }), 'retry+10000'],
    ['40058 too long', json(200, { errcode: 40058, errmsg: 'content exceed max length' }), 'permanent'],
    ['93000 invalid url', json(200, { errcode: 93000, errmsg: 'invalid webhook url' }), 'permanent'],
    ['an unknown errcode', json(200, { errcode: 40008, errmsg: 'invalid message type' }), 'permanent'],
    ['an empty 200', raw(200, ''), 'retry?'],
    ['a 500', raw(500, 'oops'), 'retry+5000'],
  ])('classifies %s', (_name, reply, expected) => {
    check(classifyWeCom(reply, ctx, transport), expected);
  });
});

describe('webhook reply classification', () => {
  it.each<[string, HttpReply, Expect]>([
    ['204', raw(204, ''), 'delivered'],
    ['200 with any body', raw(200, 'thanks'), 'delivered'],
    ['401 bad signature', raw(401, 'invalid signature'), 'permanent'],
    ['403', raw(403, ''), 'permanent'],
    ['404', raw(404, 'no such hook'), 'permanent'],
    ['408', raw(408, ''), 'retry+5000'],
    ['429 with Retry-After', raw(429, '', { 'retry-after': '2' }), 'retry+2000'],
    ['500', raw(500, 'boom'), 'retry+5000'],
  ])('classifies %s', (_name, reply, expected) => {
    check(classifyWebhook(reply, ctx, transport), expected);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and ignores garbage', () => {
    expect(parseRetryAfter('3', NOW)).toBe(3000);
    expect(parseRetryAfter(new Date(NOW + 5000).toUTCString(), NOW)).toBe(5000);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});
