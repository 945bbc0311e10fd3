/**
 * The embedded default against PostgreSQL (issue 14, item 16): the same devbot (`start`, all
 * roles: gateway, worker, reporters, memory) on PostgreSQL, on PGlite in its worker thread (what
 * devbot runs) and on PGlite on the main thread (what it ran before), each in its own process:
 *  - POST /tasks throughput at 50 concurrent clients (the worker and reporters run beside it);
 *    target: PGlite >= 0.8 of PostgreSQL in the same run;
 *  - POST /tasks p50/p99 at a steady 50 requests/s; target p99 <= 300 ms;
 *  - the same steady load while memory searches (GET /memories?q=, BENCH_SEARCHERS clients as
 *    fast as they are answered, over BENCH_MEMORIES memories) run beside it: no request should
 *    wait behind a search (PostgreSQL here has no pgvector: memory is off there, so only the two
 *    PGlite runs have this phase).
 *
 *   npm run bench -- embedded    (needs Redis and PostgreSQL; BENCH_ROUNDS=1 (interleaved; medians
 *                                 reported), BENCH_DURATION_S=5, BENCH_STEADY_S=10,
 *                                 BENCH_MEMORIES=3000, BENCH_SEARCHERS=4, BENCH_EMBEDDED_STORES=
 *                                 postgres,pglite,pglite-main, BENCH_CPU_PROF=DIR)
 *
 * Run with `--serve` this file is the devbot process itself (BENCH_STORE picks the store).
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { startDevbot } from '../src/app/start-devbot.js';
import { loadConfig } from '../src/config/config.js';
import type { SqlClient } from '../src/core/sql-client.js';
import { TokenIssuer } from '../src/gateway/token-issuer.js';
import { embedText, HASHING_DIMENSIONS, HASHING_MODEL } from '../src/memory/hashing-embedder.js';
import { toVectorLiteral } from '../src/memory/memory-store.js';
import { ensureModelIndex, modelIndexName } from '../src/memory/vector-schema.js';
import { openSqlClient } from '../src/store/open-sql-client.js';
import { createPgliteClient } from '../src/store/pglite-client.js';
import { ensurePgliteTemplate } from '../tests/helpers/pglite-template.js';
import {
  type BenchResult,
  cpuPerRequest,
  deleteRedisPrefix,
  type LoadResult,
  load,
  spawnReady,
  stop,
  threadCpuMs,
} from './lib.js';

const DURATION = Number(process.env['BENCH_DURATION_S'] ?? 5);
const STEADY = Number(process.env['BENCH_STEADY_S'] ?? 10);
const MEMORIES = Number(process.env['BENCH_MEMORIES'] ?? 3000);
const SEARCHERS = Number(process.env['BENCH_SEARCHERS'] ?? 4);
const CONNECTIONS = 50;
const RATE = 50;
const DATABASE_URL = process.env['DEVBOT_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env['DEVBOT_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 1);
/** BENCH_CPU_PROF=DIR: CPU profiles of each devbot process (one per thread) in DIR/<store>. */
const PROFILE_DIR = process.env['BENCH_CPU_PROF'];
/** BENCH_COUNT_QUERIES=DIR: the statements each devbot ran, counted, in DIR/<store>.json. */
const COUNT_DIR = process.env['BENCH_COUNT_QUERIES'];
const COUNT_QUERIES = process.env['BENCH_COUNT_FILE'];
const STORES = (process.env['BENCH_EMBEDDED_STORES'] ?? 'postgres,pglite,pglite-main').split(',');

type Store = 'postgres' | 'pglite' | 'pglite-main';

const WORDS = [
  'build',
  'test',
  'deploy',
  'migration',
  'flaky',
  'timeout',
  'redis',
  'queue',
  'webhook',
  'token',
  'sandbox',
  'preview',
  'lint',
  'retry',
  'cache',
  'docker',
  'branch',
  'review',
  'schema',
  'index',
];

function sentence(i: number): string {
  const words: string[] = [];
  let x = (i * 2654435761) >>> 0;
  for (let k = 0; k < 12; k++) {
    words.push(WORDS[x % WORDS.length]!);
    x = (x * 1103515245 + 12345) >>> 0;
  }
  return `${words.join(' ')} note ${i}`;
}

/** Memories to search: rows in batches, then the HNSW index built once (as memory.bench does). */
async function seedMemories(sql: SqlClient, count: number): Promise<void> {
  await sql.exec(`DROP INDEX IF EXISTS ${modelIndexName(HASHING_MODEL, HASHING_DIMENSIONS)}`);
  for (let offset = 0; offset < count; offset += 200) {
    const values: string[] = [];
    const params: unknown[] = [];
    for (let i = offset; i < Math.min(count, offset + 200); i++) {
      const text = sentence(i);
      params.push(text, toVectorLiteral(embedText(text)));
      const a = params.length - 1;
      values.push(
        `('bench/repo', 'note', $${a}, '{}'::jsonb, $${a + 1}::vector, '${HASHING_MODEL}', ${HASHING_DIMENSIONS})`,
      );
    }
    await sql.query(
      `INSERT INTO memories (repo, kind, content, metadata, embedding, embedding_model, embedding_dim) VALUES ${values.join(', ')}`,
      params,
    );
  }
  await ensureModelIndex(sql, HASHING_MODEL, HASHING_DIMENSIONS);
  await sql.exec('ANALYZE memories');
}

