/** The task model: every ingress (Telegram, GitHub, HTTP) turns a request into one of these. */

export const TASK_SOURCES = ['telegram', 'github', 'api'] as const;
export type TaskSource = (typeof TASK_SOURCES)[number];

export const TASK_KINDS = ['auto', 'shell', 'dev', 'question', 'followup'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export const TASK_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['succeeded', 'failed', 'cancelled'];

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Where a task came from, so reporters can answer in the same place. Free-form per source. */
export type TaskOrigin = Record<string, unknown>;

/** Token and time accounting, filled in by the agents and the worker. */
export interface TaskUsage {
  tokensIn?: number;
  tokensOut?: number;
  costUsd?: number;
  llmMs?: number;
  [key: string]: unknown;
}

export interface Task {
  id: string;
  source: TaskSource;
  origin: TaskOrigin;
  requester: string;
  repo: string | null;
  kind: TaskKind;
  prompt: string;
  /** Kind-specific input (e.g. a shell task's command and preview port). */
  input: Record<string, unknown>;
  status: TaskStatus;
  idempotencyKey: string | null;
  branch: string | null;
  prUrl: string | null;
  previewUrl: string | null;
  resultSummary: string | null;
  result: Record<string, unknown> | null;
  error: string | null;
  usage: TaskUsage;
  attempts: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

/** What an ingress supplies to create a task; the store fills in the rest. */
export interface NewTask {
  source: TaskSource;
  origin?: TaskOrigin;
  requester: string;
  repo?: string | null;
  kind: TaskKind;
  prompt: string;
  input?: Record<string, unknown>;
  idempotencyKey?: string | null;
}

/** Fields a handler or the worker may set when a task moves. */
export interface TaskPatch {
  kind?: TaskKind;
  input?: Record<string, unknown>;
  repo?: string | null;
  origin?: TaskOrigin;
  branch?: string | null;
  prUrl?: string | null;
  previewUrl?: string | null;
  resultSummary?: string | null;
  result?: Record<string, unknown> | null;
  error?: string | null;
  usage?: TaskUsage;
}
