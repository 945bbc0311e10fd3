/**
 * The bot creates and cancels tasks through the gateway's HTTP API, as any other client would,
 * with a JWT whose subject is the Telegram user (`tg:<id>`). Tokens are cached per subject.
 */
import type { Task, TaskKind } from '../core/index.js';
import { DevbotError } from '../core/index.js';

export interface CreateTaskRequest {
  kind: TaskKind;
  prompt: string;
  command?: string;
  repo?: string;
  input?: Record<string, unknown>;
  origin: Record<string, unknown>;
  idempotencyKey: string;
}

/** The subset of the API's task JSON the bot reads. */
export interface ApiTask {
  id: string;
  kind: TaskKind;
  status: Task['status'];
  origin: Record<string, unknown>;
  prompt: string;
}

export class TaskApiError extends DevbotError {
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('task_api', message, options);
  }
}

export interface TaskApiClientOptions {
  /** Gateway base URL, read per call (it is known only once the gateway listens). */
  baseUrl: () => string;
  issueToken: (subject: string, ttlSeconds?: number) => Promise<string>;
  timeoutMs?: number;
}

const TOKEN_TTL_S = 3600;

export class TaskApiClient {
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(private readonly options: TaskApiClientOptions) {}

  async createTask(
    subject: string,
    request: CreateTaskRequest,
  ): Promise<{ task: ApiTask; created: boolean }> {
    const body: Record<string, unknown> = {
      kind: request.kind,
      prompt: request.prompt,
      source: 'telegram',
      origin: request.origin,
      requester: subject,
      idempotencyKey: request.idempotencyKey,
    };
    if (request.command !== undefined) body.command = request.command;
    if (request.repo !== undefined) body.repo = request.repo;
    if (request.input !== undefined) body.input = request.input;
    const res = await this.#call(subject, 'POST', '/tasks', body);
    return {
      task: (await res.json()) as ApiTask,
      created: res.headers.get('idempotent-replayed') !== 'true',
    };
  }

  async cancelTask(subject: string, taskId: string): Promise<ApiTask> {
    const res = await this.#call(subject, 'POST', `/tasks/${encodeURIComponent(taskId)}/cancel`);
    return (await res.json()) as ApiTask;
  }

  async #call(subject: string, method: string, path: string, body?: unknown): Promise<Response> {
    const token = await this.#token(subject);
    const url = `${this.options.baseUrl().replace(/\/$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
    } catch (err) {
      throw new TaskApiError(0, `the devbot API at ${url} is unreachable`, { cause: err });
    }
    if (!res.ok) {
      const detail = (await res.json().catch(() => null)) as { message?: string } | null;
      throw new TaskApiError(res.status, detail?.message ?? `the devbot API answered ${res.status}`);
    }
    return res;
  }

  async #token(subject: string): Promise<string> {
    const cached = this.#tokens.get(subject);
    if (cached && cached.expiresAt > Date.now() + 60_000) return cached.token;
    const token = await this.options.issueToken(subject, TOKEN_TTL_S);
    this.#tokens.set(subject, { token, expiresAt: Date.now() + TOKEN_TTL_S * 1000 });
    return token;
  }
}
