import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { resolveJwtSecret } from '../../src/config/jwt-secret.js';
import { TokenIssuer } from '../../src/gateway/token-issuer.js';
import { ApiClient } from '../helpers/api-client.js';
import { ensurePgliteTemplate, openTestPglite } from '../helpers/pglite-template.js';
import { startTestDevbot } from '../helpers/test-devbot.js';
import { removeDir, TEST_REDIS_URL, tempDir, uniquePrefix, waitFor } from '../helpers/test-env.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function startChild(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/helpers/crash-child.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => {
      out += String(d);
      const m = /READY (\S+)/.exec(out);
      if (m?.[1]) resolve({ child, url: m[1] });
    });
    child.stderr?.on('data', (d) => {
      err += String(d);
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before ready: ${err.slice(-2000)}`)));
  });
}

async function deletePrefix(prefix: string): Promise<number> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

describe('durability', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) removeDir(d);
  });

  it('kill -9 mid-task, then a restart on the same data: the task ends exactly once', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    // Start from a migrated PGlite copy: a fresh one takes seconds to initialise.
    cpSync(await ensurePgliteTemplate(), join(dataDir, 'pglite'), { recursive: true });
    const runLog = join(dataDir, 'runs.log');
    const env = {
      DEVBOT_DATA_DIR: dataDir,
      REDIS_URL: TEST_REDIS_URL,
      DEVBOT_QUEUE_PREFIX: uniquePrefix(),
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DEVBOT_LOCK_DURATION_MS: '1500',
      DEVBOT_STALLED_INTERVAL_MS: '700',
      CRASH_RUN_LOG: runLog,
    };
    const token = await new TokenIssuer(resolveJwtSecret(loadConfig(env))).sign('alice');
    const first = await startChild(env);
    const api1 = new ApiClient(first.url, token);
    const created = await api1.createTask({ kind: 'question', prompt: 'slow', input: { sleepMs: 2500 } });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    await waitFor(() => readLog(runLog).includes(`start ${id}`), 'the task to start');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await startChild(env);
    const api2 = new ApiClient(second.url, token);
    const ended = await api2.waitForEnd(id, 30_000);
    expect(ended.status).toBe('succeeded');
    const events = (await api2.getTask(id)).body.events as { type: string }[];
    expect(events.filter((e) => e.type === 'task.succeeded')).toHaveLength(1);
    expect(
      events.filter((e) => e.type.startsWith('task.') && /succeeded|failed|cancelled/.test(e.type)),
    ).toHaveLength(1);
    const log = readLog(runLog);
    expect(log.match(new RegExp(`start ${id}`, 'g'))).toHaveLength(2);
    expect(log.match(new RegExp(`end ${id}`, 'g'))).toHaveLength(1);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }, 60_000);

  it('Redis emptied with tasks queued, then a restart: every task still runs', async () => {
    const sql = await openTestPglite();
    const dataDir = tempDir();
    dirs.push(dataDir);
    const prefix = uniquePrefix();
    const env = { DEVBOT_QUEUE_PREFIX: prefix };
    const done: string[] = [];
    // A gateway alone accepts tasks; no worker runs them yet.
    const gateway = await startTestDevbot({ sql, dataDir, env, role: 'gateway' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await gateway.api.createTask({ kind: 'question', prompt: `q${i}` })).body.id);
    }
    await gateway.stop();
    expect(await deletePrefix(prefix)).toBeGreaterThan(0);

    const full = await startTestDevbot({
      sql,
      dataDir,
      env,
      handlers: {
        question: async (ctx) => {
          done.push(ctx.task.id);
          return { summary: 'ok' };
        },
      },
    });
    for (const id of ids) expect((await full.api.waitForEnd(id)).status).toBe('succeeded');
    expect(done.sort()).toEqual([...ids].sort());
    await full.stop();
    await sql.close();
    await deletePrefix(prefix);
  }, 60_000);
});

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
