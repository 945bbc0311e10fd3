/**
 * The composition root: opens the infrastructure, builds the modules and the handler table, then
 * starts what the role runs (the gateway's HTTP server, the worker, the modules' own loops), and
 * stops it all in reverse order. main.ts and the tests use it.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Config, Role } from '../config/config.js';
import { configSecrets } from '../config/config-secrets.js';
import { resolveJwtSecret } from '../config/jwt-secret.js';
import { isTerminal, type SandboxProvider } from '../core/index.js';
import type { SqlClient } from '../core/sql-client.js';
import { createApiApp } from '../gateway/api-app.js';
import { createApiRateLimiter } from '../gateway/api-rate-limit.js';
import { GatewayServer } from '../gateway/gateway-server.js';
import { sharePreviewAlias } from '../gateway/preview-directory.js';
import { TaskStreamServer } from '../gateway/task-stream.js';
import { createTokenRoutes } from '../gateway/token-routes.js';
import { createUsersRoutes } from '../gateway/users-routes.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { isConnectionError, OutageLog } from '../observability/outage-log.js';
import { SecretRegistry } from '../observability/redact.js';
import type { BullTaskQueue } from '../queue/bullmq-task-queue.js';
import { PreviewRevivalQueue } from '../queue/preview-revival-queue.js';
import { createRedis } from '../queue/redis-connection.js';
import { SqlPullRequestRecords } from '../store/sql-pull-request-records.js';
import { SqlShareLinks } from '../store/sql-share-links.js';
import { SqlSubjectAccess } from '../store/sql-subject-access.js';
import { reconcile } from '../worker/reconciler.js';
import { TaskWorker } from '../worker/task-worker.js';
import { type AppModules, buildModules, type ModuleOptions } from './build-modules.js';
import { inputSchemaOf } from './handler-table.js';
import {
  createPreviewRegistry,
  defaultSandboxProvider,
  previewDirectory,
  previewPublisherFor,
  type SandboxFactoryContext,
} from './modules/sandbox-module.js';
import { type Infrastructure, openInfrastructure } from './open-infrastructure.js';
import type { Runtime } from './runtime.js';
import { ShutdownStack, withDeadline } from './shutdown-stack.js';
import { startupSummary } from './startup-summary.js';

/** The most one module's stop() may take (Telegram flushes final messages for up to 5 s of it). */
const MODULE_STOP_MS = 8000;

export interface StartOptions extends ModuleOptions {
  config: Config;
  role?: Role;
  /** Builds the sandbox provider (default: the one for DEVBOT_SANDBOX). */
  sandboxes?: (ctx: SandboxFactoryContext) => SandboxProvider;
  logger?: Logger;
  /** An SQL client to use instead of opening one (tests share one PGlite per file). */
  sql?: SqlClient;
  /** PostgreSQL schema to use (tests isolate themselves with it). */
  pgSchema?: string;
  /** How often the reconciler runs; 0 turns the periodic run off (tests that control timing). */
  reconcileIntervalMs?: number;
  /** How long running tasks get to finish on stop (default 40 % of DEVBOT_SHUTDOWN_GRACE_MS). */
  shutdownGraceMs?: number;
  /** How often token revocations made by other processes are read (default 5 s). */
  tokenRevocationPollMs?: number;
}

