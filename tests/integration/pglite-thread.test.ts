/**
 * PGlite in its own worker thread (src/store/pglite-thread-client.ts): what the store reads back
 * is what it read on the main thread, PostgreSQL's error fields survive the crossing, a
 * transaction is pinned (other queries wait behind it), the event loop runs while a long query
 * does, and a thread that dies fails every call in flight with a clear error.
 */
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlClient } from '../../src/core/sql-client.js';
import { createPgliteClient } from '../../src/store/pglite-client.js';
import { startPgliteThread } from '../../src/store/pglite-thread-client.js';
import { ensurePgliteTemplate } from '../helpers/pglite-template.js';
import { tempDir } from '../helpers/test-env.js';

let template: string;
let dir: string;
let sql: SqlClient;

beforeAll(async () => {
  template = await ensurePgliteTemplate();
  dir = join(tempDir('devbot-pglite-thread-'), 'db');
  cpSync(template, dir, { recursive: true });
  sql = await createPgliteClient({ dataDir: dir });
  await sql.exec(
    'CREATE EXTENSION IF NOT EXISTS vector; CREATE TABLE thread_values (id int PRIMARY KEY, at timestamptz, b bytea, j jsonb, n bigint, v vector(3), tags text[])',
  );
}, 60_000);
afterAll(async () => {
  await sql?.close();
  expect(existsSync(`${dir}.lock`)).toBe(false);
  rmSync(dir, { recursive: true, force: true });
});

