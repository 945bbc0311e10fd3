/**
 * The infrastructure every role needs, opened in order and registered for shutdown: the data
 * directory, the store (PostgreSQL or embedded PGlite) with its migrations, Redis (a private one
 * when none answers), the queue, the live event bus and the ingress.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import { resolveJwtSecret } from '../config/jwt-secret.js';
import type { SqlClient } from '../core/index.js';
import { LocalTokenAdmin } from '../gateway/token-admin.js';
import { TokenIssuer } from '../gateway/token-issuer.js';
import { TokenRevocations } from '../gateway/token-revocations.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { OutageLog } from '../observability/outage-log.js';
import type { SecretRegistry } from '../observability/redact.js';
import { BullTaskQueue } from '../queue/bullmq-task-queue.js';
import { ensureRedis, redactUrl } from '../queue/ensure-redis.js';
import { createRedis } from '../queue/redis-connection.js';
import { RedisEventBus } from '../queue/redis-event-bus.js';
import { deploymentIdentity, derivedQueuePrefix } from '../store/deployment-identity.js';
import { openSqlClient } from '../store/open-sql-client.js';
import { SqlApiTokenLog } from '../store/sql-api-tokens.js';
import { SqlApprovalStore } from '../store/sql-approval-store.js';
import { SqlCommandApprovalStore } from '../store/sql-command-approval-store.js';
import { SqlTaskStore } from '../store/sql-task-store.js';
import { DefaultTaskApprovals } from '../worker/task-approvals.js';
import { DefaultTaskIngress } from '../worker/task-ingress.js';
import type { ShutdownStack } from './shutdown-stack.js';

export interface InfrastructureOptions {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  secrets: SecretRegistry;
  /** An SQL client to use instead of opening one (tests share one PGlite per file). */
  sql?: SqlClient | undefined;
  /** PostgreSQL schema to use (tests isolate themselves with it). */
  pgSchema?: string | undefined;
  /** How often token revocations made elsewhere are read (default 5 s). */
  tokenRevocationPollMs?: number | undefined;
  /**
   * Whether this process serves the API (and so checks tokens). Only then are revocations read
   * and polled: a worker or a bot checks no token and has no reason to query the log every 5 s.
   */
  servesApi?: boolean | undefined;
}

export interface Infrastructure {
  sql: SqlClient;
  store: SqlTaskStore;
  tokens: TokenIssuer;
  /** The revoked token ids, polled from the database; null where no API is served. */
  revocations: TokenRevocations | null;
  /** Issues, lists and revokes API tokens (the /tokens routes). */
  tokenAdmin: LocalTokenAdmin;
  /** This deployment's id (stored in its database) and its queue prefix (set, or derived from it). */
  deployment: string;
  prefix: string;
  /** Where Redis answers, and whether devbot started it. */
  redis: { url: string; private: boolean };
  /** Where every Redis client reports connection failures (logged once, then once a minute). */
  redisOutage: OutageLog;
  /** The shared connection for plain commands. */
  connection: Redis;
  queue: BullTaskQueue;
  bus: RedisEventBus;
  ingress: DefaultTaskIngress;
  /** Waiting tasks' requests (the worker stores and expires them). */
  approvalStore: SqlApprovalStore;
  commandApprovals: SqlCommandApprovalStore;
  /** Decisions on waiting tasks and messages to running ones (every front door). */
  approvals: DefaultTaskApprovals;
}

export async function openInfrastructure(
  o: InfrastructureOptions,
  stack: ShutdownStack,
): Promise<Infrastructure> {
  const { config, logger } = o;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // mkdir's mode only applies to a directory it creates: one made earlier (by hand, by an older
  // devbot) is made private too. It holds the database, the JWT secret, sandboxes and repositories.
  chmodSync(config.dataDir, 0o700);
  const jwtSecret = resolveJwtSecret(config);
  o.secrets.add(jwtSecret);

  const sql =
    o.sql ??
    (await openSqlClient({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir, schema: o.pgSchema }));
  if (!o.sql) stack.push(() => sql.close(), 'the database');
  const store = new SqlTaskStore(sql);
  await store.migrate();

  const deployment = await deploymentIdentity(sql);
  const prefix = config.DEVBOT_QUEUE_PREFIX ?? derivedQueuePrefix(deployment);

  const tokenLog = new SqlApiTokenLog(sql);
  const revocations =
    o.servesApi === false
      ? null
      : new TokenRevocations(tokenLog, { pollMs: o.tokenRevocationPollMs ?? 5000, logger });
  if (revocations) {
    await revocations.start();
    stack.push(async () => revocations.stop(), 'token revocations');
  }
  const tokens = new TokenIssuer(jwtSecret, revocations ? { revoked: revocations } : {});
  const tokenAdmin = new LocalTokenAdmin({
    issuer: tokens,
    log: tokenLog,
    onRevoked: (id) => revocations?.add(id),
  });

  const redis = await ensureRedis(config.redisUrl, config.dataDir, logger, {
    startPrivate: config.redisDefaulted,
  });
  stack.push(() => redis.stop(), 'the private Redis');
  // Every Redis client of the process reports here: an outage is logged once with its fix, then
  // once a minute, instead of a line per reconnect attempt.
  const redisOutage = new OutageLog(logger, {
    what: 'Redis',
    fix: `check that Redis runs at ${redactUrl(redis.url)} (REDIS_URL${redis.private ? ', or the private redis-server under the data directory' : ''}); tasks wait in PostgreSQL meanwhile and are queued again once it is back`,
  });
  const connection = createRedis(redis.url, { name: 'devbot', outage: redisOutage });
  stack.push({
    name: 'the Redis connection',
    run: async () => {
      // QUIT lets commands still in flight finish (a closed preview's key being deleted, a last
      // event published); a Redis that is gone gets a second at most.
      await Promise.race([
        connection.quit().catch(() => {}),
        new Promise((r) => setTimeout(r, 1000).unref()),
      ]);
      connection.disconnect();
    },
  });
  const queue = new BullTaskQueue({
    connection,
    prefix,
    deployment,
    attempts: config.DEVBOT_TASK_ATTEMPTS,
    backoffMs: config.DEVBOT_RETRY_BACKOFF_MS,
  });
  stack.push(() => queue.close(), 'the queue');
  const bus = new RedisEventBus({ url: redis.url, connection, prefix });
  stack.push(() => bus.close(), 'the event bus');
  const ingress = new DefaultTaskIngress({
    store,
    queue,
    bus,
    metrics: o.metrics,
    logger,
    // The API limits every request itself; a chat user is limited at the ingress.
    rateLimit: { perMinute: config.DEVBOT_RATE_LIMIT, sources: ['telegram'] },
  });
  const approvalStore = new SqlApprovalStore(sql);
  const commandApprovals = new SqlCommandApprovalStore(sql);
  const approvals = new DefaultTaskApprovals({
    store,
    approvals: approvalStore,
    commands: commandApprovals,
    queue,
    bus,
    metrics: o.metrics,
    logger,
  });
  return {
    sql,
    store,
    tokens,
    revocations,
    tokenAdmin,
    approvalStore,
    commandApprovals,
    approvals,
    redis: { url: redis.url, private: redis.private },
    redisOutage,
    deployment,
    prefix,
    connection,
    queue,
    bus,
    ingress,
  };
}