export interface DevbotApp {
  runtime: Runtime;
  /** Where the gateway listens (http://host:port). */
  url: string;
  queue: BullTaskQueue;
  worker: TaskWorker | null;
  modules: AppModules;
  /** Revocations made elsewhere, read again every few seconds where the API is served (else null). */
  tokenRevocations: Infrastructure['revocations'];
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
      format: config.LOG_FORMAT,
      base: { role },
    });
  const metrics = new Metrics({ defaultMetrics: true });
  const stack = new ShutdownStack(logger, { graceMs: config.DEVBOT_SHUTDOWN_GRACE_MS });

  try {
    const infra = await openInfrastructure(
      {
        config,
        logger,
        metrics,
        secrets,
        sql: options.sql,
        pgSchema: options.pgSchema,
        tokenRevocationPollMs: options.tokenRevocationPollMs,
        servesApi: role === 'all' || role === 'gateway',
      },
      stack,
    );
    let boundUrl = `http://127.0.0.1:${config.PORT}`;
    let internalUrl = boundUrl;
    const publicUrl = () => config.DEVBOT_PUBLIC_URL?.replace(/\/$/, '') ?? boundUrl;
    const registry = createPreviewRegistry(config, publicUrl);
    const directory = previewDirectory(infra.prefix, infra.connection);
    // This process, as the owner of the previews it registers in Redis (split roles).
    const instance = randomUUID();
    const sandboxes = (options.sandboxes ?? defaultSandboxProvider)({
      config,
      logger,
      metrics,
      role,
      redis: infra.connection,
      previews: previewPublisherFor(role, registry, directory, () => internalUrl, instance),
      instance,
    });
    stack.push(() => sandboxes.close(), 'the sandboxes');

    const runtime: Runtime = {
      config,
      role,
      logger,
      metrics,
      secrets,
      sql: infra.sql,
      store: infra.store,
      bus: infra.bus,
      ingress: infra.ingress,
      approvals: infra.approvals,
      publicUrl,
      internalUrl: () => internalUrl,
      shareLinks: new SqlShareLinks(infra.sql, resolveJwtSecret(config), publicUrl),
      redis: infra.connection,
      sandboxes,
    };
    // Split roles: a gateway asks the workers to revive a dead preview (the `previews` queue).
    const revivals =
      role === 'gateway' || role === 'worker'
        ? new PreviewRevivalQueue({
            connection: infra.connection,
            prefix: infra.prefix,
            deployment: infra.deployment,
          })
        : null;
    if (revivals) stack.push(() => revivals.close());
    const modules = await buildModules(
      runtime,
      {
        registry,
        directory,
        tokens: infra.tokens,
        prefix: infra.prefix,
        ...(role === 'gateway' && revivals ? { remoteRevivals: revivals } : {}),
        ...(role === 'worker'
          ? {
              shareAlias: (oldToken: string, newToken: string) =>
                sharePreviewAlias(registry, directory, () => internalUrl, instance, oldToken, newToken),
            }
          : {}),
      },
      options,
    );

    const address = await startGateway(runtime, infra, modules, stack);
    const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
    boundUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    // Bound to every interface: other hosts (a separate gateway) reach us by our hostname.
    const wildcard = address.address === '0.0.0.0' || address.address === '::';
    internalUrl =
      config.DEVBOT_INTERNAL_URL ?? (wildcard ? `http://${hostname()}:${address.port}` : boundUrl);

    // Modules stop after the worker (stop runs in reverse): a task finishing during the worker's
    // grace period still reaches the reporters.
    // Each module's stop() has its own deadline: one stuck on an unreachable service (Telegram,
    // GitHub) is logged and left behind, and the others still stop.
    const started: AppModules['all'] = [];
    stack.push({
      name: 'the modules',
      maxMs: config.DEVBOT_SHUTDOWN_GRACE_MS,
      run: async () => {
        for (const mod of started.splice(0).reverse()) {
          if (!mod.stop) continue;
          const outcome = await withDeadline(mod.stop(), MODULE_STOP_MS).catch((err: unknown) => {
            logger.warn({ err, module: mod.name }, 'module failed to stop');
            return 'done';
          });
          if (outcome === 'late')
            logger.warn({ module: mod.name }, `module ${mod.name} did not stop within ${MODULE_STOP_MS} ms`);
        }
      },
    });
    const worker =
      role === 'all' || role === 'worker'
        ? await startWorker(runtime, infra, modules, stack, options, (owner) => directory.isAlive(owner))
        : null;
    for (const mod of modules.all) {
      started.push(mod);
      if (mod.start) await mod.start();
    }
    if (worker) {
      // Alive while it renews its presence: a gateway treats the previews of a worker that stopped
      // renewing (killed) as dead and has them revived by any worker, and other workers' reapers
      // spare the cloud sandboxes this one still holds (previews after their task).
      // Once per outage, without a stack trace (the Redis outage itself is logged with its fix).
      const leave = directory.announce(instance, (err) =>
        logger.warn(
          { reason: err instanceof Error ? err.message : String(err) },
          'cannot mark this worker alive in Redis; other processes may treat its previews and sandboxes as left behind',
        ),
      );
      // Removing the key is a courtesy (it lapses in 15 s): never hold a shutdown on a Redis that is away.
      stack.push({ name: "the worker's presence key", maxMs: 1000, run: leave });
    }
    if (role === 'worker' && revivals) {
      const revivalConnection = createRedis(infra.redis.url, { blocking: true, name: 'devbot-previews' });
      stack.push(async () => revivalConnection.disconnect());
      revivals.serve((token) => modules.reviveNow(token), { connection: revivalConnection });
      stack.push(() => revivals.close());
    }

    logger.info(
      {
        url: boundUrl,
        role,
        store: infra.sql.dialect,
        redis: infra.redis.private ? 'private' : 'external',
        modules: modules.all.map((m) => m.name),
        kinds: Object.keys(modules.handlers),
      },
      'devbot started',
    );
    const summary = startupSummary(config, {
      role,
      store: infra.sql.dialect,
      redis: infra.redis,
      prefix: infra.prefix,
      url: boundUrl,
      publicUrl: publicUrl(),
      ...(modules.github && !config.GITHUB_APP_ID && !config.GITHUB_TOKEN
        ? { storedGithubApp: modules.github.app.appSlug }
        : {}),
    });
    logger.info({ summary: summary.parts }, summary.text);
    return {
      runtime,
      url: boundUrl,
      queue: infra.queue,
      worker,
      modules,
      tokenRevocations: infra.revocations,
      stop: () => stack.stopAll(),
    };
  } catch (err) {
    await stack.stopAll();
    throw err;
  }
}

