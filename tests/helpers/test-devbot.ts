import { type DevbotApp, type StartOptions, startDevbot } from '../../src/app/start-devbot.js';
import type { Config } from '../../src/config/config.js';
import { resolveJwtSecret } from '../../src/config/jwt-secret.js';
import type { SqlClient } from '../../src/core/sql-client.js';
import { type Scope, TokenIssuer } from '../../src/gateway/token-issuer.js';
import { ApiClient } from './api-client.js';
import { openTestPglite } from './pglite-template.js';
import { dropSchema, removeDir, TEST_DATABASE_URL, testConfig, uniqueSchema } from './test-env.js';

export type Backend = 'pglite' | 'postgres';

export interface TestDevbot {
  app: DevbotApp;
  config: Config;
  api: ApiClient;
  /** A client for any user, with chosen scopes. */
  client(user: string, scopes?: Scope[]): Promise<ApiClient>;
  stop(): Promise<void>;
}

export interface TestDevbotOptions extends Partial<Omit<StartOptions, 'config'>> {
  backend?: Backend;
  env?: Record<string, string>;
  /** Reuse a PGlite (one per test file: a fresh one takes seconds to create). */
  sql?: SqlClient;
  dataDir?: string;
}

/** Starts a whole devbot in this process on a real Redis and PGlite or PostgreSQL. */
export async function startTestDevbot(options: TestDevbotOptions = {}): Promise<TestDevbot> {
  const backend = options.backend ?? 'pglite';
  // Two devbots of one deployment (split roles) share a schema: the caller names it and drops it.
  const schema = backend === 'postgres' ? (options.pgSchema ?? uniqueSchema()) : undefined;
  const config = testConfig(
    { ...(backend === 'postgres' ? { DATABASE_URL: TEST_DATABASE_URL } : {}), ...options.env },
    options.dataDir,
  );
  let sql = options.sql;
  let ownSql = false;
  if (!sql && backend === 'pglite') {
    sql = await openTestPglite();
    ownSql = true;
  }
  const { backend: _b, env: _e, dataDir: _d, sql: _s, ...rest } = options;
  const app = await startDevbot({
    ...rest,
    config,
    reconcileIntervalMs: options.reconcileIntervalMs ?? 0,
    ...(sql ? { sql } : {}),
    ...(schema ? { pgSchema: schema } : {}),
  });
  const issuer = new TokenIssuer(resolveJwtSecret(config));
  const client = async (user: string, scopes?: Scope[]) =>
    new ApiClient(app.url, await issuer.sign(user, scopes ? { scopes } : {}));
  return {
    app,
    config,
    api: await client('alice'),
    client,
    async stop() {
      await app.stop();
      if (ownSql) await sql?.close();
      if (schema && !options.pgSchema) await dropSchema(schema);
      if (!options.dataDir) removeDir(config.dataDir);
    },
  };
}
