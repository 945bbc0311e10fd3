/**
 * The TaskRouter for `auto` tasks (explicit kinds never reach it): rules first, then the LLM with a
 * JSON-schema answer. Without an LLM only the rules work, and anything else fails with a message
 * that says what to configure. A shell command the LLM proposes is checked against the sandbox
 * policy here, so a refused command is never handed to the shell handler.
 */
import { z } from 'zod';
import { BadInputError, type RouteDecision, type Task, type TaskRouter } from '../../src/core/index.js';
import { describeTask } from '../describe-task.js';
import type { BudgetLimits } from '../llm/budget.js';
import { TaskBudget } from '../llm/budget.js';
import { type LlmClient, NO_LLM_MESSAGE } from '../llm/llm-client.js';
import { LlmSession, type UsageRecord } from '../llm/llm-session.js';
import { loadPrompt } from '../prompts/load-prompt.js';
import { checkCommand } from '../tools/command-policy.js';
import { ruleRoute } from './rule-route.js';

const answerSchema = z.object({
  kind: z.enum(['shell', 'dev', 'question']),
  confidence: z.number().min(0).max(1).catch(0.5),
  command: z.string().nullish(),
  repo: z.string().nullish(),
});

const ANSWER_JSON_SCHEMA = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: ['shell', 'dev', 'question'] },
    confidence: { type: 'number' },
    command: { type: ['string', 'null'] },
    repo: { type: ['string', 'null'] },
  },
  required: ['kind', 'confidence', 'command', 'repo'],
  additionalProperties: false,
};

/** Below this the LLM's dev/shell verdict is not trusted: the cheap, read-only kind is used. */
const MIN_CONFIDENCE = 0.4;

export interface IntentRouterOptions {
  llm: LlmClient | null;
  limits: BudgetLimits;
  redact?: (text: string) => string;
  onUsage?: (task: Task, record: UsageRecord) => void | Promise<void>;
  /** Whether routed shell commands may use the network (the shell sandbox's policy). */
  shellNetwork?: boolean;
  /** The shell sandbox's workspace, for the policy check. */
  shellWorkdir?: string;
}

export class IntentRouter implements TaskRouter {
  readonly #options: IntentRouterOptions;

  constructor(options: IntentRouterOptions) {
    this.#options = options;
  }

  async route(task: Task, signal: AbortSignal): Promise<RouteDecision> {
    const ruled = ruleRoute(task);
    if (ruled) return ruled;
    const { llm } = this.#options;
    if (!llm) throw new BadInputError(NO_LLM_MESSAGE);
    const session = new LlmSession({
      client: llm,
      budget: new TaskBudget(this.#options.limits),
      signal,
      ...(this.#options.redact ? { redact: this.#options.redact } : {}),
      onUsage: (record) => this.#options.onUsage?.(task, record),
    });
    const reply = await session.chat('router', {
      messages: [
        { role: 'system', content: loadPrompt('router', { repo: task.repo ?? '(none)' }) },
        { role: 'user', content: describeTask(task) },
      ],
      responseFormat: {
        type: 'json_schema',
        json_schema: { name: 'route', schema: ANSWER_JSON_SCHEMA, strict: true },
      },
    });
    const answer = parseAnswer(reply.content ?? '');
    return this.#decide(answer);
  }

  #decide(answer: z.infer<typeof answerSchema>): RouteDecision {
    const confidence = answer.confidence;
    const input: Record<string, unknown> = {};
    if (answer.repo && /^[\w.-]+\/[\w.-]+$/.test(answer.repo)) input['repo'] = answer.repo;
    if (confidence < MIN_CONFIDENCE && answer.kind !== 'question')
      return {
        kind: 'question',
        input,
        confidence,
        reason: `llm: ${answer.kind} at low confidence ${confidence}; answering instead of acting`,
      };
    if (answer.kind === 'shell') {
      const command = answer.command?.trim();
      if (command) {
        const refusal = checkCommand(command, {
          network: this.#options.shellNetwork ?? false,
          workdir: this.#options.shellWorkdir ?? '/workspace',
        });
        if (refusal) throw new BadInputError(`${refusal} (proposed command: ${command})`);
        input['command'] = command;
      }
    }
    return { kind: answer.kind, input, confidence, reason: `llm: ${answer.kind}` };
  }
}

/** Accepts the JSON answer, also when a server wraps it in prose or a code fence. */
function parseAnswer(text: string): z.infer<typeof answerSchema> {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  let json: unknown;
  try {
    json = JSON.parse(start >= 0 && end > start ? text.slice(start, end + 1) : text);
  } catch (err) {
    throw new Error(`the router LLM did not answer with JSON: ${text.slice(0, 200)}`, { cause: err });
  }
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(`the router LLM answered an unexpected shape: ${text.slice(0, 200)}`, {
      cause: parsed.error,
    });
  return parsed.data;
}
