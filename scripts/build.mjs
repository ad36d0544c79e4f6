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
  // The tablestore SDK is sloppy-mode code that assigns undeclared variables (e.g. `key` in
  // plian_buffer_builder.js): tsconfig's `strict` would make esbuild emit "use strict" over the whole
  // bundle and break it. Our own code is checked strict by tsc; the bundle must not force it.
  tsconfigRaw: { compilerOptions: { alwaysStrict: false, strict: false } },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
};

/** Resolves `@alicloud/fc2` in function bundles to the sibling file built from scripts/fc2-entry.cjs. */
const lazyFc2 = {
  name: 'lazy-fc2',
  setup(b) {
    b.onResolve({ filter: /^@alicloud\/fc2$/ }, () => ({ path: './fc2.js', external: true }));
  },
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
    outputs.push({ name: fn, out: join(outdir, 'index.js') });
    const result = await build({
      ...common,
      entryPoints: [join(fnDir, fn, 'index.ts')],
      outfile: join(outdir, 'index.js'),
      minify: true,
      metafile: true,
      // better-sqlite3 is the self-hosted store: never part of a function bundle.
      external: ['better-sqlite3'],
      plugins: [lazyFc2],
    });
    // @alicloud/fc2 (with ali-oss, urllib, iconv-lite: ~0.8 MB) is only needed when dispatching, and
    // lib/dispatch/fc.ts imports it lazily: ship it as a separate file next to index.js, so that a cold
    // start that never dispatches (an idle poll, every API call) neither reads nor parses it.
    if (Object.keys(result.metafile.inputs).some((f) => f.includes('lib/dispatch/fc.ts'))) {
      await build({
        ...common,
        entryPoints: [join(root, 'scripts', 'fc2-entry.cjs')],
        outfile: join(outdir, 'fc2.js'),
        minify: true,
        // proxy-agent is an optional require inside @alicloud/fc2's HTTP stack.
        external: ['proxy-agent'],
      });
      outputs.push({ name: `${fn} (fc2)`, out: join(outdir, 'fc2.js') });
    }
    // dist/<fn> is what Function Compute receives; mark it CommonJS so it also runs from this repo.
    writeFileSync(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
  }
}

if (!quiet) {
  for (const { name, out } of outputs) {
    const kb = (statSync(out).size / 1024).toFixed(1);
    console.log(`${name.padEnd(10)} ${out.slice(root.length + 1).padEnd(28)} ${kb.padStart(8)} KiB`);
  }
}
