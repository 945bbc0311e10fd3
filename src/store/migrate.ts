import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlClient } from '../core/sql-client.js';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** An arbitrary constant: serializes concurrent migrators (gateway and worker starting together). */
const MIGRATION_LOCK = 7_411_223;

export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

/**
 * Applies `NNN_name.sql` files in name order, each once, each in its own transaction, recorded in
 * schema_migrations. Safe to run again and from several processes at once.
 */
export async function migrate(sql: SqlClient, dir: string = MIGRATIONS_DIR): Promise<MigrationResult> {
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort();
  await sql.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const result: MigrationResult = { applied: [], skipped: [] };
  for (const file of files) {
    const body = readFileSync(join(dir, file), 'utf8');
    await sql.transaction(async (tx) => {
      if (sql.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE name = $1', [file]);
      if (done.rowCount > 0) {
        result.skipped.push(file);
        return;
      }
      for (const statement of splitStatements(body)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
      result.applied.push(file);
    });
  }
  return result;
}

/** Splits a migration on `;` at line ends; migrations keep to plain DDL (no functions with bodies). */
export function splitStatements(body: string): string[] {
  return body
    .split(/;\s*$/m)
    .map((s) =>
      s
        .split('\n')
        .filter((line) => !line.trim().startsWith('--'))
        .join('\n')
        .trim(),
    )
    .filter(Boolean);
}
