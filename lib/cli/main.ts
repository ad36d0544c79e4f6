import { runCli } from './program';

/**
 * The `checkwatch` entry point (bundled to dist/cli/checkwatch.cjs, started by bin/checkwatch.cjs).
 * The only place that touches `process`: signals become an AbortSignal, the result an exit code.
 */

const shutdown = new AbortController();
let signals = 0;
const onSignal = (): void => {
  signals += 1;
  // A second Ctrl-C means "now": do not wait for a graceful close.
  if (signals > 1) process.exit(130);
  shutdown.abort(new Error('interrupted'));
};
// `checkwatch check list … | head -1` closes the pipe early: that is the reader's choice, not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  shutdown: shutdown.signal,
  isTTY: process.stdout.isTTY,
})
  .then((code) => {
    // exitCode rather than exit(): let stdout drain when it is a pipe.
    process.exitCode = code;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // A safety net, not the normal path: should a socket or timer outlive the command, still exit.
    setTimeout(() => process.exit(code), 2000).unref();
  })
  .catch((err: unknown) => {
    process.stderr.write(`checkwatch: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
