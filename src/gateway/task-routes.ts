import type { Context, Hono, MiddlewareHandler } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import {
  type ApprovalOutcome,
  BadInputError,
  ForbiddenError,
  INTERNAL_INPUT_KEYS,
  MAX_STEER_CHARS,
  missingHandlerReason,
  type PullRequestRecord,
  type PullRequestRecords,
  type ShareLinks,
  TASK_SOURCES,
  TASK_STATUSES,
  type Task,
  type TaskApprovals,
  type TaskIngress,
  type TaskInput,
  type TaskInputSchema,
  type TaskKind,
  type TaskStore,
} from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import type { ApiEnv } from './api-env.js';
import { ApiError } from './api-error.js';
import { jsonInputIssue } from './json-input-issue.js';
import { readRequestJson } from './request-body.js';
import { eventJson, taskJson } from './task-json.js';
import type { TaskStreamServer } from './task-stream.js';
import { textProblem } from './text-problem.js';
import type { Scope, TokenClaims } from './token-issuer.js';

const repoName = z
  .string()
  .regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name')
  // `.` and `..` would walk GitHub's API paths (and the mirror cache's directories).
  .refine(
    (v) => v.split('/').every((part) => part !== '.' && part !== '..'),
    'owner and name cannot be . or ..',
  );

/** Limits on a task's free-form `input`: what one request may make the database parse. */
export const INPUT_LIMITS = { maxDepth: 8, maxBytes: 64 * 1024 };

/** Text PostgreSQL can store (no NUL, no lone surrogate): a bad one is refused here, by name. */
const text = () =>
  z.string().superRefine((value, ctx) => {
    const problem = textProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * A task's `input` as one request may send it: bounded (depth, size), storable text, and none of
 * the keys only devbot sets. Which keys a kind takes, and their types, is the kind's schema
 * (TASK_INPUT_SCHEMAS, registered with its handler), checked once the kind is known.
 */
const taskInput = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const issue = jsonInputIssue(value, INPUT_LIMITS);
  if (issue) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return;
  }
  for (const key of Object.keys(value)) {
    const internal = Object.hasOwn(INTERNAL_INPUT_KEYS, key) ? INTERNAL_INPUT_KEYS[key] : undefined;
    if (internal) ctx.addIssue({ code: 'custom', message: internal, path: [key] });
  }
});

/**
 * What is wrong with a task's input for its kind, one `path: message` per problem, or null. An
 * unknown key is named with the keys the kind takes; `fromBody` are keys the body set at its top
 * level (`command`, `preview`), named as such.
 */
export function inputProblems(
  kind: TaskKind,
  schema: TaskInputSchema,
  input: TaskInput,
  fromBody: ReadonlySet<string> = new Set(),
): string | null {
  const parsed = schema.safeParse(input);
  if (parsed.success) return null;
  const at = (path: PropertyKey[]) => {
    if (path.length === 0) return 'input';
    const [key = '', ...rest] = path.map(String);
    return [fromBody.has(key) ? key : `input.${key}`, ...rest].join('.');
  };
  const allowed = Object.keys(schema.shape);
  const takes = allowed.length ? `they take ${allowed.join(', ')}` : 'they take no input keys';
  return parsed.error.issues
    .flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((k) =>
            i.path.length === 0
              ? `${at([k])}: is not an input of ${kind} tasks (${takes})`
              : `${at([...i.path, k])}: is not a known key here`,
          )
        : [`${at(i.path)}: ${i.message}`],
    )
    .join('; ');
}

/** POST /tasks body. `source`, `origin` and `requester` are refused: devbot sets them. */
export const createTaskBody = z
  .object({
    kind: z.enum(['auto', 'shell', 'dev', 'question', 'followup']).default('auto'),
    prompt: text().trim().min(1).max(100_000).optional(),
    command: text().trim().min(1).max(100_000).optional(),
    preview: z
      .object({ port: z.number().int().min(1).max(65535) })
      .strict()
      .optional(),
    repo: repoName.optional(),
    input: taskInput.optional(),
    source: z.enum(TASK_SOURCES).optional(),
    origin: z.record(z.string(), z.unknown()).optional(),
    requester: z.string().min(1).max(200).optional(),
    idempotencyKey: text().min(1).max(200).optional(),
  })
  .strict()
  .refine((b) => b.prompt !== undefined || b.command !== undefined, {
    message: 'give a prompt (what to do) or, for shell tasks, a command',
  })
  .refine((b) => b.kind !== 'shell' || b.command !== undefined || b.prompt !== undefined, {
    message: 'a shell task needs a command',
  });

