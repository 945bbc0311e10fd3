/**
 * Revivals of previews with split roles: a gateway that gets a request for a preview nobody
 * serves adds a job to a small queue of its own (`previews-<deployment>`, not the task queue: a
 * revival is no task — no row, no events, no reporters — and must not wait behind long dev tasks
 * for a task slot), and any worker takes it, rebuilds the preview and registers it in the
 * preview directory, where the gateway then finds it. The job id is the token, so concurrent
 * requests for one link are one job; a worker that could not bring it back leaves its answer
 * (gone, failed) in Redis for a while, so the page says why instead of retrying on every refresh.
 */
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PreviewAnswer, PreviewRevivalRequests } from '../core/index.js';

export interface PreviewRevivalQueueOptions {
  connection: Redis;
  prefix: string;
  /** The deployment's id: its own queue, so another deployment's workers never take these jobs. */
  deployment: string;
  /** How long a gone or failed answer is kept (the next open after it tries again). */
  rememberMs?: number;
}

interface JobData {
  token: string;
}

export class PreviewRevivalQueue implements PreviewRevivalRequests {
  readonly #o: PreviewRevivalQueueOptions;
  readonly #queue: Queue<JobData>;
  #worker: Worker<JobData> | null = null;

  constructor(options: PreviewRevivalQueueOptions) {
    this.#o = options;
    this.#queue = new Queue<JobData>(this.name, {
      connection: options.connection,
      prefix: options.prefix,
      // Nothing to retry or keep: the next open of the link asks again.
      defaultJobOptions: { attempts: 1, removeOnComplete: true, removeOnFail: true },
    });
    this.#queue.on('error', () => {});
  }

  get name(): string {
    return `previews-${this.#o.deployment}`;
  }

  async request(token: string): Promise<void> {
    // BullMQ ignores an id it still holds (a revival waiting or running): one job per link.
    await this.#queue.add('revive', { token }, { jobId: `preview-${token}` });
  }

  async lastAnswer(token: string): Promise<PreviewAnswer | null> {
    const raw = await this.#o.connection.get(this.#answerKey(token));
    if (!raw) return null;
    try {
      const answer = JSON.parse(raw) as PreviewAnswer;
      return answer.state === 'gone' || answer.state === 'failed' ? answer : null;
    } catch {
      return null;
    }
  }

  /**
   * Takes revival jobs (a worker): `revive` resolves with null once the preview is served again
   * (registered in the directory), or with why not, which is remembered for the gateway.
   */
  serve(
    revive: (token: string) => Promise<PreviewAnswer | null>,
    options: { connection: Redis; concurrency?: number },
  ): void {
    if (this.#worker) return;
    this.#worker = new Worker<JobData>(
      this.name,
      async (job) => {
        const { token } = job.data;
        const answer = await revive(token);
        const key = this.#answerKey(token);
        if (answer && (answer.state === 'gone' || answer.state === 'failed'))
          await this.#o.connection.set(key, JSON.stringify(answer), 'PX', this.#o.rememberMs ?? 30_000);
        else await this.#o.connection.del(key);
      },
      { connection: options.connection, prefix: this.#o.prefix, concurrency: options.concurrency ?? 2 },
    );
    this.#worker.on('error', () => {});
  }

  /** Stops taking jobs (a revival under way finishes first) and closes the queue. Safe twice. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    if (worker) {
      // A revival under way gets a few seconds, then is dropped: the next open asks again.
      const closed = worker.close().catch(() => {});
      const late = await Promise.race([
        closed.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), 5000).unref()),
      ]);
      if (late) await worker.close(true).catch(() => {});
    }
    await this.#queue.close().catch(() => {});
  }

  #answerKey(token: string): string {
    return `${this.#o.prefix}:preview-answer:${token}`;
  }
}