/** The HTTP server: the API where the role serves it, and every module's raw routes for the role. */
async function startGateway(
  runtime: Runtime,
  infra: Infrastructure,
  modules: AppModules,
  stack: ShutdownStack,
) {
  const { config, role, logger, metrics } = runtime;
  const serveApi = role === 'all' || role === 'gateway';
  const pullRequests = new SqlPullRequestRecords(runtime.sql);
  metrics.pullRequestCounts = () => pullRequests.countByOutcome();
  const stream = new TaskStreamServer({
    store: infra.store,
    bus: infra.bus,
    tokens: infra.tokens,
    logger,
    maxPerSubject: config.DEVBOT_STREAMS_PER_USER,
    shareLinks: runtime.shareLinks,
  });
  const api = createApiApp({
    events: stream,
    store: infra.store,
    queue: infra.queue,
    ingress: infra.ingress,
    approvals: infra.approvals,
    tokens: infra.tokens,
    metrics,
    logger,
    rateLimitPerMinute: config.DEVBOT_RATE_LIMIT,
    // One budget per subject across every gateway of this deployment (its queue prefix).
    rateLimiter: createApiRateLimiter({
      perMinute: config.DEVBOT_RATE_LIMIT,
      redis: { client: infra.connection, prefix: infra.prefix },
      logger,
    }),
    bodyLimitBytes: config.DEVBOT_BODY_LIMIT,
    metricsToken: config.DEVBOT_METRICS_TOKEN,
    apiEnabled: serveApi,
    extraRoutes: serveApi
      ? [
          {
            path: '/tokens',
            app: createTokenRoutes({ admin: infra.tokenAdmin, bodyLimitBytes: config.DEVBOT_BODY_LIMIT }),
          },
          {
            path: '/users',
            app: createUsersRoutes({
              access: new SqlSubjectAccess(runtime.sql),
              bodyLimitBytes: config.DEVBOT_BODY_LIMIT,
            }),
          },
          ...modules.all.flatMap((m) => m.apiRoutes ?? []),
        ]
      : [],
    authorize: async (subject, repo) => {
      const [owner = '', name = ''] = repo.split('/');
      await modules.hosts?.check({ owner, name });
      await modules.authorizer.assertMayChange(subject, repo);
    },
    inputSchema: inputSchemaOf(modules.handlers),
    shareLinks: runtime.shareLinks,
    publicUrl: runtime.publicUrl,
    evalReportsDir: join(config.dataDir, 'eval'),
    pullRequests,
  });
  const gateway = new GatewayServer({
    api,
    // Tokens are checked only where the API is served (revocations are read there).
    stream: serveApi ? stream : null,
    rawRoutes: modules.all
      .flatMap((m) => m.routes ?? [])
      .filter((r) => (r.roles ?? ['all', 'gateway']).includes(role)),
    logger,
    previewUrlTemplate: config.DEVBOT_PREVIEW_URL,
  });
  const address = await gateway.listen(config.PORT, config.HOST);
  stack.push(() => gateway.close(), 'the HTTP server');
  return address;
}

