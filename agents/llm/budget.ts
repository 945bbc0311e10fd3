/**
 * Per-task budgets (DESIGN.md §5): tokens, cost, tool calls and wall time. Every LLM request and
 * tool call goes through one TaskBudget; crossing a limit throws BudgetExceededError, which says
 * which limit was hit and what the task had done so far, so the failure message is useful.
 */
import { LimitExceededError } from '../../src/core/index.js';

export interface BudgetLimits {
  tokens: number;
  costUsd: number;
  toolCalls: number;
  wallMs: number;
}

export interface BudgetUsage {
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  llmMs: number;
  llmRequests: number;
  toolCalls: number;
}

export class BudgetExceededError extends LimitExceededError {
  readonly limit: keyof BudgetLimits;
  readonly usage: BudgetUsage;
  readonly progress: readonly string[];
  constructor(limit: keyof BudgetLimits, detail: string, usage: BudgetUsage, progress: readonly string[]) {
    const done =
      progress.length > 0 ? ` Done so far: ${progress.slice(-12).join('; ')}.` : ' Nothing was done yet.';
    super(`budget exceeded: ${detail}.${done}`);
    this.limit = limit;
    this.usage = usage;
    this.progress = progress;
  }
}

export class TaskBudget {
  readonly limits: BudgetLimits;
  readonly usage: BudgetUsage = {
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
    llmMs: 0,
    llmRequests: 0,
    toolCalls: 0,
  };
  readonly progress: string[] = [];
  #startedAt: number;
  readonly #now: () => number;

  constructor(limits: BudgetLimits, now: () => number = Date.now) {
    this.limits = limits;
    this.#now = now;
    this.#startedAt = now();
  }

  /** A line of "what was done", quoted when the budget runs out. */
  note(step: string): void {
    this.progress.push(step);
  }

  /** Time spent waiting for a person (a command's approval) is not the task's to spend. */
  exclude(ms: number): void {
    this.#startedAt += Math.max(0, ms);
  }

  elapsedMs(): number {
    return this.#now() - this.#startedAt;
  }

  remainingMs(): number {
    return Math.max(0, this.limits.wallMs - this.elapsedMs());
  }

  addLlm(tokensIn: number, tokensOut: number, costUsd: number, ms: number): void {
    this.usage.tokensIn += tokensIn;
    this.usage.tokensOut += tokensOut;
    this.usage.costUsd += costUsd;
    this.usage.llmMs += ms;
    this.usage.llmRequests += 1;
  }

  /** Counts a tool call, refusing it when the allowance is spent. */
  takeToolCall(): void {
    if (this.usage.toolCalls >= this.limits.toolCalls)
      this.#fail('toolCalls', `${this.usage.toolCalls} of ${this.limits.toolCalls} tool calls used`);
    this.usage.toolCalls += 1;
  }

  /** Throws when any limit is reached; called before each LLM request. */
  check(): void {
    const tokens = this.usage.tokensIn + this.usage.tokensOut;
    if (tokens >= this.limits.tokens) this.#fail('tokens', `${tokens} of ${this.limits.tokens} tokens used`);
    if (this.usage.costUsd >= this.limits.costUsd)
      this.#fail('costUsd', `$${this.usage.costUsd.toFixed(4)} of $${this.limits.costUsd} spent`);
    const elapsed = this.elapsedMs();
    if (elapsed >= this.limits.wallMs)
      this.#fail(
        'wallMs',
        `ran ${Math.round(elapsed / 1000)}s of the ${Math.round(this.limits.wallMs / 1000)}s allowed`,
      );
  }

  #fail(limit: keyof BudgetLimits, detail: string): never {
    throw new BudgetExceededError(limit, detail, { ...this.usage }, [...this.progress]);
  }
}
