/**
 * A lock shared by the devbot processes on one host (several workers on one data directory):
 * `mkdir` is atomic, so whoever creates the lock directory holds it. The holder records its pid,
 * host and a heartbeat; a lock whose holder is gone (same host, pid not alive) or whose heartbeat
 * is older than `staleMs` is taken over. Taking over has a small race between two waiters that
 * both see the same stale lock; stale locks only follow a crash, so that is accepted.
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DevbotError } from '../core/errors.js';
import { isProcessAlive } from '../utils/process-alive.js';

export interface DirLockOptions {
  /** A heartbeat older than this marks the lock abandoned (default 2 minutes). */
  staleMs?: number;
  /** Give up waiting after this long (default 10 minutes). */
  timeoutMs?: number;
  /** How often to look again while waiting (default 50 ms). */
  pollMs?: number;
}

interface Holder {
  pid: number;
  host: string;
  at: number;
}

export class LockTimeoutError extends DevbotError {
  constructor(message: string) {
    super('lock_timeout', message);
  }
}

export async function withDirLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: DirLockOptions = {},
): Promise<T> {
  const staleMs = options.staleMs ?? 2 * 60_000;
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  const pollMs = options.pollMs ?? 50;
  const ownerFile = join(path, 'holder.json');
  const beat = () =>
    writeFile(ownerFile, JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() }));
  for (;;) {
    try {
      await mkdir(path);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readHolder(ownerFile);
    if (holder === null || abandoned(holder, staleMs)) {
      // A holder that has not written its file yet is given one stale period from the lock's birth.
      if (holder !== null || (await lockAge(path)) > staleMs)
        await rm(path, { recursive: true, force: true });
    }
    if (Date.now() > deadline)
      throw new LockTimeoutError(
        `waited too long for ${path} (held by ${holder ? `pid ${holder.pid} on ${holder.host}` : 'another process'})`,
      );
    await new Promise((r) => setTimeout(r, pollMs));
  }
  await beat();
  const heartbeat = setInterval(() => void beat().catch(() => {}), Math.max(1000, staleMs / 4));
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await rm(path, { recursive: true, force: true });
  }
}

async function readHolder(file: string): Promise<Holder | null> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<Holder>;
    return typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.at === 'number'
      ? (value as Holder)
      : null;
  } catch {
    return null;
  }
}

function abandoned(holder: Holder, staleMs: number): boolean {
  if (Date.now() - holder.at > staleMs) return true;
  return holder.host === hostname() && !isProcessAlive(holder.pid);
}

async function lockAge(path: string): Promise<number> {
  const info = await stat(path).catch(() => null);
  return info ? Date.now() - info.mtimeMs : 0;
}
