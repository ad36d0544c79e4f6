import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { BIN } from './helpers';

export interface SpawnedServe {
  url: string;
  stderr(): string;
  /** Sends the signal and resolves with how the process ended. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `checkwatch serve --json …` and resolves with the URL from its first stdout line. */
export function spawnServe(args: readonly string[], env: NodeJS.ProcessEnv): Promise<SpawnedServe> {
  const child = spawn(process.execPath, [BIN, 'serve', '--json', '--port', '0', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => {
      resolve({
        url: (JSON.parse(line) as { url: string }).url,
        stderr: () => stderr,
        stop: async (signal = 'SIGTERM') => {
          child.kill(signal);
          return exited;
        },
      });
    });
    void exited.then(({ code }) => {
      reject(new Error(`checkwatch serve exited before printing its URL (code ${code}): ${stderr}`));
    });
  });
}
