/**
 * Wires the agents (agents/) into devbot: the intent router, the question handler, the shell agent
 * (natural-language requests; explicit commands go to the verbatim shell handler), and the crew as
 * the RunAgent of the repo task handler.
 */
import {
  type BudgetLimits,
  createLlmClient,
  createQuestionHandler,
  createShellAgentHandler,
  IntentRouter,
  type LlmClient,
  NO_LLM_MESSAGE,
  runCrew,
  runReadOnlyCrew,
  type UsageRecord,
  type UsageSink,
  type WorkspaceProvider,
} from '../../../agents/index.js';
import { createPlannerRecall, createRagTools } from '../../../agents/tools/rag.js';
import {
  BadInputError,
  type MemoryPort,
  type RunAgent,
  type ShellSessions,
  type TaskHandler,
  type TaskInputSchema,
} from '../../core/index.js';
import type { Metrics } from '../../observability/metrics.js';
import type { DevbotModule, Runtime } from '../runtime.js';

export interface AgentsModuleOptions {
  /** Overrides the client built from the config (tests; null forces rules-only). */
  llm?: LlmClient | null;
  /** Overrides the crew as the repo task handler's agent (tests drive the pipeline with a script). */
  runAgent?: RunAgent;
  /**
   * The input a stand-in `runAgent` accepts, by kind, when it reads keys of its own (a scripted
   * agent running `input.command`): the repo task handler is registered with these schemas.
   */
  agentInput?: Partial<Record<'dev' | 'followup', TaskInputSchema>>;
  /** A read-only copy of the task's repository, for questions. */
  openRepoWorkspace?: WorkspaceProvider;
}

export interface AgentsModuleDeps {
  /** What devbot remembers: the planner's up-front recall and the coder's `remember`/`recall`. */
  memory: MemoryPort | null;
  /** Long-lived shells (a Telegram chat's persistent sandbox and history) for the shell agent. */
  shellSessions: ShellSessions;
  /** Runs `input.command` verbatim: the shell agent hands explicit commands to it. */
  verbatimShell: TaskHandler;
}

export interface AgentsModule extends DevbotModule {
  router: IntentRouter;
  /** The crew, as the repo task handler's agent. */
  runAgent: RunAgent;
  question: TaskHandler;
  /** The shell lane: explicit commands verbatim, plain words through the shell agent. */
  shell: TaskHandler;
}

export function createAgentsModule(
  runtime: Pick<Runtime, 'config' | 'secrets' | 'metrics' | 'sandboxes'>,
  deps: AgentsModuleDeps,
  options: AgentsModuleOptions = {},
): AgentsModule {
  const { config } = runtime;
  const llm = options.llm !== undefined ? options.llm : createLlmClient(config);
  const limits: BudgetLimits = {
    tokens: config.DEVBOT_BUDGET_TOKENS,
    costUsd: config.DEVBOT_BUDGET_COST_USD,
    toolCalls: config.DEVBOT_BUDGET_TOOL_CALLS,
    wallMs: config.DEVBOT_BUDGET_WALL_MS,
  };
  const redact = (text: string) => runtime.secrets.redact(text);
  const usageSink = metricsSink(runtime.metrics);
  const network = config.DEVBOT_SANDBOX_NETWORK === 'allowlist';

  const router = new IntentRouter({
    llm,
    // Routing is one short request: a small slice of the task's budget.
    limits: { ...limits, toolCalls: 0, wallMs: Math.min(limits.wallMs, 60_000) },
    redact,
    onUsage: (_task, record) => usageSink.record(record),
    shellNetwork: network,
  });

  const { memory } = deps;
  const crew: RunAgent = async (ctx, sandbox, info) => {
    // Questions and reviews run read-only: no planner, no coder, no tool that writes.
    if (info.mode === 'answer' || info.mode === 'review') {
      if (!llm) throw new BadInputError(NO_LLM_MESSAGE);
      return runReadOnlyCrew({ ctx, sandbox, info, llm, limits, redact, usageSink, network });
    }
    const repo = info.fullName;
    const { result, preview } = await runCrew({
      ctx,
      sandbox,
      repoConfig: info.config,
      ...(info.approval ? { approval: info.approval } : {}),
      llm,
      limits,
      redact,
      usageSink,
      network,
      // Memories hold reviewers' and chat users' words: both the planner's recall and the coder's
      // `recall` tool fence them as untrusted. Both are bound to this task's repository.
      ...(memory
        ? {
            recall: createPlannerRecall(memory, { repo }),
            coderTools: createRagTools({ memory, repo, taskId: ctx.task.id }),
          }
        : {}),
    });
    return {
      summary: result.summary,
      prTitle: result.prTitle,
      prBody: result.prBody,
      commitMessage: result.prTitle,
      reply: result.chatReply,
      plan: result.plan.steps,
      checks: result.checks,
      tests: result.tests,
      rounds: result.rounds,
      ...(result.threads.length > 0 ? { threads: result.threads } : {}),
      ...(preview?.url
        ? { preview: { url: preview.url, port: preview.port, command: preview.command } }
        : {}),
    };
  };

  const sessions = deps.shellSessions;
  const openShellSandbox: WorkspaceProvider = async (ctx) => {
    // The shell agent's run_command follows what the sandbox really has: a chat's sandbox made
    // before the policy allowed network stays offline.
    const session = await sessions.open(ctx);
    if (session)
      return {
        sandbox: session.sandbox,
        history: session.history,
        network: session.sandbox.network === true,
        release: () => session.release(),
      };
    const sandbox = await runtime.sandboxes.create({ taskId: ctx.task.id, network });
    return { sandbox, network: network && sandbox.network !== false, release: () => sandbox.close() };
  };

  return {
    name: 'agents',
    router,
    runAgent: options.runAgent ?? crew,
    question: createQuestionHandler({
      llm,
      limits,
      redact,
      usageSink,
      openWorkspace: options.openRepoWorkspace,
    }),
    shell: createShellAgentHandler({
      llm,
      limits,
      redact,
      usageSink,
      openSandbox: openShellSandbox,
      verbatim: deps.verbatimShell,
      network,
      commandApproval: config.DEVBOT_APPROVAL.includes('commands'),
    }),
  };
}

function metricsSink(metrics: Metrics): UsageSink {
  return {
    record: (usage: UsageRecord) => metrics.recordLlmUsage(usage),
  };
}
