import { z } from 'zod';
import {
  MEMORY_KINDS,
  PR_OUTCOMES,
  TASK_KINDS,
  TASK_SOURCES,
  TASK_STATUSES,
  type TaskEventMap,
  type TaskEventType,
} from '../core/index.js';
import type { eventJson, taskJson } from './task-json.js';
import type { tokenJson } from './token-routes.js';

/**
 * What the API answers, as zod schemas: the OpenAPI document's response and event components
 * (`openapi-document.ts`). The request schemas are the ones the routes validate with; these are
 * tied to the code that builds the answers by the type checks at the end of this file (a field
 * added to `TaskEventMap` or `taskJson` and not here fails `npm run typecheck`) and by
 * tests/unit/openapi-document.test.ts, which parses real answers with them.
 */

const opt = <T extends z.ZodType>(schema: T) => schema.exactOptional();

export const taskPlanSchema = z.object({
  steps: z.array(z.string()),
  files: opt(z.array(z.string())),
  verify: opt(z.string()),
});

const gitEventSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('checkout'), base: z.string(), sha: z.string(), ms: z.number() }),
  z.object({ action: z.literal('committed'), sha: z.string(), branch: z.string(), files: z.number() }),
  z.object({ action: z.literal('pushed'), sha: z.string(), branch: z.string() }),
]);

const kind = z.enum(TASK_KINDS);

/** The payload of each event type (core/task-event.ts: TaskEventMap), one schema per type. */
export const taskEventPayloads = {
  'task.created': z.object({ source: z.string(), kind, requester: z.string() }),
  'task.started': z.object({ attempt: z.number() }),
  'task.routed': z.object({
    kind,
    reason: z.string(),
    confidence: opt(z.number()),
    input: opt(z.record(z.string(), z.unknown())),
  }),
  'task.retrying': z.object({ attempt: opt(z.number()), error: opt(z.string()), reason: opt(z.string()) }),
  'task.succeeded': z.object({ summary: z.string() }),
  'task.failed': z.object({ error: z.string(), code: z.string() }),
  'task.cancelled': z.object({ by: opt(z.string()), reason: opt(z.string()) }),
  'task.waiting': z.object({
    reason: z.literal('plan'),
    plan: taskPlanSchema,
    round: z.number(),
    expiresAt: z.string(),
  }),
  approval: z.object({
    decision: z.enum(['approved', 'revised']),
    by: z.string(),
    round: z.number(),
    text: opt(z.string()),
  }),
  steer: z.object({ by: z.string(), text: z.string() }),
  'command.approval_requested': z.object({
    id: z.string(),
    command: z.string(),
    reasons: z.string(),
    expiresAt: z.string(),
  }),
  'command.approval_decided': z.object({
    id: z.string(),
    command: z.string(),
    decision: z.enum(['allowed_once', 'allowed_task', 'denied', 'expired']),
    by: z.string(),
  }),
  step: z.object({ phase: z.string(), message: z.string() }),
  log: z.object({ message: z.string() }),
  output: z.object({ stream: z.enum(['stdout', 'stderr']), text: z.string() }),
  'command.started': z.object({ command: z.string(), background: opt(z.boolean()), port: opt(z.number()) }),
  'command.finished': z.object({
    command: z.string(),
    exitCode: z.number(),
    durationMs: z.number(),
    truncated: opt(z.boolean()),
    timedOut: opt(z.boolean()),
    reused: opt(z.boolean()),
  }),
  preview_ready: z.object({ url: z.string(), port: z.number() }),
  tool_call: z.object({ tool: z.string(), args: z.string() }),
  tool_result: z.object({ tool: z.string(), ok: z.boolean(), summary: z.string() }),
  llm: z.object({
    role: z.string(),
    model: z.string(),
    tokensIn: z.number(),
    tokensOut: z.number(),
    costUsd: z.number(),
    durationMs: z.number(),
  }),
  git: gitEventSchema,
  pr_opened: z.object({ url: z.string(), number: z.number(), reused: z.boolean() }),
  diff: z.object({ text: z.string(), files: z.number(), truncated: opt(z.boolean()) }),
} satisfies { [K in TaskEventType]: z.ZodType };

export const TASK_EVENT_TYPES = Object.keys(taskEventPayloads) as TaskEventType[];

/** One event as the API shows it (GET /tasks/:id `events`); `type` says which payload `data` is. */
export const taskEventSchemas = Object.fromEntries(
  TASK_EVENT_TYPES.map((type) => [
    type,
    z.object({
      seq: z.number().int(),
      at: z.iso.datetime(),
      type: z.literal(type),
      data: taskEventPayloads[type],
    }),
  ]),
) as unknown as { [K in TaskEventType]: z.ZodObject };

