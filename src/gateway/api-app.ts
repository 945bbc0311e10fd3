import { randomUUID } from 'node:crypto';
import type { HttpBindings } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import {
  TASK_SOURCES,
  TASK_STATUSES,
  type TaskIngress,
  type TaskInput,
  type TaskQueue,
  type TaskStore,
} from '../core/index.js';
import { type ReadBodyResult, readJsonBody } from '../http/read-json-body.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { RateLimiter } from '../utils/rate-limiter.js';
import { eventJson, taskJson } from './task-json.js';
import { InvalidTokenError, type Scope, type TokenClaims, type TokenIssuer } from './token-issuer.js';

export interface ApiDeps {
  store: TaskStore;
  queue: TaskQueue;
  ingress: TaskIngress;
  tokens: TokenIssuer;
  metrics: Metrics;
  logger: Logger;
  rateLimitPerMinute: number;
  bodyLimitBytes: number;
  /** false on worker and bot processes: only health and metrics are served. */
  apiEnabled?: boolean;
  /** Extra authenticated routes mounted under the API (e.g. /memories). */
  extraRoutes?: { path: string; app: Hono<ApiEnv> }[];
}

/** Bindings are optional: the app also runs through app.request() in tests, without Node. */
export type ApiEnv = {
  Bindings: Partial<HttpBindings>;
  Variables: { claims: TokenClaims; requestId: string };
};

const repoName = z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name');

