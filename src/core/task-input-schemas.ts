/**
 * Which `input` keys an API caller may set, per kind of task: one strict zod object per kind. The
 * handler table registers each kind's handler with its schema (a test's stand-in handler brings its
 * own), and `POST /tasks` validates `input` against the schema of the task's kind, so a key no
 * handler of that kind reads is refused instead of stored. A generator (OpenAPI) reads the map.
 *
 * Keys devbot sets itself (INTERNAL_INPUT_KEYS) are in no schema: only its own front doors and the
 * worker write them. Text is also checked for NUL and lone surrogates before these schemas run.
 */
import { z } from 'zod';
import type { TaskHandler } from './ports.js';
import type { TaskKind } from './task.js';

/** The kinds a handler runs; `auto` is routed to one of them first. */
export type RoutedKind = Exclude<TaskKind, 'auto'>;

/** The API-settable input of one kind: a strict object (unknown keys fail). */
export type TaskInputSchema = z.ZodObject<z.ZodRawShape, z.core.$strict>;

/** A handler as the handler table registers it: what runs the kind, and the input it accepts. */
export interface KindHandler {
  handle: TaskHandler;
  input: TaskInputSchema;
}

const command = z.string().min(1).max(100_000);
const preview = z
  .object({ port: z.number().int().min(1).max(65535) })
  .strict()
  .nullable();
const instruction = z.string().max(100_000);
const context = z.union([
  z.string().max(100_000),
  z
    .array(z.object({ author: z.string().max(200).optional(), body: z.string().max(100_000) }).strict())
    .max(200),
]);
const branch = z
  .string()
  .regex(/^devbot\/[\w./-]{1,200}$/, 'must be a branch devbot made (devbot/…)')
  .refine((b) => !b.split('/').includes('..'), 'must not contain ..');
const positive = z.number().int().positive();

/** The documented input of each kind (TaskInput says which handler reads which key). */
export const TASK_INPUT_SCHEMAS: Readonly<Record<RoutedKind, TaskInputSchema>> = {
  shell: z.strictObject({
    /** The command to run verbatim. */
    command: command.optional(),
    /** Serve this port as a preview (null: never infer one from the command). */
    preview: preview.optional(),
  }),
  question: z.strictObject({
    /** Extra context (untrusted: fenced in the prompt). */
    context: context.optional(),
  }),
  dev: z.strictObject({
    /** The instruction, when the prompt carries a command prefix. */
    instruction: instruction.optional(),
    /** The issue the change closes, and its title for the branch and PR. */
    issueNumber: positive.optional(),
    issueTitle: z.string().max(1000).optional(),
    context: context.optional(),
    /** `answer`: read-only, no branch, no push, no PR. */
    mode: z.enum(['answer', 'review']).optional(),
  }),
  followup: z.strictObject({
    instruction: instruction.optional(),
    /** The pull request to push to. */
    prNumber: positive.optional(),
    /** On a host without pull requests (local repositories): devbot's branch to add to. */
    branch: branch.optional(),
    context: context.optional(),
    /** `answer`: read-only; `review`: one pull-request review with inline comments. */
    mode: z.enum(['answer', 'review']).optional(),
  }),
};

/** Keys only devbot sets, and who sets them: refused from API callers with this reason. */
export const INTERNAL_INPUT_KEYS: Readonly<Record<string, string>> = {
  chatSandbox: "is set by devbot's chat front door, not by API callers",
  ciFix: 'is set by devbot when it fixes failing CI on its own pull request, not by API callers',
  skipApproval: "is set by GitHub's devbot-auto label, not by API callers",
  approvedPlan: 'is set by an approval (POST /tasks/:id/approve), not by API callers',
  revisions: 'is set by a revision (POST /tasks/:id/revise), not by API callers',
};

/**
 * The input an `auto` task accepts: the router may send it to any kind this deployment runs, so
 * every key of those kinds (one key in two schemas: the later kind's type).
 */
export function autoInputSchema(schemas: Iterable<TaskInputSchema>): TaskInputSchema {
  let shape: z.ZodRawShape = {};
  for (const s of schemas) shape = { ...shape, ...s.shape };
  return z.strictObject(shape);
}

/** Registers a handler with the input it accepts (by default, its kind's documented input). */
export function kindHandler(kind: RoutedKind, handle: TaskHandler, input?: TaskInputSchema): KindHandler {
  return { handle, input: input ?? TASK_INPUT_SCHEMAS[kind] };
}
