/**
 * An LlmSession bound to a running task: usage is recorded as an `llm` event and on the task (in
 * the same write), and through the metrics sink, after every answer.
 */
import type { TaskContext } from '../../src/core/index.js';
import { type BudgetLimits, TaskBudget } from './budget.js';
import type { LlmClient } from './llm-client.js';
import { LlmSession, type UsageRecord } from './llm-session.js';

export interface UsageSink {
  record(usage: UsageRecord): void;
}

export interface TaskSessionOptions {
  ctx: TaskContext;
  llm: LlmClient;
  limits: BudgetLimits;
  redact?: ((text: string) => string) | undefined;
  usageSink?: UsageSink | undefined;
}

export function createTaskSession(options: TaskSessionOptions): LlmSession {
  const { ctx } = options;
  return new LlmSession({
    client: options.llm,
    budget: new TaskBudget(options.limits),
    signal: ctx.signal,
    ...(options.redact ? { redact: options.redact } : {}),
    onUsage: async (record, total) => {
      options.usageSink?.record(record);
      // The answer's event and the task's running totals in one write.
      await ctx.emit(
        'llm',
        {
          role: record.role,
          model: record.model,
          tokensIn: record.tokensIn,
          tokensOut: record.tokensOut,
          costUsd: round(record.costUsd),
          durationMs: Math.round(record.durationMs),
        },
        {
          patch: {
            usage: {
              ...ctx.task.usage,
              tokensIn: total.tokensIn,
              tokensOut: total.tokensOut,
              costUsd: round(total.costUsd),
              llmMs: Math.round(total.llmMs),
              llmRequests: total.llmRequests,
              toolCalls: total.toolCalls,
            },
          },
        },
      );
    },
  });
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
