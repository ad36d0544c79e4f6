import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config';
import { TEMPLATE_VARIABLES } from '../../../lib/domain/template';

/**
 * "Every command in the README is run by a test or by .ci/run": the README's commands name real
 * subcommands, its quoted `--help` blocks are the real output, the safe commands run and print what the
 * README shows, every relative link resolves, and every configuration example loads.
 */

const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'checkwatch.cjs');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const homes: string[] = [];

/** No ALIBABA_CLOUD_* or CHECKWATCH_* from the parent, an empty HOME, no ECS metadata probe. */
function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ALIBABA_CLOUD_') && !k.startsWith('CHECKWATCH_')) env[k] = v;
  }
  const home = mkdtempSync(join(tmpdir(), 'checkwatch-home-'));
  homes.push(home);
  return { ...env, HOME: home, ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true', ...extra };
}

/** Runs the built CLI (bin/checkwatch.cjs, rebuilt by the global setup) to completion. */
function runSpawned(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', fail);
    child.once('close', (code) => {
      done({ code: code ?? -1, stdout, stderr });
    });
  });
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => join(ROOT, 'docs', f));

interface Block {
  readonly lang: string;
  readonly body: string;
}

/** A quoted help block: `<summary><code>checkwatch … --help</code></summary>` then a text fence. */
const HELP_BLOCK =
  /<summary><code>checkwatch((?: [a-z-]+)*) --help<\/code><\/summary>\s*```text\n([\s\S]*?)```/g;

function helpBlocks(md: string): { path: string[]; text: string }[] {
  return [...md.matchAll(HELP_BLOCK)].map((m) => ({
    path: (m[1] ?? '').trim().split(' ').filter(Boolean),
    text: m[2] ?? '',
  }));
}

