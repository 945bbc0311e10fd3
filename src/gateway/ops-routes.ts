import type { Hono } from 'hono';
import type { TaskQueue, TaskStore } from '../core/index.js';
import type { Metrics } from '../observability/metrics.js';
import type { ApiEnv } from './api-env.js';

/** /healthz (the process is up), /readyz (the store and Redis answer) and /metrics. */
export function mountOpsRoutes(
  app: Hono<ApiEnv>,
  deps: { store: TaskStore; queue: TaskQueue; metrics: Metrics },
): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const checks = await Promise.allSettled([deps.store.ping(), deps.queue.ping()]);
    const [store, redis] = checks.map((r) =>
      r.status === 'fulfilled' ? 'ok' : String(r.reason?.message ?? r.reason),
    );
    const ok = store === 'ok' && redis === 'ok';
    return c.json({ status: ok ? 'ok' : 'unavailable', store, redis }, ok ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    try {
      const depth = await deps.queue.depth();
      for (const [state, n] of Object.entries(depth)) deps.metrics.queueDepth.set({ state }, n);
    } catch {
      // Redis down: the gauge keeps its last value; /readyz says why.
    }
    c.header('content-type', deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });
}
