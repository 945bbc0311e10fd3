import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { SqlClient } from '../core/sql-client.js';

export interface PgliteClientOptions {
  /** Directory for the database files; omit for an in-memory database (tests). */
  dataDir?: string;
}

/**
 * Embedded PostgreSQL (WASM) with pgvector. PGlite is a single connection: it queues queries
 * itself, and transactions hold it exclusively.
 */
export async function createPgliteClient(options: PgliteClientOptions = {}): Promise<SqlClient> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    extensions: { vector },
  });
  let closed = false;
  return {
    dialect: 'pglite',
    async query<T>(sql: string, params?: readonly unknown[]) {
      const res = await db.query<T>(sql, params as unknown[] | undefined);
      return { rows: res.rows, rowCount: Math.max(res.affectedRows ?? 0, res.rows.length) };
    },
    async exec(sql) {
      await db.exec(sql);
    },
    async transaction(fn) {
      return db.transaction(async (tx) =>
        fn({
          async query<T>(sql: string, params?: readonly unknown[]) {
            const res = await tx.query<T>(sql, params as unknown[] | undefined);
            return { rows: res.rows, rowCount: Math.max(res.affectedRows ?? 0, res.rows.length) };
          },
        }),
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}
