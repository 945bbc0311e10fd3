import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';

/** The JSON line every benchmark prints: the figure, its baseline from the same run, the target. */
export interface BenchResult {
  name: string;
  unit: string;
  value: number;
  baseline?: number;
  ratio?: number;
  target?: string;
  pass?: boolean;
  details?: Record<string, unknown>;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** A steady rate over all connections (requests/s) instead of as fast as they answer. */
  overallRate?: number;
  /** Builds each request (for per-request signatures or ids). */
  setupRequest?: (req: Record<string, unknown>) => Record<string, unknown>;
}

/** Runs autocannon against a URL; bounded in time, loopback only. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    method: options.method ?? 'GET',
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.body ? { body: options.body } : {}),
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    ...(options.setupRequest ? { requests: [{ setupRequest: options.setupRequest as never }] } : {}),
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}

/** Spawns a process and resolves once it prints a line matching `ready`. */
export function spawnReady(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  ready: RegExp,
  timeoutMs = 60_000,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not become ready: ${err.slice(-1000)}`));
    }, timeoutMs);
    child.stdout?.on('data', (d) => {
      out += String(d);
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    });
    child.stderr?.on('data', (d) => {
      err += String(d);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code}): ${err.slice(-1000)}`));
    });
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

export interface ServerProcess {
  /** What follows `node --import tsx`: a script and its arguments. */
  args: string[];
  env: Record<string, string | undefined>;
  /** The line that says the server is up; its first group is the base URL. Default `READY <url>`. */
  ready?: RegExp;
  /** Appended to the base URL (the route under load). */
  path?: string;
  /** Write a CPU profile to BENCH_CPU_PROF when set (the devbot process, not the references). */
  profile?: boolean;
}

/**
 * Spawns a server in its own process, loads it with the given requests after a 1 s warm-up, and
 * stops it.
 */
export async function measureServer(
  server: ServerProcess,
  options: Omit<LoadOptions, 'url'>,
): Promise<LoadResult> {
  const profileDir = server.profile ? process.env['BENCH_CPU_PROF'] : undefined;
  const proc = await spawnReady(
    process.execPath,
    [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      '--import',
      'tsx',
      ...server.args,
    ],
    server.env,
    server.ready ?? /READY (\S+)/,
  );
  try {
    const url = `${proc.match[1]!}${server.path ?? ''}`;
    await load({ ...options, url, durationSeconds: 1 });
    return await load({ ...options, url });
  } finally {
    await stop(proc.child);
  }
}

/**
 * The baseline every ingest benchmark compares against: a bare Node HTTP server answering 200
 * (bench/bare-server.ts) in its own process, loaded with the same requests.
 */
export function measureBareServer(options: Omit<LoadOptions, 'url'>): Promise<LoadResult> {
  return measureServer({ args: ['bench/bare-server.ts'], env: process.env }, options);
}

/** A reference server's figures next to the bare baseline and the measured devbot process. */
export function reference(
  result: LoadResult & { rowsInserted?: number },
  bare: LoadResult,
  devbot: LoadResult,
): Record<string, number> {
  return {
    rps: Math.round(result.rps),
    ratioToBare: Number((result.rps / bare.rps).toFixed(3)),
    devbotToThis: Number((devbot.rps / result.rps).toFixed(3)),
    p50Ms: result.p50,
    p99Ms: result.p99,
    non2xx: result.non2xx,
    ...(result.rowsInserted !== undefined ? { rowsInserted: result.rowsInserted } : {}),
  };
}

const BENCH_DATABASE_URL =
  process.env['DEVBOT_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const BENCH_REDIS_URL = process.env['DEVBOT_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/**
 * The floor every durable ingest pays (bench/floor-server.ts): body, optional HMAC check, JSON
 * parse, one batched PostgreSQL insert and one BullMQ addBulk per batch, no framework. Loaded like
 * the bare server; its schema and queue keys are removed afterwards.
 */
export async function measureFloorServer(
  options: Omit<LoadOptions, 'url'>,
  floor: { verifySecret?: string; script?: string; env?: Record<string, string> } = {},
): Promise<LoadResult & { rowsInserted: number }> {
  const schema = `floor_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  try {
    const result = await measureServer(
      {
        args: [floor.script ?? 'bench/floor-server.ts'],
        env: {
          ...process.env,
          ...floor.env,
          FLOOR_DATABASE_URL: BENCH_DATABASE_URL,
          FLOOR_SCHEMA: schema,
          FLOOR_REDIS_URL: BENCH_REDIS_URL,
          ...(floor.verifySecret ? { FLOOR_VERIFY_SECRET: floor.verifySecret } : {}),
        },
      },
      options,
    );
    const { rows } = await admin.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${schema}.floor_items`,
    );
    return { ...result, rowsInserted: Number(rows[0]?.n ?? 0) };
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    // The floor's BullMQ keys live under `{<schema>}:`.
    await deleteRedisPrefix(`{${schema}}`);
  }
}

/** Deletes every Redis key under a BullMQ prefix (what a bench enqueued and nobody ran). */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(BENCH_REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

/** CPU time (ms, user + system) each thread of a process has used so far, by thread id (Linux). */
export function threadCpuMs(pid: number): Map<number, { name: string; ms: number }> {
  const threads = new Map<number, { name: string; ms: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // pid (comm) state ... : comm may hold spaces, the fields after it are fixed.
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      threads.set(Number(tid), { name, ms: (Number(fields[11]) + Number(fields[12])) * tick });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return threads;
}

/**
 * CPU per request of a process's threads over a load: the main thread, the busiest other thread
 * (a worker thread such as the embedded database's) and the whole process, in ms per request.
 * CPU time, not wall time: a busy machine slows a run but does not change what each request costs.
 */
export function cpuPerRequest(
  pid: number,
  before: Map<number, { name: string; ms: number }>,
  after: Map<number, { name: string; ms: number }>,
  requests: number,
): { mainMs: number; busiestOtherMs: number; busiestOtherName: string; processMs: number } {
  let main = 0;
  let other = 0;
  let otherName = '';
  let total = 0;
  for (const [tid, t] of after) {
    const used = t.ms - (before.get(tid)?.ms ?? 0);
    total += used;
    if (tid === pid) main = used;
    else if (used > other) {
      other = used;
      otherName = t.name;
    }
  }
  const per = (ms: number) => Number((ms / Math.max(1, requests)).toFixed(3));
  return {
    mainMs: per(main),
    busiestOtherMs: per(other),
    busiestOtherName: otherName,
    processMs: per(total),
  };
}
