/**
 * The durable part of the floor (bench/floor-server.ts, bench/probot-noop-server.ts with
 * FLOOR_SCHEMA): one small row per request in PostgreSQL, concurrent requests sharing one INSERT
 * as devbot's store does, and the new ids pushed on a Redis list in one command per batch.
 *
 * Env: FLOOR_DATABASE_URL, FLOOR_SCHEMA (a fresh schema the bench created), FLOOR_REDIS_URL.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Batcher } from '../src/store/batcher.js';

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
  const redis = new Redis(process.env['FLOOR_REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  const listKey = `floor:${schema}`;
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${schema}.floor_items (id uuid PRIMARY KEY, bytes integer NOT NULL, delivery text, created_at timestamptz NOT NULL DEFAULT now())`,
  );
  const batcher = new Batcher<FloorItem, string>(async (items) => {
    const ids = items.map(() => randomUUID());
    await pool.query(
      `INSERT INTO ${schema}.floor_items (id, bytes, delivery) SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[])`,
      [ids, items.map((i) => i.bytes), items.map((i) => i.delivery)],
    );
    await redis.rpush(listKey, ...ids);
    return ids;
  });
  return {
    submit: (item) => batcher.submit(item),
    close: async () => {
      await Promise.allSettled([pool.end(), redis.quit()]);
    },
  };
}
