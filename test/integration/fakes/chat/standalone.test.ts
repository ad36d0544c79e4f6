import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dingtalkSign } from '../../../fakes/chat/index';
import { post } from './helpers';

const ROOT = join(__dirname, '../../../..');
let child: ChildProcessWithoutNullStreams | undefined;

afterEach(() => {
  if (child !== undefined && child.exitCode === null) child.kill('SIGTERM');
  child = undefined;
});

/** Resolves with everything read from `stream` once `test` matches it (an event, not a sleep). */
function until(stream: NodeJS.ReadableStream, test: (s: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString('utf8');
      if (test(buf)) {
        stream.off('data', onData);
        resolve(buf);
      }
    };
    stream.on('data', onData);
    stream.once('end', () => {
      reject(new Error(`stream ended before match: ${buf}`));
    });
  });
}

describe('npm run fake -- dingtalk', () => {
  it('prints the endpoint, secret and keyword, then renders each accepted message on stderr', async () => {
    child = spawn(
      process.execPath,
      [
        join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
        'test/fakes/main.ts',
        'dingtalk',
        '--secret',
        'SECtest',
        '--keyword',
        'checkwatch',
      ],
      { cwd: ROOT, stdio: 'pipe' },
    );
    const line = await until(child.stdout, (s) => s.includes('\n'));
    const info = JSON.parse(line.split('\n')[0]!);
    expect(info).toMatchObject({ platform: 'dingtalk', secret: 'SECtest', keyword: 'checkwatch' });
    expect(info.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/robot\/send\?access_token=[0-9a-f]{64}$/);

    const rendered = until(child.stderr, (s) => s.includes('prod-1 passed'));
    const ts = Date.now();
    const res = await post(
      `${info.endpoint}&timestamp=${ts}&sign=${encodeURIComponent(dingtalkSign(ts, 'SECtest'))}`,
      {
        msgtype: 'markdown',
        markdown: { title: 'checkwatch', text: '### checkwatch\n**prod-1 passed**' },
      },
    );
    expect(res.json()).toEqual({ errcode: 0, errmsg: 'ok' });
    const err = await rendered;
    expect(err).toMatch(/── dingtalk · \d\d:\d\d:\d\d ──\n {2}checkwatch\n {2}prod-1 passed/);
  });
});
