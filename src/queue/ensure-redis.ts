import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { UnavailableError } from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import { pingRedis } from './redis-connection.js';

export interface EnsuredRedis {
  url: string;
  /** Set when devbot started its own redis-server; stop() ends it. */
  private: boolean;
  stop(): Promise<void>;
}

export interface EnsureRedisOptions {
  /**
   * Start a private redis-server when `url` does not answer. Only for the default URL (REDIS_URL
   * unset): a Redis someone named must be the one used, or a gateway would queue into a Redis no
   * worker reads. Default true.
   */
  startPrivate?: boolean;
}

/**
 * Uses the Redis at `url` if it answers. Otherwise, when allowed and `redis-server` is on the
 * PATH, starts a private one under the data directory (append-only, so queued jobs survive a
 * restart) and stops it on exit. Otherwise fails with how to get Redis.
 */
export async function ensureRedis(
  url: string,
  dataDir: string,
  logger: Logger,
  options: EnsureRedisOptions = {},
): Promise<EnsuredRedis> {
  const startPrivate = options.startPrivate ?? true;
  try {
    // A named Redis gets a little longer to answer: there is no fallback for it.
    await pingRedis(url, startPrivate ? 1000 : 5000);
    return { url, private: false, stop: async () => {} };
  } catch (err) {
    if (!startPrivate)
      throw new UnavailableError(
        `Redis does not answer at ${redactUrl(url)} (REDIS_URL): start it or fix REDIS_URL. devbot starts ` +
          'a private Redis only when REDIS_URL is unset, so that every process of a deployment uses the same one',
        { cause: err },
      );
    if (!hasRedisServer()) {
      throw new UnavailableError(
        `Redis does not answer at ${redactUrl(url)} and redis-server is not installed: ` +
          'start Redis (apt-get install redis-server, or docker run -p 6379:6379 redis:7) or set REDIS_URL',
        { cause: err },
      );
    }
  }
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // A private redis-server left running by a devbot that was killed (-9) is ours: reuse it rather
  // than start a second one on the same append-only file.
  const urlFile = join(dir, 'url');
  const previous = readUrl(urlFile);
  if (
    previous &&
    (await pingRedis(previous, 300).then(
      () => true,
      () => false,
    ))
  ) {
    logger.warn({ url: previous, dir }, `no Redis at ${redactUrl(url)}: reusing the private redis-server`);
    return { url: previous, private: true, stop: () => shutdownRedis(previous) };
  }
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--save',
      '',
      '--daemonize',
      'no',
    ],
    { stdio: 'ignore' },
  );
  const privateUrl = `redis://127.0.0.1:${port}`;
  await waitForRedis(privateUrl, child);
  writeFileSync(urlFile, `${privateUrl}\n`, { mode: 0o600 });
  logger.warn({ url: privateUrl, dir }, `no Redis at ${redactUrl(url)}: started a private redis-server`);
  let stopped = false;
  return {
    url: privateUrl,
    private: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function waitForRedis(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new UnavailableError(`the private redis-server exited (${child.exitCode})`);
    try {
      await pingRedis(url, 200);
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new UnavailableError('the private redis-server did not start', { cause: err });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Strips a password from a redis:// URL for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

function readUrl(file: string): string | null {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return /^redis:\/\/127\.0\.0\.1:\d+$/.test(text) ? text : null;
  } catch {
    return null;
  }
}

/** Stops a private redis-server that is not our child (reused after a crash). */
async function shutdownRedis(url: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.call('SHUTDOWN', 'NOSAVE');
  } catch {
    // SHUTDOWN closes the connection before answering; an error here is the expected outcome.
  } finally {
    client.disconnect();
  }
}
