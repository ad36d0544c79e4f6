import { CHAT_PLATFORMS, describeMessage, startChatFake } from './index';
import type { ChatFakeOptions, ChatPlatform, ReceivedMessage } from './index';

/**
 * `npm run fake -- dingtalk|slack|feishu|wecom|webhook [--port N] [--secret S] [--keyword K]
 * [--token T] [--no-rate-limit] [--quiet]`: a local chat sink. Prints the JSON line with the endpoint
 * (test/fakes/main.ts) and then every message the platform would show, rendered as plain text on stderr.
 */

function isPlatform(name: string): name is ChatPlatform {
  return (CHAT_PLATFORMS as readonly string[]).includes(name);
}

/** Parses the standalone arguments; throws on anything it does not know (a typo should not pass). */
export function parseArgs(name: string, args: readonly string[]): ChatFakeOptions & { quiet: boolean } {
  if (!isPlatform(name)) throw new Error(`unknown chat platform "${name}" (${CHAT_PLATFORMS.join('|')})`);
  const options: ChatFakeOptions & { quiet: boolean } = { platform: name, quiet: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--port': {
        const port = Number(value());
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0..65535');
        options.port = port;
        break;
      }
      case '--secret':
        options.secret = value();
        break;
      case '--keyword':
        options.keyword = value();
        break;
      case '--token':
        options.token = value();
        break;
      case '--seed':
        options.seed = Number(value());
        break;
      case '--no-rate-limit':
        options.rateLimit = false;
        break;
      case '--quiet':
        options.quiet = true;
        break;
      default:
        throw new Error(`unknown argument "${arg}"`);
    }
  }
  return options;
}

/** The sink's rendering of one accepted message: a header line, then the message indented. */
export function formatForSink(platform: ChatPlatform, m: ReceivedMessage): string {
  const time = new Date(m.at).toISOString().slice(11, 19);
  const lines = describeMessage(platform, m.body).split('\n');
  return [`── ${platform} · ${time} ──`, ...lines.map((l) => `  ${l}`), ''].join('\n');
}

/** Entry point used by test/fakes/main.ts. */
export async function start(name: string, args: string[]): Promise<Record<string, unknown>> {
  const { quiet, ...options } = parseArgs(name, args);
  const platform = options.platform;
  const fake = await startChatFake({
    ...options,
    onMessage: (m) => {
      if (m.accepted && !quiet) process.stderr.write(formatForSink(platform, m) + '\n');
      else if (!m.accepted && !quiet) {
        process.stderr.write(`── ${platform} refused: ${m.reply.status} ${m.reply.body.slice(0, 200)}\n`);
      }
    },
  });
  return {
    endpoint: fake.url,
    platform,
    ...(fake.secret === undefined ? {} : { secret: fake.secret }),
    ...(fake.keyword === undefined ? {} : { keyword: fake.keyword }),
  };
}
