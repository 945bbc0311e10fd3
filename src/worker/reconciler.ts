import type { TaskStore } from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import type { BullTaskQueue } from '../queue/bullmq-task-queue.js';

/**
 * Postgres is the source of truth: a task that is queued or running but has no live job (Redis
 * was emptied, or the job was lost) is enqueued again. Running tasks whose worker died keep their
 * active job until BullMQ's stall check hands it back, so they are left to that.
 */
export async function reconcile(store: TaskStore, queue: BullTaskQueue, logger: Logger): Promise<string[]> {
  const requeued: string[] = [];
  for (const task of await store.listUnfinished()) {
    if (await queue.hasLiveJob(task.id)) continue;
    await queue.requeue(task);
    requeued.push(task.id);
  }
  if (requeued.length > 0)
    logger.info({ count: requeued.length, taskIds: requeued }, 're-enqueued tasks without a job');
  return requeued;
}
