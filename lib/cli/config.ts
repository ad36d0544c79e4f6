import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { maskedConfig } from '../config';
import type { CliContext } from './context';
import type { ConfigFlag } from './direct';
import { addConfigOption, loadCliConfig } from './direct';

/**
 * `checkwatch config check`: validates the configuration exactly as the functions and `serve` load it
 * and prints the resolved result with every secret masked, so it is safe to paste into an issue.
 */

interface ConfigCheckOptions extends ConfigFlag {
  readonly json?: boolean;
}

/** Registers the `config` command group. */
export function registerConfigCommands(program: Command, ctx: CliContext): void {
  const group = program.command('config').description('validate and show the configuration');
  addConfigOption(
    group
      .command('check')
      .description('validate the configuration and print it resolved, with secrets masked')
      .option('--json', 'print the resolved configuration as one JSON line'),
  )
    .addHelpText(
      'after',
      `
Reads --config (default ./checkwatch.yaml when present), then CHECKWATCH_CONFIG, then the single-setting
variables (CHECKWATCH_REGION, CHECKWATCH_STORE, …). Secret references ({ env: NAME }) are resolved and
shown as ***. Exits 2 with the offending setting's path when the configuration is invalid.

Examples:
  checkwatch config check
  checkwatch config check --config deploy/checkwatch.yaml --json | jq .channels`,
    )
    .action((opts: ConfigCheckOptions) => {
      const loaded = loadCliConfig(ctx, opts.config);
      const masked = maskedConfig(loaded);
      if (opts.json === true) {
        ctx.json({ valid: true, sources: loaded.sources, config: masked });
        return;
      }
      const from = loaded.sources.length === 0 ? 'defaults only' : loaded.sources.join(', ');
      ctx.out(`Configuration is valid (from: ${from}).`);
      const channels = Object.keys(loaded.config.channels).length;
      const routes = Object.keys(loaded.config.routes).length;
      ctx.out(
        `${channels} ${channels === 1 ? 'channel' : 'channels'}, ${routes} ${routes === 1 ? 'route' : 'routes'}, ` +
          `store ${loaded.config.store.type}, dispatch ${loaded.config.dispatch.type}.`,
      );
      ctx.out('');
      // The redactor pass is belt and braces: maskedConfig masks by path, this catches a secret copied elsewhere.
      ctx.out(ctx.redactor.text(toYaml(masked)).trimEnd());
    });
}
