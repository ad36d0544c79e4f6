import type { Command } from 'commander';
import type { Store } from '../store/store';
import type { TablestoreStore } from '../store/tablestore';
import type { CliContext } from './context';
import type { CliDeps } from './deps';
import type { ConfigFlag } from './direct';
import { addConfigOption, loadCliConfig, openStore } from './direct';

/**
 * `checkwatch init`: prepares the configured store. For Tablestore it creates the missing tables and
 * verifies the primary keys of existing ones (idempotent: run it on every deploy); for SQLite it
 * creates the file and applies the schema migrations, which `serve` would otherwise do on start.
 */

interface InitOptions extends ConfigFlag {
  readonly json?: boolean;
}

function hasSchema(store: Store | TablestoreStore): store is TablestoreStore {
  return 'ensureSchema' in store;
}

/** Registers `init`. */
export function registerInitCommand(program: Command, ctx: CliContext, deps: CliDeps): void {
  addConfigOption(
    program
      .command('init')
      .description('create the store: the Tablestore tables, or the SQLite file')
      .option('--json', 'print what was created and verified as one JSON line'),
  )
    .addHelpText(
      'after',
      `
Idempotent: existing tables are verified (primary-key schema), missing ones created. Tablestore needs
the instance to exist and credentials allowed to ots:CreateTable, ots:DescribeTable and ots:ListTable.

Examples:
  CHECKWATCH_STORE=tablestore CHECKWATCH_OTS_ENDPOINT=https://myinst.cn-hangzhou.ots.aliyuncs.com \\
    CHECKWATCH_OTS_INSTANCE=myinst checkwatch init
  checkwatch init --config checkwatch.yaml`,
    )
    .action(async (opts: InitOptions) => {
      const { config } = loadCliConfig(ctx, opts.config);
      const store = await openStore(ctx, deps, config);
      try {
        if (hasSchema(store)) {
          const report = await store.ensureSchema();
          if (opts.json === true) {
            ctx.json({ store: 'tablestore', created: report.created, verified: report.verified });
            return;
          }
          for (const t of report.created) ctx.out(`created   ${t}`);
          for (const t of report.verified) ctx.out(`verified  ${t}`);
          ctx.out(
            `Tablestore instance ${config.store.type === 'tablestore' ? config.store.instance : ''} is ready.`,
          );
          return;
        }
        // Opening the SQLite store created the file and applied the migrations; one read proves it works.
        await store.listPending();
        const path = config.store.type === 'sqlite' ? config.store.path : '';
        if (opts.json === true) ctx.json({ store: 'sqlite', path });
        else ctx.out(`SQLite store ready at ${path}.`);
      } finally {
        await store.close();
      }
    });
}
