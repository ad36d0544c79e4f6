/**
 * `npm run fake -- tablestore [--port N] [--latency MS] [--instance NAME]`: serves the Tablestore fake
 * until killed. The printed credentials are the fake's own test values, never real ones.
 */
import { InputError } from '../../../lib/errors';
import { type TablestoreFake, startTablestoreFake } from './index';

function numberArg(args: string[], flag: string): number | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const raw = args[i + 1];
  const n = raw === undefined ? Number.NaN : Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new InputError(`${flag} expects a non-negative integer, got ${raw ?? 'nothing'}`);
  return n;
}

function stringArg(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const raw = args[i + 1];
  if (raw === undefined || raw.startsWith('--')) throw new InputError(`${flag} expects a value`);
  return raw;
}

/** Starts the fake from command-line flags (`--port N`, `--latency MS`, `--instance NAME`). */
export async function startFromArgs(args: string[]): Promise<TablestoreFake> {
  const port = numberArg(args, '--port');
  const latencyMs = numberArg(args, '--latency');
  const instanceName = stringArg(args, '--instance');
  return startTablestoreFake({
    ...(port === undefined ? {} : { port }),
    ...(latencyMs === undefined ? {} : { latencyMs }),
    ...(instanceName === undefined ? {} : { instanceName }),
  });
}

/** The launcher's entry point (test/fakes/main.ts): starts the fake and returns how to reach it. */
export async function start(_name: string, args: string[]): Promise<Record<string, unknown>> {
  const fake = await startFromArgs(args);
  return {
    endpoint: fake.endpoint,
    instanceName: fake.instanceName,
    accessKeyId: fake.accessKeyId,
    accessKeySecret: fake.accessKeySecret,
  };
}
