import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { type Config, loadConfig } from '../../src/config/config.js';
import { isTerminal, type Task, type TaskStore } from '../../src/core/index.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';

/** The PostgreSQL the integration tests use (CI runs one on the standard port). */
export const TEST_DATABASE_URL =
  process.env['DEVBOT_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env['DEVBOT_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export function tempDir(prefix = 'devbot-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A unique Redis prefix, so test files sharing one Redis never see each other's jobs. */
export function uniquePrefix(): string {
  return `{t${randomBytes(5).toString('hex')}}`;
}

export function uniqueSchema(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Config for an in-process devbot: port 0, its own data dir and queue prefix, quiet logs. */
export function testConfig(overrides: Record<string, string> = {}, dataDir: string = tempDir()): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    DEVBOT_DATA_DIR: dataDir,
    REDIS_URL: TEST_REDIS_URL,
    DEVBOT_QUEUE_PREFIX: uniquePrefix(),
    DEVBOT_STALLED_INTERVAL_MS: '1000',
    DEVBOT_LOCK_DURATION_MS: '2000',
    // Tests poll the API quickly; the rate limiter has its own test.
    DEVBOT_RATE_LIMIT: '100000',
    ...overrides,
  });
}

/** A logger whose output the test can read (to prove secrets never reach the logs). */
export function captureLogger(secrets: () => readonly string[] = () => []): {
  logger: Logger;
  lines: string[];
} {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination, secrets }), lines };
}

/** Resolves once `check` returns a truthy value, polling; fails with `what` after the timeout. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  what: string,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until the task reaches a terminal status and returns it. */
export function taskEnded(store: Pick<TaskStore, 'getTask'>, id: string, timeoutMs = 30_000): Promise<Task> {
  return waitFor(
    async () => {
      const task = await store.getTask(id);
      return task && isTerminal(task.status) ? task : null;
    },
    `task ${id} to finish`,
    timeoutMs,
  );
}
