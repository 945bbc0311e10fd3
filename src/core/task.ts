/** The task model: every ingress (Telegram, GitHub, HTTP) turns a request into one of these. */
import type { TaskPlan } from './task-plan.js';
import type { TaskResult } from './task-result.js';

export const TASK_SOURCES = ['telegram', 'github', 'api'] as const;
export type TaskSource = (typeof TASK_SOURCES)[number];

export const TASK_KINDS = ['auto', 'shell', 'dev', 'question', 'followup'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

/** `waiting`: for a person (a plan to approve); it holds no worker slot and no sandbox. */
export const TASK_STATUSES = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['succeeded', 'failed', 'cancelled'];

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * Where a Telegram task came from, and the messages its reporter keeps editing (stored here so a
 * worker restart keeps editing the same ones).
 */
export interface TelegramOrigin {
  chatId: number;
  chatType?: string;
  /** The user's message (replies thread under it). */
  messageId?: number;
  userId?: number;
  updateId?: number;
  /** Forum topic. */
  threadId?: number;
  /** The status message edited in place. */
  statusMessageId?: number;
  /** The final result message, once sent (reported exactly once across restarts). */
  resultMessageId?: number;
  /** The plan message with Approve / Revise / Cancel (replies to it revise the plan). */
  planMessageId?: number;
  /** The "what should change?" prompt sent after Revise (replies to it revise the plan). */
  reviseMessageId?: number;
}

/** Where a GitHub task came from: the issue or PR conversation to report to, and the trigger. */
export interface GithubOrigin {
  owner: string;
  repo: string;
  installationId: number;
  /** The issue or pull request the trigger was posted on (where the sticky comment goes). */
  issueNumber: number;
  /** Set when the conversation is a pull request. */
  prNumber?: number;
  deliveryId?: string;
  commentId?: number;
  reviewId?: number;
  /** A review comment to answer in its thread. */
  reviewCommentId?: number;
  /** Reporter state, persisted across restarts. */
  progressCommentId?: number;
  checkRunId?: number;
  checkRunSha?: string;
}

/**
 * Where a task came from: a TelegramOrigin for `telegram` tasks, a GithubOrigin for `github` ones,
 * nothing for the API. Read it through telegramOrigin() / githubOrigin(), which check the shape.
 */
export type TaskOrigin = Partial<TelegramOrigin & GithubOrigin>;

/** Attached context from a front door (earlier comments, review comments): always untrusted. */
export interface ContextItem {
  author?: string;
  body: string;
}

/**
 * What a task's handler needs, by kind. One bag with optional keys (the router may change a task's
 * kind, so input must survive it); each key is documented with the kinds that read it.
 */
export interface TaskInput {
  /** shell: the command to run verbatim. */
  command?: string;
  /** shell: serve this port as a preview (null: never infer one from the command). */
  preview?: { port: number } | null;
  /** shell: run in the chat's persistent sandbox (Telegram). */
  chatSandbox?: boolean;
  /** dev: the instruction when the prompt carries a command prefix (`/new_task ...`). */
  instruction?: string;
  /** dev (GitHub): the issue the change closes, and its title for the branch and PR. */
  issueNumber?: number;
  issueTitle?: string;
  /** followup: the pull request to push to. */
  prNumber?: number;
  /** followup on a host without pull requests (local repositories): devbot's branch to add to. */
  branch?: string;
  /**
   * dev, followup: `answer` runs the crew read-only and answers (no branch, no push, no PR);
   * `review` also posts one pull-request review with the crew's inline comments. Default: change.
   */
  mode?: 'answer' | 'review';
  /** followup: this one fixes failing CI; attempt `attempt` of `max` for the check `check`. */
  ciFix?: { attempt: number; max: number; check: string };
  /** Extra untrusted context (issue body, comments). */
  context?: ContextItem[] | string;
  /** dev: skip plan approval whatever the repository says (GitHub's `devbot-auto` label). */
  skipApproval?: boolean;
  /** dev: the plan a person approved (set by the approval; the crew does not plan again). */
  approvedPlan?: TaskPlan;
  /** dev: changes to the plan people asked for, oldest first (the planner plans again with them). */
  revisions?: string[];
}

/** Token and time accounting, filled in by the agents and the worker. */
export interface TaskUsage {
  tokensIn?: number;
  tokensOut?: number;
  costUsd?: number;
  llmMs?: number;
  llmRequests?: number;
  toolCalls?: number;
}

export interface Task {
  id: string;
  source: TaskSource;
  origin: TaskOrigin;
  requester: string;
  repo: string | null;
  kind: TaskKind;
  prompt: string;
  input: TaskInput;
  status: TaskStatus;
  idempotencyKey: string | null;
  branch: string | null;
  prUrl: string | null;
  previewUrl: string | null;
  resultSummary: string | null;
  result: TaskResult | null;
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
  input?: TaskInput;
  idempotencyKey?: string | null;
}

/** Fields a handler or the worker may set when a task moves. */
export interface TaskPatch {
  kind?: TaskKind;
  input?: TaskInput;
  repo?: string | null;
  origin?: TaskOrigin;
  branch?: string | null;
  prUrl?: string | null;
  previewUrl?: string | null;
  resultSummary?: string | null;
  result?: TaskResult | null;
  error?: string | null;
  usage?: TaskUsage;
}

/** The Telegram origin of a task, or null (typed access instead of guessing at keys). */
export function telegramOrigin(task: Pick<Task, 'source' | 'origin'>): TelegramOrigin | null {
  const o = task.origin;
  return task.source === 'telegram' && typeof o.chatId === 'number' ? (o as TelegramOrigin) : null;
}

/**
 * The Telegram chat a task streams to: its own chat (a Telegram task), or the chat linked to a
 * GitHub task because that chat started the pull request it follows up on.
 */
export function chatOf(task: Pick<Task, 'source' | 'origin'>): TelegramOrigin | null {
  return (
    telegramOrigin(task) ?? (typeof task.origin.chatId === 'number' ? (task.origin as TelegramOrigin) : null)
  );
}

/** The GitHub origin of a task, or null. */
export function githubOrigin(task: Pick<Task, 'source' | 'origin'>): GithubOrigin | null {
  const o = task.origin;
  return task.source === 'github' &&
    typeof o.installationId === 'number' &&
    typeof o.owner === 'string' &&
    typeof o.repo === 'string' &&
    typeof o.issueNumber === 'number'
    ? (o as GithubOrigin)
    : null;
}
