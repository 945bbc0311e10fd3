/**
 * The floor under the embedded bench (issue 14, item 16): what storing tasks alone costs on each
 * database, with no HTTP, auth, queue or worker around it. devbot's own SqlTaskStore creates tasks
 * from CLIENTS concurrent callers (its Batcher shares one INSERT among them, as under load) for
 * BENCH_DURATION_S seconds, on PGlite in its worker thread (what devbot runs) and on PostgreSQL
 * through `pg`, alternately for BENCH_ROUNDS rounds. Reported: tasks/s and CPU per task of each
 * part (this process's main thread; PGlite's thread; PostgreSQL's backends, read from /proc by
 * their pids in pg_stat_activity), so the embedded bench's figures can be read against what any
 * implementation must spend on this machine.
 *
 *   npm run bench -- embedded-floor   (needs PostgreSQL; BENCH_ROUNDS=3, BENCH_DURATION_S=5)
 */
import { randomBytes } from 'node:crypto';
import { cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { SqlClient } from '../src/core/sql-client.js';
import { createPgliteClient } from '../src/store/pglite-client.js';
import { SqlTaskStore } from '../src/store/sql-task-store.js';
import { ensurePgliteTemplate } from '../tests/helpers/pglite-template.js';
import { type BenchResult, threadCpuMs } from './lib.js';

const DURATION = Number(process.env['BENCH_DURATION_S'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CLIENTS = 50;
const DATABASE_URL = process.env['DEVBOT_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Measured {
  tasksPerSecond: number;
  cpuMsPerTask: { main: number; otherThreads: number; databaseBackends?: number };
}

const sum = (m: Map<number, { ms: number }>, pick: (tid: number) => boolean) =>
  [...m].filter(([tid]) => pick(tid)).reduce((a, [, t]) => a + t.ms, 0);

/** CPU (ms) of other processes by pid, from /proc (PostgreSQL backends). */
function processCpuMs(pids: number[]): number {
  let total = 0;
  for (const pid of pids) total += sum(threadCpuMs(pid), () => true);
  return total;
}

async function drive(store: SqlTaskStore, seconds: number): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (Date.now() < until) {
        await store.createTask({ source: 'api', requester: 'bench', kind: 'question', prompt: 'bench' });
        done++;
      }
    }),
  );
  return done;
}

async function measure(store: SqlTaskStore, backends: () => Promise<number[]>): Promise<Measured> {
  await drive(store, 1);
  const pids = await backends();
  const before = threadCpuMs(process.pid);
  const dbBefore = processCpuMs(pids);
  const started = performance.now();
  const tasks = await drive(store, DURATION);
  const seconds = (performance.now() - started) / 1000;
  const after = threadCpuMs(process.pid);
  const dbAfter = processCpuMs(pids);
  const used = (pick: (tid: number) => boolean) => sum(after, pick) - sum(before, pick);
  const per = (ms: number) => Number((ms / Math.max(1, tasks)).toFixed(4));
  return {
    tasksPerSecond: Math.round(tasks / seconds),
    cpuMsPerTask: {
      main: per(used((tid) => tid === process.pid)),
      otherThreads: per(used((tid) => tid !== process.pid)),
      ...(pids.length > 0 ? { databaseBackends: per(dbAfter - dbBefore) } : {}),
    },
  };
}

async function onPglite(template: string): Promise<Measured> {
  const dataDir = join(tmpdir(), `devbot-floor-${randomBytes(4).toString('hex')}`);
  cpSync(template, dataDir, { recursive: true });
  const sql = await createPgliteClient({ dataDir });
  try {
    return await measure(new SqlTaskStore(sql), async () => []);
  } finally {
    await sql.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** PostgreSQL through a pool named for this run, so its backends can be found (and their CPU read). */
async function onPostgres(): Promise<Measured> {
  const schema = `floor_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const pool = new pg.Pool({
    connectionString: DATABASE_URL,
    max: 10,
    application_name: schema,
    options: `-c search_path=${schema},public`,
  });
  const sql: SqlClient = {
    dialect: 'postgres',
    async query<T>(text: string, params?: readonly unknown[], options?: { name?: string }) {
      const res = options?.name
        ? await pool.query({ name: options.name, text, values: (params ?? []) as unknown[] })
        : await pool.query(text, params as unknown[] | undefined);
      return { rows: res.rows as T[], rowCount: res.rowCount ?? 0 };
    },
    exec: async (text) => {
      await pool.query(text);
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const value = await fn({
          async query<T>(text: string, params?: readonly unknown[]) {
            const res = await client.query(text, params as unknown[] | undefined);
            return { rows: res.rows as T[], rowCount: res.rowCount ?? 0 };
          },
        });
        await client.query('COMMIT');
        return value;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
  try {
    const store = new SqlTaskStore(sql);
    await store.migrate();
    return await measure(store, async () => {
      const res = await admin.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
        [schema],
      );
      return res.rows.map((r) => r.pid);
    });
  } finally {
    await pool.end();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? Number.NaN;

export async function run(
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<BenchResult> {
  const template = await ensurePgliteTemplate();
  const pglite: Measured[] = [];
  const postgres: Measured[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    postgres.push(await onPostgres());
    log(`embedded floor: postgres ${JSON.stringify(postgres.at(-1))}`);
    pglite.push(await onPglite(template));
    log(`embedded floor: pglite ${JSON.stringify(pglite.at(-1))}`);
  }
  const med = (xs: Measured[], pick: (m: Measured) => number | undefined) =>
    median(xs.map(pick).filter((x): x is number => x !== undefined));
  const value = med(pglite, (m) => m.tasksPerSecond);
  const baseline = med(postgres, (m) => m.tasksPerSecond);
  return {
    name: 'embedded floor: tasks created through SqlTaskStore alone, PGlite (worker thread) vs PostgreSQL',
    unit: 'tasks/s',
    value,
    baseline,
    ratio: Number((value / baseline).toFixed(3)),
    details: {
      clients: CLIENTS,
      durationSeconds: DURATION,
      rounds: ROUNDS,
      medianCpuMsPerTask: {
        pglite: {
          main: med(pglite, (m) => m.cpuMsPerTask.main),
          otherThreads: med(pglite, (m) => m.cpuMsPerTask.otherThreads),
        },
        postgres: {
          main: med(postgres, (m) => m.cpuMsPerTask.main),
          otherThreads: med(postgres, (m) => m.cpuMsPerTask.otherThreads),
          databaseBackends: med(postgres, (m) => m.cpuMsPerTask.databaseBackends),
        },
      },
      pglite,
      postgres,
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await run(), null, 2));
}
