import { SlidingWindow } from '../rate';
import type { Incoming, Platform, PlatformSettings, Reply, Verdict } from '../types';
import { isRecord, str, text, tryParseJson } from '../util';

/** Slack incoming-webhook limits (reference: chat-channels.md). */
export const SLACK_LIMITS = {
  /** ~1 message per second per webhook. */
  perWindow: 1,
  windowMs: 1000,
  maxBlocks: 50,
  sectionText: 3000,
  maxFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  markdownBlockText: 12_000,
  /** Sum of the text of all blocks above which Slack answers `msg_blocks_too_long`. */
  totalBlockText: 13_000,
  maxAttachments: 100,
} as const;

/** HTTP status Slack uses with each error string (the 'code' fault). */
export const SLACK_ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_payload: 400,
  no_text: 400,
  invalid_blocks: 400,
  invalid_blocks_format: 400,
  msg_blocks_too_long: 400,
  too_many_attachments: 400,
  user_not_found: 400,
  channel_not_found: 404,
  no_service: 404,
  no_service_id: 400,
  no_team: 400,
  no_active_hooks: 404,
  channel_is_archived: 410,
  action_prohibited: 403,
  posting_to_general_channel_denied: 403,
  invalid_token: 403,
  team_disabled: 403,
  rate_limited: 429,
  rollup_error: 500,
};

const TEXT_TYPES = new Set(['plain_text', 'mrkdwn']);

class BlockError extends Error {
  constructor(readonly slackCode: 'invalid_blocks' | 'invalid_blocks_format' | 'msg_blocks_too_long') {
    super(slackCode);
  }
}

/** A Block Kit text object; returns its length (or throws invalid_blocks). */
function textObject(v: unknown, max: number, plainOnly = false): number {
  if (!isRecord(v)) throw new BlockError('invalid_blocks');
  const type = str(v.type);
  const t = str(v.text);
  if (type === undefined || !TEXT_TYPES.has(type) || (plainOnly && type !== 'plain_text')) {
    throw new BlockError('invalid_blocks');
  }
  if (t === undefined || t.length === 0 || t.length > max) throw new BlockError('invalid_blocks');
  return t.length;
}

/** Validates Block Kit as Slack does for the parts checkwatch uses; returns the total text length. */
function checkBlocks(blocks: unknown): number {
  if (!Array.isArray(blocks)) throw new BlockError('invalid_blocks_format');
  if (blocks.length > SLACK_LIMITS.maxBlocks) throw new BlockError('invalid_blocks');
  let total = 0;
  for (const block of blocks) {
    if (!isRecord(block)) throw new BlockError('invalid_blocks');
    const blockId = block.block_id;
    if (blockId !== undefined && (typeof blockId !== 'string' || blockId.length > 255)) {
      throw new BlockError('invalid_blocks');
    }
    switch (block.type) {
      case 'header':
        total += textObject(block.text, SLACK_LIMITS.headerText, true);
        break;
      case 'section': {
        const { text: t, fields } = block;
        if (t === undefined && fields === undefined) throw new BlockError('invalid_blocks');
        if (t !== undefined) total += textObject(t, SLACK_LIMITS.sectionText);
        if (fields !== undefined) {
          if (!Array.isArray(fields) || fields.length === 0 || fields.length > SLACK_LIMITS.maxFields) {
            throw new BlockError('invalid_blocks');
          }
          for (const f of fields) total += textObject(f, SLACK_LIMITS.fieldText);
        }
        break;
      }
      case 'context': {
        const els = block.elements;
        if (!Array.isArray(els) || els.length === 0 || els.length > SLACK_LIMITS.contextElements) {
          throw new BlockError('invalid_blocks');
        }
        for (const e of els) {
          if (isRecord(e) && e.type === 'image') continue;
          total += textObject(e, SLACK_LIMITS.sectionText);
        }
        break;
      }
      case 'actions': {
        const els = block.elements;
        if (!Array.isArray(els) || els.length === 0 || els.length > SLACK_LIMITS.actionsElements) {
          throw new BlockError('invalid_blocks');
        }
        for (const e of els) {
          if (!isRecord(e) || typeof e.type !== 'string') throw new BlockError('invalid_blocks');
          if (e.type === 'button') total += textObject(e.text, SLACK_LIMITS.buttonText, true);
        }
        break;
      }
      case 'markdown': {
        const t = str(block.text);
        if (t === undefined || t.length === 0 || t.length > SLACK_LIMITS.markdownBlockText) {
          throw new BlockError('invalid_blocks');
        }
        total += t.length;
        break;
      }
      case 'divider':
      case 'image':
      case 'rich_text':
      case 'file':
      case 'video':
      case 'input':
        break;
      default:
        throw new BlockError('invalid_blocks');
    }
  }
  if (total > SLACK_LIMITS.totalBlockText) throw new BlockError('msg_blocks_too_long');
  return total;
}

