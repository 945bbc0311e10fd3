/**
 * Composition: builds the runtime (store, queue, bus, ingress), the adapter modules, the gateway
 * and the worker for a role, and stops them all in reverse order. main.ts and the tests use it.
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Config } from './config/config.js';
import { configSecrets } from './config/config-secrets.js';
import { resolveJwtSecret } from './config/jwt-secret.js';
import { isTerminal, type SandboxProvider } from './core/index.js';
import { createApiApp } from './gateway/api-app.js';
import { GatewayServer } from './gateway/gateway-server.js';
import { TaskStreamServer } from './gateway/task-stream.js';
import { type Scope, TokenIssuer } from './gateway/token-issuer.js';
import { createLogger, type Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { SecretRegistry } from './observability/redact.js';
import { BullTaskQueue } from './queue/bullmq-task-queue.js';
import { ensureRedis } from './queue/ensure-redis.js';
import { createRedis } from './queue/redis-connection.js';
import { RedisEventBus } from './queue/redis-event-bus.js';
import type { DevbotModule, ModuleFactory, Role, Runtime } from './runtime.js';
import { createPgClient } from './store/pg-client.js';
import { createPgliteClient } from './store/pglite-client.js';
import type { SqlClient } from './store/sql-client.js';
import { SqlTaskStore } from './store/sql-task-store.js';
import { reconcile } from './worker/reconciler.js';
import { DefaultTaskIngress } from './worker/task-ingress.js';
import { TaskWorker } from './worker/task-worker.js';

export interface SandboxFactoryContext {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  publicUrl: () => string;
  role: Role;
  /** Where the gateway reaches this process (read after the server is bound). */
  internalUrl: () => string;
  redis: Redis;
}

export interface StartOptions {
  config: Config;
  role?: Role;
  modules?: ModuleFactory[];
  /** Builds the sandbox provider (default: the one for DEVBOT_SANDBOX, given by main.ts). */
  sandboxes?: (ctx: SandboxFactoryContext) => SandboxProvider;
  logger?: Logger;
  /** An SQL client to use instead of opening one (tests share one PGlite per file). */
  sql?: SqlClient;
  /** PostgreSQL schema to use (tests isolate themselves with it). */
  pgSchema?: string;
  /** Skip the periodic reconciler (tests that control timing). */
  reconcileIntervalMs?: number;
  shutdownGraceMs?: number;
}

export interface DevbotApp {
  runtime: Runtime;
  /** Where the gateway listens (http://host:port). */
  url: string;
  queue: BullTaskQueue;
  worker: TaskWorker | null;
  modules: DevbotModule[];
  stop(): Promise<void>;
}

