/**
 * `npm run fake -- <name> [--port N] [...]`: starts one loopback fake standalone, prints one JSON line
 * describing how to reach it (`{"endpoint", ...credentials or secrets}`) and serves until killed.
 * Every fake lives in `test/fakes/<dir>/standalone.ts` and exports `start(args)`.
 */
const FAKES: Record<string, string> = {
  tablestore: './tablestore/standalone',
  fc: './fc/standalone',
  dingtalk: './chat/standalone',
  slack: './chat/standalone',
  feishu: './chat/standalone',
  wecom: './chat/standalone',
  webhook: './chat/standalone',
};

interface FakeModule {
  start(name: string, args: string[]): Promise<Record<string, unknown>>;
}

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const path = name === undefined ? undefined : FAKES[name];
  if (name === undefined || path === undefined) {
    process.stderr.write(`usage: npm run fake -- <${Object.keys(FAKES).join('|')}> [--port N]\n`);
    process.exit(2);
  }
  const mod = (await import(path)) as FakeModule;
  const info = await mod.start(name, args);
  process.stdout.write(JSON.stringify(info) + '\n');
  const stop = (): void => process.exit(0);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`fake failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
