/**
 * Hostile chat replies: a loopback server answers each channel's real `send` with fast-check generated
 * statuses, headers and bodies — every platform's documented error codes, garbage, empty bodies,
 * random JSON, bodies that echo the URL token or the sign secret back. Whatever comes back, `send`
 * never throws, always returns a well-formed SendResult, never says `delivered` for a documented error,
 * and no text it returns carries the URL token or the secret.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannel, type ChannelType, type SendResult } from '../../../lib/channels/channel';
import { checkMessage } from '../../unit/channels/fixtures';

interface Answer {
  status: number;
  contentType: string;
  body: string;
  retryAfter?: string | undefined;
}

let server: Server;
let base = '';
let answer: Answer = { status: 200, contentType: 'text/plain', body: '' };

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const headers: Record<string, string> = { 'content-type': answer.contentType };
      if (answer.retryAfter !== undefined) headers['retry-after'] = answer.retryAfter;
      res.writeHead(answer.status, headers);
      res.end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => {
    server.close(() => {
      r();
    });
  });
});

const TOKEN = 'f3c1d2e4b5a6978812345678abcdefabcdefabcdefabcdefabcdefabcdef0099';
const SECRET = 'SECd9a8b7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6';
const WH_SECRET = `whsec_${Buffer.from('hostile-webhook-secret-0123456789').toString('base64')}`;
const SLACK_PATH = 'T0HOSTILE1/B0HOSTILE2/abcdefHostileSlackToken0123';

function channelFor(type: ChannelType) {
  const common = { name: `hostile-${type}`, language: 'en' as const, timeoutMs: 2_000 };
  switch (type) {
    case 'dingtalk':
      return createChannel({
        ...common,
        type,
        url: `${base}/robot/send?access_token=${TOKEN}`,
        secret: SECRET,
      });
    case 'feishu':
      return createChannel({
        ...common,
        type,
        url: `${base}/open-apis/bot/v2/hook/${TOKEN}`,
        secret: SECRET,
      });
    case 'wecom':
      return createChannel({ ...common, type, url: `${base}/cgi-bin/webhook/send?key=${TOKEN}` });
    case 'slack':
      return createChannel({ ...common, type, url: `${base}/services/${SLACK_PATH}` });
    case 'webhook':
      return createChannel({ ...common, type, url: `${base}/hook/${TOKEN}`, secret: WH_SECRET });
    default: {
      const unreachable: never = type;
      return unreachable;
    }
  }
}

/** The secrets each channel must keep out of every text it returns: its URL's token and its secret. */
const LEAKABLE: Record<ChannelType, string[]> = {
  dingtalk: [TOKEN, SECRET],
  feishu: [TOKEN, SECRET],
  wecom: [TOKEN],
  slack: [SLACK_PATH, 'abcdefHostileSlackToken0123'],
  webhook: [TOKEN, WH_SECRET],
};

/** Every platform's documented error codes (reference/chat-channels.md), as the platform answers them. */
const DOCUMENTED: Record<ChannelType, fc.Arbitrary<Answer>> = {
  dingtalk: fc
    .record({
      code: fc.constantFrom(
        -1,
        300001,
        300005,
        310000,
        400013,
        400101,
        400102,
        400105,
        410100,
        430101,
        460101,
        130101,
      ),
      msg: fc.string(),
    })
    .map(({ code, msg }) => ({
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({ errcode: code, errmsg: msg }),
    })),
  feishu: fc
    .record({
      code: fc.constantFrom(9499, 11232, 19001, 19002, 19021, 19022, 19024),
      status: fc.constantFrom(200, 400),
    })
    .map(({ code, status }) => ({
      status,
      contentType: 'application/json',
      body: JSON.stringify({ code, msg: `error ${code}`, data: {} }),
    })),
  wecom: fc.constantFrom(93000, 45009, 40008, 44004, 40058, 47001, -1).map((code) => ({
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify({ errcode: code, errmsg: `error, hint: [${TOKEN}]` }),
  })),
  slack: fc
    .constantFrom(
      [400, 'invalid_payload'],
      [400, 'no_text'],
      [400, 'invalid_blocks'],
      [400, 'msg_blocks_too_long'],
      [403, 'action_prohibited'],
      [404, 'no_service'],
      [404, 'channel_not_found'],
      [410, 'channel_is_archived'],
      [429, 'rate_limited'],
      [500, 'rollup_error'],
    )
    .map(([status, word]) => ({ status, contentType: 'text/plain', body: word })),
  webhook: fc.constantFrom(400, 401, 403, 404, 410, 413, 429, 500, 502, 503).map((status) => ({
    status,
    contentType: 'text/plain',
    body: `refused ${status}`,
  })),
};

