/**
 * `devbot start` run for real (`node bin/devbot.js start`), stopped and crashed:
 * - it stops within DEVBOT_SHUTDOWN_GRACE_MS on SIGTERM whatever it can no longer reach: its Redis
 *   killed under it (the outage logged once, with the fix, and no stack trace per reconnect), or a
 *   Telegram Bot API that accepts connections and never answers (grammY's getMe would otherwise
 *   wait for minutes, and stop() with it);
 * - killed (-9) in the middle of a task and started again, it takes the task back at once instead
 *   of waiting for the dead run's lock to run out, and the task ends once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { resolveJwtSecret } from '../../src/config/jwt-secret.js';
import { TokenIssuer } from '../../src/gateway/token-issuer.js';
import { startScriptedLlm } from '../fakes/llm/scripted-llm-server.js';
import { ApiClient } from '../helpers/api-client.js';
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
describe.concurrent('devbot start: stopped and crashed', () => {
  it('Redis killed and Telegram silent: the outage logged once with the fix, no stack traces, stopped in time', async () => {
    const port = await freePort();
    const redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    children.push(redis);
    const redisUrl = `redis://127.0.0.1:${port}`;
    // A Telegram Bot API that accepts connections and never answers.
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
          REDIS_URL: redisUrl,
          TELEGRAM_BOT_TOKEN: '123456:shutdown-test-token',
          TELEGRAM_API_ROOT: `http://127.0.0.1:${address.port}`,
        }),
      });
      await devbot.waitFor(/listening on http/, 60_000);
      await reached; // getMe is under way, and will never get an answer.

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
      expect(log).not.toContain('123456:shutdown-test-token');
    } finally {
      for (const s of sockets) s.destroy();
      blackhole.close();
    }
  }, 90_000);

  it('takes back the task the killed run left active at once, and the task ends once', async () => {
    // The first answer never comes (devbot is killed while it waits); the second one does.
    const llm = await startScriptedLlm({
      turns: [{ hold: new Promise(() => {}) }, { content: 'Forty-two.', times: 5 }],
    });
    try {
      const dir = await dataDir();
      const e = env(dir, {
        REDIS_URL: TEST_REDIS_URL,
        OPENAI_BASE_URL: llm.baseUrl,
        OPENAI_API_KEY: 'sk-test-crash',
        DEVBOT_MODEL: 'scripted',
        // A lock far longer than the test: only the take-back can hand the task out again in time.
        DEVBOT_LOCK_DURATION_MS: '120000',
        DEVBOT_STALLED_INTERVAL_MS: '120000',
      });
      const first = startCli(['start'], { env: e });
      const [, url] = await first.waitFor(/listening on (http:\/\/\S+)/, 60_000);
      const token = await new TokenIssuer(resolveJwtSecret(loadConfig(e))).sign('alice');
      const created = await new ApiClient(url as string, token).createTask({
        kind: 'question',
        prompt: 'why?',
      });
      expect(created.status).toBe(202);
      const id = created.body.id as string;
      const deadline = Date.now() + 30_000;
      while (llm.requests.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(llm.requests.length).toBe(1);
      first.child.kill('SIGKILL');
      await first.stop();

      const restartedAt = Date.now();
      const second = startCli(['start'], { env: e });
      const [, url2] = await second.waitFor(/listening on (http:\/\/\S+)/, 60_000);
      const api = new ApiClient(url2 as string, token);
      const ended = await api.waitForEnd(id, 30_000);
      // The old path waited for the dead run's lock (here 2 min) and a stall check.
      expect(Date.now() - restartedAt).toBeLessThan(30_000);
      expect(ended.status).toBe('succeeded');
      expect(second.output().stdout).toMatch(
        new RegExp(`took back tasks a stopped worker left running.*${id}|${id}.*took back tasks`),
      );
      const events = (await api.getTask(id)).body.events as { type: string; data: { attempt?: number } }[];
      expect(events.filter((ev) => ev.type === 'task.started').map((ev) => ev.data.attempt)).toEqual([1, 2]);
      expect(events.filter((ev) => /^task\.(succeeded|failed|cancelled)$/.test(ev.type))).toHaveLength(1);
      expect(llm.requests.length).toBe(2);
      expect((await second.stop()).code).toBe(0);
    } finally {
      await llm.close();
    }
  }, 120_000);
});
