#!/usr/bin/env node
// `npm run demo`: checkwatch end to end with no cloud account. Builds the CLI when needed, then runs
// `checkwatch demo` (lib/cli/demo.ts): the ACK simulator, `checkwatch serve` on a temporary SQLite
// store, a local DingTalk + Slack sink, subscriptions through the HTTP API, every delivered message
// printed. Exits with the demo's exit code (0 when every message was delivered).
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (!existsSync(join(root, 'dist', 'cli', 'checkwatch.cjs'))) {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--cli', '--quiet'], {
    stdio: 'inherit',
  });
}

const child = spawn(
  process.execPath,
  [join(root, 'bin', 'checkwatch.cjs'), 'demo', ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
);
// Ctrl-C reaches the child through the terminal's process group; the child stops gracefully.
process.on('SIGINT', () => {});
child.once('exit', (code, signal) => {
  process.exit(code ?? (signal === null ? 1 : 130));
});
