import { SlidingWindow } from '../rate';
import { feishuSign, safeEqual } from '../sign';
import type { Incoming, Platform, PlatformSettings, Reply, Verdict } from '../types';
import { allStrings, isRecord, json, str, text, tryParseJson } from '../util';

/** Feishu/Lark custom bot limits (reference: chat-channels.md). */
export const FEISHU_LIMITS = {
  perSecond: 5,
  perMinute: 100,
  maxBodyBytes: 20 * 1024,
  timestampSkewSeconds: 60 * 60,
} as const;

export const FEISHU_MSG_TYPES = ['text', 'post', 'image', 'share_chat', 'interactive'] as const;

const HOOK_PREFIX = '/open-apis/bot/v2/hook/';

/** The msg Feishu sends with each code (used by the 'code' fault when no text is given). */
export const FEISHU_MSG: Readonly<Record<number, string>> = {
  9499: 'Bad Request',
  11232: 'frequency limited psm[lark.oapi.app_platform_runtime]appID[1500]',
  19001: 'param invalid: incoming webhook access token invalid',
  19002: 'params error, msg_type need',
  19021: 'sign match fail or timestamp is not within one hour from current time',
  19022: 'Ip Not Allowed',
  19024: 'Key Words Not Found',
};

/** Feishu answers 400 for a request it cannot read, 200 with a body code for everything else. */
const codeReply = (code: number, msg: string): Reply =>
  json(code === 9499 ? 400 : 200, { code, data: {}, msg });

/**
 * Feishu: `{code, msg}` bodies; sign and timestamp (seconds) are top-level JSON fields; 5 messages a
 * second and 100 a minute.
 */
export function feishu(settings: PlatformSettings): Platform {
  const perSecond = new SlidingWindow(FEISHU_LIMITS.perSecond, 1000);
  const perMinute = new SlidingWindow(FEISHU_LIMITS.perMinute, 60_000);
  const target = HOOK_PREFIX + settings.token;

  const handle = (req: Incoming): Verdict => {
    const body = tryParseJson(req.raw);
    const refuse = (code: number, msg = FEISHU_MSG[code] ?? 'error'): Verdict => ({
      accepted: false,
      body,
      reply: codeReply(code, msg),
    });
    if (!req.path.startsWith(HOOK_PREFIX)) {
      return { accepted: false, body, reply: text(404, '404 page not found') };
    }
    if (req.path !== target) return refuse(19001);
    if (req.method !== 'POST') return refuse(9499);
    if (req.bytes > FEISHU_LIMITS.maxBodyBytes) return refuse(9499, 'Bad Request: request body too large');
    if (!isRecord(body)) return refuse(9499);

    if (settings.secret !== undefined) {
      const ts = body.timestamp;
      const sign = str(body.sign);
      const tsText = typeof ts === 'number' ? String(ts) : typeof ts === 'string' ? ts : '';
      const fresh =
        /^\d{1,12}$/.test(tsText) &&
        Math.abs(req.now / 1000 - Number(tsText)) <= FEISHU_LIMITS.timestampSkewSeconds;
      if (!fresh || sign === undefined || !safeEqual(sign, feishuSign(tsText, settings.secret))) {
        return refuse(19021);
      }
    }
    const msgType = str(body.msg_type);
    if (msgType === undefined || !(FEISHU_MSG_TYPES as readonly string[]).includes(msgType)) {
      return refuse(19002);
    }
    const keyword = settings.keyword;
    if (keyword !== undefined && !allStrings([body.content, body.card]).some((s) => s.includes(keyword))) {
      return refuse(19024);
    }
    if (settings.rateLimit) {
      // Both windows must have room before either counts the message.
      if (perSecond.waitMs(req.now) > 0 || perMinute.waitMs(req.now) > 0) return refuse(11232);
      perSecond.tryAcquire(req.now);
      perMinute.tryAcquire(req.now);
    }
    return {
      accepted: true,
      body,
      reply: json(200, { StatusCode: 0, StatusMessage: 'success', code: 0, data: {}, msg: 'success' }),
    };
  };

  return {
    target,
    handle,
    rateLimitReply: () => codeReply(11232, FEISHU_MSG[11232]!),
    codeReply: (code, msg) => {
      const n = typeof code === 'number' ? code : code === undefined ? 9499 : Number(code);
      const c = Number.isFinite(n) ? n : 9499;
      return codeReply(c, msg ?? FEISHU_MSG[c] ?? 'error');
    },
    garbageReply: (body) => ({
      status: 200,
      body: body ?? '{"StatusCode":0,"Stat',
      headers: { 'content-type': 'application/json; charset=utf-8' },
    }),
    reset: () => {
      perSecond.clear();
      perMinute.clear();
    },
  };
}
