import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/core/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { ensureRedis } from '../../src/queue/ensure-redis.js';
import { pingRedis } from '../../src/queue/redis-connection.js';
import { removeDir, TEST_REDIS_URL, tempDir } from '../helpers/test-env.js';

const logger = createLogger({ level: 'silent' });
// A port nothing listens on (the discard port is never served here).
const NOBODY = 'redis://127.0.0.1:9';

describe('ensureRedis', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) removeDir(d);
  });

  it('uses a Redis that answers, and starts nothing', async () => {
    const redis = await ensureRedis(TEST_REDIS_URL, tempDir(), logger);
    expect(redis).toMatchObject({ url: TEST_REDIS_URL, private: false });
    await redis.stop();
  });

  it('never starts a private Redis in place of one that was named (REDIS_URL): it says what to fix', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const err = await ensureRedis(NOBODY, dir, logger, { startPrivate: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(String((err as Error).message)).toMatch(
      /does not answer at redis:\/\/127\.0\.0\.1:9 \(REDIS_URL\)/,
    );
    expect(existsSync(join(dir, 'redis'))).toBe(false);
  });

  it('starts a private redis-server under the data directory when nothing answers, and stops it', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const redis = await ensureRedis(NOBODY, dir, logger);
    try {
      expect(redis.private).toBe(true);
      await pingRedis(redis.url);
      expect(existsSync(join(dir, 'redis'))).toBe(true);
    } finally {
      await redis.stop();
      await redis.stop();
    }
    await expect(pingRedis(redis.url, 300)).rejects.toThrow();
  });

  it('reuses the private redis-server a killed devbot left running, instead of starting another', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const first = await ensureRedis(NOBODY, dir, logger);
    // The devbot that started it dies without stop(): the next start finds it.
    const second = await ensureRedis(NOBODY, dir, logger);
    expect(second).toMatchObject({ url: first.url, private: true });
    await second.stop();
    await expect(pingRedis(first.url, 300)).rejects.toThrow();
    await first.stop();
  });

  it('fails with how to get Redis when nothing answers and redis-server is not installed', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = tempDir();
    try {
      const err = await ensureRedis(NOBODY, tempDir(), logger).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
      expect((err as Error).message).toMatch(/redis-server is not installed.*REDIS_URL/);
    } finally {
      process.env['PATH'] = path;
    }
  });
});
