import { join } from 'node:path';
import { UnavailableError } from '../core/errors.js';
import type { SqlClient } from '../core/sql-client.js';
import { createPgClient } from './pg-client.js';
import { createPgliteClient } from './pglite-client.js';

export interface OpenSqlOptions {
  /** PostgreSQL; unset: embedded PGlite under `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  /** PostgreSQL schema (tests isolate themselves with it). */
  schema?: string | undefined;
  /** Pool size for PostgreSQL. */
  max?: number;
  /** How long a PostgreSQL connection attempt may take before it fails (not hang). */
  connectTimeoutMs?: number;
}

/**
 * The configured database, opened and proven to answer. The one place start, migrate and memory
 * open it, so each fails the same way: a database that cannot be reached is an UnavailableError
 * saying where devbot looked and which variable to fix, instead of a driver's stack trace at the
 * first query.
 */
export async function openSqlClient(options: OpenSqlOptions): Promise<SqlClient> {
  if (!options.databaseUrl) {
    const dir = join(options.dataDir, 'pglite');
    try {
      return await createPgliteClient({ dataDir: dir });
    } catch (err) {
      throw new UnavailableError(
        `cannot open the embedded database in ${dir}: ${oneLine(err)}; check DEVBOT_DATA_DIR (one devbot process per data directory), or set DATABASE_URL`,
        { cause: err },
      );
    }
  }
  const where = describePostgres(options.databaseUrl);
  let sql: SqlClient | undefined;
  try {
    sql = await createPgClient({
      connectionString: options.databaseUrl,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      ...(options.schema ? { schema: options.schema } : {}),
      ...(options.max ? { max: options.max } : {}),
    });
    await sql.query('SELECT 1');
    return sql;
  } catch (err) {
    await sql?.close().catch(() => {});
    throw new UnavailableError(
      `cannot reach PostgreSQL at ${where}: ${oneLine(err)}; start it or fix DATABASE_URL (unset it to use the embedded PGlite)`,
      { cause: err },
    );
  }
}

/** host:port/database of a postgres:// URL, never its password. */
function describePostgres(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return '(DATABASE_URL is not a valid URL)';
  }
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message || err.name : String(err);
  return message.split('\n')[0] ?? message;
}