/** Slack accepts JSON, or a form with the JSON in `payload`. */
export function parseSlackBody(raw: string, contentType: string | undefined): unknown {
  if ((contentType ?? '').toLowerCase().includes('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(raw).get('payload');
    return payload === null ? undefined : tryParseJson(payload);
  }
  return tryParseJson(raw);
}

/**
 * Slack: success is 200 `ok`; failures are a plain-text error string with a 4xx/5xx status, and the rate
 * limit is 429 with Retry-After in seconds.
 */
export function slack(settings: PlatformSettings): Platform {
  const window = new SlidingWindow(SLACK_LIMITS.perWindow, SLACK_LIMITS.windowMs);
  const target = `/services/${settings.token}`;
  const fail = (body: unknown, code: string): Verdict => ({
    accepted: false,
    body,
    reply: text(SLACK_ERROR_STATUS[code] ?? 400, code),
  });
  const rateLimited = (retryAfterMs: number): Reply =>
    text(429, 'rate_limited', { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) });

  const handle = (req: Incoming): Verdict => {
    const body = parseSlackBody(req.raw, req.headers['content-type']);
    if (req.path !== target) return fail(body, 'no_service');
    if (req.method !== 'POST' || !isRecord(body)) return fail(body, 'invalid_payload');
    const { blocks, attachments } = body;
    if (attachments !== undefined) {
      if (!Array.isArray(attachments)) return fail(body, 'invalid_payload');
      if (attachments.length > SLACK_LIMITS.maxAttachments) return fail(body, 'too_many_attachments');
    }
    if (blocks !== undefined) {
      try {
        checkBlocks(blocks);
      } catch (err) {
        if (err instanceof BlockError) return fail(body, err.slackCode);
        throw err;
      }
    }
    const hasText = typeof body.text === 'string' && body.text.trim().length > 0;
    const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
    const hasAttachments = Array.isArray(attachments) && attachments.length > 0;
    if (!hasText && !hasBlocks && !hasAttachments) return fail(body, 'no_text');
    if (settings.rateLimit && !window.tryAcquire(req.now)) {
      return { accepted: false, body, reply: rateLimited(window.waitMs(req.now)) };
    }
    return { accepted: true, body, reply: text(200, 'ok') };
  };

  return {
    target,
    handle,
    rateLimitReply: (ms) => rateLimited(ms ?? 1000),
    codeReply: (code, msg) => {
      if (typeof code === 'number') return text(code, msg ?? String(code));
      const c = code ?? 'rollup_error';
      return text(SLACK_ERROR_STATUS[c] ?? 400, msg ?? c);
    },
    garbageReply: (body) => ({
      status: 200,
      body: body ?? '<!DOCTYPE html><html><body>Loading…</body></html>',
      headers: { 'content-type': 'text/html; charset=utf-8' },
    }),
    reset: () => {
      window.clear();
    },
  };
}
