import { createHash, timingSafeEqual } from 'node:crypto';
import type { Hono } from 'hono';
import type { TaskQueue, TaskStore } from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { ApiEnv } from './api-env.js';
import { ApiError } from './api-error.js';

export interface OpsRoutesDeps {
  store: TaskStore;
  queue: TaskQueue;
  metrics: Metrics;
  logger: Logger;
  /** When set, /metrics wants `Authorization: Bearer <token>` (DEVBOT_METRICS_TOKEN). */
  metricsToken?: string | undefined;
}

/**
 * /healthz (the process is up), /readyz (the store and Redis answer) and /metrics. They need no
 * login, so they say nothing an outsider could use: /readyz answers only its status (why it is
 * not ready goes to the log), and /metrics can be closed with a bearer token.
 */
export function mountOpsRoutes(app: Hono<ApiEnv>, deps: OpsRoutesDeps): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const [store, redis] = await Promise.allSettled([deps.store.ping(), deps.queue.ping()]);
    const down = { store, redis };
    for (const [name, check] of Object.entries(down)) {
      if (check.status === 'rejected')
        deps.logger.warn({ err: check.reason, dependency: name }, `not ready: ${name} does not answer`);
    }
    const ok = store.status === 'fulfilled' && redis.status === 'fulfilled';
    return c.json({ status: ok ? 'ok' : 'unavailable' }, ok ? 200 : 503);
  });

  const expected = deps.metricsToken ? digest(deps.metricsToken) : null;
  app.get('/metrics', async (c) => {
    if (expected) {
      const given = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
      // Digests have one length, so the comparison takes the same time whatever was sent.
      if (!given || !timingSafeEqual(digest(given), expected))
        throw new ApiError(401, 'unauthorized', 'send Authorization: Bearer <DEVBOT_METRICS_TOKEN>', {
          'www-authenticate': 'Bearer',
        });
    }
    try {
      const depth = await deps.queue.depth();
      for (const [state, n] of Object.entries(depth)) deps.metrics.queueDepth.set({ state }, n);
    } catch {
      // Redis down: the gauge keeps its last value; /readyz and the log say so.
    }
    c.header('content-type', deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
