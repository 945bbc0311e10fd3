import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type {
  PullRequestRecords,
  ShareLinks,
  TaskApprovals,
  TaskIngress,
  TaskInputSchema,
  TaskKind,
  TaskQueue,
  TaskStore,
} from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createAuth } from './api-auth.js';
import type { ApiEnv } from './api-env.js';
import { ApiError, apiErrorHandler } from './api-error.js';
import type { ApiRateLimiter } from './api-rate-limit.js';
import { openApiDocument } from './openapi-document.js';
import { mountOpsRoutes } from './ops-routes.js';
import { mountTaskRoutes } from './task-routes.js';
import type { TaskStreamServer } from './task-stream.js';
import type { TokenIssuer } from './token-issuer.js';
import { mountUi } from './ui/ui-routes.js';

export interface ApiDeps {
  store: TaskStore;
  queue: TaskQueue;
  ingress: TaskIngress;
  /** Decisions on waiting tasks (POST /tasks/:id/approve and /revise). */
  approvals?: TaskApprovals;
  tokens: TokenIssuer;
  metrics: Metrics;
  logger: Logger;
  rateLimitPerMinute: number;
  /** The deployment's shared rate limiter (Redis); by default this process counts on its own. */
  rateLimiter?: ApiRateLimiter | undefined;
  bodyLimitBytes: number;
  /** DEVBOT_METRICS_TOKEN: when set, /metrics wants it as a bearer token. */
  metricsToken?: string | undefined;
  /** false on worker and bot processes: only health and metrics are served. */
  apiEnabled?: boolean;
  /**
   * The `input` a kind takes from API callers (its handler's schema), or null when this deployment
   * has no handler for it (then 422).
   */
  inputSchema: (kind: TaskKind) => TaskInputSchema | null;
  /** Refuses (ForbiddenError) a subject who may not make devbot change a repository. */
  authorize?: (subject: string, repo: string) => Promise<void>;
  /** Read-only share links of task pages (the dashboard's /ui/t/<token>, `shareUrl`). */
  shareLinks?: ShareLinks;
  /** Where people reach devbot (DEVBOT_PUBLIC_URL): the dashboard's cookie is Secure on https. */
  publicUrl?: () => string;
  /** Where `devbot eval` keeps its reports: the dashboard lists them at /ui/evals. */
  evalReportsDir?: string;
  /** devbot's pull requests (GET /tasks/:id shows their fate). */
  pullRequests?: Pick<PullRequestRecords, 'byTask' | 'get'>;
  /** The task stream's machinery, for `GET /tasks/:id/events` (SSE). */
  events?: Pick<TaskStreamServer, 'follow' | 'takeSlot'>;
  /** Extra authenticated routes mounted under the API (e.g. /memories). */
  extraRoutes?: { path: string; app: Hono<ApiEnv> }[];
}

/** The /tasks API, health and metrics. Errors are JSON `{error, message}`. */
export function createApiApp(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use('*', async (c, next) => {
    const started = performance.now();
    // A request id for logs and for users to quote; an incoming one is kept if it looks sane.
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    await next();
    // A body left unread (refused before or while reading it): close the connection after the
    // answer instead of letting Node read the rest of it, however large.
    const request = c.env?.incoming;
    if (request && !request.complete) c.header('connection', 'close');
    deps.metrics.httpDuration.observe(
      { method: c.req.method, route: c.req.routePath || 'unmatched', status: String(c.res.status) },
      (performance.now() - started) / 1000,
    );
  });
  app.onError(apiErrorHandler(deps));
  app.notFound((c) =>
    c.json({ error: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` }, 404),
  );
  mountOpsRoutes(app, deps);
  if (deps.apiEnabled === false) return app;

  // Public: it describes the API, not any data (built once, on first request).
  let openapi: Record<string, unknown> | null = null;
  app.get('/openapi.json', (c) => {
    openapi ??= openApiDocument({ serverUrl: deps.publicUrl?.(), inputSchema: deps.inputSchema });
    c.header('cache-control', 'public, max-age=300');
    return c.json(openapi);
  });

  const auth = createAuth(deps);
  mountTaskRoutes(app, { ...deps, auth });
  mountUi(app, { ...deps, publicUrl: deps.publicUrl ?? (() => '') });
  for (const extra of deps.extraRoutes ?? []) {
    app.use(`${extra.path}/*`, auth('tasks:read'));
    app.use(extra.path, auth('tasks:read'));
    app.route(extra.path, extra.app);
  }
  return app;
}

export type { ApiEnv };
export { ApiError };