export const listQuery = z.object({
  status: z.enum(TASK_STATUSES).optional(),
  source: z.enum(TASK_SOURCES).optional(),
  repo: repoName.optional(),
  /** The `next` of the page before: the id of its last task. */
  before: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

export interface TaskRoutesDeps {
  store: TaskStore;
  ingress: TaskIngress;
  logger: Logger;
  bodyLimitBytes: number;
  auth: (scope: Scope) => MiddlewareHandler<ApiEnv>;
  /** Refuses (ForbiddenError) a subject who may not make devbot change a repository. */
  authorize?: ((subject: string, repo: string) => Promise<void>) | undefined;
  /**
   * The input a kind takes from API callers (its handler's schema), or null when this deployment
   * has no handler for it (every role knows it: a gateway runs no handler).
   */
  inputSchema: (kind: TaskKind) => TaskInputSchema | null;
  /** Share links of task pages: `shareUrl` for the owner, revocation for admins. */
  shareLinks?: ShareLinks | undefined;
  /** Decisions on waiting tasks (approve, revise). */
  approvals?: TaskApprovals | undefined;
  /** Follows a task's events (the SSE endpoint; the WebSocket's own machinery). */
  events?: Pick<TaskStreamServer, 'follow' | 'takeSlot'> | undefined;
  /** devbot's pull requests, for a task's PR fate in GET /tasks/:id. */
  pullRequests?: Pick<PullRequestRecords, 'byTask' | 'get'> | undefined;
}

/** The fate of the PRs a task opened or pushed to. */
async function pullRequestsOf(
  records: Pick<PullRequestRecords, 'byTask' | 'get'> | undefined,
  task: Task,
): Promise<PullRequestRecord[]> {
  if (!records) return [];
  const found = await records.byTask(task.id);
  const m = task.prUrl ? /\/([^/]+)\/([^/]+)\/pull\/(\d+)$/.exec(task.prUrl) : null;
  if (m && !found.some((r) => r.number === Number(m[3]) && r.repo === `${m[1]}/${m[2]}`)) {
    const own = await records.get(`${m[1]}/${m[2]}`, Number(m[3]));
    if (own) found.push(own);
  }
  return found;
}

/** POST /tasks, GET /tasks, GET /tasks/:id, POST /tasks/:id/cancel, /approve and /revise. */
export function mountTaskRoutes(app: Hono<ApiEnv>, deps: TaskRoutesDeps): void {
  const { auth } = deps;
  app.post('/tasks', auth('tasks:write'), async (c) => {
    const claims = c.get('claims');
    const raw = await readRequestJson(c, deps.bodyLimitBytes);
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
    // A task this deployment can never run is refused now, with what to configure, not failed later.
    const schema = deps.inputSchema(body.kind);
    if (!schema) throw new ApiError(422, 'unavailable', missingHandlerReason(body.kind));
    const input: TaskInput = { ...body.input };
    const fromBody = new Set<string>();
    if (body.command !== undefined && input.command === undefined) fromBody.add('command');
    if (body.preview !== undefined && input.preview === undefined) fromBody.add('preview');
    if (body.command !== undefined) input.command = body.command;
    if (body.preview !== undefined) input.preview = body.preview;
    // Only the keys the kind's handler reads, with their types (issue 13): nothing else is stored.
    const problems = inputProblems(body.kind, schema, input, fromBody);
    if (problems) throw new ApiError(400, 'invalid_body', problems);
    // A change to a repository needs the caller's access to it (checked again before the push).
    if ((body.kind === 'dev' || body.kind === 'followup') && body.repo) {
      try {
        await deps.authorize?.(claims.subject, body.repo);
      } catch (err) {
        if (err instanceof ForbiddenError) throw new ApiError(403, 'forbidden', err.message);
        if (err instanceof BadInputError) throw new ApiError(400, 'invalid_repo', err.message);
        throw err;
      }
    }
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
    const limit = parsed.data.limit ?? 50;
    const tasks = await deps.store.listTasks({
      ...(parsed.data.status ? { status: parsed.data.status } : {}),
      ...(parsed.data.source ? { source: parsed.data.source } : {}),
      ...(parsed.data.repo ? { repo: parsed.data.repo } : {}),
      ...(parsed.data.before ? { before: parsed.data.before } : {}),
      limit,
      ...(admin ? {} : { requester: claims.subject }),
    });
    // A full page may have more after it: `next` is the cursor for `?before=`.
    const next = tasks.length === limit ? (tasks.at(-1)?.id ?? null) : null;
    return c.json({ tasks: tasks.map(taskJson), next });
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
    const [events, pullRequests, shareUrl] = await Promise.all([
      deps.store.listEvents(task.id),
      pullRequestsOf(deps.pullRequests, task).catch(() => []),
      deps.shareLinks ? deps.shareLinks.urlFor(task.id) : Promise.resolve(undefined),
    ]);
    return c.json({
      ...taskJson(task),
      ...(shareUrl ? { shareUrl } : {}),
      pullRequests,
      events: events.map(eventJson),
    });
  });

  // Revokes a task's share links (admins only); the owner's next GET gets a new one.
  app.delete('/tasks/:id/share', auth('admin'), async (c) => {
    if (!deps.shareLinks) throw new ApiError(404, 'not_found', 'share links are not enabled');
    const task = await loadOwnTask(c.req.param('id'), c.get('claims'));
    const revoked = await deps.shareLinks.revoke(task.id);
    return c.json({ revoked });
  });

  app.post('/tasks/:id/cancel', auth('tasks:write'), async (c) => {
    const claims = c.get('claims');
    const task = await loadOwnTask(c.req.param('id'), claims);
    if (task.status !== 'queued' && task.status !== 'running' && task.status !== 'waiting') {
      throw new ApiError(409, 'already_finished', `the task already ended (${task.status})`);
    }
    const after = await deps.ingress.cancel(task.id, claims.subject);
    if (after && after.status !== 'cancelled') {
      throw new ApiError(409, 'already_finished', `the task already ended (${after.status})`);
    }
    return c.json(taskJson(after ?? task), 202);
  });

  // A waiting task's plan: approved as it is, or planned again with a change. Same rule as cancel:
  // the requester or an admin.
  const decide = async (outcome: ApprovalOutcome) => {
    if (outcome.ok) return outcome.task;
    if (outcome.reason === 'empty') throw new ApiError(400, 'invalid_body', outcome.message);
    throw new ApiError(409, 'not_waiting', outcome.message);
  };
  const approvals = () => {
    if (!deps.approvals) throw new ApiError(503, 'unavailable', 'approvals are not served here');
    return deps.approvals;
  };
  app.post('/tasks/:id/approve', auth('tasks:write'), async (c) => {
    const claims = c.get('claims');
    const task = await loadOwnTask(c.req.param('id'), claims);
    const after = await decide(await approvals().approve(task.id, claims.subject));
    return c.json(taskJson(after), 202);
  });
  app.post('/tasks/:id/revise', auth('tasks:write'), async (c) => {
    const claims = c.get('claims');
    const task = await loadOwnTask(c.req.param('id'), claims);
    const parsed = reviseBody.safeParse(await readRequestJson(c, deps.bodyLimitBytes));
    if (!parsed.success)
      throw new ApiError(400, 'invalid_body', 'give {"text": "what should change in the plan"}');
    const after = await decide(await approvals().revise(task.id, claims.subject, parsed.data.text));
    return c.json(taskJson(after), 202);
  });

  // A risky command the running task waits on (`approval: commands`): allowed once (or, with
  // {"scope": "task"}, for the rest of the task) or denied. Same rule as cancel.
  const decideCommand = async (c: Context<ApiEnv>, decision: 'allow' | 'deny') => {
    const claims = c.get('claims');
    const task = await loadOwnTask(c.req.param('id') ?? '', claims);
    let scope: 'once' | 'task' = 'once';
    if (decision === 'allow') {
      // The body is optional: no body allows once.
      const length = c.req.header('content-length');
      const bodyless = length === '0' || (length === undefined && !c.req.header('transfer-encoding'));
      const parsed = allowBody.safeParse(bodyless ? {} : await readRequestJson(c, deps.bodyLimitBytes));
      if (!parsed.success)
        throw new ApiError(400, 'invalid_body', 'give {"scope": "once"} or {"scope": "task"}');
      scope = parsed.data.scope;
    }
    const outcome = await approvals().decideCommand(
      task.id,
      c.req.param('cid') ?? '',
      claims.subject,
      decision === 'deny' ? 'denied' : scope === 'task' ? 'allowed_task' : 'allowed_once',
    );
    if (!outcome.ok)
      throw new ApiError(outcome.reason === 'no_command' ? 404 : 409, outcome.reason, outcome.message);
    return c.json(taskJson(outcome.task), 202);
  };
  app.post('/tasks/:id/commands/:cid/allow', auth('tasks:write'), (c) => decideCommand(c, 'allow'));
  app.post('/tasks/:id/commands/:cid/deny', auth('tasks:write'), (c) => decideCommand(c, 'deny'));

  // Server-Sent Events: a task's events as they happen (`curl -N`), resumed with Last-Event-ID.
  app.get('/tasks/:id/events', auth('tasks:read'), async (c) => {
    const events = deps.events;
    if (!events) throw new ApiError(404, 'not_found', 'event streams are not served here');
    const claims = c.get('claims');
    const task = await loadOwnTask(c.req.param('id'), claims);
    const raw = c.req.header('last-event-id') ?? c.req.query('after') ?? '0';
    if (!/^\d{1,9}$/.test(raw))
      throw new ApiError(400, 'invalid_query', 'Last-Event-ID (or ?after=) must be an event seq number');
    const release = events.takeSlot(claims.subject);
    if (!release)
      throw new ApiError(
        429,
        'too_many_streams',
        'too many streams open at once for this user; close one first',
      );
    return streamSSE(c, async (stream) => {
      const controller = new AbortController();
      stream.onAbort(() => controller.abort());
      // Writes go out one after another, in seq order.
      let writes = Promise.resolve();
      try {
        await events.follow(
          task.id,
          Number(raw),
          {
            send: (event) => {
              writes = writes.then(() =>
                stream.writeSSE({
                  id: String(event.seq),
                  event: event.type,
                  data: JSON.stringify({ taskId: task.id, ...eventJson(event) }),
                }),
              );
            },
            end: () => {},
          },
          controller,
        );
        await writes;
      } finally {
        release();
      }
    });
  });
}

export const allowBody = z.strictObject({ scope: z.enum(['once', 'task']).default('once') });
export const reviseBody = z.object({ text: z.string().trim().min(1).max(MAX_STEER_CHARS) }).strict();
