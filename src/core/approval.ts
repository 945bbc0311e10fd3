/**
 * People stay in control of a task (issue 18): plan approval, and messages that steer a running
 * task. A task that needs a person stops with `PlanApprovalNeeded`; the worker stores the plan and
 * moves the task to `waiting` (no worker slot, no sandbox). A decision (approve, revise) moves it
 * back to `queued` with the approved plan or the revision in its input, and enqueues it again.
 */
import type { CommandApproval, PersonCommandDecision } from './command-approval.js';
import type { Task, TaskInput } from './task.js';
import type { TaskEvent } from './task-event.js';
import type { TaskPlan } from './task-plan.js';

/**
 * `.devbot.yml approval:` and DEVBOT_APPROVAL: `none`, `plan`, `commands`, or both
 * (`[plan, commands]` in YAML, `plan,commands` in the env). Plan and command approval are
 * independent: `commands` alone does not stop after planning.
 */
export const APPROVAL_MODES = ['none', 'plan', 'commands'] as const;
export type ApprovalMode = (typeof APPROVAL_MODES)[number];
/** The approvals in force: a list of modes (`none` alone, or any of `plan` and `commands`). */
export type ApprovalSetting = readonly ApprovalMode[];

/** Whether a setting includes `mode`. */
export function approvalIncludes(setting: ApprovalSetting | undefined, mode: 'plan' | 'commands'): boolean {
  return setting?.includes(mode) ?? false;
}

/** What the repo task handler tells the agent about approval. */
export interface ApprovalInfo {
  /** Plan approval in force for this task (the repository's, else the deployment's; `none` when skipped). */
  mode: 'none' | 'plan';
  /** Risky commands wait for a person (`approval: commands`). */
  commands?: boolean;
  /** `.devbot.yml approve_commands`: more commands that ask. */
  commandPatterns?: readonly string[];
  /** The plan a person approved: the crew works from it and does not plan again. */
  approvedPlan?: TaskPlan;
  /** Changes people asked for, oldest first: the planner plans again with them. */
  revisions?: string[];
}

/** Thrown by an agent that planned and must wait for a person: not a failure. */
export class PlanApprovalNeeded extends Error {
  constructor(readonly plan: TaskPlan) {
    super('the plan waits for approval');
    this.name = 'PlanApprovalNeeded';
  }
}

/** The stored request a waiting task waits on. */
export interface PendingApproval {
  taskId: string;
  kind: 'plan';
  plan: TaskPlan;
  /** 1 for the first plan, +1 per revision: a button of an older round is stale. */
  round: number;
  requestedAt: Date;
  expiresAt: Date;
}

export type ApprovalRefusal = 'not_found' | 'not_waiting' | 'stale' | 'not_running' | 'empty' | 'no_command';

export type ApprovalOutcome =
  | { ok: true; task: Task }
  | { ok: false; reason: ApprovalRefusal; message: string };

/** Decisions on waiting tasks and messages to running ones; every front door uses this one port. */
export interface TaskApprovals {
  /** The request a waiting task waits on, or null. */
  pending(taskId: string): Promise<PendingApproval | null>;
  /** Waiting -> queued with the stored plan approved. `round` refuses a stale button. */
  approve(taskId: string, by: string, options?: { round?: number }): Promise<ApprovalOutcome>;
  /** Waiting -> queued to plan again with `text`. */
  revise(taskId: string, by: string, text: string, options?: { round?: number }): Promise<ApprovalOutcome>;
  /** A message from the requester for a running task: recorded, and read by the crew before its next turn. */
  steer(taskId: string, by: string, text: string): Promise<ApprovalOutcome>;
  /**
   * Allows or denies a command the running task waits on (`commandId`, or its oldest open request
   * when null), once; the waiting tool call learns it within a second.
   */
  /** A command approval request by id (a button names only the request), or null. */
  command(commandId: string): Promise<CommandApproval | null>;
  decideCommand(
    taskId: string,
    commandId: string | null,
    by: string,
    decision: PersonCommandDecision,
  ): Promise<ApprovalOutcome>;
}

/** The longest steering message or revision kept (the rest is cut). */
export const MAX_STEER_CHARS = 4000;

/** Where waiting tasks' requests live; each change of status and its event are one write. */
export interface ApprovalStore {
  /**
   * running -> waiting with the plan stored and a `task.waiting` event; null when the task is no
   * longer running (cancelled meanwhile).
   */
  markWaiting(
    taskId: string,
    plan: TaskPlan,
    expiresAt: Date,
  ): Promise<{ task: Task; event: TaskEvent; pending: PendingApproval } | null>;
  pending(taskId: string): Promise<PendingApproval | null>;
  /**
   * waiting -> queued with `input`, recording the decision and an `approval` event, exactly once:
   * null when the task is not waiting (any more) or its round is not `round`.
   */
  decide(
    taskId: string,
    decision: { by: string; decision: 'approved' | 'revised'; text?: string; round?: number },
    input: TaskInput,
  ): Promise<{ task: Task; event: TaskEvent } | null>;
  /** Waiting tasks whose request expired at `now`. */
  expired(now: Date): Promise<string[]>;
  /**
   * Closes an expired request so no decision can apply any more; false when a person decided
   * first (then the task goes on and must not be cancelled).
   */
  closeExpired(taskId: string, now: Date): Promise<boolean>;
}
