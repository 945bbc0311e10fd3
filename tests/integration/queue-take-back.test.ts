/**
 * BullTaskQueue.takeBackOrphans against a real Redis: a job active under a live worker is never
 * touched; once no worker of the queue is alive, the job goes back to wait at once (its lock
 * dropped), and another worker runs it; a job taken back too often is left to the stall check.
 * And a job handed out again while its task still runs in the same process (a lock that ran out
 * under a starved event loop) joins that run: the task runs and ends once.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { BullTaskQueue, QUEUE_NAME } from '../../src/queue/bullmq-task-queue.js';
import { createRedis } from '../../src/queue/redis-connection.js';
import { startTestDevbot } from '../helpers/test-devbot.js';
import { TEST_REDIS_URL, uniquePrefix, waitFor } from '../helpers/test-env.js';

const connections: Redis[] = [];
const connect = (blocking = false) => {
  const c = createRedis(TEST_REDIS_URL, { blocking });
  connections.push(c);
  return c;
};

afterAll(async () => {
  for (const c of connections) c.disconnect();
});

async function scrub(prefix: string) {
  const redis = new Redis(TEST_REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}

describe('BullTaskQueue.takeBackOrphans', () => {
  it('leaves a live worker’s job alone, and takes a dead one’s back at once', async () => {
    const prefix = uniquePrefix();
    const queue = new BullTaskQueue({ connection: connect(), prefix, attempts: 3 });
    // The "crashed" worker: takes the job and never finishes; its lock is long.
    const stuck = new Worker(QUEUE_NAME, () => new Promise(() => {}), {
      connection: connect(true),
      prefix,
      lockDuration: 60_000,
      stalledInterval: 60_000,
    });
    try {
      await queue.enqueue({ id: 'task-1', kind: 'question' });
      await waitFor(async () => (await queue.depth()).active === 1, 'the job to be active');

      // A worker of the queue is alive: not sure whose the job is, so nothing moves.
      expect(await queue.takeBackOrphans()).toEqual([]);
      expect((await queue.depth()).active).toBe(1);

      // The worker goes away without finishing (its connections close, as a killed process's do).
      await stuck.close(true);
      await waitFor(async () => (await queue.queue.getWorkersCount()) === 0, 'Redis to see it gone', 5000);
      expect((await queue.depth()).active).toBe(1);

      expect(await queue.takeBackOrphans()).toEqual(['task-1']);
      expect(await connections[0]?.exists(`${prefix}:${QUEUE_NAME}:task-1:lock`)).toBe(0);
      // A second process starting at the same moment skips: the first one runs what it took back.
      expect(await queue.takeBackOrphans()).toEqual([]);
      // Once the first one's worker is up, the mutex goes: a crash and restart right after a start
      // must not find it still held.
      await queue.takeBackDone();
      expect(await connections[0]?.exists(`${prefix}:${QUEUE_NAME}:take-back`)).toBe(0);

      const ran: string[] = [];
      const next = new Worker(
        QUEUE_NAME,
        async (job) => {
          ran.push(job.id ?? '');
        },
        { connection: connect(true), prefix },
      );
      await waitFor(async () => ran.length === 1, 'the job to run again');
      expect(ran).toEqual(['task-1']);
      await next.close();
    } finally {
      await stuck.close(true).catch(() => {});
      await queue.close();
      await scrub(prefix);
    }
  });

  it('leaves to the stall check a job taken back more often than the stall limit', async () => {
    const prefix = uniquePrefix();
    const redis = connect();
    const queue = new BullTaskQueue({ connection: redis, prefix, attempts: 3 });
    const stuck = new Worker(QUEUE_NAME, () => new Promise(() => {}), {
      connection: connect(true),
      prefix,
      lockDuration: 60_000,
      stalledInterval: 60_000,
    });
    try {
      await queue.enqueue({ id: 'poison', kind: 'question' });
      await waitFor(async () => (await queue.depth()).active === 1, 'the job to be active');
      await stuck.close(true);
      // As if it had been taken back twice already, killing its worker each time.
      await redis.hset(`${prefix}:${QUEUE_NAME}:poison`, 'stc', 2);
      expect(await queue.takeBackOrphans()).toEqual([]);
      expect((await queue.depth()).active).toBe(1);
    } finally {
      await queue.close();
      await scrub(prefix);
    }
  });
});

describe('a job handed out again while its task runs here', () => {
  it('joins the run under way: one run, one start, one end', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const devbot = await startTestDevbot({
      // A long lock, a quick stall check: the test takes the lock away itself.
      env: { DEVBOT_LOCK_DURATION_MS: '60000', DEVBOT_STALLED_INTERVAL_MS: '500' },
      handlers: {
        question: async () => {
          runs += 1;
          await gate;
          return { summary: 'once' };
        },
      },
    });
    try {
      const id = (await devbot.api.createTask({ kind: 'question', prompt: 'q' })).body.id as string;
      await waitFor(() => runs === 1, 'the task to run');
      const redis = connect();
      const jobKey = `${devbot.config.DEVBOT_QUEUE_PREFIX}:${QUEUE_NAME}:${id}`;
      const before = await redis.get(`${jobKey}:lock`);
      // As if the renewal had been starved until the lock ran out: the stall check hands the job
      // out again, to this same worker (it is the only one), under a new lock.
      await redis.del(`${jobKey}:lock`);
      await waitFor(async () => {
        const now = await redis.get(`${jobKey}:lock`);
        return now !== null && now !== before;
      }, 'the job to be handed out again');
      release();
      const ended = await devbot.api.waitForEnd(id);
      expect(ended.status).toBe('succeeded');
      expect(runs).toBe(1);
      const events = (await devbot.api.getTask(id)).body.events as { type: string }[];
      expect(events.filter((e) => e.type === 'task.started')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'task.succeeded')).toHaveLength(1);
    } finally {
      release();
      await devbot.stop();
    }
  }, 30_000);
});
