/**
 * A minimal local chat sink for `checkwatch demo`: one loopback HTTP server with a DingTalk robot
 * endpoint and a Slack incoming-webhook endpoint that check requests the way the platforms do (DingTalk:
 * access token, millisecond timestamp within an hour, HMAC-SHA256 sign; Slack: the secret hook path and
 * a JSON payload with text or blocks) and answer in the platform's own words (DingTalk errcode in a
 * 200, Slack plain-text bodies). Each accepted message is handed to `onMessage` as the plain text a
 * person would read. The full-fidelity fakes (rate limits, faults, every platform) are in test/fakes/chat.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type SinkPlatform = 'dingtalk' | 'slack';

export interface SinkMessage {
  readonly platform: SinkPlatform;
  /** What the chat shows, as plain text: the title line first. */
  readonly text: string;
}

export interface ChatSink {
  /** DingTalk robot URL, `…/robot/send?access_token=…`; sign with {@link ChatSink.dingtalkSecret}. */
  readonly dingtalkUrl: string;
  /** The robot's `SEC…` sign secret. */
  readonly dingtalkSecret: string;
  /** Slack incoming-webhook URL, `…/services/T…/B…/…`. */
  readonly slackUrl: string;
  /** Every accepted message, in arrival order. */
  readonly accepted: readonly SinkMessage[];
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;
const HOUR_MS = 3_600_000;

function token(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** DingTalk's sign: base64(HMAC-SHA256(key = secret, msg = timestamp + "\n" + secret)). */
export function dingtalkSignature(timestamp: string, secret: string): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** DingTalk markdown as read in the client: no heading marks, bold, escapes or link targets. */
export function plainMarkdown(md: string): string {
  return md
    .replace(/^#{1,6}\s*/gm, '')
    .replace(/\*\*(.+?)\*\*/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\\([[\]\\*_#`])/g, '$1')
    .trim();
}

/** Slack mrkdwn as read in the client. */
export function plainMrkdwn(s: string): string {
  return s
    .replace(/<([^|>]+)\|([^>]+)>/g, '$2')
    .replace(/<(?:@|!)([^>]+)>/g, '@$1')
    .replace(/(^|[\s(])\*([^*\n]+)\*/g, '$1$2')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function describeDingTalk(body: Record<string, unknown>): string | undefined {
  const type = str(body.msgtype);
  const part = body[type];
  if (!isRecord(part)) return undefined;
  switch (type) {
    case 'markdown':
    case 'actionCard':
      return plainMarkdown(str(part.text)) || undefined;
    case 'text':
      return str(part.content) || undefined;
    default:
      return undefined;
  }
}

function describeSlack(body: Record<string, unknown>): string | undefined {
  const lines: string[] = [];
  const blocks = Array.isArray(body.blocks) ? body.blocks : [];
  for (const block of blocks) {
    if (!isRecord(block)) continue;
    if (isRecord(block.text)) lines.push(plainMrkdwn(str(block.text.text)));
    if (Array.isArray(block.fields)) {
      for (const f of block.fields) if (isRecord(f)) lines.push(plainMrkdwn(str(f.text)).replace('\n', ': '));
    }
    if (Array.isArray(block.elements)) {
      const parts = block.elements.filter(isRecord).map((e) => plainMrkdwn(str(e.text)));
      if (parts.some((p) => p !== '')) lines.push(parts.join('  '));
    }
  }
  const text = lines.filter((l) => l.trim() !== '').join('\n');
  return text !== '' ? text : str(body.text) || undefined;
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts the sink on 127.0.0.1 (any free port). `now` is the clock the DingTalk timestamp window is
 * checked against.
 */
export async function startChatSink(
  options: { onMessage?: (msg: SinkMessage) => void; now?: () => number } = {},
): Promise<ChatSink> {
  const now = options.now ?? (() => Date.now());
  const dingtalkToken = token(16);
  const dingtalkSecret = `SEC${token(24)}`;
  const slackPath = `/services/T${token(4).toUpperCase()}/B${token(4).toUpperCase()}/${token(12)}`;
  const accepted: SinkMessage[] = [];

  const accept = (msg: SinkMessage): void => {
    accepted.push(msg);
    options.onMessage?.(msg);
  };

  const dingtalk = (url: URL, text: string | undefined): { status: number; body: string } => {
    const reply = (errcode: number, errmsg: string): { status: number; body: string } => ({
      status: 200,
      body: JSON.stringify({ errcode, errmsg }),
    });
    if (!sameText(url.searchParams.get('access_token') ?? '', dingtalkToken)) {
      return reply(300001, 'token is not exist');
    }
    const ts = url.searchParams.get('timestamp') ?? '';
    const sign = url.searchParams.get('sign') ?? '';
    if (!/^\d{13}$/.test(ts) || Math.abs(now() - Number(ts)) > HOUR_MS) {
      return reply(310000, 'invalid timestamp');
    }
    if (!sameText(sign, dingtalkSignature(ts, dingtalkSecret))) return reply(310000, 'sign not match');
    const body = text === undefined ? undefined : parseJson(text);
    if (body === undefined) return reply(40035, 'invalid json');
    const shown = describeDingTalk(body);
    if (shown === undefined) return reply(400105, 'unsupported msgtype');
    accept({ platform: 'dingtalk', text: shown });
    return reply(0, 'ok');
  };

  const slack = (text: string | undefined): { status: number; body: string } => {
    const body = text === undefined ? undefined : parseJson(text);
    if (body === undefined) return { status: 400, body: 'invalid_payload' };
    const shown = describeSlack(body);
    if (shown === undefined) return { status: 400, body: 'no_text' };
    accept({ platform: 'slack', text: shown });
    return { status: 200, body: 'ok' };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sink');
    const text = await readBody(req);
    let out: { status: number; body: string; type?: string };
    if (req.method !== 'POST') out = { status: 405, body: 'method not allowed' };
    else if (url.pathname === '/robot/send') out = { ...dingtalk(url, text), type: 'application/json' };
    else if (url.pathname === slackPath) out = slack(text);
    else if (url.pathname.startsWith('/services/')) out = { status: 404, body: 'no_service' };
    else out = { status: 404, body: 'not found' };
    res.writeHead(out.status, { 'content-type': out.type ?? 'text/plain; charset=utf-8' });
    res.end(out.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${String(port)}`;
  return {
    dingtalkUrl: `${base}/robot/send?access_token=${dingtalkToken}`,
    dingtalkSecret,
    slackUrl: `${base}${slackPath}`,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