/** The worker: takes jobs after the first housekeeping pass, then reconciles periodically. */
async function startWorker(
  runtime: Runtime,
  infra: Infrastructure,
  modules: AppModules,
  stack: ShutdownStack,
  options: Pick<StartOptions, 'reconcileIntervalMs' | 'shutdownGraceMs'>,
  /** Whether another devbot process (the owner of a cloud sandbox) is still running. */
  isOwnerAlive: (owner: string) => Promise<boolean>,
): Promise<TaskWorker> {
  const { config, logger, metrics, sandboxes } = runtime;
  const workerConnection = createRedis(infra.redis.url, {
    blocking: true,
    name: 'devbot-worker',
    outage: infra.redisOutage,
  });
  stack.push(async () => workerConnection.disconnect(), "the worker's Redis connection");
  const worker = new TaskWorker({
    connection: workerConnection,
    prefix: infra.prefix,
    deployment: infra.deployment,
    concurrency: config.DEVBOT_CONCURRENCY,
    attempts: config.DEVBOT_TASK_ATTEMPTS,
    taskTimeoutMs: config.DEVBOT_TASK_TIMEOUT_MS,
    lockDurationMs: config.DEVBOT_LOCK_DURATION_MS,
    stalledIntervalMs: config.DEVBOT_STALLED_INTERVAL_MS,
    store: infra.store,
    bus: infra.bus,
    handlers: modules.handlers,
    reporters: modules.all.flatMap((m) => m.reporters ?? []),
    router: modules.agents.router,
    logger,
    metrics,
    secrets: runtime.secrets,
    approvals: { store: infra.approvalStore, timeoutMs: config.DEVBOT_APPROVAL_TIMEOUT * 1000 },
    commandApprovals: {
      store: infra.commandApprovals,
      timeoutMs: config.DEVBOT_COMMAND_APPROVAL_TIMEOUT * 1000,
    },
    // Running tasks get 40 % of the grace period to finish, then as much (10 s at most, as for a
    // cancel) to stop at their next check and go back to the queue; the worker's stop step has 80 %
    // of the grace, and the rest is for everything else that stops.
    shutdownGraceMs: options.shutdownGraceMs ?? Math.round(config.DEVBOT_SHUTDOWN_GRACE_MS * 0.4),
    abortSettleMs: Math.min(10_000, Math.round(config.DEVBOT_SHUTDOWN_GRACE_MS * 0.4)),
    outage: infra.redisOutage,
  });
  const housekeeping = async () => {
    await reconcile(infra.store, infra.queue, logger);
    const reaped = await sandboxes.reap?.(async (taskId) => {
      const task = await infra.store.getTask(taskId);
      return !task || isTerminal(task.status);
    }, isOwnerAlive);
    if (reaped?.length) logger.info({ sandboxes: reaped }, 'reaped sandboxes of ended tasks');
    await expireApprovals();
  };
  const expireApprovals = async () => {
    const expired = await worker.expireApprovals();
    if (expired.length > 0) logger.info({ taskIds: expired }, 'cancelled tasks whose approval expired');
  };
  // Before taking jobs: lost tasks are re-enqueued and sandboxes of ended tasks are reaped.
  await housekeeping();
  // A crash (kill -9, OOM) leaves its tasks active under a lock that takes a while to run out. When
  // no other worker of this queue is alive, they are a dead process's: back to the queue at once.
  const takenBack = await infra.queue.takeBackOrphans().catch((err: unknown) => {
    logger.warn(
      { err },
      'could not take back the tasks of a stopped worker; they resume once their lock runs out',
    );
    return [];
  });
  if (takenBack.length > 0)
    logger.info(
      { taskIds: takenBack },
      'took back tasks a stopped worker left running; they start again now',
    );
  await worker.start();
  await infra.queue.takeBackDone().catch(() => {});
  stack.push({
    name: 'the worker',
    maxMs: Math.round(config.DEVBOT_SHUTDOWN_GRACE_MS * 0.8),
    run: () => worker.stop(),
  });
  // The periodic passes fail together while the database or Redis is away: one outage, logged
  // once and then once a minute, not a stack trace per pass.
  const outage = new OutageLog(logger, {
    what: 'the store or the queue (housekeeping)',
    fix: 'check that PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) answer; lost tasks are queued again once they do',
  });
  const failed = (what: string) => (err: unknown) => {
    if (isConnectionError(err)) outage.failed(err);
    else logger.warn({ err }, `${what} failed`);
  };
  // Approvals expire on time, whatever the reconcile interval (a tenth of the timeout, 1 s to 1 min).
  const sweepMs = Math.min(60_000, Math.max(1000, (config.DEVBOT_APPROVAL_TIMEOUT * 1000) / 10));
  const sweep = setInterval(() => {
    void expireApprovals().catch(failed('approval expiry'));
  }, sweepMs);
  sweep.unref();
  stack.push(async () => clearInterval(sweep), 'the approval sweep');
  const interval = options.reconcileIntervalMs ?? 60_000;
  if (interval > 0) {
    const timer = setInterval(() => {
      void housekeeping().then(() => outage.recovered(), failed('housekeeping'));
    }, interval);
    timer.unref();
    stack.push(async () => clearInterval(timer), 'housekeeping');
  }
  return worker;
}
