#!/usr/bin/env node
// Builds the checkwatch CLI (dist/cli) and, unless --cli, one bundle per Function Compute function
// (dist/<fn>/index.js, CommonJS, node20). Prints each artefact's size.
import { build } from 'esbuild';
import { readdirSync, existsSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliOnly = process.argv.includes('--cli');
const quiet = process.argv.includes('--quiet');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
};

/** @type {Array<{name: string, out: string}>} */
const outputs = [];

// The CLI runs from a clone with node_modules present: keep packages external, so the native
// better-sqlite3 addon and lazily loaded SDKs resolve from node_modules as usual.
await build({
  ...common,
  entryPoints: [join(root, 'lib/cli/main.ts')],
  outfile: join(root, 'dist/cli/checkwatch.cjs'),
  packages: 'external',
});
outputs.push({ name: 'cli', out: join(root, 'dist/cli/checkwatch.cjs') });

if (!cliOnly) {
  const fnDir = join(root, 'functions');
  const fns = existsSync(fnDir)
    ? readdirSync(fnDir).filter((f) => existsSync(join(fnDir, f, 'index.ts')))
    : [];
  for (const fn of fns) {
    const outdir = join(root, 'dist', fn);
    mkdirSync(outdir, { recursive: true });
    await build({
      ...common,
      entryPoints: [join(fnDir, fn, 'index.ts')],
      outfile: join(outdir, 'index.js'),
      minify: true,
      // better-sqlite3 is the self-hosted store: never part of a function bundle.
      // proxy-agent is an optional require inside @alicloud/fc2's HTTP stack.
      external: ['better-sqlite3', 'proxy-agent'],
    });
    // dist/<fn> is what Function Compute receives; mark it CommonJS so it also runs from this repo.
    writeFileSync(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
    outputs.push({ name: fn, out: join(outdir, 'index.js') });
  }
}

if (!quiet) {
  for (const { name, out } of outputs) {
    const kb = (statSync(out).size / 1024).toFixed(1);
    console.log(`${name.padEnd(10)} ${out.slice(root.length + 1).padEnd(28)} ${kb.padStart(8)} KiB`);
  }
}
