/**
 * The crew's read-only runs on a repository task (DESIGN.md §5): `answer` (a question about an
 * issue or a pull request, or a fork's PR devbot will not push to) and `review` (one pull-request
 * review with inline comments). Both work on the checked-out sandbox with the read-only tools only
 * — nothing they could write would be pushed anyway, and a prompt-injected model has no tool to try.
 */
import { z } from 'zod';
import type { AgentResult, RepoInfo, Sandbox, TaskContext } from '../../src/core/index.js';
import { describeTask } from '../describe-task.js';
import type { BudgetLimits } from '../llm/budget.js';
import type { LlmClient } from '../llm/llm-client.js';
import { createTaskSession, type UsageSink } from '../llm/task-session.js';
import { defineTool, ToolError } from '../llm/tool.js';
import { runToolLoop } from '../llm/tool-loop.js';
import { loadPrompt } from '../prompts/load-prompt.js';
import { relativeToWorkspace, resolveWorkspacePath } from '../tools/workspace-path.js';
import { createWorkspaceTools } from '../tools/workspace-tools.js';

export interface ReadOnlyCrewOptions {
  ctx: TaskContext;
  sandbox: Sandbox;
  info: RepoInfo;
  llm: LlmClient;
  limits: BudgetLimits;
  redact?: ((text: string) => string) | undefined;
  usageSink?: UsageSink | undefined;
  /** Whether the sandbox's commands may use the network (the deployment's sandbox policy). */
  network?: boolean;
  maxSteps?: number;
}

/** At most this many inline comments in one review (a review is read by a person). */
export const MAX_REVIEW_COMMENTS = 25;
const MAX_COMMENT_CHARS = 2_000;

export async function runReadOnlyCrew(options: ReadOnlyCrewOptions): Promise<AgentResult> {
  const mode = options.info.mode === 'review' ? 'review' : 'answer';
  const { ctx, sandbox, info } = options;
  const session = createTaskSession({
    ctx,
    llm: options.llm,
    limits: options.limits,
    redact: options.redact,
    usageSink: options.usageSink,
  });
  // Read, list, grep and run (tests, a script to find out): whatever the commands change in the
  // sandbox is thrown away. Risky commands still ask when the repository wants command approval.
  const tools = createWorkspaceTools({
    sandbox,
    readOnly: true,
    runCommands: true,
    network: options.network ?? false,
    emit: ctx.emit.bind(ctx),
    signal: ctx.signal,
    commandApproval:
      info.approval?.commands && ctx.askCommand
        ? {
            ask: ctx.askCommand.bind(ctx),
            patterns: info.config.approve_commands ?? [],
            waited: (ms: number) => session.budget.exclude(ms),
          }
        : undefined,
  });
  const comments: Array<{ path: string; line: number; body: string }> = [];
  if (mode === 'review') tools.push(reviewCommentTool(sandbox, comments));
  await ctx.emit('step', {
    phase: mode === 'review' ? 'reviewing' : 'answering',
    message: mode === 'review' ? `Reviewing #${info.prNumber ?? '?'}` : 'Looking for the answer',
  });
  const system =
    mode === 'review'
      ? loadPrompt('reviewer', {
          repo: info.fullName,
          pr: String(info.prNumber ?? ''),
          workdir: sandbox.workdir,
        })
      : `${loadPrompt('question', { repo: info.fullName, workdir: sandbox.workdir })}\nrun_command runs a command in the sandbox (the tests, a script) when running is the way to find out; whatever it changes is thrown away.`;
  const { answer } = await runToolLoop({
    session,
    role: mode === 'review' ? 'reviewer' : 'question',
    tools,
    maxSteps: options.maxSteps ?? 30,
    emit: ctx.emit.bind(ctx),
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: describeTask(ctx.task) },
    ],
  });
  const text = answer.trim();
  if (mode === 'answer') {
    const reply = text || 'I could not find an answer.';
    return { summary: reply, reply };
  }
  const body =
    text || (comments.length > 0 ? 'Review comments are inline.' : 'I found nothing to comment on.');
  return {
    summary: `Reviewed #${info.prNumber ?? '?'}: ${comments.length} inline comment(s).`,
    reply: body,
    review: { body, comments },
  };
}

/** `add_review_comment`: collects one inline comment on a file of the workspace. */
function reviewCommentTool(sandbox: Sandbox, comments: Array<{ path: string; line: number; body: string }>) {
  return defineTool({
    name: 'add_review_comment',
    description:
      'Add one inline review comment on a line of a file the pull request changes (the line number on the new side of the diff).',
    schema: z.object({
      path: z.string().min(1).describe('file path, relative to the repository root'),
      line: z.number().int().min(1),
      body: z.string().min(1).describe('what is wrong and how to fix it'),
    }),
    run: async ({ path, line, body }) => {
      if (comments.length >= MAX_REVIEW_COMMENTS)
        throw new ToolError(
          `a review holds at most ${MAX_REVIEW_COMMENTS} comments; finish with the summary`,
        );
      const rel = relativeToWorkspace(sandbox.workdir, resolveWorkspacePath(sandbox.workdir, path));
      const text = body.length > MAX_COMMENT_CHARS ? `${body.slice(0, MAX_COMMENT_CHARS)}…` : body;
      comments.push({ path: rel, line, body: text });
      return `noted (${comments.length} comment(s) so far) on ${rel}:${line}`;
    },
  });
}
