import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import type { CliContext } from './cli-context.js';

/** `devbot migrate`: applies the database migrations and exits (start also applies them). */
export function registerMigrateCommand(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description('apply database migrations (PostgreSQL, or the embedded PGlite) and exit')
    .action(async () => {
      const config = loadConfig(ctx.env(), ctx.cwd);
      // Loaded when the command runs, so `devbot --help` stays quick.
      const [{ openSqlClient }, { migrate }, { ensureVectorSchema }] = await Promise.all([
        import('../store/open-sql-client.js'),
        import('../store/migrate.js'),
        import('../memory/vector-schema.js'),
      ]);
      const sql = await openSqlClient({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
      try {
        const result = await migrate(sql);
        ctx.out(
          `migrations: ${result.applied.length} applied${result.applied.length ? ` (${result.applied.join(', ')})` : ''}, ${result.skipped.length} already done\n`,
        );
        // The vector part of memory needs pgvector; without it memory is off and the rest works.
        await ensureVectorSchema(sql).then(
          () => ctx.out('memory: pgvector ready\n'),
          (err: Error) => ctx.out(`memory: disabled: ${err.message}\n`),
        );
      } finally {
        await sql.close();
      }
    });
}
