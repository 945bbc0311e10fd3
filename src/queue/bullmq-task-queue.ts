import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Task, TaskQueue } from '../core/index.js';
import { Batcher } from '../utils/batcher.js';

export const QUEUE_NAME = 'tasks';

export interface JobData {
  taskId: string;
  kind: Task['kind'];
  enqueuedAt: number;
  /** The deployment that enqueued it (absent on jobs from before deployments had ids). */
  deployment?: string;
}

export interface BullTaskQueueOptions {
  connection: Redis;
  prefix: string;
  attempts: number;
  backoffMs?: number;
  /** This deployment's id, carried by every job. */
  deployment?: string;
}

const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/** The task queue on BullMQ. Job id = task id, so enqueueing a task twice is one job. */
export class BullTaskQueue implements TaskQueue {
  readonly queue: Queue<JobData>;

  constructor(private readonly options: BullTaskQueueOptions) {
    this.queue = new Queue<JobData>(QUEUE_NAME, {
      connection: options.connection,
      prefix: options.prefix,
      defaultJobOptions: {
        attempts: options.attempts,
        backoff: { type: 'exponential', delay: options.backoffMs ?? 2000 },
        // Postgres is the record; Redis keeps only what it needs to run and retry.
        removeOnComplete: { age: 3600, count: 1000 },
        removeOnFail: { age: 24 * 3600, count: 5000 },
      },
    });
    this.queue.on('error', () => {});
  }

  /** Concurrent enqueues share one addBulk round trip. */
  readonly #adds = new Batcher<Pick<Task, 'id' | 'kind'>, true>(async (tasks) => {
    await this.queue.addBulk(
      tasks.map((task) => ({
        name: task.kind,
        data: {
          taskId: task.id,
          kind: task.kind,
          enqueuedAt: Date.now(),
          ...(this.options.deployment ? { deployment: this.options.deployment } : {}),
        },
        opts: { jobId: task.id },
      })),
    );
    return tasks.map(() => true as const);
  });

  async enqueue(task: Pick<Task, 'id' | 'kind'>): Promise<void> {
    await this.#adds.submit(task);
  }

  async hasLiveJob(taskId: string): Promise<boolean> {
    const state = await this.queue.getJobState(taskId);
    return LIVE_STATES.has(state);
  }

  /**
   * Re-adds a task whose job is gone or finished (the reconciler's path, and a waiting task's
   * continuation). A job of it still active is finishing (a task that just went waiting): wait for
   * it briefly, since BullMQ ignores a job id it still holds.
   */
  async requeue(task: Pick<Task, 'id' | 'kind'>): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const job = await this.queue.getJob(task.id);
      if (!job) break;
      const state = await job.getState();
      if (state === 'active' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      if (state === 'waiting' || state === 'delayed' || state === 'prioritized') return;
      await job.remove().catch(() => {});
      break;
    }
    await this.enqueue(task);
  }

  /**
   * Moves back to the queue the jobs left active by workers that are gone, when no worker of this
   * queue is alive: call it before this process's worker starts. Each worker holds a named Redis
   * connection (BullMQ's `getWorkers()` lists them), and a process that died, even by kill -9, has
   * its connections closed by the kernel, so an active job with no live worker is a dead process's
   * (its lock may still have seconds to run). With a live worker around, nothing is touched: its
   * jobs may be running, and a dead one's come back through the lock and the stall check.
   *
   * Two processes starting together are kept apart by a short mutex, held until the first one's
   * worker is up (`takeBackDone()`, or it expires): the second skips, since the first is alive and
   * runs what it took back. A job taken back more often than the stall limit
   * (a task that kills its worker each time) is left to the stall check, which fails it.
   * Returns the ids of the jobs taken back.
   */
  async takeBackOrphans(options: { maxStalledCount?: number } = {}): Promise<string[]> {
    const redis = this.options.connection;
    const mutex = this.queue.toKey('take-back');
    if ((await redis.set(mutex, this.#mutexToken, 'PX', 5000, 'NX')) !== 'OK') return [];
    // An error, or a Redis that cannot list its clients (BullMQ reports that as one nameless
    // "worker"), means: not sure, touch nothing.
    const workers = await this.queue.getWorkers();
    if (workers.length > 0) {
      await redis.del(mutex);
      return [];
    }
    const taken: string[] = [];
    for (const job of await this.queue.getActive()) {
      if (!job.id) continue;
      const key = this.queue.toKey(job.id);
      const stalled = await redis.hincrby(key, 'stc', 1);
      if (stalled > (options.maxStalledCount ?? 2)) continue;
      // Moved with the dead worker's own lock token, which also drops the lock; none: "0".
      const token = (await redis.get(`${key}:lock`)) ?? '0';
      // A job that ended meanwhile (it was not a dead worker's after all) is left as it is.
      if (
        await job.moveToWait(token).then(
          () => true,
          () => false,
        )
      )
        taken.push(job.id);
    }
    return taken;
  }

  /** This process's worker is up (Redis lists it): the next process to start may look. */
  async takeBackDone(): Promise<void> {
    const mutex = this.queue.toKey('take-back');
    // Only our own mutex: one that expired and was taken by another process stays its own.
    await this.options.connection.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
      1,
      mutex,
      this.#mutexToken,
    );
  }

  readonly #mutexToken = `${process.pid}:${randomUUID()}`;

  async remove(taskId: string): Promise<boolean> {
    const job = await this.queue.getJob(taskId);
    if (!job) return false;
    const state = await job.getState();
    if (state === 'active') return false;
    await job.remove();
    return true;
  }

  async depth(): Promise<{ waiting: number; active: number; delayed: number; failed: number }> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
    return {
      waiting: (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0),
      active: counts['active'] ?? 0,
      delayed: counts['delayed'] ?? 0,
      failed: counts['failed'] ?? 0,
    };
  }

  async ping(): Promise<void> {
    await this.options.connection.ping();
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
