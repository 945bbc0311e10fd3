/**
 * The coder: a tool loop over the workspace tools. It keeps its conversation so that, when the
 * executor reports failing checks, the next round continues with everything it already read.
 */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import {
  BadInputError,
  type ExecResult,
  type Sandbox,
  type SteerMessage,
  type Task,
  type TaskContext,
} from '../../src/core/index.js';
import { describeTask } from '../describe-task.js';
import type { LlmSession } from '../llm/llm-session.js';
import type { Tool } from '../llm/tool.js';
import { runToolLoop } from '../llm/tool-loop.js';
import { loadPrompt } from '../prompts/load-prompt.js';
import { type CommandApproval, createWorkspaceTools } from '../tools/workspace-tools.js';
import { type Plan, renderPlan } from './planner.js';

export interface CoderOptions {
  session: LlmSession;
  sandbox: Sandbox;
  task: Task;
  plan: Plan;
  agentsMd: string | null;
  network: boolean;
  protectedPaths: readonly string[];
  maxSteps: number;
  emit?: TaskContext['emit'];
  /** Tools beyond the workspace's (e.g. memory's `remember`/`recall`); they may not reuse a name. */
  extraTools?: readonly Tool[] | undefined;
  /** Messages from the requester while the task runs (steering), read before each model turn. */
  inbox?: (() => Promise<SteerMessage[]>) | undefined;
  /** `approval: commands`: risky commands ask a person first. */
  commandApproval?: CommandApproval | undefined;
}

export class Coder {
  readonly filesChanged = new Set<string>();
  /** The coder's last command, while nothing has touched the workspace after it. */
  #lastRun: { command: string; result: ExecResult } | null = null;
  readonly #options: CoderOptions;
  readonly #messages: ChatCompletionMessageParam[];
  readonly #tools: Tool[];

  constructor(options: CoderOptions) {
    this.#options = options;
    const workspace = createWorkspaceTools({
      sandbox: options.sandbox,
      network: options.network,
      protectedPaths: options.protectedPaths,
      onWrite: (path) => {
        this.filesChanged.add(path);
        this.#lastRun = null;
      },
      onCommand: (command, result) => {
        this.#lastRun = { command: command.trim(), result };
      },
      ...(options.emit ? { emit: options.emit } : {}),
      ...(options.session.signal ? { signal: options.session.signal } : {}),
      commandApproval: options.commandApproval,
    });
    this.#tools = withExtraTools(workspace, options.extraTools ?? []);
    const network = options.network
      ? 'Commands may use the network through a proxy that is already configured (HTTP_PROXY/HTTPS_PROXY); it allows package registries and source hosts only, so installing dependencies works and other hosts are refused.'
      : 'There is no network: do not install packages or fetch anything; such commands are refused.';
    const approval = options.commandApproval
      ? ' Risky commands (installs, network access, deleting outside the workspace, git push or reset --hard, chmod -R, piping into a shell) wait for a person to allow them; if one is denied, do the work another way.'
      : '';
    this.#messages = [
      {
        role: 'system',
        content: loadPrompt('coder', {
          workdir: options.sandbox.workdir,
          network: network + approval,
          extraTools: (options.extraTools ?? []).map((t) => `\n- ${t.name}: ${t.description}`).join(''),
        }),
      },
      {
        role: 'user',
        content: [
          describeTask(options.task),
          renderPlan(options.plan),
          options.agentsMd ? `AGENTS.md:\n${options.agentsMd.slice(0, 6000)}` : '',
        ]
          .filter(Boolean)
          .join('\n\n'),
      },
    ];
  }

  /**
   * The result of `command` when it was the coder's last action on the workspace (no file written
   * and no other command run since) and it passed in full: the executor need not run it again.
   */
  passingLastRun(command: string): ExecResult | null {
    const last = this.#lastRun;
    if (!last || last.command !== command.trim()) return null;
    const { result } = last;
    return result.exitCode === 0 && !result.timedOut && !result.truncated ? result : null;
  }

  /** First round: do the task. Later rounds: `feedback` says what failed. Returns the summary. */
  async run(feedback?: string): Promise<string> {
    if (feedback) this.#messages.push({ role: 'user', content: feedback });
    const { answer } = await runToolLoop({
      session: this.#options.session,
      role: 'coder',
      messages: this.#messages,
      tools: this.#tools,
      maxSteps: this.#options.maxSteps,
      ...(this.#options.emit ? { emit: this.#options.emit } : {}),
      ...(this.#options.inbox ? { inbox: this.#options.inbox } : {}),
    });
    return answer;
  }
}

/**
 * Extra tools go through the same loop, so each call counts in the task's tool-call budget. A name
 * clash would silently shadow a workspace tool (and its path and command checks): refuse it.
 */
function withExtraTools(base: readonly Tool[], extra: readonly Tool[]): Tool[] {
  const names = new Set(base.map((t) => t.name));
  for (const tool of extra) {
    if (names.has(tool.name)) throw new BadInputError(`the coder already has a tool named "${tool.name}"`);
    names.add(tool.name);
  }
  return [...base, ...extra];
}
