/**
 * The tiny SQL surface devbot uses, implemented by `pg` (PostgreSQL) and PGlite (embedded). All
 * store code is written once against this and runs on both.
 */
export interface SqlResult<T> {
  rows: T[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * A name for a statement whose text never changes: PostgreSQL parses and plans it once per
   * connection instead of on every call. One name, one text. PGlite ignores it.
   */
  name?: string;
  /**
   * A query that may wait (a memory search): the embedded database runs it only when no other
   * query is waiting, so it never holds up a task's write behind a queue of searches. PostgreSQL
   * ignores it (every query has a connection of its own there).
   */
  background?: boolean;
}

export interface SqlClient {
  readonly dialect: 'postgres' | 'pglite';
  query<T = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<SqlResult<T>>;
  /** Runs several statements (migrations); no parameters. */
  exec(sql: string): Promise<void>;
  /** Runs fn in one transaction on one connection. */
  transaction<R>(fn: (tx: Pick<SqlClient, 'query'>) => Promise<R>): Promise<R>;
  close(): Promise<void>;
}