/** Counts each statement (by its first words) the store runs: BENCH_COUNT_QUERIES=FILE. */
function countingClient(sql: SqlClient, counts: Map<string, number>): SqlClient {
  const count = (text: string) => {
    const key = text.replace(/\s+/g, ' ').trim().slice(0, 90);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  return {
    dialect: sql.dialect,
    query: (text, params, options) => {
      count(text);
      return sql.query(text, params, options);
    },
    exec: (text) => sql.exec(text),
    transaction: (fn) => {
      count('BEGIN');
      return sql.transaction((tx) =>
        fn({
          query: (text, params) => {
            count(`tx: ${text}`);
            return tx.query(text, params);
          },
        }),
      );
    },
    close: () => sql.close(),
  };
}

async function serve(): Promise<void> {
  const store = process.env['BENCH_STORE'] as Store;
  const config = loadConfig(process.env);
  const opened =
    store === 'postgres'
      ? await openSqlClient({
          databaseUrl: config.DATABASE_URL,
          dataDir: config.dataDir,
          schema: process.env['BENCH_PG_SCHEMA'] ?? 'public',
        })
      : await createPgliteClient({
          dataDir: join(config.DEVBOT_DATA_DIR, 'pglite'),
          thread: store === 'pglite',
        });
  const counts = COUNT_QUERIES ? new Map<string, number>() : undefined;
  const sql = counts ? countingClient(opened, counts) : opened;
  const app = await startDevbot({ config, role: 'all', sql });
  const memory = app.modules.memory.memory;
  if (memory) await seedMemories(app.runtime.sql, MEMORIES);
  process.stdout.write(`listening on ${app.url} memory=${memory ? 'on' : 'off'}\n`);
  process.on('SIGTERM', () => {
    if (counts) writeFileSync(COUNT_QUERIES!, JSON.stringify(Object.fromEntries(counts), null, 2));
    void app
      .stop()
      .then(() => sql.close())
      .then(() => process.exit(0));
  });
}

type CpuPerRequest = ReturnType<typeof cpuPerRequest> & { loadGeneratorMs: number };

interface StoreResult {
  throughput: LoadResult & { cpuMsPerRequest: CpuPerRequest };
  steady: LoadResult;
  steadyWithSearches?: LoadResult & { searches: LoadResult };
}

const brief = (r: LoadResult) => ({
  rps: Math.round(r.rps),
  p50Ms: r.p50,
  p99Ms: r.p99,
  errors: r.errors,
  non2xx: r.non2xx,
  total: r.total,
});

async function measureStore(store: Store, log: (line: string) => void): Promise<StoreResult> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const dataDir = join(tmpdir(), `devbot-bench-${schema}`);
  const secret = randomBytes(32).toString('hex');
  const env = {
    ...process.env,
    BENCH_STORE: store,
    ...(COUNT_DIR ? { BENCH_COUNT_FILE: join(COUNT_DIR, `${store}.json`) } : {}),
    BENCH_PG_SCHEMA: schema,
    DEVBOT_DATA_DIR: dataDir,
    ...(store === 'postgres' ? { DATABASE_URL } : { DATABASE_URL: undefined }),
    REDIS_URL,
    DEVBOT_JWT_SECRET: secret,
    DEVBOT_QUEUE_PREFIX: `{${schema}}`,
    DEVBOT_RATE_LIMIT: '100000000',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  };
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  if (store === 'postgres') await admin.query(`CREATE SCHEMA ${schema}`);
  const issuer = new TokenIssuer(secret);
  const token = await issuer.sign('bench');
  const adminToken = await issuer.sign('bench-admin', { scopes: ['admin', 'tasks:read', 'tasks:write'] });
  // A migrated data directory to start from, as a devbot that has run before has (a new one
  // takes devbot's first start several seconds of initdb, which is not what is measured).
  if (store !== 'postgres')
    cpSync(await ensurePgliteTemplate(), join(dataDir, 'pglite'), { recursive: true });
  try {
    log(`embedded bench: ${store}: starting devbot`);
    const proc = await spawnReady(
      process.execPath,
      [
        ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE_DIR, store)}`] : []),
        '--import',
        'tsx',
        'bench/embedded.bench.ts',
        '--serve',
      ],
      env,
      /listening on (\S+) memory=(\w+)/,
      300_000,
    );
    try {
      const base = proc.match[1]!;
      const post = {
        url: `${base}/tasks`,
        method: 'POST' as const,
        body: JSON.stringify({ kind: 'question', prompt: 'bench' }),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      };
      await load({ ...post, connections: CONNECTIONS, durationSeconds: 1 });
      const pid = proc.child.pid ?? 0;
      const cpuBefore = threadCpuMs(pid);
      const ownBefore = process.cpuUsage();
      const loaded = await load({ ...post, connections: CONNECTIONS, durationSeconds: DURATION });
      const own = process.cpuUsage(ownBefore);
      const throughput = {
        ...loaded,
        cpuMsPerRequest: {
          ...cpuPerRequest(pid, cpuBefore, threadCpuMs(pid), loaded.total),
          loadGeneratorMs: Number(((own.user + own.system) / 1000 / Math.max(1, loaded.total)).toFixed(3)),
        },
      };
      log(
        `embedded bench: ${store}: ${Math.round(throughput.rps)} req/s at ${CONNECTIONS} clients; CPU ms/request ${JSON.stringify(throughput.cpuMsPerRequest)}`,
      );
      const steadyLoad = () => load({ ...post, connections: 10, overallRate: RATE, durationSeconds: STEADY });
      const steady = await steadyLoad();
      log(`embedded bench: ${store}: p99 ${steady.p99} ms at ${RATE} req/s`);
      if (proc.match[2] !== 'on') return { throughput, steady };
      const [withSearches, searches] = await Promise.all([
        steadyLoad(),
        load({
          url: `${base}/memories?q=${encodeURIComponent('flaky test timeout in the redis queue')}&limit=10`,
          headers: { authorization: `Bearer ${adminToken}` },
          connections: SEARCHERS,
          durationSeconds: STEADY,
        }),
      ]);
      log(
        `embedded bench: ${store}: p99 ${withSearches.p99} ms at ${RATE} req/s beside ${Math.round(searches.rps)} searches/s`,
      );
      return { throughput, steady, steadyWithSearches: { ...withSearches, searches } };
    } finally {
      await stop(proc.child);
    }
  } finally {
    if (store === 'postgres') await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    await deleteRedisPrefix(`{${schema}}`);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
};

export async function run(
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<BenchResult> {
  // Rounds interleave the stores, so a machine that gets busier or quieter meanwhile weighs on
  // each alike; the figures are the medians over the rounds.
  const results: Partial<Record<Store, StoreResult[]>> = {};
  if (COUNT_DIR) mkdirSync(COUNT_DIR, { recursive: true });
  for (let round = 0; round < ROUNDS; round++)
    for (const store of STORES as Store[]) {
      const measured = await measureStore(store, log);
      results[store] = [...(results[store] ?? []), measured];
    }
  const med = (store: Store, pick: (r: StoreResult) => number | undefined) => {
    const xs = (results[store] ?? []).map(pick).filter((x): x is number => x !== undefined);
    return xs.length === 0 ? undefined : median(xs);
  };
  const pgliteRps = med('pglite', (r) => r.throughput.rps);
  const postgresRps = med('postgres', (r) => r.throughput.rps);
  const ratio = pgliteRps !== undefined && postgresRps !== undefined ? pgliteRps / postgresRps : Number.NaN;
  const details: Record<string, unknown> = {
    connections: CONNECTIONS,
    durationSeconds: DURATION,
    rounds: ROUNDS,
  };
  for (const store of Object.keys(results) as Store[]) {
    details[store] = {
      medianRps: Math.round(med(store, (r) => r.throughput.rps) ?? Number.NaN),
      medianCpuMsPerRequest: {
        main: med(store, (r) => r.throughput.cpuMsPerRequest.mainMs),
        busiestOtherThread: med(store, (r) => r.throughput.cpuMsPerRequest.busiestOtherMs),
        process: med(store, (r) => r.throughput.cpuMsPerRequest.processMs),
      },
      [`medianP99MsAt${RATE}`]: med(store, (r) => r.steady.p99),
      [`medianP99MsAt${RATE}WithSearches`]: med(store, (r) => r.steadyWithSearches?.p99) ?? null,
      rounds: (results[store] ?? []).map((r) => ({
        throughput: { ...brief(r.throughput), cpuMsPerRequest: r.throughput.cpuMsPerRequest },
        [`steady${RATE}`]: brief(r.steady),
        ...(r.steadyWithSearches
          ? {
              [`steady${RATE}WithSearches`]: {
                ...brief(r.steadyWithSearches),
                searches: brief(r.steadyWithSearches.searches),
              },
            }
          : {}),
      })),
    };
  }
  const p99s = [med('pglite', (r) => r.steady.p99), med('pglite', (r) => r.steadyWithSearches?.p99)].filter(
    (x) => x !== undefined,
  );
  return {
    name: 'embedded default: POST /tasks on PGlite (worker thread) vs PostgreSQL, same devbot, all roles',
    unit: 'requests/s',
    value: Math.round(pgliteRps ?? Number.NaN),
    ...(postgresRps !== undefined ? { baseline: Math.round(postgresRps) } : {}),
    ratio: Number(ratio.toFixed(3)),
    target: `>= 0.8 of PostgreSQL; p99 <= 300 ms at ${RATE} req/s, also beside memory searches`,
    pass: ratio >= 0.8 && p99s.every((p) => p <= 300),
    details,
  };
}

if (process.argv.includes('--serve')) {
  await serve();
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await run(), null, 2));
}