/** Anything at all: random statuses, content types and bodies, some echoing a secret back. */
const anyAnswer: fc.Arbitrary<Answer> = fc.record({
  status: fc.oneof(
    fc.constantFrom(200, 204, 302, 400, 401, 403, 404, 429, 500, 502, 503),
    fc.integer({ min: 200, max: 599 }),
  ),
  contentType: fc.constantFrom('application/json', 'text/plain', 'text/html', 'application/octet-stream', ''),
  body: fc.oneof(
    fc.constant(''),
    fc.string({ maxLength: 300 }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.constantFrom('{"errcode":0,"errm', '<html><body>502 Bad Gateway</body></html>', 'null', '[]', '"ok"'),
    fc
      .constantFrom(TOKEN, SECRET, WH_SECRET, SLACK_PATH)
      .chain((s) =>
        fc.constantFrom(
          JSON.stringify({ errcode: 1, errmsg: `bad url ${s}`, msg: s, code: 7 }),
          `invalid_token ${s}`,
          `<html><body>no such hook: ${s}</body></html>`,
        ),
      ),
  ),
  retryAfter: fc.option(fc.oneof(fc.string({ maxLength: 10 }), fc.integer().map(String)), { nil: undefined }),
});

const TYPES: ChannelType[] = ['dingtalk', 'feishu', 'wecom', 'slack', 'webhook'];

function texts(r: SendResult): string[] {
  switch (r.kind) {
    case 'delivered':
      return [r.platformText ?? ''];
    case 'retry':
      return [r.reason, r.platformText ?? ''];
    case 'permanent':
      return [r.platformText, r.hint];
    default: {
      const unreachable: never = r;
      return unreachable;
    }
  }
}

function wellFormed(type: ChannelType, r: SendResult, now: number): void {
  expect(['delivered', 'retry', 'permanent']).toContain(r.kind);
  if (r.kind === 'retry') {
    expect(Number.isFinite(r.at)).toBe(true);
    expect(r.at).toBeGreaterThanOrEqual(now);
    expect(r.reason.length).toBeGreaterThan(0);
  }
  if (r.kind === 'permanent') expect(r.hint.length).toBeGreaterThan(0);
  for (const t of texts(r)) for (const s of LEAKABLE[type]) expect(t).not.toContain(s);
}

describe.each(TYPES)('hostile replies to the %s channel', (type) => {
  const channel = () => channelFor(type);
  const rendered = () => channelFor(type).render(checkMessage('failed'));

  it('never reports a documented platform error as delivered, and never leaks the URL token or secret', async () => {
    const ch = channel();
    const msg = rendered();
    await fc.assert(
      fc.asyncProperty(DOCUMENTED[type], async (a) => {
        answer = a;
        const now = Date.now();
        const r = await ch.send(msg, { now, idempotencyKey: 'hostile-key-1' });
        expect(r.kind).not.toBe('delivered');
        wellFormed(type, r, now);
      }),
      { numRuns: 40 },
    );
  });

  it('returns a well-formed SendResult for any status and body, garbage and empty included', async () => {
    const ch = channel();
    const msg = rendered();
    await fc.assert(
      fc.asyncProperty(anyAnswer, async (a) => {
        answer = a;
        const now = Date.now();
        const r = await ch.send(msg, { now, idempotencyKey: 'hostile-key-2' });
        wellFormed(type, r, now);
        // Only a 2xx can ever be a delivery (DingTalk/WeCom/Feishu additionally need code 0 in it).
        if (a.status < 200 || a.status >= 300) expect(r.kind).not.toBe('delivered');
      }),
      { numRuns: 60 },
    );
  });
});