describe('PGlite in a worker thread', () => {
  it('round-trips the values the store writes and reads', async () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    await sql.query('INSERT INTO thread_values VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      1,
      at,
      Buffer.from([0, 1, 255]),
      JSON.stringify({ a: [1, 'x'], nul: null }),
      9_007_199_254_740_993n,
      '[1,2,3]',
      ['a', 'b'],
    ]);
    const { rows, rowCount } = await sql.query('SELECT * FROM thread_values WHERE id = 1');
    expect(rowCount).toBe(1);
    expect(rows[0]).toMatchObject({ id: 1, j: { a: [1, 'x'], nul: null }, v: '[1,2,3]', tags: ['a', 'b'] });
    expect(rows[0]!['at']).toEqual(at);
    expect(rows[0]!['b']).toEqual(new Uint8Array([0, 1, 255]));
    const update = await sql.query('UPDATE thread_values SET j = $1 WHERE id = $2', ['{}', 1]);
    expect(update.rowCount).toBe(1);
  });

  it('refuses a parameter it cannot send, failing only that query', async () => {
    const [bad, good] = await Promise.allSettled([
      sql.query('SELECT $1::text AS x', [() => 1]),
      sql.query<{ x: string }>('SELECT $1::text AS x', ['fine']),
    ]);
    expect(bad.status === 'rejected' && String(bad.reason)).toMatch(/cannot send this query/);
    expect(good.status === 'fulfilled' && good.value.rows).toEqual([{ x: 'fine' }]);
  });

  it('keeps PostgreSQL error fields (code, detail, constraint) for callers that check them', async () => {
    await sql.query('INSERT INTO thread_values (id) VALUES (2)');
    const err = (await sql
      .query('INSERT INTO thread_values (id) VALUES (2)')
      .catch((e: unknown) => e)) as Error & Record<string, unknown>;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('duplicate key');
    expect(err['code']).toBe('23505');
    expect(err['constraint']).toBe('thread_values_pkey');
    expect(err['detail']).toContain('(id)=(2)');
  });

  it('prepares each statement once and stays right when the schema changes, a call fails or many texts run', async () => {
    await sql.exec('CREATE TABLE prepared_rows (id int PRIMARY KEY, a text)');
    const select = 'SELECT * FROM prepared_rows WHERE id = $1';
    const insert = 'INSERT INTO prepared_rows (id, a) VALUES ($1, $2) RETURNING *';
    expect((await sql.query(insert, [1, 'x'])).rows).toEqual([{ id: 1, a: 'x' }]);
    // A failed call (at execution, and at bind: not an integer) leaves the statement usable.
    const dup = (await sql.query(insert, [1, 'y']).catch((e: unknown) => e)) as Record<string, unknown>;
    expect(dup['code']).toBe('23505');
    expect(dup['query']).toBe(insert);
    const bad = (await sql.query(select, ['nope']).catch((e: unknown) => e)) as Record<string, unknown>;
    expect(bad['code']).toBe('22P02');
    expect((await sql.query(insert, [2, 'y'])).rowCount).toBe(1);
    expect((await sql.query(select, [1])).rows).toEqual([{ id: 1, a: 'x' }]);
    // The prepared `SELECT *` can no longer give its old columns: it runs again, with the new one.
    await sql.exec('ALTER TABLE prepared_rows ADD COLUMN b int DEFAULT 7');
    expect((await sql.query(select, [1])).rows).toEqual([{ id: 1, a: 'x', b: 7 }]);
    expect((await sql.query(select, [2])).rows).toEqual([{ id: 2, a: 'y', b: 7 }]);
    await sql.exec('ALTER TABLE prepared_rows DROP COLUMN b');
    expect((await sql.transaction((tx) => tx.query(select, [1]))).rows).toEqual([{ id: 1, a: 'x' }]);
    expect((await sql.query(select, [2])).rows).toEqual([{ id: 2, a: 'y' }]);
    // More texts than are kept prepared: the oldest are closed, every answer is still right.
    const answers = await Promise.all(
      Array.from({ length: 260 }, (_, i) => sql.query<{ n: number }>(`SELECT $1::int + ${i} AS n`, [1])),
    );
    expect(answers.map((r) => r.rows[0]!.n)).toEqual(Array.from({ length: 260 }, (_, i) => i + 1));
    expect((await sql.query<{ n: number }>('SELECT $1::int + 0 AS n', [5])).rows).toEqual([{ n: 5 }]);
    const kept = await sql.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'devbot%'",
    );
    expect(kept.rows[0]!.n).toBeLessThanOrEqual(201);
  });

  it('pins a transaction: other queries wait until it commits; a throw rolls it back', async () => {
    let outsideDone = false;
    let outside: Promise<unknown> | undefined;
    const seen = await sql.transaction(async (tx) => {
      await tx.query('INSERT INTO thread_values (id) VALUES (10)');
      outside = sql.query('SELECT count(*)::int AS n FROM thread_values WHERE id = 10').then((r) => {
        outsideDone = true;
        return r.rows[0];
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(outsideDone).toBe(false);
      return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM thread_values WHERE id = 10'))
        .rows[0];
    });
    expect(seen).toEqual({ n: 1 });
    expect(await outside).toEqual({ n: 1 });

    const err = await sql
      .transaction(async (tx) => {
        await tx.query('INSERT INTO thread_values (id) VALUES (11)');
        throw new Error('changed my mind');
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('changed my mind');
    expect((await sql.query('SELECT id FROM thread_values WHERE id = 11')).rowCount).toBe(0);

    // A failing statement inside: the caller gets its error, nothing of the transaction stays.
    const dup = await sql
      .transaction(async (tx) => {
        await tx.query('INSERT INTO thread_values (id) VALUES (12)');
        await tx.query('INSERT INTO thread_values (id) VALUES (12)');
      })
      .catch((e: unknown) => e);
    expect((dup as { code?: string }).code).toBe('23505');
    expect((await sql.query('SELECT id FROM thread_values WHERE id = 12')).rowCount).toBe(0);
  });

  it('leaves the event loop free while a long query runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = Date.now();
    await sql.query('SELECT count(*) FROM generate_series(1, 1000000)');
    const elapsed = Date.now() - started;
    clearInterval(timer);
    // On the main thread the timer could not fire at all during the query.
    expect(ticks).toBeGreaterThan(elapsed / 5 / 4);
    expect(ticks).toBeGreaterThan(2);
  }, 60_000);

  it('runs background queries (memory searches) only when nothing else waits', async () => {
    const done: string[] = [];
    const heavy = 'SELECT count(*) FROM generate_series(1, 200000)';
    const track = (name: string, p: Promise<unknown>) => p.then(() => done.push(name));
    await Promise.all([
      track('search 1', sql.query(heavy, [], { background: true })),
      track('search 2', sql.query(heavy, [], { background: true })),
      track('search 3', sql.query(heavy, [], { background: true })),
      track('write', sql.query('UPDATE thread_values SET j = $1 WHERE id = 1', ['{"w":1}'])),
    ]);
    // The write waited for the search already running, not for the ones queued before it.
    expect(done.indexOf('write')).toBeLessThan(done.indexOf('search 2'));
  }, 60_000);

  it('rejects an open that fails with the reason', async () => {
    const file = join(tempDir('devbot-pglite-thread-'), 'a-file');
    writeFileSync(file, 'not a directory');
    await expect(startPgliteThread({ dataDir: join(file, 'db') })).rejects.toThrow(/ENOTDIR/);
  });

  it('fails every call in flight, and later ones, when its thread dies', async () => {
    const own = join(tempDir('devbot-pglite-thread-'), 'db');
    cpSync(template, own, { recursive: true });
    const client = await startPgliteThread({ dataDir: own });
    try {
      const inFlight = client.query('SELECT count(*) FROM generate_series(1, 20000000)');
      await client.thread.terminate();
      await expect(inFlight).rejects.toMatchObject({
        code: 'unavailable',
        message: expect.stringContaining("embedded database's thread stopped"),
      });
      await expect(client.query('SELECT 1')).rejects.toMatchObject({ code: 'unavailable' });
    } finally {
      await client.close();
      rmSync(own, { recursive: true, force: true });
    }
  }, 60_000);
});
