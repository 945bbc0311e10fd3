/**
 * PGlite serves one process per data directory: two processes on one directory corrupt nothing
 * loudly, they just lose tasks. The directory is locked with a file naming the owner's pid and
 * host; a second process is refused with what to do, and a lock whose process died is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { UnavailableError } from '../core/index.js';
import { isProcessAlive } from '../utils/process-alive.js';

/** The embedded database is held by another live process (so the CLI may reach it through its API). */
export class PgliteLockedError extends UnavailableError {
  constructor(
    message: string,
    readonly pid: number | null,
  ) {
    super(message);
    this.name = 'PgliteLockedError';
  }
}

/** Takes the lock on `dataDir` for this process; returns its release. Throws UnavailableError. */
export function lockPgliteDir(dataDir: string): () => void {
  // Beside the directory, not in it: PostgreSQL wants its own directory to itself.
  const path = `${dataDir.replace(/\/+$/, '')}.lock`;
  const me = `${process.pid} ${hostname()}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, me);
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        // Only our own lock: a process that took over a stale one keeps its.
        if (readOwner(path) === me.trim()) rmSync(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(path);
      const [pid, host] = owner?.split(' ') ?? [];
      const alive = host === hostname() && pid !== undefined && isProcessAlive(Number(pid));
      if (alive || (host !== undefined && host !== hostname()))
        throw new PgliteLockedError(
          `another devbot process (pid ${pid ?? '?'} on ${host ?? '?'}) uses the embedded database in ${dataDir}: ` +
            'stop it first, or set DATABASE_URL so several processes share one PostgreSQL',
          pid === undefined || Number.isNaN(Number(pid)) ? null : Number(pid),
        );
      // Its process is gone (killed, crashed): the lock is stale.
      rmSync(path, { force: true });
    }
  }
  throw new UnavailableError(`could not lock the embedded database in ${dataDir}`);
}

function readOwner(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}
