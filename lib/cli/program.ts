import { Command, CommanderError } from 'commander';
import { version } from '../../package.json';
import { isAppError } from '../errors';
import { registerCheckCommands, ENV_ENDPOINT, ENV_LOG_LEVEL, ENV_REGION } from './check';
import type { CliIo, ExitCode } from './context';
import { CliExit, createContext, describeFailure, EXIT, EXIT_CODES_HELP } from './context';
import type { CliDeps } from './deps';
import { defaultDeps } from './deps';
import { registerSimCommand } from './sim';
import { registerConfigCommands } from './config';
import { registerChannelCommands } from './channels';
import { registerInitCommand } from './init';
import { registerWatchCommands } from './watch';
import { registerServeCommand } from './serve';
import { registerDemoCommand } from './demo';

/**
 * The `checkwatch` program: one commander tree built per run from a {@link CliIo}, so tests run it
 * in-process with captured output. Each command group registers itself from its own file.
 */

export const PROGRAM_HELP_AFTER = `
Examples:
  checkwatch check run c0123456789abcdef0123456789abcdef --type ClusterUpgrade --region cn-hangzhou
  checkwatch check get c0123456789abcdef0123456789abcdef <check-id> --region cn-hangzhou
  checkwatch check list c0123456789abcdef0123456789abcdef --json
  checkwatch run c0123456789abcdef0123456789abcdef --type ClusterUpgrade --wait   # a CI gate
  checkwatch watch cluster c0123456789abcdef0123456789abcdef --route ops
  checkwatch serve --config checkwatch.yaml     # poller + notifier + HTTP API, SQLite
  checkwatch demo                               # everything locally, no cloud account needed

Credentials (the standard Alibaba Cloud chain):
  ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET [, ALIBABA_CLOUD_SECURITY_TOKEN],
  else RRSA/OIDC (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE),
  an aliyun CLI profile (~/.aliyun/config.json, ALIBABA_CLOUD_PROFILE), ~/.alibabacloud/credentials,
  or the ECS RAM role.

Environment:
  ${ENV_REGION}        default for --region (then ALIBABA_CLOUD_REGION_ID)
  ${ENV_ENDPOINT}  default for --endpoint
  ${ENV_LOG_LEVEL}     error (default), warn, info or debug: JSON log lines on stderr

${EXIT_CODES_HELP}`;

/** Builds the command tree. Errors surface from `parseAsync` (commander's own ones as CommanderError). */
export function buildProgram(
  io: CliIo,
  deps: CliDeps = defaultDeps,
): { program: Command; ctx: ReturnType<typeof createContext> } {
  const ctx = createContext(io);
  const program = new Command('checkwatch')
    .description('Know the moment an Alibaba Cloud ACK cluster check finishes.')
    .version(version, '-V, --version', 'print the checkwatch version')
    .helpOption('-h, --help', 'show help for a command')
    // Commander would call process.exit; we map its outcome to our exit codes instead.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => {
        io.stdout(text);
      },
      writeErr: (text) => {
        io.stderr(text);
      },
    })
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .addHelpText('after', PROGRAM_HELP_AFTER);
  registerCheckCommands(program, ctx, deps);
  registerSimCommand(program, ctx, deps);
  registerWatchCommands(program, ctx, deps);
  registerServeCommand(program, ctx, deps);
  registerDemoCommand(program, ctx, deps);
  registerInitCommand(program, ctx, deps);
  registerConfigCommands(program, ctx);
  registerChannelCommands(program, ctx);
  return { program, ctx };
}

/**
 * Runs the CLI with `argv` (the arguments after the program name) and resolves to the exit code.
 * Never throws and never exits the process: `main.ts` does that.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  deps: CliDeps = defaultDeps,
): Promise<ExitCode> {
  const { program, ctx } = buildProgram(io, deps);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CliExit) return err.exitCode;
    if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; everything else commander reports is usage.
      // Commander has already printed its message.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (io.shutdown.aborted && !isAppError(err)) {
      // The abort reason surfaced from an in-flight call: the user asked to stop, nothing failed.
      io.stderr('checkwatch: interrupted\n');
      return EXIT.interrupted;
    }
    const { exitCode, line } = describeFailure(err, ctx.redactor);
    io.stderr(line + '\n');
    return exitCode;
  }
}