const taskResultSchema = z.object({
  summary: z.string(),
  reply: opt(z.string()),
  branch: opt(z.string()),
  commit: opt(z.string()),
  changed: opt(z.array(z.string())),
  pr: opt(z.object({ number: z.number(), url: z.string() })),
  preview: opt(z.object({ url: z.string(), port: opt(z.number()) })),
  exitCode: opt(z.number()),
  output: opt(z.string()),
  durationMs: opt(z.number()),
  truncated: opt(z.boolean()),
  toolCalls: opt(z.number()),
  plan: opt(z.array(z.string())),
  checks: opt(z.array(z.object({ kind: z.string(), command: z.string(), exitCode: z.number() }))),
  tests: opt(z.object({ passed: z.number(), failed: z.number() })),
  rounds: opt(z.number()),
});

const taskUsageSchema = z.object({
  tokensIn: opt(z.number()),
  tokensOut: opt(z.number()),
  costUsd: opt(z.number()),
  llmMs: opt(z.number()),
  llmRequests: opt(z.number()),
  toolCalls: opt(z.number()),
});

const isoTime = z.iso.datetime();

/** A task as the API shows it (task-json.ts). */
export const taskSchema = z.object({
  id: z.uuid(),
  source: z.enum(TASK_SOURCES),
  kind,
  status: z.enum(TASK_STATUSES),
  requester: z.string(),
  repo: z.string().nullable(),
  prompt: z.string(),
  input: z.record(z.string(), z.unknown()).describe("What the task's kind reads (see TaskInput)."),
  origin: z
    .record(z.string(), z.unknown())
    .describe('Where the task came from: chat and message ids, or repository and issue; empty for the API.'),
  branch: z.string().nullable(),
  prUrl: z.string().nullable(),
  previewUrl: z.string().nullable(),
  resultSummary: z.string().nullable(),
  result: taskResultSchema.nullable(),
  error: z.string().nullable(),
  usage: taskUsageSchema,
  attempts: z.number().int(),
  createdAt: isoTime,
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
});

export const pullRequestSchema = z.object({
  repo: z.string(),
  number: z.number().int(),
  taskId: z.string().nullable(),
  outcome: z.enum(PR_OUTCOMES),
  reviewRounds: z.number().int(),
  ciFixAttempts: z.number().int(),
  autofix: z.boolean(),
});

export const errorSchema = z.object({
  error: z.string().describe('A code for programs: invalid_body, unauthorized, rate_limited, …'),
  message: z.string().describe('What went wrong and what to do, for people.'),
});

export const issuedTokenSchema = z.object({
  id: z.string(),
  subject: z.string().nullable(),
  scopes: z.array(z.string()),
  issuedAt: isoTime,
  expiresAt: isoTime.nullable(),
  revokedAt: isoTime.nullable(),
});

export const newTokenSchema = z.object({
  token: z.string().describe('The bearer token: shown once, never stored.'),
  id: z.string(),
  subject: z.string(),
  scopes: z.array(z.string()),
  expiresAt: isoTime.nullable(),
});

export const memorySchema = z.object({
  id: z.string(),
  repo: z.string(),
  kind: z.enum(MEMORY_KINDS),
  content: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  taskId: z.string().nullable(),
  embeddingModel: z.string().nullable(),
  embeddingDim: z.number().int().nullable(),
  createdAt: isoTime,
  similarity: opt(z.number()),
});

// Compile-time ties to the code that builds the answers.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type PayloadsMatch = {
  [K in TaskEventType]: Same<z.output<(typeof taskEventPayloads)[K]>, TaskEventMap[K]>;
}[TaskEventType];
const payloadsMatch: false extends PayloadsMatch
  ? 'an event payload schema differs from TaskEventMap'
  : true = true;
type Accepts<Schema extends z.ZodType, Value> = [Value] extends [z.input<Schema>] ? true : false;
// `input` is an interface (TaskInput) with no index signature: compared as the plain object it is.
type TaskAnswer = Omit<ReturnType<typeof taskJson>, 'input'> & { input: Record<string, unknown> };
const a1: Accepts<typeof taskSchema, TaskAnswer> = true;
const a2: Same<ReturnType<typeof eventJson>['type'], TaskEventType> = true;
const a3: Accepts<typeof issuedTokenSchema, ReturnType<typeof tokenJson>> = true;
const answersMatch = [a1, a2, a3];
void payloadsMatch;
void answersMatch;
