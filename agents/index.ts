/** The agents' public surface (DESIGN.md §5). Depends on src/core ports only. */
export { type CrewOptions, type CrewOutcome, runCrew } from './crew/run-crew.js';
export type { CrewResult } from './crew/synthesizer.js';
export { describeTask } from './describe-task.js';
export { BudgetExceededError, type BudgetLimits, TaskBudget } from './llm/budget.js';
export {
  createLlmClient,
  LlmClient,
  type LlmConfig,
  type LlmRole,
  NO_LLM_MESSAGE,
} from './llm/llm-client.js';
export { LlmSession, type UsageRecord } from './llm/llm-session.js';
export { createTaskSession, type UsageSink } from './llm/task-session.js';
export { createQuestionHandler, type QuestionDeps } from './question/question-handler.js';
export { type ReadOnlyCrewOptions, runReadOnlyCrew } from './review/read-only-crew.js';
export { IntentRouter, type IntentRouterOptions } from './router/intent-router.js';
export { ruleRoute } from './router/rule-route.js';
export { createShellAgentHandler, type ShellAgentDeps } from './shell/shell-agent.js';
export { type CommandPolicy, checkCommand } from './tools/command-policy.js';
export type { Workspace, WorkspaceProvider } from './workspace.js';
