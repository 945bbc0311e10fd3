import pg from 'pg';
import type { QueryOptions, SqlClient, SqlResult } from '../core/sql-client.js';

export interface PgClientOptions {
  connectionString: string;
  /** Use (and create) this schema instead of `public`; tests isolate themselves with it. */
  schema?: string;
  max?: number;
  /** A connection attempt that takes longer fails instead of hanging (pg waits forever by default). */
  connectTimeoutMs?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** PostgreSQL through a `pg` pool. */
export async function createPgClient(options: PgClientOptions): Promise<SqlClient> {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name: ${schema}`);
  if (schema) {
    const admin = new pg.Client({
      connectionString: options.connectionString,
      ...(options.connectTimeoutMs ? { connectionTimeoutMillis: options.connectTimeoutMs } : {}),
    });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    ...(options.connectTimeoutMs ? { connectionTimeoutMillis: options.connectTimeoutMs } : {}),
    ...(schema ? { options: `-c search_path=${schema},public` } : {}),
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const query = async <T>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<SqlResult<T>> => {
    const res = options?.name
      ? await pool.query({ name: options.name, text: sql, values: (params ?? []) as unknown[] })
      : await pool.query(sql, params as unknown[] | undefined);
    return { rows: res.rows as T[], rowCount: res.rowCount ?? 0 };
  };
  let closed = false;
  return {
    dialect: 'postgres',
    query,
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          async query<T>(sql: string, params?: readonly unknown[]) {
            const res = await client.query(sql, params as unknown[] | undefined);
            return { rows: res.rows as T[], rowCount: res.rowCount ?? 0 };
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
