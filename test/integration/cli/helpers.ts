import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CliIo } from '../../../lib/cli/context';
import type { CliDeps } from '../../../lib/cli/deps';
import { defaultDeps } from '../../../lib/cli/deps';
import { runCli } from '../../../lib/cli/program';

export const ROOT = join(__dirname, '..', '..', '..');
export const BIN = join(ROOT, 'bin', 'checkwatch.cjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output and a literal env. */
export async function runInProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  options: {
    deps?: CliDeps;
    shutdown?: AbortSignal;
    now?: () => number;
    onStdout?: (text: string) => void;
  } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => {
      stdout += t;
      options.onStdout?.(t);
    },
    stderr: (t) => {
      stderr += t;
    },
    env,
    shutdown: options.shutdown ?? new AbortController().signal,
    now: options.now,
  };
  const code = await runCli(args, io, options.deps ?? defaultDeps);
  return { code, stdout, stderr };
}

const homes: string[] = [];

/** Removes the temporary HOME directories {@link isolatedEnv} created. */
export function removeIsolatedHomes(): void {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
}

/**
 * An environment for a spawned CLI that cannot pick up the host's identity: no ALIBABA_CLOUD_* or
 * CHECKWATCH_* from the parent, an empty HOME (no ~/.aliyun), and no ECS metadata probe.
 */
export function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ALIBABA_CLOUD_') && !k.startsWith('CHECKWATCH_')) env[k] = v;
  }
  const home = mkdtempSync(join(tmpdir(), 'checkwatch-home-'));
  homes.push(home);
  return { ...env, HOME: home, USERPROFILE: home, ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true', ...extra };
}

/** Runs the built CLI (bin/checkwatch.cjs) as a child process to completion. */
export function runSpawned(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

export interface SpawnedSim {
  info: {
    endpoint: string;
    accessKeyId: string;
    accessKeySecret: string;
    clusterId?: string;
    checkId?: string;
  };
  /** Sends the signal and resolves with the exit code and signal. */
  stop(
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Spawns `checkwatch sim ...` and waits for its JSON line. */
export function spawnSim(args: readonly string[], env: NodeJS.ProcessEnv): Promise<SpawnedSim> {
  const child = spawn(process.execPath, [BIN, 'sim', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      resolve({
        info: JSON.parse(line),
        stop: async (signal = 'SIGTERM') => {
          child.kill(signal);
          return { ...(await exited), stderr };
        },
      });
    });
    void exited.then(({ code }) => {
      reject(new Error(`checkwatch sim exited before printing its endpoint (code ${code}): ${stderr}`));
    });
  });
}
