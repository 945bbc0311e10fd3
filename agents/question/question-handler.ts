/**
 * The question answerer: answers about the bound repository with read-only tools (list, read,
 * grep) — no branch, no PR. Without a repository it answers from the request alone.
 */
import { BadInputError, type TaskContext, type TaskHandler } from '../../src/core/index.js';
import { describeTask } from '../describe-task.js';
import type { BudgetLimits } from '../llm/budget.js';
import { type LlmClient, NO_LLM_MESSAGE } from '../llm/llm-client.js';
import type { LlmSession } from '../llm/llm-session.js';
import { createTaskSession, type UsageSink } from '../llm/task-session.js';
import { runToolLoop } from '../llm/tool-loop.js';
import { loadPrompt } from '../prompts/load-prompt.js';
import { createWorkspaceTools } from '../tools/workspace-tools.js';
import type { WorkspaceProvider } from '../workspace.js';

export interface QuestionDeps {
  llm: LlmClient | null;
  limits: BudgetLimits;
  redact?: ((text: string) => string) | undefined;
  usageSink?: UsageSink | undefined;
  /** The repository's workspace for the task; null or absent: answer without tools. */
  openWorkspace?: WorkspaceProvider | undefined;
  maxSteps?: number;
}

export async function answerQuestion(
  ctx: TaskContext,
  session: LlmSession,
  deps: Pick<QuestionDeps, 'openWorkspace' | 'maxSteps'>,
): Promise<string> {
  const workspace = ctx.task.repo && deps.openWorkspace ? await deps.openWorkspace(ctx) : null;
  try {
    const sandbox = workspace?.sandbox;
    const tools = sandbox ? createWorkspaceTools({ sandbox, readOnly: true }) : [];
    await ctx.emit('step', { phase: 'answering', message: 'Looking for the answer' });
    const { answer } = await runToolLoop({
      session,
      role: 'question',
      tools,
      maxSteps: deps.maxSteps ?? 20,
      emit: ctx.emit.bind(ctx),
      messages: [
        {
          role: 'system',
          content: loadPrompt('question', {
            repo: ctx.task.repo ?? '(no repository bound)',
            workdir: sandbox?.workdir ?? '(no copy available; answer from general knowledge and say so)',
          }),
        },
        { role: 'user', content: describeTask(ctx.task) },
      ],
    });
    return answer.trim() || 'I could not find an answer.';
  } finally {
    await workspace?.release();
  }
}

export function createQuestionHandler(deps: QuestionDeps): TaskHandler {
  return async (ctx) => {
    if (!deps.llm) throw new BadInputError(NO_LLM_MESSAGE);
    const session = createTaskSession({
      ctx,
      llm: deps.llm,
      limits: deps.limits,
      redact: deps.redact,
      usageSink: deps.usageSink,
    });
    const answer = await answerQuestion(ctx, session, deps);
    return { summary: answer, reply: answer };
  };
}
