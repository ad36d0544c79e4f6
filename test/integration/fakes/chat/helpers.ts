import { request } from 'undici';
import type { ChatFake, ChatFakeOptions } from '../../../fakes/chat/index';
import { startChatFake } from '../../../fakes/chat/index';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as a JSON object (throws when it is not JSON). */
  json(): Record<string, unknown>;
}

/** POSTs `body` (JSON-encoded unless a string) and reads the whole answer. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  method: 'POST' | 'GET' = 'POST',
): Promise<Answer> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await request(url, {
    method,
    ...(method === 'POST' ? { body: raw } : {}),
    headers: { 'content-type': 'application/json', ...headers },
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: () => JSON.parse(text) as Record<string, unknown>,
  };
}

/** A settable clock starting at a fixed instant (2023-11-14T22:13:20Z). */
export function fakeClock(start = 1_700_000_000_000): {
  now: () => number;
  advance(ms: number): void;
  set(ms: number): void;
} {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}

/** Starts fakes and closes them all after each test. */
export function fakes(): { start(o: ChatFakeOptions): Promise<ChatFake>; closeAll(): Promise<void> } {
  const open: ChatFake[] = [];
  return {
    start: async (o) => {
      const f = await startChatFake(o);
      open.push(f);
      return f;
    },
    closeAll: async () => {
      await Promise.all(open.splice(0).map((f) => f.close()));
    },
  };
}