/** POST /tasks body. `source`, `origin` and `requester` are refused: devbot sets them. */
export const createTaskBody = z
  .object({
    kind: z.enum(['auto', 'shell', 'dev', 'question', 'followup']).default('auto'),
    prompt: z.string().trim().min(1).max(100_000).optional(),
    command: z.string().trim().min(1).max(100_000).optional(),
    preview: z
      .object({ port: z.number().int().min(1).max(65535) })
      .strict()
      .optional(),
    repo: repoName.optional(),
    input: z.record(z.string(), z.unknown()).optional(),
    source: z.enum(TASK_SOURCES).optional(),
    origin: z.record(z.string(), z.unknown()).optional(),
    requester: z.string().min(1).max(200).optional(),
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .strict()
  .refine((b) => b.prompt !== undefined || b.command !== undefined, {
    message: 'give a prompt (what to do) or, for shell tasks, a command',
  })
  .refine((b) => b.kind !== 'shell' || b.command !== undefined || b.prompt !== undefined, {
    message: 'a shell task needs a command',
  });

const listQuery = z.object({
  status: z.enum(TASK_STATUSES).optional(),
  source: z.enum(TASK_SOURCES).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

class ApiError extends HTTPException {
  constructor(
    status: 400 | 401 | 403 | 404 | 409 | 413 | 429 | 503,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(status, { message });
  }
}

/** The /tasks API, health and metrics. Errors are JSON `{error, message}`. */
export function createApiApp(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const limiter = new RateLimiter(deps.rateLimitPerMinute);

  app.use('*', async (c, next) => {
    const started = performance.now();
    // A request id for logs and for users to quote; an incoming one is kept if it looks sane.
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    await next();
    deps.metrics.httpDuration.observe(
      { method: c.req.method, route: c.req.routePath || 'unmatched', status: String(c.res.status) },
      (performance.now() - started) / 1000,
    );
  });

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
      return c.json({ error: err.code, message: err.message }, err.status);
    }
    if (err instanceof HTTPException) {
      const code = err.status === 413 ? 'payload_too_large' : 'http_error';
      return c.json({ error: code, message: err.message || 'request failed' }, err.status);
    }
    deps.metrics.errorsTotal.inc({ component: 'gateway' });
    deps.logger.error({ err, path: c.req.path, requestId: c.get('requestId') }, 'request failed');
    return c.json({ error: 'internal', message: 'the request failed; the logs have details' }, 500);
  });

  app.notFound((c) =>
    c.json({ error: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` }, 404),
  );

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

  if (deps.apiEnabled === false) return app;

  const auth = (scope: Scope) =>
    createMiddleware<ApiEnv>(async (c, next) => {
      const header = c.req.header('authorization') ?? '';
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match?.[1]) {
        throw new ApiError(
          401,
          'unauthorized',
          'send Authorization: Bearer <token> (create one with `devbot token`)',
          {
            'www-authenticate': 'Bearer',
          },
        );
      }
      let claims: TokenClaims;
      try {
        claims = await deps.tokens.verify(match[1]);
      } catch (err) {
        const why = err instanceof InvalidTokenError ? err.message : 'the token is not valid';
        throw new ApiError(401, 'unauthorized', why, { 'www-authenticate': 'Bearer error="invalid_token"' });
      }
      if (!claims.scopes.includes(scope) && !claims.scopes.includes('admin')) {
        throw new ApiError(403, 'forbidden', `the token lacks the ${scope} scope`);
      }
      const retryAfter = limiter.take(claims.subject);
      if (retryAfter > 0) {
        throw new ApiError(429, 'rate_limited', `more than ${deps.rateLimitPerMinute} requests a minute`, {
          'retry-after': String(retryAfter),
        });
      }
      c.set('claims', claims);
      await next();
    });

  const readBody = async (c: Context<ApiEnv>): Promise<unknown> => {
    const incoming = c.env?.incoming;
    const result = incoming
      ? await readJsonBody(incoming, deps.bodyLimitBytes)
      : await readWebJsonBody(c.req.raw, deps.bodyLimitBytes);
    if (result.ok) return result.value;
    if (result.reason === 'too_large') {
      throw new ApiError(413, 'payload_too_large', `the body is larger than ${deps.bodyLimitBytes} bytes`);
    }
    throw new ApiError(400, 'invalid_body', 'the body must be JSON');
  };

  app.post('/tasks', auth('tasks:write'), async (c) => {
    const claims = c.get('claims');
    const raw = await readBody(c);
    const parsed = createTaskBody.safeParse(raw);
    if (!parsed.success) {
      const message = parsed.error.issues
        .map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
        .join('; ');
      throw new ApiError(400, 'invalid_body', message);
    }
    const body = parsed.data;
    // Where a task came from and who asked are devbot's to say: every front door sets them itself.
    if (body.source !== undefined || body.origin !== undefined || body.requester !== undefined) {
      throw new ApiError(
        403,
        'forbidden',
        'source, origin and requester are set by devbot, not by API callers',
      );
    }
    const headerKey = c.req.header('idempotency-key');
    if (headerKey !== undefined && (headerKey.length === 0 || headerKey.length > 200)) {
      throw new ApiError(400, 'invalid_header', 'Idempotency-Key must be 1 to 200 characters');
    }
    const key = body.idempotencyKey ?? headerKey;
    const input: TaskInput = { ...body.input };
    if (body.command !== undefined) input.command = body.command;
    if (body.preview !== undefined) input.preview = body.preview;
    const { task, created } = await deps.ingress.submit({
      source: 'api',
      requester: claims.subject,
      repo: body.repo ?? null,
      kind: body.kind,
      prompt: body.prompt ?? body.command ?? '',
      input,
      // Keys are scoped to the caller, so two users cannot collide (or probe each other's keys);
      // the subject is encoded, so `a:b` + `c` and `a` + `b:c` stay two keys.
      idempotencyKey: key === undefined ? null : `api:${encodeURIComponent(claims.subject)}:${key}`,
    });
    if (!created) c.header('idempotent-replayed', 'true');
    deps.logger.info(
      { requestId: c.get('requestId'), taskId: task.id, kind: task.kind, requester: task.requester, created },
      created ? 'task accepted' : 'task replayed (same idempotency key)',
    );
    return c.json(taskJson(task), 202);
  });

  app.get('/tasks', auth('tasks:read'), async (c) => {
    const parsed = listQuery.safeParse(c.req.query());
    if (!parsed.success)
      throw new ApiError(400, 'invalid_query', parsed.error.issues.map((i) => i.message).join('; '));
    const claims = c.get('claims');
    const admin = claims.scopes.includes('admin');
    const tasks = await deps.store.listTasks({
      ...(parsed.data.status ? { status: parsed.data.status } : {}),
      ...(parsed.data.source ? { source: parsed.data.source } : {}),
      ...(parsed.data.limit ? { limit: parsed.data.limit } : {}),
      ...(admin ? {} : { requester: claims.subject }),
    });
    return c.json({ tasks: tasks.map(taskJson) });
  });

  const loadOwnTask = async (id: string, claims: TokenClaims) => {
    const task = await deps.store.getTask(id);
    if (!task) throw new ApiError(404, 'not_found', `no task ${id}`);
    if (task.requester !== claims.subject && !claims.scopes.includes('admin')) {
      throw new ApiError(403, 'forbidden', 'this task belongs to someone else');
    }
    return task;
  };

  app.get('/tasks/:id', auth('tasks:read'), async (c) => {
    const task = await loadOwnTask(c.req.param('id'), c.get('claims'));
    const events = await deps.store.listEvents(task.id);
    return c.json({ ...taskJson(task), events: events.map(eventJson) });
  });

  app.post('/tasks/:id/cancel', auth('tasks:write'), async (c) => {
    const claims = c.get('claims');
    const task = await loadOwnTask(c.req.param('id'), claims);
    if (task.status !== 'queued' && task.status !== 'running') {
      throw new ApiError(409, 'already_finished', `the task already ended (${task.status})`);
    }
    const after = await deps.ingress.cancel(task.id, claims.subject);
    if (after && after.status !== 'cancelled') {
      throw new ApiError(409, 'already_finished', `the task already ended (${after.status})`);
    }
    return c.json(taskJson(after ?? task), 202);
  });

  for (const extra of deps.extraRoutes ?? []) {
    app.use(`${extra.path}/*`, auth('tasks:read'));
    app.use(extra.path, auth('tasks:read'));
    app.route(extra.path, extra.app);
  }

  return app;
}

export { ApiError };

/** The same for a web Request (the app used without Node's server, as in app.request()). */
async function readWebJsonBody(req: Request, limit: number): Promise<ReadBodyResult> {
  const text = await req.text();
  if (Buffer.byteLength(text) > limit) return { ok: false, reason: 'too_large' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, reason: 'invalid_json' };
  }
}
