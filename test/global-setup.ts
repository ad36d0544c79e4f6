import { execFileSync } from 'node:child_process';

/** Rebuilds the CLI once per run so end-to-end tests exercise the current sources, not a stale build. */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs', '--cli', '--quiet'], { stdio: 'inherit' });
}
