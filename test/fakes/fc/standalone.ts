/**
 * `npm run fake -- fc [--port N] [--account-id ID] [--access-key-id AK] [--access-key-secret SK]
 * [--security-token TOKEN] [--print]`: a standalone FC invocation endpoint. `--print` writes one JSON
 * line per accepted invocation to stderr (function, qualifier, task id, body; no headers, so no
 * signature or token).
 */
import { startFcFake, type FcFakeOptions } from './index';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}

export async function start(_name: string, args: string[]): Promise<Record<string, unknown>> {
  const options: FcFakeOptions = {};
  const port = flag(args, '--port');
  if (port !== undefined) {
    if (!/^\d+$/.test(port)) throw new Error(`--port must be a number, got ${port}`);
    options.port = Number(port);
  }
  const accountId = flag(args, '--account-id');
  if (accountId !== undefined) options.accountId = accountId;
  const accessKeyId = flag(args, '--access-key-id');
  if (accessKeyId !== undefined) options.accessKeyId = accessKeyId;
  const accessKeySecret = flag(args, '--access-key-secret');
  if (accessKeySecret !== undefined) options.accessKeySecret = accessKeySecret;
  const securityToken = flag(args, '--security-token');
  if (securityToken !== undefined) options.securityToken = securityToken;

  const fake = await startFcFake(options);
  if (args.includes('--print')) {
    fake.onInvoke((inv) => {
      const { at, functionName, qualifier, taskId, invocationType, body, requestId } = inv;
      process.stderr.write(
        JSON.stringify({ at, functionName, qualifier, taskId, invocationType, requestId, body }) + '\n',
      );
    });
  }
  return {
    endpoint: fake.endpoint,
    accountId: fake.accountId,
    accessKeyId: fake.accessKeyId,
    accessKeySecret: fake.accessKeySecret,
    ...(securityToken === undefined ? {} : { securityToken }),
  };
}
