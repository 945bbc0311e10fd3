import {
  type EventBus,
  LimitExceededError,
  type NewTask,
  type Task,
  type TaskIngress,
  type TaskQueue,
  type TaskSource,
  type TaskStore,
} from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { RateLimiter } from '../utils/rate-limiter.js';

export interface IngressDeps {
  store: TaskStore;
  queue: TaskQueue;
  bus: EventBus;
  metrics: Metrics;
  logger: Logger;
  /**
   * Tasks per minute per requester, for front doors without their own limit (the HTTP API limits
   * every request it serves; a chat user is limited here).
   */
  rateLimit?: { perMinute: number; sources: readonly TaskSource[] };
}

/** Persist (idempotent), then enqueue. Postgres first, so a Redis outage loses nothing. */
export class DefaultTaskIngress implements TaskIngress {
  readonly #limiter: RateLimiter | null;

  constructor(private readonly deps: IngressDeps) {
    this.#limiter = deps.rateLimit ? new RateLimiter(deps.rateLimit.perMinute) : null;
  }

  async submit(input: NewTask) {
    const started = performance.now();
    if (this.#limiter && this.deps.rateLimit?.sources.includes(input.source)) {
      const wait = this.#limiter.take(input.requester);
      if (wait > 0)
        throw new LimitExceededError(
          `too many tasks: at most ${this.deps.rateLimit.perMinute} a minute; try again in ${wait} s`,
        );
    }
    const result = await this.deps.store.createTask(input);
    // Enqueue on a replay too while the task is still queued: a client retrying after a Redis
    // error gets its task running. BullMQ ignores a job id it already holds.
    if (result.task.status === 'queued') {
      try {
        await this.deps.queue.enqueue(result.task);
      } catch (err) {
        // The task is saved; the reconciler enqueues it once Redis is back.
        this.deps.logger.error(
          { err, taskId: result.task.id },
          'task saved but not enqueued; Redis unreachable?',
        );
      }
    }
    this.deps.metrics.ingestDuration.observe({ source: input.source }, (performance.now() - started) / 1000);
    return result;
  }

  async cancel(taskId: string, by: string): Promise<Task | null> {
    const finished = await this.deps.store.finishTask(
      taskId,
      'cancelled',
      { error: `cancelled by ${by}` },
      { by, reason: 'cancelled' },
    );
    if (!finished) return this.deps.store.getTask(taskId);
    this.deps.metrics.tasksTotal.inc({
      source: finished.task.source,
      kind: finished.task.kind,
      status: 'cancelled',
    });
    await Promise.allSettled([this.deps.bus.publish(finished.event), this.deps.bus.requestCancel(taskId)]);
    // No worker holds a task that waited for a person: a job of it lets one report the end.
    if (finished.task.startedAt !== null) {
      try {
        if (!(await this.deps.queue.hasLiveJob(taskId))) await this.deps.queue.requeue(finished.task);
      } catch (err) {
        this.deps.logger.warn({ err, taskId }, 'the end of a cancelled task was not handed to a worker');
      }
    }
    return finished.task;
  }
}
