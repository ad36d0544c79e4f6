import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultSchedule } from './faults';
import { dingtalk } from './platforms/dingtalk';
import { feishu } from './platforms/feishu';
import { parseSlackBody, slack } from './platforms/slack';
import { webhook } from './platforms/webhook';
import { wecom } from './platforms/wecom';
import { ALNUM, HEX, UPPER_ALNUM, randomString, randomUuid, seededRandom } from './random';
import type {
  ChatFake,
  ChatFakeOptions,
  ChatFault,
  ChatPlatform,
  Incoming,
  Platform,
  PlatformSettings,
  ReceivedMessage,
  Reply,
  Verdict,
} from './types';
import { GATEWAY_HTML, text, tryParseJson } from './util';

/**
 * Loopback fakes of the DingTalk, Slack, Feishu/Lark and WeCom robots and of a Standard Webhooks
 * receiver. They verify signatures and keywords, enforce each platform's rate and size limits with its
 * real codes and statuses, inject faults, and record every request.
 */

export type {
  ChatFake,
  ChatFakeOptions,
  ChatFault,
  ChatFaultKind,
  ChatPlatform,
  ReceivedMessage,
} from './types';
export { CHAT_PLATFORMS } from './types';
export { describeMessage, markdownToPlain, mrkdwnToPlain } from './describe';
export { dingtalkSign, feishuSign, standardWebhookSign } from './sign';
export { DINGTALK_LIMITS } from './platforms/dingtalk';
export { SLACK_LIMITS } from './platforms/slack';
export { FEISHU_LIMITS } from './platforms/feishu';
export { WECOM_LIMITS } from './platforms/wecom';
export { WEBHOOK_LIMITS } from './platforms/webhook';

/** Options beyond the pinned ones, used by the standalone sink. */
export interface ChatFakeExtraOptions {
  /** Called for every request once it has been decided (before any delayed answer is sent). */
  onMessage?: (message: ReceivedMessage) => void;
}

/** A gateway refuses bodies this large before any platform logic sees them. */
const MAX_REQUEST_BYTES = 1024 * 1024;
const DEFAULT_SEED = 0x5eed;
const DEFAULT_SLOW_MS = 500;

function generatedSecret(platform: ChatPlatform, rnd: () => number): string | undefined {
  switch (platform) {
    case 'dingtalk':
      return 'SEC' + randomString(rnd, 64, HEX);
    case 'feishu':
      return randomString(rnd, 22, ALNUM);
    case 'webhook':
      return 'whsec_' + Buffer.from(randomString(rnd, 24, ALNUM)).toString('base64');
    case 'slack':
    case 'wecom':
      return undefined;
  }
}

function generatedToken(platform: ChatPlatform, rnd: () => number): string {
  switch (platform) {
    case 'dingtalk':
      return randomString(rnd, 64, HEX);
    case 'slack':
      return `T0${randomString(rnd, 9, UPPER_ALNUM)}/B0${randomString(rnd, 9, UPPER_ALNUM)}/${randomString(rnd, 24, ALNUM)}`;
    case 'feishu':
      return randomUuid(rnd);
    case 'wecom':
      return randomUuid(rnd);
    case 'webhook':
      return '';
  }
}

function settingsFor(options: ChatFakeOptions, rnd: () => number, clock: () => number): PlatformSettings {
  const { platform } = options;
  // Draw both so that passing one does not change the other for a given seed.
  const secret = generatedSecret(platform, rnd);
  const token = generatedToken(platform, rnd);
  const usesSecret = platform === 'dingtalk' || platform === 'feishu' || platform === 'webhook';
  const chosen = options.secret ?? secret;
  return {
    secret: usesSecret && chosen !== undefined && chosen !== '' ? chosen : undefined,
    keyword: options.keyword !== undefined && options.keyword !== '' ? options.keyword : undefined,
    token: options.token ?? token,
    rateLimit: options.rateLimit ?? true,
    clock,
  };
}

