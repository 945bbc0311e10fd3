import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LockTimeoutError, withDirLock } from '../../src/git/dir-lock.js';
import { removeDir, tempDir } from '../helpers/test-env.js';

const root = tempDir('devbot-lock-');
afterAll(() => removeDir(root));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('withDirLock', () => {
  it('lets one holder in at a time and releases on success and on failure', async () => {
    const path = join(root, 'a.lock');
    const log: string[] = [];
    const holder = (name: string, fail = false) =>
      withDirLock(path, async () => {
        log.push(`${name}+`);
        await sleep(30);
        log.push(`${name}-`);
        if (fail) throw new Error(`${name} failed`);
        return name;
      });
    const results = await Promise.allSettled([holder('a'), holder('b', true), holder('c')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // Entries and exits alternate: nobody entered while another held the lock.
    for (let i = 0; i < log.length; i += 2) expect(log[i]!.slice(0, -1)).toBe(log[i + 1]!.slice(0, -1));
    expect(existsSync(path)).toBe(false);
  });

  it('takes over a lock whose holder died on this host', async () => {
    const path = join(root, 'dead.lock');
    const dead = spawnSync('true').pid!;
    await mkdir(path);
    await writeFile(
      join(path, 'holder.json'),
      JSON.stringify({ pid: dead, host: hostname(), at: Date.now() }),
    );
    await expect(withDirLock(path, async () => 'mine', { timeoutMs: 2000 })).resolves.toBe('mine');
  });

  it('waits for a live holder on another host, and says who holds it when it gives up', async () => {
    const path = join(root, 'busy.lock');
    await mkdir(path);
    await writeFile(join(path, 'holder.json'), JSON.stringify({ pid: 1, host: 'other-box', at: Date.now() }));
    const err = await withDirLock(path, async () => 'never', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect((err as Error).message).toMatch(/held by pid 1 on other-box/);
  });

  it('takes over a lock whose heartbeat stopped, and one left without a holder file', async () => {
    const stale = join(root, 'stale.lock');
    await mkdir(stale);
    await writeFile(
      join(stale, 'holder.json'),
      JSON.stringify({ pid: 1, host: 'other-box', at: Date.now() - 10_000 }),
    );
    await expect(withDirLock(stale, async () => 'ok', { staleMs: 1000, timeoutMs: 2000 })).resolves.toBe(
      'ok',
    );

    const empty = join(root, 'empty.lock');
    await mkdir(empty);
    const old = new Date(Date.now() - 10_000);
    await utimes(empty, old, old);
    await expect(withDirLock(empty, async () => 'ok', { staleMs: 1000, timeoutMs: 2000 })).resolves.toBe(
      'ok',
    );
  });
});