export async function startDevbot(options: StartOptions): Promise<DevbotApp> {
  const { config } = options;
  const role = options.role ?? 'all';
  const secrets = new SecretRegistry();
  for (const value of configSecrets(config)) secrets.add(value);
  const logger =
    options.logger ??
    createLogger({
      level: config.LOG_LEVEL,
      lokiUrl: config.LOKI_URL,
      secrets: () => secrets.values(),
      base: { role },
    });
  const metrics = new Metrics({ defaultMetrics: true });
  const stack: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const fn of stack.splice(0).reverse()) {
      await fn().catch((err) => logger.warn({ err }, 'error while stopping'));
    }
  };

  try {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const jwtSecret = resolveJwtSecret(config);
    secrets.add(jwtSecret);
    const tokens = new TokenIssuer(jwtSecret);

    const sql =
      options.sql ??
      (config.DATABASE_URL
        ? await createPgClient({
            connectionString: config.DATABASE_URL,
            ...(options.pgSchema ? { schema: options.pgSchema } : {}),
          })
        : await createPgliteClient({ dataDir: join(config.dataDir, 'pglite') }));
    if (!options.sql) stack.push(() => sql.close());
    const store = new SqlTaskStore(sql);
    await store.migrate();

    const redis = await ensureRedis(config.redisUrl, config.dataDir, logger);
    stack.push(() => redis.stop());
    const connection = createRedis(redis.url, { name: 'devbot' });
    stack.push(async () => {
      // QUIT lets commands still in flight finish (a closed preview's key being deleted, a last
      // event published); a Redis that is gone gets a second at most.
      await Promise.race([
        connection.quit().catch(() => {}),
        new Promise((r) => setTimeout(r, 1000).unref()),
      ]);
      connection.disconnect();
    });
    const prefix = config.DEVBOT_QUEUE_PREFIX;
    const queue = new BullTaskQueue({
      connection,
      prefix,
      attempts: config.DEVBOT_TASK_ATTEMPTS,
      backoffMs: config.DEVBOT_RETRY_BACKOFF_MS,
    });
    stack.push(() => queue.close());
    const bus = new RedisEventBus({ url: redis.url, connection, prefix });
    stack.push(() => bus.close());
    const ingress = new DefaultTaskIngress({ store, queue, bus, metrics, logger });

    let boundUrl = `http://127.0.0.1:${config.PORT}`;
    const publicUrl = () => config.DEVBOT_PUBLIC_URL?.replace(/\/$/, '') ?? boundUrl;
    let internalUrl = boundUrl;
    const sandboxes = (options.sandboxes ?? missingSandboxProvider)({
      config,
      logger,
      metrics,
      publicUrl,
      role,
      internalUrl: () => internalUrl,
      redis: connection,
    });
    stack.push(() => sandboxes.close());

    const runtime: Runtime = {
      config,
      role,
      logger,
      metrics,
      secrets,
      sql,
      store,
      bus,
      ingress,
      publicUrl,
      internalUrl: () => internalUrl,
      redis: connection,
      sandboxes,
      // Tokens devbot issues to its own services (the Telegram bot) may set a task's source.
      issueToken: (subject, ttlSeconds) =>
        tokens.sign(subject, {
          scopes: ['tasks:read', 'tasks:write', 'ingress'] satisfies Scope[],
          ...(ttlSeconds ? { ttlSeconds } : {}),
        }),
    };

    const modules: DevbotModule[] = [];
    for (const factory of options.modules ?? []) {
      const mod = await factory(runtime);
      if (mod) modules.push(mod);
    }

    const serveApi = role === 'all' || role === 'gateway';
    const api = createApiApp({
      store,
      queue,
      ingress,
      tokens,
      metrics,
      logger,
      rateLimitPerMinute: config.DEVBOT_RATE_LIMIT,
      bodyLimitBytes: config.DEVBOT_BODY_LIMIT,
      apiEnabled: serveApi,
      extraRoutes: serveApi ? modules.flatMap((m) => m.apiRoutes ?? []) : [],
    });
    const stream = new TaskStreamServer({ store, bus, tokens, logger });
    const gateway = new GatewayServer({
      api,
      stream,
      rawRoutes: modules
        .flatMap((m) => m.routes ?? [])
        .filter((r) => (r.roles ?? ['all', 'gateway']).includes(role)),
      logger,
    });
    const address = await gateway.listen(config.PORT, config.HOST);
    const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
    boundUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    // Bound to every interface: other hosts (a separate gateway) reach us by our hostname.
    const wildcard = address.address === '0.0.0.0' || address.address === '::';
    internalUrl =
      config.DEVBOT_INTERNAL_URL ?? (wildcard ? `http://${hostname()}:${address.port}` : boundUrl);
    stack.push(() => gateway.close());

    // Modules stop after the worker (stop runs in reverse): a task finishing during the
    // worker's grace period still reaches the reporters.
    const started: DevbotModule[] = [];
    stack.push(async () => {
      for (const mod of started.splice(0).reverse()) {
        await mod.stop?.().catch((err) => logger.warn({ err, module: mod.name }, 'module failed to stop'));
      }
    });

    let worker: TaskWorker | null = null;
    if (role === 'all' || role === 'worker') {
      const workerConnection = createRedis(redis.url, { blocking: true, name: 'devbot-worker' });
      stack.push(async () => {
        workerConnection.disconnect();
      });
      const routers = modules.map((m) => m.router).filter((r) => r !== undefined);
      worker = new TaskWorker({
        connection: workerConnection,
        prefix,
        concurrency: config.DEVBOT_CONCURRENCY,
        attempts: config.DEVBOT_TASK_ATTEMPTS,
        taskTimeoutMs: config.DEVBOT_TASK_TIMEOUT_MS,
        lockDurationMs: config.DEVBOT_LOCK_DURATION_MS,
        stalledIntervalMs: config.DEVBOT_STALLED_INTERVAL_MS,
        store,
        bus,
        handlers: Object.assign({}, ...modules.map((m) => m.handlers ?? {})),
        reporters: modules.flatMap((m) => m.reporters ?? []),
        router: routers[routers.length - 1],
        logger,
        metrics,
        secrets,
        ...(options.shutdownGraceMs !== undefined ? { shutdownGraceMs: options.shutdownGraceMs } : {}),
      });
      const housekeeping = async () => {
        await reconcile(store, queue, logger);
        const reaped = await sandboxes.reap?.(async (taskId) => {
          const task = await store.getTask(taskId);
          return !task || isTerminal(task.status);
        });
        if (reaped?.length) logger.info({ sandboxes: reaped }, 'reaped sandboxes of ended tasks');
      };
      // Before taking jobs: lost tasks are re-enqueued and sandboxes of ended tasks are reaped.
      await housekeeping();
      await worker.start();
      const w = worker;
      stack.push(() => w.stop());
      const interval = options.reconcileIntervalMs ?? 60_000;
      if (interval > 0) {
        const timer = setInterval(() => {
          void housekeeping().catch((err) => logger.warn({ err }, 'housekeeping failed'));
        }, interval);
        timer.unref();
        stack.push(async () => clearInterval(timer));
      }
    }

    for (const mod of modules) {
      started.push(mod);
      if (mod.start) await mod.start();
    }

    logger.info(
      {
        url: boundUrl,
        role,
        store: sql.dialect,
        redis: redis.private ? 'private' : 'external',
        modules: modules.map((m) => m.name),
      },
      'devbot started',
    );
    let stopping: Promise<void> | null = null;
    return {
      runtime,
      url: boundUrl,
      queue,
      worker,
      modules,
      stop: () => {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Used until a sandbox provider is supplied; every create fails with what to configure. */
function missingSandboxProvider(): SandboxProvider {
  const fail = async (): Promise<never> => {
    const { UnavailableError } = await import('./core/index.js');
    throw new UnavailableError('no sandbox provider is configured in this process');
  };
  return { name: 'none', create: fail, check: fail, close: async () => {} };
}
