/**
 * Small port interfaces. Adapters (store, queue, sandbox providers, reporters, LLM client) implement
 * these; the worker composes them; src/app wires them. Nothing here imports an adapter.
 */
import type { CommandApprovalRequest, CommandVerdict } from './command-approval.js';
import type { NewTask, Task, TaskInput, TaskKind, TaskPatch, TaskSource, TaskStatus } from './task.js';
import type { NewTaskEvent, TaskEvent, TaskEventMap, TaskEventType } from './task-event.js';
import type { TaskResult } from './task-result.js';

export type TerminalStatus = 'succeeded' | 'failed' | 'cancelled';

/** The payload of each terminal status's event. */
export interface TerminalEventData {
  succeeded: TaskEventMap['task.succeeded'];
  failed: TaskEventMap['task.failed'];
  cancelled: TaskEventMap['task.cancelled'];
}

export interface TaskListFilter {
  status?: TaskStatus;
  source?: TaskSource;
  requester?: string;
  /** Tasks of one repository (`owner/name`). */
  repo?: string;
  /** Tasks after this one in the list's order (a page's cursor: the id of the last task shown). */
  before?: string;
  /** Telegram tasks of one chat (by `origin.chatId`, in SQL). */
  chatId?: number;
  /** GitHub tasks of one issue or PR conversation (by repo and `origin.issueNumber`). */
  githubIssue?: { repo: string; issueNumber: number };
  /** Only tasks not ended yet (queued, running or waiting for a person). */
  unfinished?: boolean;
  limit?: number;
}

export interface CreateTaskResult {
  task: Task;
  /** false when the idempotency key matched an existing task. */
  created: boolean;
}

export interface TaskStore {
  migrate(): Promise<void>;
  /** Idempotent on `idempotencyKey`: the same key twice returns the first task. */
  createTask(input: NewTask): Promise<CreateTaskResult>;
  getTask(id: string): Promise<Task | null>;
  listTasks(filter?: TaskListFilter): Promise<Task[]>;
  /** Tasks that are queued or running (for the reconciler). */
  listUnfinished(): Promise<Task[]>;
  patchTask(id: string, patch: TaskPatch): Promise<Task | null>;
  /** queued -> running; returns null when the task is already terminal. Counts the attempt. */
  markRunning(id: string): Promise<Task | null>;
  /** running -> queued, for a retry. */
  markQueued(id: string): Promise<Task | null>;
  /**
   * Moves a task to a terminal status and appends its terminal event (`task.<status>`) in one
   * step, exactly once: returns null if it was already terminal, so the end is reported once.
   */
  finishTask<S extends TerminalStatus>(
    id: string,
    status: S,
    patch: TaskPatch,
    eventData: TerminalEventData[S],
  ): Promise<{ task: Task; event: TaskEvent } | null>;
  /** Appends an event; with `patch`, the task row changes in the same write. */
  appendEvent(taskId: string, event: NewTaskEvent, patch?: TaskPatch): Promise<TaskEvent>;
  /** Events after `afterSeq`, oldest first; with `types`, only those types. */
  listEvents(taskId: string, afterSeq?: number, types?: readonly TaskEventType[]): Promise<TaskEvent[]>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Live copies of task events for tailing (Redis Streams); Postgres stays the source of truth. */
export interface EventBus {
  publish(event: TaskEvent): Promise<void>;
  /**
   * Yields events of one task with seq > afterSeq as they are published, until the signal aborts.
   * May yield duplicates or skip events that were trimmed; callers fill gaps from the store.
   */
  tail(taskId: string, afterSeq: number, signal: AbortSignal): AsyncIterable<TaskEvent>;
  /** Broadcast a cancel request to whichever worker runs the task. */
  requestCancel(taskId: string): Promise<void>;
  onCancel(listener: (taskId: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface TaskQueue {
  enqueue(task: Pick<Task, 'id' | 'kind'>): Promise<void>;
  /** Whether BullMQ still holds a job for the task (waiting, active, delayed). */
  hasLiveJob(taskId: string): Promise<boolean>;
  /**
   * Adds the task's job again after an earlier job of it finished (a waiting task's continuation);
   * waits briefly for a still-active job of it to complete first.
   */
  requeue(task: Pick<Task, 'id' | 'kind'>): Promise<void>;
  /** Removes a waiting job; returns false if it is active or gone. */
  remove(taskId: string): Promise<boolean>;
  depth(): Promise<{ waiting: number; active: number; delayed: number; failed: number }>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** What a handler gets to run one task. */
export interface TaskContext {
  task: Task;
  /**
   * Appends an event (store + live bus + reporters). With `options.patch`, the task's fields
   * change in the same write (an LLM answer's event and the task's usage totals).
   */
  emit<K extends TaskEventType>(
    type: K,
    data: TaskEventMap[K],
    options?: { patch?: TaskPatch },
  ): Promise<TaskEvent>;
  /** Persist fields on the task as they become known (branch, preview URL...). */
  patch(patch: TaskPatch): Promise<void>;
  /** Aborted when the task is cancelled or the worker shuts down. */
  signal: AbortSignal;
  attempt: number;
  /**
   * Messages the requester sent for this task since the last call (steering), oldest first. The
   * crew reads them before each model turn; the worker records that they were read.
   */
  takeMessages?(): Promise<SteerMessage[]>;
  /**
   * Asks a person whether a risky command may run (`approval: commands`) and waits for the answer
   * (a timeout answers `expired`); rejects when the task is cancelled meanwhile. Absent: never asks.
   */
  askCommand?(request: CommandApprovalRequest): Promise<CommandVerdict>;
}

/** A message from the requester for a running task. Untrusted: fence it in prompts. */
export interface SteerMessage {
  by: string;
  text: string;
}

/** Runs one task; what it returns is the task's typed result (its summary, PR, preview...). */
export type TaskHandler = (ctx: TaskContext) => Promise<TaskResult>;

/** Something that renders task events somewhere (Telegram message, GitHub comment, logs). */
export interface TaskReporter {
  readonly name: string;
  /** Whether this reporter cares about the task (e.g. Telegram only for telegram tasks). */
  accepts(task: Task): boolean;
  onEvent(task: Task, event: TaskEvent): Promise<void>;
}

/**
 * The one way in: every ingress (HTTP API, Telegram, GitHub) creates tasks through this, which
 * persists the task (idempotent on its key), records `task.created`, and enqueues it.
 */
export interface TaskIngress {
  submit(input: NewTask): Promise<CreateTaskResult>;
  cancel(taskId: string, by: string): Promise<Task | null>;
}

/** Decides what an `auto` task is (rules first, then the LLM when one is configured). */
export interface RouteDecision {
  kind: Exclude<TaskKind, 'auto'>;
  /** Extra kind-specific input (e.g. the shell command the router extracted). */
  input?: TaskInput;
  confidence?: number;
  reason: string;
}

export interface TaskRouter {
  route(task: Task, signal: AbortSignal): Promise<RouteDecision>;
}
