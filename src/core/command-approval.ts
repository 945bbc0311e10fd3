/**
 * Command approval (issue 18, `approval: commands`): a command the model wants to run that the risk
 * policy flags waits for a person, inside the running tool call (the task keeps its sandbox and its
 * worker slot: a running tool call cannot be parked). The request is a row plus an event; the
 * answer may come to another process (the bot, the gateway), which records it with an event; the
 * waiting worker learns it from the task's live event stream, or by reading the store now and then.
 */
import type { TaskEvent } from './task-event.js';

/** What a person (or the timeout) decided. */
export const COMMAND_DECISIONS = ['allowed_once', 'allowed_task', 'denied', 'expired'] as const;
export type CommandDecision = (typeof COMMAND_DECISIONS)[number];
/** The decisions a person can make (the timeout makes `expired`). */
export type PersonCommandDecision = Exclude<CommandDecision, 'expired'>;

/** What a tool asks before it runs a risky command. */
export interface CommandApprovalRequest {
  command: string;
  /** The command as "Allow for this task" remembers it (whitespace collapsed). */
  normalized: string;
  /** Why it asks, in words ("uses the network (curl http://x)"). */
  reasons: string;
}

/** The answer a waiting tool call gets. */
export interface CommandVerdict {
  allowed: boolean;
  decision: CommandDecision;
  /** Who decided (`tg:1001`, `gh:alice`, an API subject, `devbot` for the timeout). */
  by: string;
}

/** One stored request. */
export interface CommandApproval {
  id: string;
  taskId: string;
  command: string;
  normalized: string;
  reasons: string;
  requestedAt: Date;
  expiresAt: Date;
  decision: CommandDecision | null;
  decidedBy: string | null;
}

/** Where command requests live; a decision is written once, with its event, in one statement. */
export interface CommandApprovalStore {
  /**
   * Records the request and its `command.approval_requested` event while the task runs; null when
   * it does not run any more (cancelled meanwhile).
   */
  request(
    taskId: string,
    request: CommandApprovalRequest,
    expiresAt: Date,
  ): Promise<{ approval: CommandApproval; event: TaskEvent } | null>;
  get(id: string): Promise<CommandApproval | null>;
  /** Open requests of a task, oldest first. */
  open(taskId: string): Promise<CommandApproval[]>;
  /** Whether a person allowed this (normalized) command for the rest of the task. */
  allowedForTask(taskId: string, normalized: string): Promise<boolean>;
  /**
   * Decides an open request with its `command.approval_decided` event, exactly once: null when it
   * was decided already (or is not this task's).
   */
  decide(
    taskId: string,
    id: string,
    decision: { decision: CommandDecision; by: string },
  ): Promise<{ approval: CommandApproval; event: TaskEvent } | null>;
}

/** The tool result the model gets for a denied (or unanswered) command. */
export function deniedCommandMessage(command: string, verdict: CommandVerdict): string {
  const clipped = command.length > 300 ? `${command.slice(0, 297)}…` : command;
  const next = 'It was not run: carry on without it, or do the work another way.';
  return verdict.decision === 'expired'
    ? `nobody answered the request to run this command in time: ${clipped}\n${next}`
    : `the user denied running this command: ${clipped}\n${next}`;
}
