/**
 * The LLM client: the `openai` SDK's Chat Completions against any OpenAI-compatible server
 * (OPENAI_BASE_URL: OpenAI, Ollama, vLLM, llama.cpp, OpenRouter). One model per role with a default.
 * Retries with backoff on 429, 5xx, connection errors and timeouts are the SDK's own (bounded by
 * `maxRetries`, honouring retry-after); budgets and usage live in LlmSession, one per task.
 */
import OpenAI from 'openai';
import type {
  ChatCompletionMessage,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { UnavailableError } from '../../src/core/index.js';

export const LLM_ROLES = [
  'router',
  'planner',
  'coder',
  'synthesizer',
  'shell',
  'question',
  'reviewer',
] as const;
export type LlmRole = (typeof LLM_ROLES)[number];

export interface ModelMap {
  default: string;
  router?: string | undefined;
  planner?: string | undefined;
  coder?: string | undefined;
  synthesizer?: string | undefined;
}

export interface LlmClientOptions {
  apiKey?: string | undefined;
  baseUrl?: string | undefined;
  models: ModelMap;
  /** Retries on 429/5xx/timeouts, with the SDK's exponential backoff. Default 3. */
  maxRetries?: number;
  /** Per-request timeout. Default 120 s. */
  timeoutMs?: number;
}

export type ResponseFormat =
  | { type: 'json_schema'; json_schema: { name: string; schema: Record<string, unknown>; strict?: boolean } }
  | { type: 'json_object' };

export interface CompletionRequest {
  messages: ChatCompletionMessageParam[];
  tools?: ChatCompletionTool[];
  responseFormat?: ResponseFormat;
  signal?: AbortSignal;
}

export interface CompletionResult {
  message: ChatCompletionMessage;
  model: string;
  tokensIn: number;
  tokensOut: number;
  durationMs: number;
}

/** The config fields the client reads (a subset of src/config's Config). */
export interface LlmConfig {
  OPENAI_API_KEY?: string | undefined;
  OPENAI_BASE_URL?: string | undefined;
  DEVBOT_MODEL: string;
  DEVBOT_MODEL_ROUTER?: string | undefined;
  DEVBOT_MODEL_PLANNER?: string | undefined;
  DEVBOT_MODEL_CODER?: string | undefined;
  DEVBOT_MODEL_SYNTHESIZER?: string | undefined;
}

export class LlmClient {
  readonly #openai: OpenAI;
  readonly #models: ModelMap;

  constructor(options: LlmClientOptions) {
    this.#models = options.models;
    this.#openai = new OpenAI({
      // Local servers (Ollama, llama.cpp) take any key; the SDK insists on one.
      apiKey: options.apiKey ?? 'no-key',
      ...(options.baseUrl ? { baseURL: options.baseUrl } : {}),
      maxRetries: options.maxRetries ?? 3,
      timeout: options.timeoutMs ?? 120_000,
    });
  }

  /** Shell, question and reviewer share the coder and planner models: they do the same kind of work. */
  modelFor(role: LlmRole): string {
    const m = this.#models;
    switch (role) {
      case 'router':
        return m.router ?? m.default;
      case 'planner':
      case 'question':
      case 'reviewer':
        return m.planner ?? m.default;
      case 'coder':
      case 'shell':
        return m.coder ?? m.default;
      case 'synthesizer':
        return m.synthesizer ?? m.default;
    }
  }

  async complete(role: LlmRole, request: CompletionRequest): Promise<CompletionResult> {
    const model = this.modelFor(role);
    const started = performance.now();
    try {
      const response = await this.#openai.chat.completions.create(
        {
          model,
          messages: request.messages,
          ...(request.tools && request.tools.length > 0 ? { tools: request.tools } : {}),
          ...(request.responseFormat ? { response_format: request.responseFormat } : {}),
        },
        {
          // Lets scripted servers (and proxies' logs) tell the roles apart; harmless elsewhere.
          headers: { 'x-devbot-role': role },
          ...(request.signal ? { signal: request.signal } : {}),
        },
      );
      const choice = response.choices[0];
      if (!choice) throw new Error(`the LLM (${model}) returned no choices`);
      return {
        message: choice.message,
        model,
        tokensIn: response.usage?.prompt_tokens ?? 0,
        tokensOut: response.usage?.completion_tokens ?? 0,
        durationMs: performance.now() - started,
      };
    } catch (err) {
      throw classifyLlmError(err, model, this.#openai.baseURL);
    }
  }
}

/** Bad credentials or an unknown model cannot be fixed by retrying; everything else may be. */
function classifyLlmError(err: unknown, model: string, baseUrl: string): unknown {
  // The SDK says only "Connection error.": say where it tried and what to check.
  if (err instanceof OpenAI.APIConnectionError && !(err instanceof OpenAI.APIConnectionTimeoutError))
    return new Error(
      `could not reach the LLM server at ${baseUrl}: ${err.message} (check OPENAI_BASE_URL and that the server is up)`,
      { cause: err },
    );
  if (err instanceof OpenAI.APIError && (err.status === 401 || err.status === 403))
    return new UnavailableError(
      `the LLM server rejected the credentials (HTTP ${err.status}): check OPENAI_API_KEY`,
      { cause: err },
    );
  if (err instanceof OpenAI.APIError && err.status === 404)
    return new UnavailableError(
      `the LLM server does not know model "${model}" (HTTP 404): check DEVBOT_MODEL*`,
      { cause: err },
    );
  return err;
}

/** Null when no LLM is configured (rules-only routing; dev tasks fail with a clear message). */
export function createLlmClient(
  config: LlmConfig,
  overrides: Partial<LlmClientOptions> = {},
): LlmClient | null {
  if (!config.OPENAI_API_KEY && !config.OPENAI_BASE_URL) return null;
  return new LlmClient({
    apiKey: config.OPENAI_API_KEY,
    baseUrl: config.OPENAI_BASE_URL,
    models: {
      default: config.DEVBOT_MODEL,
      router: config.DEVBOT_MODEL_ROUTER,
      planner: config.DEVBOT_MODEL_PLANNER,
      coder: config.DEVBOT_MODEL_CODER,
      synthesizer: config.DEVBOT_MODEL_SYNTHESIZER,
    },
    ...overrides,
  });
}

export const NO_LLM_MESSAGE = 'no LLM configured: set OPENAI_API_KEY or OPENAI_BASE_URL';
