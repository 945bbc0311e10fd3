/**
 * Decisions on waiting tasks and messages for running ones, the same for every front door
 * (Telegram buttons and replies, `/devbot go|revise` on GitHub, the API). Who may decide is the
 * front door's check (the requester or an admin); this decides at most once and enqueues the
 * continuation. A decision that cannot apply (unknown task, not waiting, an older round) changes
 * nothing and says why.
 */
import {
  type ApprovalOutcome,
  type ApprovalStore,
  type CommandApproval,
  type CommandApprovalStore,
  type EventBus,
  MAX_STEER_CHARS,
  type PendingApproval,
  type PersonCommandDecision,
  type Task,
  type TaskApprovals,
  type TaskInput,
  type TaskQueue,
  type TaskStore,
} from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

export interface TaskApprovalsDeps {
  store: TaskStore;
  approvals: ApprovalStore;
  /** Risky commands a running task waits on (`approval: commands`). */
  commands?: CommandApprovalStore;
  queue: TaskQueue;
  bus: EventBus;
  metrics: Metrics;
  logger: Logger;
}

const STATUS_WORDS: Record<Task['status'], string> = {
  queued: 'is already going on (queued)',
  running: 'is already running',
  waiting: 'is waiting',
  succeeded: 'has already finished',
  failed: 'has already failed',
  cancelled: 'was cancelled',
};

const DECISION_WORDS = {
  allowed_once: 'allowed once',
  allowed_task: 'allowed for this task',
  denied: 'denied',
  expired: 'it timed out',
} as const;

export class DefaultTaskApprovals implements TaskApprovals {
  constructor(private readonly deps: TaskApprovalsDeps) {}

  pending(taskId: string): Promise<PendingApproval | null> {
    return this.deps.approvals.pending(taskId);
  }

  approve(taskId: string, by: string, options: { round?: number } = {}): Promise<ApprovalOutcome> {
    return this.#decide(taskId, by, 'approved', undefined, options.round, (task, pending) => ({
      ...task.input,
      approvedPlan: pending.plan,
    }));
  }

  revise(
    taskId: string,
    by: string,
    text: string,
    options: { round?: number } = {},
  ): Promise<ApprovalOutcome> {
    const change = text.trim().slice(0, MAX_STEER_CHARS);
    if (!change)
      return Promise.resolve({ ok: false, reason: 'empty', message: 'say what should change in the plan' });
    return this.#decide(taskId, by, 'revised', change, options.round, (task) => {
      const { approvedPlan: _approved, ...input } = task.input;
      return { ...input, revisions: [...(task.input.revisions ?? []), change] };
    });
  }

  async steer(taskId: string, by: string, text: string): Promise<ApprovalOutcome> {
    const message = text.trim().slice(0, MAX_STEER_CHARS);
    if (!message) return { ok: false, reason: 'empty', message: 'the message is empty' };
    const task = await this.deps.store.getTask(taskId);
    if (!task) return { ok: false, reason: 'not_found', message: 'there is no such task' };
    if (task.status !== 'running')
      return { ok: false, reason: 'not_running', message: `the task ${STATUS_WORDS[task.status]}` };
    const event = await this.deps.store.appendEvent(taskId, { type: 'steer', data: { by, text: message } });
    await this.deps.bus.publish(event).catch(() => {});
    return { ok: true, task };
  }

  async command(commandId: string): Promise<CommandApproval | null> {
    return (await this.deps.commands?.get(commandId)) ?? null;
  }

  async decideCommand(
    taskId: string,
    commandId: string | null,
    by: string,
    decision: PersonCommandDecision,
  ): Promise<ApprovalOutcome> {
    const commands = this.deps.commands;
    const task = await this.deps.store.getTask(taskId);
    if (!task || !commands) return { ok: false, reason: 'not_found', message: 'there is no such task' };
    if (task.status !== 'running')
      return {
        ok: false,
        reason: 'not_running',
        message: `nothing to decide: the task ${STATUS_WORDS[task.status]}`,
      };
    const open = await commands.open(taskId);
    // Without an id, the newest: a task waits on one command at a time, and an older open request
    // is one an earlier attempt (a crashed worker) left behind.
    const target = commandId === null ? open.at(-1) : open.find((c) => c.id === commandId);
    if (!target) {
      const known = commandId === null ? null : await commands.get(commandId);
      const message =
        known?.taskId === taskId && known.decision
          ? `this command was already decided (${DECISION_WORDS[known.decision]})`
          : 'no command of this task waits for approval';
      return { ok: false, reason: 'no_command', message };
    }
    if (target !== open.at(-1))
      return { ok: false, reason: 'stale', message: 'this request is from an earlier attempt of the task' };
    const decided = await commands.decide(taskId, target.id, { decision, by });
    if (!decided) {
      const known = await commands.get(target.id);
      return {
        ok: false,
        reason: 'no_command',
        message: `this command was already decided (${DECISION_WORDS[known?.decision ?? 'expired']})`,
      };
    }
    this.deps.metrics.approvalsTotal.inc({ decision: `command_${decision}` });
    // The waiting worker tails the task's events: this wakes it.
    await this.deps.bus.publish(decided.event).catch(() => {});
    return { ok: true, task };
  }

  async #decide(
    taskId: string,
    by: string,
    decision: 'approved' | 'revised',
    text: string | undefined,
    round: number | undefined,
    nextInput: (task: Task, pending: PendingApproval) => TaskInput,
  ): Promise<ApprovalOutcome> {
    const task = await this.deps.store.getTask(taskId);
    if (!task) return { ok: false, reason: 'not_found', message: 'there is no such task' };
    const pending = task.status === 'waiting' ? await this.deps.approvals.pending(taskId) : null;
    if (!pending) return this.#refusal(task);
    if (round !== undefined && round !== pending.round)
      return {
        ok: false,
        reason: 'stale',
        message: 'this plan was replaced by a newer one: use the newest plan',
      };
    const decided = await this.deps.approvals.decide(
      taskId,
      { by, decision, ...(text !== undefined ? { text } : {}), round: pending.round },
      nextInput(task, pending),
    );
    // Someone else decided in between: say what happened instead.
    if (!decided) return this.#refusal((await this.deps.store.getTask(taskId)) ?? task);
    this.deps.metrics.approvalsTotal.inc({ decision });
    await this.deps.bus.publish(decided.event).catch(() => {});
    try {
      await this.deps.queue.requeue(decided.task);
    } catch (err) {
      // Saved as queued: the reconciler enqueues it once Redis is back.
      this.deps.logger.error({ err, taskId }, 'approved task saved but not enqueued; Redis unreachable?');
    }
    return { ok: true, task: decided.task };
  }

  #refusal(task: Task): ApprovalOutcome {
    return {
      ok: false,
      reason: 'not_waiting',
      message: `nothing to decide: the task ${STATUS_WORDS[task.status]}`,
    };
  }
}
