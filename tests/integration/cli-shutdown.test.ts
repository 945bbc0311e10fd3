/**
 * `devbot start` stops within DEVBOT_SHUTDOWN_GRACE_MS on SIGTERM whatever it can no longer reach,
 * run for real (`node bin/devbot.js start`): its Redis killed under it (the outage logged once,
 * with the fix, and no stack trace per reconnect), or a Telegram Bot API that accepts connections
 * and never answers (grammY's getMe would otherwise wait for minutes, and stop() with it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, startCli, stopAllCli } from '../helpers/cli-process.js';
import { ensurePgliteTemplate } from '../helpers/pglite-template.js';
import { removeDir, TEST_REDIS_URL, tempDir, uniquePrefix } from '../helpers/test-env.js';

const GRACE_MS = 3000;
/** Process exit after the last step, and a loaded machine's scheduling. */
const SLACK_MS = 2500;
const STACK = /^\s+at |"stack":/m;

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  await stopAllCli();
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const d of dirs) removeDir(d);
});

/** A data directory with a migrated PGlite (a fresh one takes seconds to initialise). */
async function dataDir(): Promise<string> {
  const dir = tempDir('devbot-shutdown-');
  dirs.push(dir);
  cpSync(await ensurePgliteTemplate(), join(dir, 'pglite'), { recursive: true });
  return dir;
}

function env(dir: string, extra: Record<string, string>) {
  return cleanEnv({
    DEVBOT_DATA_DIR: dir,
    DEVBOT_QUEUE_PREFIX: uniquePrefix(),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_FORMAT: 'json',
    DEVBOT_SHUTDOWN_GRACE_MS: String(GRACE_MS),
    ...extra,
  });
}

async function stopTimed(devbot: ReturnType<typeof startCli>) {
  const at = Date.now();
  const ended = await devbot.stop(30_000);
  return { ...ended, ms: Date.now() - at };
}

// Concurrent: most of each test is a devbot starting (seconds on a loaded machine).
describe.concurrent('devbot start: SIGTERM with a dependency gone', () => {
  it('Redis killed under it: logs the outage once with the fix, no stack traces, and stops in time', async () => {
    const port = await freePort();
    const redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    children.push(redis);
    const redisUrl = `redis://127.0.0.1:${port}`;
    const devbot = startCli(['start'], { env: env(await dataDir(), { REDIS_URL: redisUrl }) });
    await devbot.waitFor(/listening on http/, 60_000);

    redis.kill('SIGKILL');
    await devbot.waitFor(/Redis is unreachable/, 15_000);
    // ioredis and BullMQ retry every 200 ms to 2 s meanwhile: each failure used to be one error
    // line with its stack trace.
    await new Promise((r) => setTimeout(r, 3000));
    const ended = await stopTimed(devbot);
    const { stdout, stderr } = devbot.output();
    const log = stdout + stderr;

    expect(ended.code, log.slice(-3000)).toBe(0);
    expect(ended.ms).toBeLessThan(GRACE_MS + SLACK_MS);
    expect(log.match(/Redis is unreachable/g)).toHaveLength(1);
    expect(log).toContain(`check that Redis runs at ${redisUrl} (REDIS_URL)`);
    expect(log).not.toMatch(STACK);
    expect(log).not.toMatch(/queue worker error/);
  }, 60_000);

  it('Telegram accepts connections and never answers: getMe is aborted and it stops in time', async () => {
    const sockets = new Set<Socket>();
    let connected: () => void = () => {};
    const reached = new Promise<void>((resolve) => (connected = resolve));
    const blackhole = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      connected();
    });
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const address = blackhole.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    try {
      const devbot = startCli(['start'], {
        env: env(await dataDir(), {
          REDIS_URL: TEST_REDIS_URL,
          TELEGRAM_BOT_TOKEN: '123456:shutdown-test-token',
          TELEGRAM_API_ROOT: `http://127.0.0.1:${address.port}`,
        }),
      });
      await devbot.waitFor(/listening on http/, 60_000);
      await reached; // getMe is under way, and will never get an answer.
      const ended = await stopTimed(devbot);
      const { stdout, stderr } = devbot.output();
      expect(ended.code, (stdout + stderr).slice(-3000)).toBe(0);
      expect(ended.ms).toBeLessThan(GRACE_MS + SLACK_MS);
      expect(stdout + stderr).not.toMatch(STACK);
      expect(stdout + stderr).not.toContain('123456:shutdown-test-token');
    } finally {
      for (const s of sockets) s.destroy();
      blackhole.close();
    }
  }, 60_000);
});
