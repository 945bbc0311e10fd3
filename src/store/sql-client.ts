/**
 * The tiny SQL surface devbot uses, implemented by `pg` (PostgreSQL) and PGlite (embedded). All
 * store code is written once against this and runs on both.
 */
export interface SqlResult<T> {
  rows: T[];
  rowCount: number;
}

export interface SqlClient {
  readonly dialect: 'postgres' | 'pglite';
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<SqlResult<T>>;
  /** Runs several statements (migrations); no parameters. */
  exec(sql: string): Promise<void>;
  /** Runs fn in one transaction on one connection. */
  transaction<R>(fn: (tx: Pick<SqlClient, 'query'>) => Promise<R>): Promise<R>;
  close(): Promise<void>;
}
