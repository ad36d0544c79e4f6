import { SlidingWindow } from '../rate';
import { dingtalkSign, safeEqual } from '../sign';
import type { Incoming, Platform, PlatformSettings, Reply, Verdict } from '../types';
import { isRecord, json, str, text, tryParseJson } from '../util';

/** DingTalk custom robot limits (reference: chat-channels.md). */
export const DINGTALK_LIMITS = {
  perMinute: 20,
  blockMs: 10 * 60_000,
  maxBodyBytes: 20_000,
  timestampSkewMs: 60 * 60_000,
} as const;

export const DINGTALK_MSGTYPES = ['text', 'markdown', 'actionCard', 'link', 'feedCard'] as const;

const MORE = ', more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]';

/** The errmsg DingTalk sends with each errcode (used by the 'code' fault when no text is given). */
export const DINGTALK_ERRMSG: Readonly<Record<number, string>> = {
  [-1]: '系统繁忙',
  300001: 'token is not exist',
  300005: 'token is not exist',
  310000: 'keywords not in content' + MORE,
  400013: '群已被解散',
  400101: 'access_token不存在',
  400102: '机器人已停用',
  400105: '不支持的消息类型',
  410100: 'send too fast, exceed 20 times per minute' + MORE,
  130101: 'send too fast, exceed 20 times per minute' + MORE,
  430101: '含有不安全的外链',
  430102: '含有不合适的文本',
  430103: '含有不合适的图片',
  430104: '含有不合适的内容',
  460101: 'message too long, exceed 20000 bytes',
};

const errcode = (code: number, msg: string): Reply => json(200, { errcode: code, errmsg: msg });

/** The strings DingTalk shows for a message: where a security keyword has to appear. */
function visibleTexts(message: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, key: string | undefined): void => {
    if (typeof v === 'string') {
      if (key === 'content' || key === 'title' || key === 'text' || key === 'singleTitle') out.push(v);
    } else if (Array.isArray(v)) for (const x of v) walk(x, key);
    else if (isRecord(v)) for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(message, undefined);
  return out;
}

/**
 * DingTalk: everything is HTTP 200 with `errcode`; 20 messages a minute, and the 21st blocks the robot
 * for ten minutes during which every message is refused with 410100.
 */
export function dingtalk(settings: PlatformSettings): Platform {
  const window = new SlidingWindow(DINGTALK_LIMITS.perMinute, 60_000);
  let blockedUntil = Number.NEGATIVE_INFINITY;

  const handle = (req: Incoming): Verdict => {
    const body = tryParseJson(req.raw);
    const refuse = (code: number, msg: string): Verdict => ({
      accepted: false,
      body,
      reply: errcode(code, msg),
    });
    if (req.path !== '/robot/send') return { accepted: false, body, reply: text(404, 'Not Found') };
    if (req.method !== 'POST') return refuse(43002, '需要POST请求');
    if (req.query.get('access_token') !== settings.token) return refuse(300001, 'token is not exist');
    if (settings.rateLimit && req.now < blockedUntil) return refuse(410100, DINGTALK_ERRMSG[410100]!);

    if (settings.secret !== undefined) {
      const ts = req.query.get('timestamp');
      const sign = req.query.get('sign');
      if (ts === null && sign === null) return refuse(310000, 'sign not match' + MORE);
      // DingTalk takes the timestamp in milliseconds; seconds are ~1.7e9 ms, i.e. 1970, so "invalid".
      if (
        ts === null ||
        !/^\d{1,16}$/.test(ts) ||
        Math.abs(req.now - Number(ts)) > DINGTALK_LIMITS.timestampSkewMs
      ) {
        return refuse(310000, 'invalid timestamp' + MORE);
      }
      // The query is already percent-decoded here; an unencoded '+' has become ' ' and will not match.
      if (sign === null || !safeEqual(sign, dingtalkSign(ts, settings.secret))) {
        return refuse(310000, 'sign not match' + MORE);
      }
    }

    if (req.bytes > DINGTALK_LIMITS.maxBodyBytes) return refuse(460101, DINGTALK_ERRMSG[460101]!);
    const contentType = req.headers['content-type'] ?? '';
    if (!contentType.toLowerCase().includes('json') || !isRecord(body)) return refuse(40035, '缺少参数 json');
    const msgtype = str(body.msgtype);
    if (msgtype === undefined || !(DINGTALK_MSGTYPES as readonly string[]).includes(msgtype)) {
      return refuse(400105, DINGTALK_ERRMSG[400105]!);
    }
    const keyword = settings.keyword;
    if (keyword !== undefined && !visibleTexts(body[msgtype]).some((s) => s.includes(keyword))) {
      return refuse(310000, 'keywords not in content' + MORE);
    }
    if (settings.rateLimit && !window.tryAcquire(req.now)) {
      blockedUntil = req.now + DINGTALK_LIMITS.blockMs;
      window.clear();
      return refuse(410100, DINGTALK_ERRMSG[410100]!);
    }
    return { accepted: true, body, reply: errcode(0, 'ok') };
  };

  return {
    target: `/robot/send?access_token=${encodeURIComponent(settings.token)}`,
    handle,
    rateLimitReply: () => errcode(410100, DINGTALK_ERRMSG[410100]!),
    codeReply: (code, msg) => {
      const n = typeof code === 'number' ? code : code === undefined ? -1 : Number(code);
      const errc = Number.isFinite(n) ? n : -1;
      return errcode(errc, msg ?? DINGTALK_ERRMSG[errc] ?? 'error');
    },
    garbageReply: (body) => ({
      status: 200,
      body: body ?? '{"errcode":0,"errm',
      headers: { 'content-type': 'application/json; charset=utf-8' },
    }),
    reset: () => {
      window.clear();
      blockedUntil = Number.NEGATIVE_INFINITY;
    },
  };
}
