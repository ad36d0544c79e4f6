import { safeEqual, standardWebhookSign } from '../sign';
import type { Incoming, Platform, PlatformSettings, Reply, Verdict } from '../types';
import { text, tryParseJson } from '../util';

/** Standard Webhooks receiver settings. */
export const WEBHOOK_LIMITS = {
  /** The spec's default tolerance for `webhook-timestamp`, either direction. */
  timestampToleranceSeconds: 5 * 60,
} as const;

/**
 * A receiver that verifies Standard Webhooks signatures the way the reference libraries do: 401 on any
 * verification failure, 204 when accepted. It has no rate limit of its own.
 */
export function webhook(settings: PlatformSettings): Platform {
  const handle = (req: Incoming): Verdict => {
    const body = tryParseJson(req.raw);
    const refuse = (reply: Reply): Verdict => ({ accepted: false, body, reply });
    if (req.path !== '/hook') return refuse(text(404, 'Not Found'));
    if (req.method !== 'POST') return refuse(text(405, 'Method Not Allowed', { allow: 'POST' }));
    if (settings.secret !== undefined) {
      const id = req.headers['webhook-id'];
      const ts = req.headers['webhook-timestamp'];
      const signatures = req.headers['webhook-signature'];
      if (id === undefined || ts === undefined || signatures === undefined) {
        return refuse(text(401, 'Missing required headers'));
      }
      if (!/^\d{1,12}$/.test(ts)) return refuse(text(401, 'Invalid Signature Headers'));
      const skew = req.now / 1000 - Number(ts);
      if (skew > WEBHOOK_LIMITS.timestampToleranceSeconds)
        return refuse(text(401, 'Message timestamp too old'));
      if (-skew > WEBHOOK_LIMITS.timestampToleranceSeconds)
        return refuse(text(401, 'Message timestamp too new'));
      // The header may carry several space-separated signatures (key rotation); one match is enough.
      const expected = standardWebhookSign(settings.secret, id, ts, req.raw);
      if (!signatures.split(' ').some((s) => safeEqual(s, expected))) {
        return refuse(text(401, 'No matching signature found'));
      }
    }
    return { accepted: true, body, reply: { status: 204, body: '' } };
  };

  const withRetryAfter = (status: number, ms: number | undefined): Reply =>
    text(status, 'Too Many Requests', { 'retry-after': String(Math.max(1, Math.ceil((ms ?? 1000) / 1000))) });

  return {
    target: '/hook',
    handle,
    rateLimitReply: (ms) => withRetryAfter(429, ms),
    codeReply: (code, msg) => {
      const n = typeof code === 'number' ? code : code === undefined ? 500 : Number(code);
      const status = Number.isInteger(n) && n >= 100 && n <= 599 ? n : 500;
      return text(status, msg ?? (typeof code === 'string' ? code : `HTTP ${status}`));
    },
    garbageReply: (body) => ({
      status: 200,
      body: body ?? '{"received":tr',
      headers: { 'content-type': 'application/json' },
    }),
    reset: () => undefined,
  };
}
