#!/usr/bin/env node
// `npm run demo`: checkwatch end to end with no cloud account. Starts `checkwatch sim --demo` (a local
// ACK cluster-check simulator), then drives the real CLI against it exactly as a user would against
// ACK: list the checks of the demo cluster, run a ClusterUpgrade check, follow it until it finishes,
// print the result, stop the simulator. Finishes in well under 30 s. Provisional: the full
// poller + notifier demo replaces it.
import { spawn, execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'checkwatch.cjs');
const CHECK_DURATION = '5s';
const POLL_MS = 1000;
const DEADLINE_MS = 25_000;
const started = Date.now();

const say = (text = '') => process.stdout.write(text + '\n');
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;

if (!existsSync(join(root, 'dist', 'cli', 'checkwatch.cjs'))) {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--cli', '--quiet'], {
    stdio: 'inherit',
  });
}

/** Starts the simulator and resolves with its JSON line. */
function startSim() {
  const child = spawn(
    process.execPath,
    [bin, 'sim', '--seed', '1', '--demo', '--check-duration', CHECK_DURATION],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const info = new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      try {
        resolve(JSON.parse(line));
      } catch (err) {
        reject(new Error(`the simulator printed something unexpected: ${line}`, { cause: err }));
      }
    });
    child.once('exit', (code) => reject(new Error(`the simulator exited early (code ${code})`)));
  });
  return { child, info, exited };
}

const sim = startSim();
let exitCode = 1;
try {
  const info = await sim.info;
  const cluster = info.clusterId;
  // Credentials go through the standard env variables, like real ones would.
  const env = {
    ...process.env,
    ALIBABA_CLOUD_ACCESS_KEY_ID: info.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: info.accessKeySecret,
    ALIBABA_CLOUD_SECURITY_TOKEN: '',
  };
  /** Runs the CLI; resolves with { code, stdout, stderr } whatever the exit code. */
  const cli = (...args) =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [bin, ...args, '--endpoint', info.endpoint],
        { env },
        (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
        },
      );
    });
  const must = async (...args) => {
    const r = await cli(...args);
    if (r.code !== 0) throw new Error(`checkwatch ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  };

  say(`checkwatch demo — a local ACK simulator at ${info.endpoint}, demo cluster ${cluster}`);
  say();
  say(`$ checkwatch check list ${cluster}`);
  say((await must('check', 'list', cluster)).trimEnd());
  say();

  say(`$ checkwatch check run ${cluster} --type ClusterUpgrade --next-version 1.32.1-aliyun.1`);
  const run = JSON.parse(
    await must(
      'check',
      'run',
      cluster,
      '--type',
      'ClusterUpgrade',
      '--next-version',
      '1.32.1-aliyun.1',
      '--json',
    ),
  );
  say(`Started ClusterUpgrade check ${run.check_id} (request ${run.request_id})`);
  say();

  say(`Following it with \`checkwatch check get --json\` every ${POLL_MS / 1000}s:`);
  let status = '';
  for (;;) {
    // `check get` exits 1 for a failed check but still prints it: that is a result, not an error.
    const r = await cli('check', 'get', cluster, run.check_id, '--json');
    if ((r.code !== 0 && r.code !== 1) || r.stdout.trim() === '') {
      throw new Error(`checkwatch check get exited ${r.code}: ${r.stderr.trim()}`);
    }
    const detail = JSON.parse(r.stdout);
    if (detail.status !== status) {
      if (status !== '') say();
      status = detail.status;
      process.stdout.write(`  [${elapsed()}] ${status} `);
    } else {
      process.stdout.write('.');
    }
    if (/^(succeeded|failed|error|canceled|cancelled)$/i.test(status)) break;
    if (Date.now() - started > DEADLINE_MS)
      throw new Error(`the check was still ${status} after ${DEADLINE_MS / 1000}s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  say();
  say();

  say(`$ checkwatch check get ${cluster} ${run.check_id}`);
  const final = await cli('check', 'get', cluster, run.check_id);
  say(final.stdout.trimEnd());
  say(`(exit code ${final.code}: 0 when the check succeeded, 1 when it failed)`);
  say();
  exitCode = 0;
} catch (err) {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
} finally {
  sim.child.kill('SIGTERM');
  const { code, signal } = await sim.exited;
  if (code !== 0) {
    process.stderr.write(`the simulator did not stop cleanly (code ${code}, signal ${signal})\n`);
    exitCode = 1;
  }
}
if (exitCode === 0) say(`Simulator stopped. Demo done in ${elapsed()}.`);
process.exit(exitCode);