function platformFor(name: ChatPlatform, settings: PlatformSettings): Platform {
  switch (name) {
    case 'dingtalk':
      return dingtalk(settings);
    case 'slack':
      return slack(settings);
    case 'feishu':
      return feishu(settings);
    case 'wecom':
      return wecom(settings);
    case 'webhook':
      return webhook(settings);
  }
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** When the answer goes out: now, after a delay, or never (the client is left to time out). */
type Timing = { kind: 'now' } | { kind: 'after'; ms: number } | { kind: 'never' };

interface Decision {
  verdict: Verdict;
  timing: Timing;
}

/** The reply of a fault that replaces the platform; undefined for the ones that only delay it. */
function faultReply(fault: ChatFault, platform: Platform): Reply | undefined {
  switch (fault.kind) {
    case '5xx': {
      const status =
        typeof fault.code === 'number' && fault.code >= 500 && fault.code <= 599 ? fault.code : 503;
      return text(status, fault.text ?? (status === 502 ? 'Bad Gateway' : 'Service Unavailable'));
    }
    case 'html':
      return { status: 502, body: GATEWAY_HTML, headers: { 'content-type': 'text/html' } };
    case 'garbage':
      return platform.garbageReply(fault.text);
    case 'empty':
      return { status: 200, body: '', headers: { 'content-type': 'application/json' } };
    case 'rateLimit':
      return platform.rateLimitReply(fault.delayMs);
    case 'code':
      return platform.codeReply(fault.code, fault.text);
    case 'slow':
    case 'timeoutAfterReceipt':
      return undefined;
  }
}

/**
 * Starts a chat platform fake on 127.0.0.1. Every request is recorded in `received`; those the
 * platform would have shown are also in `accepted`.
 *
 * Faults: 'slow' and 'timeoutAfterReceipt' let the platform process (and possibly accept) the message
 * and only hold the answer back, which is the unknown-outcome case; every other fault replaces the
 * platform entirely (a gateway or platform failure), so the message is not accepted and does not count
 * toward rate limits.
 */
export async function startChatFake(options: ChatFakeOptions & ChatFakeExtraOptions): Promise<ChatFake> {
  const clock = options.clock ?? Date.now;
  const seed = options.seed ?? DEFAULT_SEED;
  const settings = settingsFor(options, seededRandom(seed), clock);
  const platform = platformFor(options.platform, settings);
  const faults = new FaultSchedule(seededRandom(seed ^ 0x9e3779b9));
  const received: ReceivedMessage[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const decide = (incoming: Incoming, fault: ChatFault | undefined): Decision => {
    if (fault === undefined) return { verdict: platform.handle(incoming), timing: { kind: 'now' } };
    switch (fault.kind) {
      case 'slow':
        return {
          verdict: platform.handle(incoming),
          timing: { kind: 'after', ms: fault.delayMs ?? DEFAULT_SLOW_MS },
        };
      case 'timeoutAfterReceipt':
        return {
          verdict: platform.handle(incoming),
          timing: fault.delayMs === undefined ? { kind: 'never' } : { kind: 'after', ms: fault.delayMs },
        };
      case '5xx':
      case 'html':
      case 'garbage':
      case 'empty':
      case 'rateLimit':
      case 'code': {
        const body =
          options.platform === 'slack'
            ? parseSlackBody(incoming.raw, incoming.headers['content-type'])
            : tryParseJson(incoming.raw);
        const reply = faultReply(fault, platform) ?? text(500, 'fault');
        return { verdict: { accepted: false, body, reply }, timing: { kind: 'now' } };
      }
    }
  };

  const send = (res: ServerResponse, reply: Reply): void => {
    if (res.destroyed || res.writableEnded) return;
    const headers: Record<string, string | number> = { ...(reply.headers ?? {}) };
    if (reply.status !== 204 && reply.status !== 304)
      headers['content-length'] = Buffer.byteLength(reply.body);
    res.writeHead(reply.status, headers);
    res.end(reply.status === 204 || reply.status === 304 ? undefined : reply.body);
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    }
    const buf = Buffer.concat(chunks);
    const raw = buf.toString('utf8');
    const now = clock();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const headers = flattenHeaders(req);
    const incoming: Incoming = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers,
      raw,
      bytes: size,
      now,
    };
    const { verdict, timing } =
      size > MAX_REQUEST_BYTES
        ? {
            verdict: { accepted: false, body: undefined, reply: text(413, 'Request Entity Too Large') },
            timing: { kind: 'now' } as const,
          }
        : decide(incoming, faults.take());
    const message: ReceivedMessage = {
      at: now,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body: verdict.body,
      raw,
      accepted: verdict.accepted,
      reply:
        timing.kind === 'never'
          ? { status: 0, body: '' }
          : { status: verdict.reply.status, body: verdict.reply.body },
    };
    received.push(message);
    options.onMessage?.(message);
    switch (timing.kind) {
      case 'now':
        send(res, verdict.reply);
        break;
      case 'after': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send(res, verdict.reply);
        }, timing.ms);
        timers.add(timer);
        break;
      }
      case 'never':
        // Held open until the client gives up or the fake closes.
        break;
    }
  };

  const server = createServer((req, res) => {
    onRequest(req, res).catch(() => {
      // The client went away mid-body; nothing to record or answer.
      res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}${platform.target}`;
  let closed: Promise<void> | undefined;

  const fake: ChatFake = {
    platform: options.platform,
    url,
    ...(settings.secret === undefined ? {} : { secret: settings.secret }),
    ...(settings.keyword === undefined ? {} : { keyword: settings.keyword }),
    get received() {
      return received;
    },
    get accepted() {
      return received.filter((m) => m.accepted);
    },
    injectFault: (f) => faults.add(f),
    clearFaults: () => {
      faults.clear();
    },
    reset: () => {
      received.length = 0;
      faults.clear();
      platform.reset();
    },
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
      return closed;
    },
  };
  return fake;
}
