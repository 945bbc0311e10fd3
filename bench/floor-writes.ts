/**
 * The durable part of the floor (bench/floor-server.ts, bench/probot-noop-server.ts with
 * FLOOR_SCHEMA): what the issues require of any ingest and nothing more. One small row per
 * request in PostgreSQL (concurrent requests share one INSERT, as devbot's store does), then one
 * BullMQ job per row (one addBulk per batch), the queue the design prescribes.
 *
 * Env: FLOOR_DATABASE_URL, FLOOR_SCHEMA (a fresh schema the bench created; also the BullMQ
 * prefix), FLOOR_REDIS_URL.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Batcher } from '../src/utils/batcher.js';

export interface FloorItem {
  bytes: number;
  delivery: string | null;
}

export interface FloorWrites {
  submit(item: FloorItem): Promise<string>;
  close(): Promise<void>;
}

export async function openFloorWrites(): Promise<FloorWrites> {
  const schema = process.env['FLOOR_SCHEMA'] ?? 'public';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`bad FLOOR_SCHEMA: ${schema}`);
  const pool = new pg.Pool({ connectionString: process.env['FLOOR_DATABASE_URL'], max: 4 });
  const redis = new Redis(process.env['FLOOR_REDIS_URL'] ?? 'redis://127.0.0.1:6379', {
    maxRetriesPerRequest: null,
  });
  const queue = new Queue('floor', { connection: redis, prefix: `{${schema}}` });
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${schema}.floor_items (id uuid PRIMARY KEY, bytes integer NOT NULL, delivery text, created_at timestamptz NOT NULL DEFAULT now())`,
  );
  const batcher = new Batcher<FloorItem, string>(async (items) => {
    const ids = items.map(() => randomUUID());
    await pool.query(
      `INSERT INTO ${schema}.floor_items (id, bytes, delivery) SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[])`,
      [ids, items.map((i) => i.bytes), items.map((i) => i.delivery)],
    );
    await queue.addBulk(ids.map((id) => ({ name: 'task', data: { taskId: id }, opts: { jobId: id } })));
    return ids;
  });
  return {
    submit: (item) => batcher.submit(item),
    close: async () => {
      await Promise.allSettled([pool.end(), queue.close()]);
      await redis.quit().catch(() => {});
    },
  };
}
