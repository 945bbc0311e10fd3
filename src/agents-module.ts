/**
 * Wires the agents (agents/) into devbot: the intent router, the question handler, the shell agent
 * (natural-language requests; explicit commands go to the sandbox module's verbatim handler), and
 * the crew as the `runAgent` of the GitHub repo pipeline for `dev` and `followup` tasks.
 */
import {
  type BudgetLimits,
  createLlmClient,
  createQuestionHandler,
  createShellAgentHandler,
  IntentRouter,
  type LlmClient,
  runCrew,
  type UsageRecord,
  type UsageSink,
  type WorkspaceProvider,
} from '../agents/index.js';
import { createPlannerRecall, createRagTools } from '../agents/tools/rag.js';
import type { MemoryPort, TaskHandler, TaskKind } from './core/index.js';
import type { RunAgent } from './github/agent-result.js';
import type { Metrics } from './observability/metrics.js';
import type { DevbotModule, ModuleFactory, Runtime } from './runtime.js';
import type { ShellSessions } from './worker/handlers/shell-session.js';

export interface AgentsModuleOptions {
  /** Overrides the client built from the config (tests; null forces rules-only). */
  llm?: LlmClient | null;
  /** The GitHub helper's repo pipeline: turns runAgent into the dev/followup handlers. */
  repoPipeline?: (runAgent: RunAgent) => Partial<Record<TaskKind, TaskHandler>>;
  /** A read-only copy of the task's repository, for questions. */
  openRepoWorkspace?: WorkspaceProvider;
  /** The shell agent's sandbox (default: the chat's, through shellSessions, else a fresh one). */
  openShellSandbox?: WorkspaceProvider;
  /** Long-lived shells (a Telegram chat's persistent sandbox and history) for the shell agent. */
  shellSessions?: ShellSessions;
  /** The sandbox module's handler that runs `input.command` verbatim. */
  verbatimShell?: TaskHandler;
  /** The memory module: the planner's up-front recall and the coder's `remember`/`recall` tools. */
  memory?: MemoryPort;
  /** Whether sandboxes let commands use the network (the provider's policy). Default: DEVBOT_SANDBOX_NETWORK. */
  network?: boolean;
}

export function agentsModule(options: AgentsModuleOptions = {}): ModuleFactory {
  return (runtime) => createAgentsModule(runtime, options);
}

export function createAgentsModule(runtime: Runtime, options: AgentsModuleOptions = {}): DevbotModule {
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
  const network = options.network ?? config.DEVBOT_SANDBOX_NETWORK === 'allowlist';

  const router = new IntentRouter({
    llm,
    // Routing is one short request: a small slice of the task's budget.
    limits: { ...limits, toolCalls: 0, wallMs: Math.min(limits.wallMs, 60_000) },
    redact,
    onUsage: (_task, record) => usageSink.record(record),
    shellNetwork: network,
  });

  const memory = options.memory;
  /** The crew as the GitHub repo pipeline's agent (src/github/agent-result.ts). */
  const runAgent: RunAgent = async (ctx, sandbox, info) => {
    const repo = info.fullName;
    const { result } = await runCrew({
      ctx,
      sandbox,
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
      ...(result.previewUrl ? { previewUrl: result.previewUrl } : {}),
      data: { ...result },
    };
  };

  const sessions = options.shellSessions;
  const openShellSandbox: WorkspaceProvider =
    options.openShellSandbox ??
    (async (ctx) => {
      // The shell agent's run_command follows what the sandbox really has: a chat's sandbox
      // made before the policy allowed network stays offline.
      const session = await sessions?.open(ctx);
      if (session)
        return {
          sandbox: session.sandbox,
          history: session.history,
          network: session.sandbox.network === true,
          release: () => session.release(),
        };
      const sandbox = await runtime.sandboxes.create({ taskId: ctx.task.id, network });
      return { sandbox, network: network && sandbox.network !== false, release: () => sandbox.close() };
    });

  const handlers: Partial<Record<TaskKind, TaskHandler>> = {
    question: createQuestionHandler({
      llm,
      limits,
      redact,
      usageSink,
      openWorkspace: options.openRepoWorkspace,
    }),
    ...(options.verbatimShell
      ? {
          shell: createShellAgentHandler({
            llm,
            limits,
            redact,
            usageSink,
            openSandbox: openShellSandbox,
            verbatim: options.verbatimShell,
            network,
          }),
        }
      : {}),
    ...(options.repoPipeline ? options.repoPipeline(runAgent) : {}),
  };

  return { name: 'agents', router, handlers };
}

function metricsSink(metrics: Metrics): UsageSink {
  return {
    record: (usage: UsageRecord) => {
      metrics.llmTokens.inc({ role: usage.role, direction: 'in' }, usage.tokensIn);
      metrics.llmTokens.inc({ role: usage.role, direction: 'out' }, usage.tokensOut);
      metrics.llmCost.inc({ role: usage.role }, usage.costUsd);
      metrics.llmRequestDuration.observe({ role: usage.role }, usage.durationMs / 1000);
    },
  };
}
