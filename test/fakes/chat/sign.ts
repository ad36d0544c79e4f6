import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The signatures each platform expects, computed independently of lib/channels so that the fakes are
 * an oracle for the channels, not a copy of them. Vectors: /work/shared/reference/chat-channels.md.
 */

/**
 * DingTalk: base64(HMAC-SHA256(key = secret, msg = `${timestampMs}\n${secret}`)), NOT URL-encoded
 * (the client URL-encodes it into the query; the fake compares after the query is decoded).
 */
export function dingtalkSign(timestampMs: number | string, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

/** Feishu/Lark: base64(HMAC-SHA256(key = `${timestampSeconds}\n${secret}`, msg = '')). */
export function feishuSign(timestampSeconds: number | string, secret: string): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');
}

/**
 * Standard Webhooks: `v1,` + base64(HMAC-SHA256(key = base64decode(secret without 'whsec_'),
 * msg = `${id}.${timestampSeconds}.${body}`)).
 */
export function standardWebhookSign(
  secret: string,
  id: string,
  timestampSeconds: number | string,
  body: string,
): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
}

/** Constant-time string comparison (a fake that leaks timing would be a bad example to copy). */
export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}
