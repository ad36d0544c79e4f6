/**
 * The Channel port: one narrow interface over every chat platform (STYLE.md 2). A channel renders a
 * message (pure, size-aware) and sends a rendered message, classifying the platform's reply by its own
 * body code — a 200 that carries an error code is never "delivered" (reference/chat-channels.md).
 *
 * Delivery policy (claims, retries, digests, rate limiting) belongs to the notifier; a channel makes one
 * attempt per `send` and says what happened.
 */
import type { Dispatcher } from 'undici';
import type { CheckMessage, DigestMessage, Language } from '../domain/message';
import { ConfigError } from '../errors';
import type { Logger } from '../log';
import { DingTalkChannel } from './dingtalk';
import { FeishuChannel } from './feishu';
import { SlackChannel } from './slack';
import { WebhookChannel } from './webhook';
import { WeComChannel } from './wecom';

export type ChannelType = 'dingtalk' | 'slack' | 'feishu' | 'wecom' | 'webhook';
export const CHANNEL_TYPES = [
  'dingtalk',
  'slack',
  'feishu',
  'wecom',
  'webhook',
] as const satisfies readonly ChannelType[];

/** What one send attempt achieved. */
export type SendResult =
  | { kind: 'delivered'; platformCode?: string | number; platformText?: string }
  | {
      kind: 'retry';
      /** Earliest time worth retrying (epoch ms); the notifier may wait longer (backoff). */
      at: number;
      /** Why, in plain words (safe to store and show: no URL, no secret). */
      reason: string;
      platformCode?: string | number;
      platformText?: string;
      /**
       * The request may have reached the platform (timeout or reset after sending): a resend may
       * duplicate the message, so it must carry the same idempotency key.
       */
      unknownOutcome?: boolean;
    }
  | {
      kind: 'permanent';
      platformCode?: string | number;
      /** The platform's own text (or a description of the reply), never containing a secret. */
      platformText: string;
      /** Plain-words advice, e.g. "DingTalk refused: sign not match — check the secret and the machine clock". */
      hint: string;
    };

export interface MentionConfig {
  /** Mention only when the outcome is not `passed` (default false: mention on every message). */
  onFailureOnly?: boolean | undefined;
  /** DingTalk: phone numbers (`atMobiles` + `@mobile` in the text). */
  mobiles?: string[] | undefined;
  /** DingTalk `atUserIds`, WeCom `<@userid>`, Feishu open ids (`ou_…`, or `all`). */
  userIds?: string[] | undefined;
  /** Slack member ids (`U…`), `here`/`channel`/`everyone`, or `subteam^S…` for user groups. */
  slackIds?: string[] | undefined;
}

interface CommonChannelConfig {
  /** Unique name, used in routes, logs and delivery records. */
  name: string;
  /** The webhook URL. For DingTalk/WeCom/Slack/Feishu the URL itself is a secret. */
  url: string;
  language: Language;
  /** Logic-less title template (lib/domain/template.ts). */
  titleTemplate?: string | undefined;
  /** Logic-less body template, in the platform's markup (lib/domain/template.ts). */
  bodyTemplate?: string | undefined;
  mentions?: MentionConfig | undefined;
  /** cluster id → display name, used when the message carries no name. */
  clusterNames?: Record<string, string> | undefined;
  /** Overall timeout of one send, connect included (default 10 s). */
  timeoutMs?: number | undefined;
}

export interface DingTalkChannelConfig extends CommonChannelConfig {
  type: 'dingtalk';
  /** The robot's "sign" secret (`SEC…`), when its security setting is sign. */
  secret?: string | undefined;
  /** One of the robot's security keywords: it is put into every message. */
  keyword?: string | undefined;
  /** `markdown` (default; supports @mentions) or `actionCard` (a console button; DingTalk cannot @ in it). */
  format?: 'markdown' | 'actionCard' | undefined;
}
export interface SlackChannelConfig extends CommonChannelConfig {
  type: 'slack';
}
export interface FeishuChannelConfig extends CommonChannelConfig {
  type: 'feishu';
  /** The bot's signature secret, when signature verification is on. */
  secret?: string | undefined;
  /** One of the bot's keywords, when keyword security is on: it is put into every message. */
  keyword?: string | undefined;
}
export interface WeComChannelConfig extends CommonChannelConfig {
  type: 'wecom';
}
export interface WebhookChannelConfig extends CommonChannelConfig {
  type: 'webhook';
  /** Standard Webhooks secret, `whsec_<base64>`. */
  secret: string;
}

export type ChannelConfig =
  | DingTalkChannelConfig
  | SlackChannelConfig
  | FeishuChannelConfig
  | WeComChannelConfig
  | WebhookChannelConfig;

export interface SendContext {
  /** Epoch ms at the start of the attempt (signatures are computed from it; `at` is relative to it). */
  now: number;
  /** Stable per (check, channel) across retries: DingTalk `msgUuid`, Standard Webhooks `webhook-id`. */
  idempotencyKey: string;
  signal?: AbortSignal | undefined;
}

/** A rendered platform payload, ready to send. Pure data: rendering twice gives the same bytes. */
export interface RenderedMessage {
  /** The JSON request body (before send-time fields: DingTalk `msgUuid`, Feishu `timestamp`/`sign`). */
  body: string;
  /** UTF-8 length of `body`. */
  bytes: number;
  /** True when something was cut to fit the platform's limits ("and N more"). */
  truncated: boolean;
}

export interface RateLimit {
  windowMs: number;
  max: number;
}

export interface Channel {
  readonly name: string;
  readonly type: ChannelType;
  /** Messages per window the platform allows, for the notifier's rate limiting (all must hold). */
  readonly rateLimits: readonly RateLimit[];
  /** Pure: no I/O, no clock. */
  render(msg: CheckMessage | DigestMessage): RenderedMessage;
  /** One attempt. Never throws for platform or network failures: they come back as a {@link SendResult}. */
  send(rendered: RenderedMessage, ctx: SendContext): Promise<SendResult>;
}

export interface ChannelDeps {
  /** Shared connection pool; when absent each channel makes its own with a connect timeout. */
  dispatcher?: Dispatcher | undefined;
  log?: Logger | undefined;
}

/** Builds the channel for a validated config. */
export function createChannel(config: ChannelConfig, deps: ChannelDeps = {}): Channel {
  switch (config.type) {
    case 'dingtalk':
      return new DingTalkChannel(config, deps);
    case 'slack':
      return new SlackChannel(config, deps);
    case 'feishu':
      return new FeishuChannel(config, deps);
    case 'wecom':
      return new WeComChannel(config, deps);
    case 'webhook':
      return new WebhookChannel(config, deps);
    default: {
      const unreachable: never = config;
      throw new ConfigError(`unknown channel type ${String((unreachable as { type: unknown }).type)}`, {
        path: 'channels[].type',
      });
    }
  }
}
