/**
 * The shell agent: a natural-language request -> commands in the chat's sandbox, a few bounded
 * steps, output summarized by the model. Explicit commands (`/sh`, `$ `, or one the router
 * extracted into `input.command`) go to the verbatim shell handler instead, without the LLM.
 * Commands outside the sandbox policy are refused by run_command before they are attempted.
 */
import { BadInputError, type TaskHandler, UnavailableError } from '../../src/core/index.js';
import { describeTask } from '../describe-task.js';
import type { BudgetLimits } from '../llm/budget.js';
import { type LlmClient, NO_LLM_MESSAGE } from '../llm/llm-client.js';
import { createTaskSession, type UsageSink } from '../llm/task-session.js';
import { runToolLoop } from '../llm/tool-loop.js';
import { loadPrompt } from '../prompts/load-prompt.js';
import { createWorkspaceTools } from '../tools/workspace-tools.js';
import type { WorkspaceProvider } from '../workspace.js';

export interface ShellAgentDeps {
  llm: LlmClient | null;
  limits: BudgetLimits;
  redact?: ((text: string) => string) | undefined;
  usageSink?: UsageSink | undefined;
  /** The chat's persistent sandbox (or a fresh one). */
  openSandbox: WorkspaceProvider;
  /** Runs `input.command` verbatim (the sandbox module's shell handler). */
  verbatim?: TaskHandler | undefined;
  network?: boolean;
  maxSteps?: number;
  /**
   * The deployment's `DEVBOT_APPROVAL` includes `commands`: risky commands the agent wants to run ask
   * the requester first. Commands the user typed (`/sh`, `$ `) never ask: they go to `verbatim`.
   * Only the deployment's setting counts: the chat's sandbox is not a checkout of the chat's bound
   * repository, so that repository's `.devbot.yml` (`approval`, `approve_commands`) is not read here.
   */
  commandApproval?: boolean;
}

export function createShellAgentHandler(deps: ShellAgentDeps): TaskHandler {
  return async (ctx) => {
    const command = ctx.task.input['command'];
    if (typeof command === 'string' && command.trim()) {
      if (!deps.verbatim) throw new UnavailableError('no shell runner is configured for explicit commands');
      return deps.verbatim(ctx);
    }
    if (!deps.llm)
      throw new BadInputError(
        `${NO_LLM_MESSAGE} to turn words into commands, or send the command itself ("command" in the API, "/sh ..." or "$ ..." in chat)`,
      );
    const workspace = await deps.openSandbox(ctx);
    if (!workspace) throw new UnavailableError('no sandbox is available for this chat');
    try {
      const session = createTaskSession({
        ctx,
        llm: deps.llm,
        limits: deps.limits,
        redact: deps.redact,
        usageSink: deps.usageSink,
      });
      const { sandbox } = workspace;
      // A chat's long-lived sandbox has no network even when fresh ones do.
      const network = (deps.network ?? false) && workspace.network !== false;
      const tools = createWorkspaceTools({
        sandbox,
        network,
        emit: ctx.emit.bind(ctx),
        signal: ctx.signal,
        commandApproval:
          deps.commandApproval && ctx.askCommand
            ? {
                ask: ctx.askCommand.bind(ctx),
                waited: (ms: number) => session.budget.exclude(ms),
                // The chat's sandbox outlives tasks: a file an earlier task left there is as
                // untrusted as one written now (`python3 x.py` is judged by x.py's code).
                everythingChanged: true,
              }
            : undefined,
      }).filter((t) => ['run_command', 'list_files', 'read_file'].includes(t.name));
      const history = (workspace.history ?? []).slice(-20);
      await ctx.emit('step', { phase: 'running', message: 'Working out the commands' });
      const { answer, toolCalls } = await runToolLoop({
        session,
        role: 'shell',
        tools,
        maxSteps: deps.maxSteps ?? 8,
        emit: ctx.emit.bind(ctx),
        messages: [
          {
            role: 'system',
            content: loadPrompt('shell', {
              workdir: sandbox.workdir,
              network:
                (network
                  ? 'Commands may use the network through a proxy that allows package registries and source hosts only.'
                  : 'There is no network access.') +
                (deps.commandApproval
                  ? ' Risky commands (installs, network access, deletes outside the workspace, git push, chmod -R, piping into a shell) wait for the user to allow them; if one is denied, say so and do not retry it.'
                  : ''),
            }),
          },
          {
            role: 'user',
            content: [
              history.length > 0 ? `Recent commands in this chat:\n${history.join('\n')}` : '',
              describeTask(ctx.task),
            ]
              .filter(Boolean)
              .join('\n\n'),
          },
        ],
      });
      const summary = answer.trim() || 'Done.';
      return { summary, reply: summary, toolCalls };
    } finally {
      await workspace.release();
    }
  };
}
