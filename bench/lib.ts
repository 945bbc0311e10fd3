import { type ChildProcess, spawn } from 'node:child_process';
import autocannon from 'autocannon';

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
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`${command} did not become ready: ${err.slice(-1000)}`)),
      60_000,
    );
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

/**
 * The baseline every ingest benchmark compares against: a bare Node HTTP server answering 200
 * (bench/bare-server.ts) in its own process, loaded with the same requests after a 1 s warm-up.
 */
export async function measureBareServer(options: Omit<LoadOptions, 'url'>): Promise<LoadResult> {
  const bare = await spawnReady(
    process.execPath,
    ['--import', 'tsx', 'bench/bare-server.ts'],
    process.env,
    /READY (\S+)/,
  );
  try {
    const url = bare.match[1]!;
    await load({ ...options, url, durationSeconds: 1 });
    return await load({ ...options, url });
  } finally {
    await stop(bare.child);
  }
}
