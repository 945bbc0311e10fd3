/**
 * One task's view of the LLM: every request is checked against the task's budget, every message is
 * passed through the secret redactor before it leaves the process, the wall-time budget and the
 * task's cancel signal abort requests in flight, and usage is reported after each answer.
 */
import type { ChatCompletionMessage, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { CancelledError } from '../../src/core/index.js';
import { BudgetExceededError, type BudgetUsage, type TaskBudget } from './budget.js';
import type { CompletionRequest, LlmClient, LlmRole } from './llm-client.js';
import { estimateCostUsd } from './pricing.js';

export interface UsageRecord {
  role: LlmRole;
  model: string;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  durationMs: number;
}

export interface LlmSessionOptions {
  client: LlmClient;
  budget: TaskBudget;
  signal?: AbortSignal;
  /** Masks secret values; applied to every message sent to the model. */
  redact?: (text: string) => string;
  /** Called after every answer with the request's usage and the task's running total. */
  onUsage?: (record: UsageRecord, total: BudgetUsage) => void | Promise<void>;
}

export class LlmSession {
  readonly budget: TaskBudget;
  readonly #client: LlmClient;
  readonly #signal: AbortSignal | undefined;
  readonly #redact: (text: string) => string;
  readonly #onUsage: LlmSessionOptions['onUsage'];

  constructor(options: LlmSessionOptions) {
    this.#client = options.client;
    this.budget = options.budget;
    this.#signal = options.signal;
    this.#redact = options.redact ?? ((t) => t);
    this.#onUsage = options.onUsage;
  }

  get signal(): AbortSignal | undefined {
    return this.#signal;
  }

  redact(text: string): string {
    return this.#redact(text);
  }

  async chat(role: LlmRole, request: Omit<CompletionRequest, 'signal'>): Promise<ChatCompletionMessage> {
    if (this.#signal?.aborted) throw new CancelledError();
    this.budget.check();
    const deadline = AbortSignal.timeout(Math.max(1, this.budget.remainingMs()));
    const signal = this.#signal ? AbortSignal.any([this.#signal, deadline]) : deadline;
    let result: Awaited<ReturnType<LlmClient['complete']>>;
    try {
      result = await this.#client.complete(role, {
        ...request,
        messages: request.messages.map((m) => this.#redactMessage(m)),
        signal,
      });
    } catch (err) {
      if (this.#signal?.aborted) throw new CancelledError(undefined, { cause: err });
      if (deadline.aborted) {
        try {
          this.budget.check();
        } catch (budgetErr) {
          if (budgetErr instanceof BudgetExceededError) throw budgetErr;
        }
      }
      throw err;
    }
    const costUsd = estimateCostUsd(result.model, result.tokensIn, result.tokensOut);
    this.budget.addLlm(result.tokensIn, result.tokensOut, costUsd, result.durationMs);
    await this.#onUsage?.(
      {
        role,
        model: result.model,
        tokensIn: result.tokensIn,
        tokensOut: result.tokensOut,
        costUsd,
        durationMs: result.durationMs,
      },
      { ...this.budget.usage },
    );
    return result.message;
  }

  #redactMessage(message: ChatCompletionMessageParam): ChatCompletionMessageParam {
    const content = message.content;
    if (typeof content === 'string') return { ...message, content: this.#redact(content) } as typeof message;
    if (Array.isArray(content))
      return {
        ...message,
        content: content.map((part) =>
          part.type === 'text' ? { ...part, text: this.#redact(part.text) } : part,
        ),
      } as typeof message;
    return message;
  }
}
