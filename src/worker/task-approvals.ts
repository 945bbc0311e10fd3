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
  type EventBus,
  MAX_STEER_CHARS,
  type PendingApproval,
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
