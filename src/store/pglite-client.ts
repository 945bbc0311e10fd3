import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { SqlClient } from '../core/sql-client.js';
import { lockPgliteDir } from './pglite-lock.js';
import { startPgliteThread } from './pglite-thread-client.js';
import { restrictToOwner } from './restrict-to-owner.js';

export interface PgliteClientOptions {
  /** Directory for the database files; omit for an in-memory database (tests). */
  dataDir?: string;
  /**
   * Run PGlite in a worker thread of its own (src/store/pglite-thread-client.ts), so its WASM
   * engine never stops the event loop. Default: with a `dataDir` (what devbot runs), not in memory
   * (unit tests: one thread fewer to start).
   */
  thread?: boolean;
}

/**
 * Embedded PostgreSQL (WASM) with pgvector. PGlite is a single connection: it queues queries
 * itself, and transactions hold it exclusively. With a data directory it runs in a worker thread
 * of its own (src/store/pglite-worker.mjs), so its engine never holds the event loop; this
 * thread keeps the directory lock and the file modes. The data directory is the whole database, tokens
 * and chat history included: it is kept private to devbot's user (directories 0700, files 0600),
 * before opening (a directory made by an older devbot), after (PGlite writes a new cluster with
 * mode 0666) and at close.
 */
export async function createPgliteClient(options: PgliteClientOptions = {}): Promise<SqlClient> {
  const { dataDir } = options;
  let unlock = () => {};
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    restrictToOwner(dataDir);
    unlock = lockPgliteDir(dataDir);
  }
  if (options.thread ?? dataDir !== undefined) {
    const sql = await startPgliteThread(dataDir ? { dataDir } : {}).catch((err) => {
      unlock();
      throw err;
    });
    if (dataDir) restrictToOwner(dataDir);
    let closed = false;
    return {
      dialect: sql.dialect,
      query: sql.query.bind(sql),
      exec: sql.exec.bind(sql),
      transaction: sql.transaction.bind(sql),
      async close() {
        if (closed) return;
        closed = true;
        await sql.close();
        if (dataDir) restrictToOwner(dataDir);
        unlock();
      },
    };
  }
  const db = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { vector } }).catch((err) => {
    unlock();
    throw err;
  });
  if (dataDir) restrictToOwner(dataDir);
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
      if (dataDir) restrictToOwner(dataDir);
      unlock();
    },
  };
}
