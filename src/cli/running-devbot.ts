/**
 * The CLI's way into the embedded database while a devbot holds it (PGlite serves one process):
 * the running devbot's admin API on HOST:PORT, called with a one-minute admin token the CLI signs
 * with the shared secret (DEVBOT_JWT_SECRET or the data directory's). `devbot token`, `devbot
 * memory` and `devbot users` open the database themselves otherwise (PostgreSQL, or PGlite when
 * no devbot runs).
 */
import type { Config } from '../config/config.js';
import { findJwtSecret } from '../config/jwt-secret.js';
import { BadInputError, type SqlClient, UnavailableError } from '../core/index.js';

/** Where this configuration's devbot answers on this host. */
export function localApiBase(config: Pick<Config, 'HOST' | 'PORT'>): string {
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? '127.0.0.1' : config.HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.PORT}`;
}

/** The running devbot's API, as an admin. A 400 answer is a BadInputError; others are errors. */
export class RunningDevbotApi {
  constructor(
    readonly baseUrl: string,
    private readonly bearer: string,
  ) {}

  /** Signs a one-minute admin token with this configuration's secret. */
  static async connect(config: Config): Promise<RunningDevbotApi> {
    const found = findJwtSecret(config);
    if (found.secret === null)
      throw new UnavailableError(
        `no API secret in ${found.file} to call the running devbot with: set DEVBOT_JWT_SECRET to its secret`,
      );
    const { TokenIssuer } = await import('../gateway/token-issuer.js');
    const bearer = await new TokenIssuer(found.secret).sign('devbot-cli', {
      scopes: ['tasks:read', 'tasks:write', 'admin'],
      ttlSeconds: 60,
    });
    return new RunningDevbotApi(localApiBase(config), bearer);
  }

  async call<T>(method: string, path: string, json?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.bearer}`,
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json().catch(() => ({}))) as { message?: string };
    if (res.status === 400) throw new BadInputError(body.message ?? 'the running devbot refused the request');
    if (!res.ok)
      throw new Error(
        `the running devbot at ${this.baseUrl} answered ${res.status}: ${body.message ?? 'no reason given'}`,
      );
    return body as T;
  }
}

/**
 * Runs `local` on the configured database, or `remote` through the running devbot's API when
 * that devbot holds the embedded database. A devbot that does not answer is one line saying why.
 */
export async function withDatabaseOrRunningDevbot<T>(
  config: Config,
  local: (sql: SqlClient) => Promise<T>,
  remote: (api: RunningDevbotApi) => Promise<T>,
  options: { max?: number } = {},
): Promise<T> {
  // Loaded when a command runs, so `devbot --help` does not load the database drivers.
  const [{ openSqlClient }, { migrate }, { PgliteLockedError }] = await Promise.all([
    import('../store/open-sql-client.js'),
    import('../store/migrate.js'),
    import('../store/pglite-lock.js'),
  ]);
  let sql: SqlClient;
  try {
    sql = await openSqlClient({
      databaseUrl: config.DATABASE_URL,
      dataDir: config.dataDir,
      max: options.max ?? 1,
    });
  } catch (err) {
    if (!(err instanceof UnavailableError) || !(err.cause instanceof PgliteLockedError)) throw err;
    const api = await RunningDevbotApi.connect(config);
    try {
      return await remote(api);
    } catch (callErr) {
      if (callErr instanceof BadInputError) throw callErr;
      throw new UnavailableError(
        `the devbot (pid ${err.cause.pid ?? '?'}) that holds the embedded database in ${config.dataDir} did not answer at ${api.baseUrl}: ${callErr instanceof Error ? callErr.message : String(callErr)}; run this with the HOST and PORT it listens on, or stop it`,
        { cause: callErr },
      );
    }
  }
  try {
    await migrate(sql);
    return await local(sql);
  } finally {
    await sql.close();
  }
}