function codeBlocks(md: string): Block[] {
  return [...md.matchAll(/^```([a-z]*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1] ?? '',
    body: m[2] ?? '',
  }));
}

/** The README's blocks other than the quoted help (those are compared whole, not run line by line). */
const readmeBlocks = codeBlocks(README.replace(HELP_BLOCK, ''));

/** Every `checkwatch …` invocation in shell-like blocks, as argument lists (quotes dropped). */
function checkwatchCommands(blocks: readonly Block[]): string[][] {
  const out: string[][] = [];
  for (const b of blocks.filter((x) => ['sh', 'console', 'text', ''].includes(x.lang))) {
    const lines = b.body.replace(/\\\n\s*/g, ' ').split('\n');
    for (const raw of lines) {
      const line = raw.replace(/^\$ /, '').replace(/\s#.*$/, '');
      for (const segment of line.split(/&&|\|\||[|;]/)) {
        const words = segment.trim().split(/\s+/);
        while (words[0] !== undefined && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) words.shift();
        if (words[0] === 'npx') words.shift();
        if (words[0] !== 'checkwatch') continue;
        out.push(words.slice(1).map((w) => w.replace(/^["']|["']$/g, '')));
      }
    }
  }
  return out;
}

const helpCache = new Map<string, Promise<CliResult>>();
function help(path: readonly string[]): Promise<CliResult> {
  const key = path.join(' ');
  let p = helpCache.get(key);
  if (p === undefined) {
    p = runSpawned([...path, '--help'], isolatedEnv());
    helpCache.set(key, p);
  }
  return p;
}

/**
 * The subcommand path a command line names, found the way commander resolves it: the first word, then
 * one more word for as long as the help so far says the command has subcommands.
 */
async function subcommandPath(args: readonly string[]): Promise<string[]> {
  const path: string[] = [];
  for (const word of args) {
    if (word.startsWith('-')) break;
    if (path.length > 0 && !/\[command\]$/m.test((await help(path)).stdout.split('\n')[0] ?? '')) break;
    path.push(word);
  }
  return path;
}

const tmp = mkdtempSync(join(tmpdir(), 'checkwatch-docs-'));
const servers: Server[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(tmp, { recursive: true, force: true });
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

/** A loopback chat platform that answers every request with one fixed reply. */
async function replyingServer(status: number, body: string): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/plain' });
      res.end(body);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
}

/** Values for every `{ env: NAME }` a YAML example references. */
function envFor(yaml: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of yaml.matchAll(/env:\s*([A-Za-z_][A-Za-z0-9_]*)/g)) {
    const name = m[1] ?? '';
    env[name] = name.endsWith('SECRET')
      ? 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
      : `https://example.test/${name}`;
  }
  return env;
}

describe('README commands', () => {
  const commands = checkwatchCommands(readmeBlocks);

  it('quotes a good number of checkwatch commands (the extraction works)', () => {
    expect(commands.length).toBeGreaterThan(15);
    expect(commands).toContainEqual(['config', 'check', '--config', 'checkwatch.yaml']);
  });

  it('names only subcommands that exist: `<path> --help` exits 0 and shows that command', async () => {
    const paths = await Promise.all(commands.map(subcommandPath));
    const unique = [...new Set(paths.map((p) => p.join(' ')))].map((k) => k.split(' ').filter(Boolean));
    expect(unique.length).toBeGreaterThan(10);
    const results = await Promise.all(unique.map(async (p) => ({ p, r: await help(p) })));
    for (const { p, r } of results) {
      expect(r.code, `checkwatch ${p.join(' ')} --help`).toBe(0);
      const usage = r.stdout.split('\n')[0] ?? '';
      expect(usage, `checkwatch ${p.join(' ')}`).toMatch(
        new RegExp(`^Usage: checkwatch${p.map((w) => ` ${w}`).join('')} \\[options\\]`),
      );
    }
  });

  it('quotes every --help block exactly as the command prints it', async () => {
    const blocks = helpBlocks(README);
    expect(blocks.map((b) => b.path.join(' '))).toEqual(
      expect.arrayContaining([
        '',
        'run',
        'watch check',
        'watch cluster',
        'serve',
        'config check',
        'channels test',
      ]),
    );
    const results = await Promise.all(blocks.map(async (b) => ({ b, r: await help(b.path) })));
    for (const { b, r } of results) {
      expect(r.code).toBe(0);
      expect(b.text.trimEnd(), `checkwatch ${b.path.join(' ')} --help`).toBe(r.stdout.trimEnd());
    }
  });

  it('prints the package version for `checkwatch --version`', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runSpawned(['--version'], isolatedEnv());
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('accepts the README checkwatch.yaml with `config check`, masking its secrets', async () => {
    const yaml = readmeBlocks.find((b) => b.lang === 'yaml')?.body ?? '';
    expect(yaml).toContain('channels:');
    const file = join(tmp, 'checkwatch.yaml');
    writeFileSync(file, yaml);
    const env = envFor(yaml);
    const r = await runSpawned(['config', 'check', '--config', file], isolatedEnv(env));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('***');
    for (const value of Object.values(env)) expect(r.stdout).not.toContain(value);
    const list = await runSpawned(['channels', 'list', '--config', file], isolatedEnv(env));
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/ops-dingtalk\s+dingtalk\s+yes\s+ops/);
  });

  it('prints exactly the `channels test` verdicts the troubleshooting section quotes', async () => {
    const quoted = [...README.matchAll(/^\$ checkwatch channels test (\S+)\n(.+)$/gm)].map((m) => ({
      name: m[1] ?? '',
      line: m[2] ?? '',
    }));
    expect(quoted.map((q) => q.name)).toEqual(expect.arrayContaining(['ops-dingtalk', 'team-slack']));
    const runs = quoted.map(async ({ name, line }, index) => {
      const said = /\(the platform said: (.+)\)$/.exec(line)?.[1] ?? '';
      const slack = name.includes('slack');
      const base = slack
        ? await replyingServer(404, said)
        : await replyingServer(200, JSON.stringify({ errcode: 310000, errmsg: said }));
      const config = slack
        ? `channels:\n  ${name}:\n    type: slack\n    url: ${base}/services/T000/B000/XXXXXXXXXXXXXXXX\n`
        : `channels:\n  ${name}:\n    type: dingtalk\n    url: ${base}/robot/send?access_token=abcdef0123456789\n    secret: SECabcdef0123456789\n`;
      const file = join(tmp, `${name}-${String(index)}.yaml`);
      writeFileSync(file, config);
      const r = await runSpawned(['channels', 'test', name, '--config', file], isolatedEnv());
      return { line, r };
    });
    for (const { line, r } of await Promise.all(runs)) {
      expect(r.code).toBe(1);
      expect(r.stdout.trim()).toBe(line);
    }
  });
});

describe('README two commands', () => {
  it('are the ones package.json and .ci/run define', () => {
    const first = readmeBlocks.find((b) => b.lang === 'sh')?.body ?? '';
    expect(first).toMatch(/^npm ci && npm run demo\s/m);
    expect(first).toMatch(/^npm test\s/m);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    // `npm run demo` runs `checkwatch demo` (test/integration/cli/demo.test.ts runs it end to end).
    expect(pkg.scripts.demo).toBe('node scripts/demo.mjs');
    expect(readFileSync(join(ROOT, 'scripts', 'demo.mjs'), 'utf8')).toContain("'demo'");
    expect(pkg.scripts.test).toContain('vitest run');
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/^npm ci\b/m);
    expect(ci).toMatch(/^npm test$/m);
  });
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(md: string): Set<string> {
  const out = new Set<string>();
  const withoutCode = md.replace(/^```[\s\S]*?^```$/gm, '');
  for (const m of withoutCode.matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = (m[1] ?? '')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    out.add(slug);
  }
  return out;
}

describe('documentation links', () => {
  it.each([join(ROOT, 'README.md'), ...DOCS])(
    '%s: every relative link points to an existing file and heading',
    (file) => {
      const md = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
      const links = [...md.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '');
      const broken: string[] = [];
      for (const link of links) {
        if (/^[a-z]+:/.test(link)) continue;
        const [target = '', anchor] = link.split('#');
        const path = target === '' ? file : resolve(dirname(file), target);
        if (!existsSync(path)) {
          broken.push(link);
          continue;
        }
        if (
          anchor !== undefined &&
          path.endsWith('.md') &&
          !anchorsOf(readFileSync(path, 'utf8')).has(anchor)
        ) {
          broken.push(link);
        }
      }
      expect(broken).toEqual([]);
    },
  );
});

describe('configuration examples', () => {
  const files = [join(ROOT, 'README.md'), join(ROOT, 'docs', 'CONFIGURATION.md')];
  const examples = files.flatMap((f) =>
    codeBlocks(readFileSync(f, 'utf8'))
      .filter((b) => b.lang === 'yaml')
      .map((b, i) => ({ name: `${f.slice(ROOT.length + 1)} #${String(i + 1)}`, yaml: b.body })),
  );

  it('has examples to check', () => {
    expect(examples.length).toBeGreaterThan(8);
  });

  it.each(examples)('$name loads as a complete configuration', ({ yaml }) => {
    const file = join(tmp, 'example.yaml');
    writeFileSync(file, yaml);
    const loaded = loadConfig({ file, env: envFor(yaml) });
    expect(Object.keys(loaded.config.channels).length).toBeGreaterThan(0);
  });

  it('documents exactly the template variables the renderer knows', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'CONFIGURATION.md'), 'utf8');
    const section = doc.slice(doc.indexOf('| variable | holds |'));
    const documented = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(Object.keys(TEMPLATE_VARIABLES));
  });
});
