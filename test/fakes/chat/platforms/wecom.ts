import { SlidingWindow } from '../rate';
import type { Incoming, Platform, PlatformSettings, Reply, Verdict } from '../types';
import { byteLength, isRecord, json, str, text, tryParseJson } from '../util';

/** WeCom group robot limits (reference: chat-channels.md). */
export const WECOM_LIMITS = {
  perMinute: 20,
  textBytes: 2048,
  markdownBytes: 4096,
} as const;

export const WECOM_MSGTYPES = [
  'text',
  'markdown',
  'markdown_v2',
  'image',
  'news',
  'file',
  'voice',
  'template_card',
] as const;

/** The errmsg WeCom sends with each errcode, before its ", hint: […]" tail. */
export const WECOM_ERRMSG: Readonly<Record<number, string>> = {
  [-1]: 'system busy',
  40008: 'invalid message type',
  40058: 'invalid Request Parameter',
  43002: 'require POST method',
  44004: 'empty content',
  45009: 'api freq out of limit',
  47001: 'data format error',
  93000: 'invalid webhook url',
};

/** WeCom appends a request hint and a lookup link to every error message. */
function withHint(code: number, msg: string, now: number): string {
  return `${msg}, hint: [${now}0000000001], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=${code}`;
}

const errcode = (code: number, msg: string): Reply => json(200, { errcode: code, errmsg: msg });

/** WeCom: HTTP 200 with `errcode` for everything; the key in the URL is the only credential. */
export function wecom(settings: PlatformSettings): Platform {
  const window = new SlidingWindow(WECOM_LIMITS.perMinute, 60_000);

  const handle = (req: Incoming): Verdict => {
    const body = tryParseJson(req.raw);
    const refuse = (code: number, msg = WECOM_ERRMSG[code] ?? 'error'): Verdict => ({
      accepted: false,
      body,
      reply: errcode(code, withHint(code, msg, req.now)),
    });
    if (req.path !== '/cgi-bin/webhook/send') return { accepted: false, body, reply: text(404, 'Not Found') };
    if (req.query.get('key') !== settings.token) return refuse(93000);
    if (req.method !== 'POST') return refuse(43002);
    if (!isRecord(body)) return refuse(47001);
    const msgtype = str(body.msgtype);
    if (msgtype === undefined || !(WECOM_MSGTYPES as readonly string[]).includes(msgtype))
      return refuse(40008);
    const message = body[msgtype];
    if (msgtype === 'text' || msgtype === 'markdown' || msgtype === 'markdown_v2') {
      const content = isRecord(message) ? str(message.content) : undefined;
      if (content === undefined || content.length === 0) return refuse(44004);
      const max = msgtype === 'text' ? WECOM_LIMITS.textBytes : WECOM_LIMITS.markdownBytes;
      if (byteLength(content) > max) {
        return refuse(40058, `${msgtype}.content exceed max length ${max}. invalid Request Parameter`);
      }
    }
    if (settings.rateLimit && !window.tryAcquire(req.now)) return refuse(45009);
    return { accepted: true, body, reply: errcode(0, 'ok') };
  };

  return {
    target: `/cgi-bin/webhook/send?key=${encodeURIComponent(settings.token)}`,
    handle,
    rateLimitReply: () => errcode(45009, withHint(45009, WECOM_ERRMSG[45009]!, settings.clock())),
    codeReply: (code, msg) => {
      const n = typeof code === 'number' ? code : code === undefined ? -1 : Number(code);
      const c = Number.isFinite(n) ? n : -1;
      return errcode(c, msg ?? withHint(c, WECOM_ERRMSG[c] ?? 'error', settings.clock()));
    },
    garbageReply: (body) => ({
      status: 200,
      body: body ?? '{"errcode":0,"errm',
      headers: { 'content-type': 'application/json; charset=UTF-8' },
    }),
    reset: () => {
      window.clear();
    },
  };
}
