/**
 * Host uids for sandboxes, leased so two sandboxes never share one. A uid is free when no process
 * on the host runs as it and no lease names it; a lease is a file `<dir>/<uid>` created with
 * O_EXCL (so two devbot processes on one host cannot both take it) naming the sandbox directory
 * and the process that holds it. A lease whose process is gone and whose sandbox directory is gone
 * too is stale and taken over; a persistent sandbox's lease stays valid while its directory
 * exists, whichever process made it.
 */
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from '../../src/utils/process-alive.js';

export interface UidLeaseOptions {
  /** Where leases live: host-wide, so every devbot on the host sees the others' (root only). */
  dir: string;
  base: number;
  span: number;
  /** Uids some process runs as now (default: read from /proc). */
  liveUids?: () => Promise<Set<number>>;
  random?: (span: number) => number;
}

interface Lease {
  pid: number;
  host: string;
  sandbox: string;
}

/** Host-wide by default, where the host has /run; beside the sandboxes otherwise. */
export function defaultLeaseDir(baseDir: string): string {
  return existsSync('/run') ? '/run/devbot-sandbox-uids' : join(baseDir, '.uids');
}

export class UidLeases {
  constructor(private readonly o: UidLeaseOptions) {}

  /**
   * A free uid leased for the sandbox in `sandboxDir`; `wanted` re-leases the uid a persistent
   * sandbox already has (its files are owned by it).
   */
  async claim(sandboxDir: string, wanted?: number): Promise<number> {
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    const mine: Lease = { pid: process.pid, host: hostname(), sandbox: sandboxDir };
    if (wanted !== undefined) {
      await writeFile(this.#path(wanted), JSON.stringify(mine), { mode: 0o600 });
      return wanted;
    }
    const live = await (this.o.liveUids ?? procUids)();
    const random = this.o.random ?? randomInt;
    for (let attempt = 0; attempt < 200; attempt++) {
      const uid = this.o.base + random(this.o.span);
      if (live.has(uid)) continue;
      if (await this.#create(uid, mine)) return uid;
      // Taken: by a live sandbox, or by a stale lease we may take over.
      if (await this.#stale(uid)) {
        await rm(this.#path(uid), { force: true });
        if (await this.#create(uid, mine)) return uid;
      }
    }
    throw new Error(
      `no free sandbox uid in ${this.o.base}..${this.o.base + this.o.span - 1} after 200 tries`,
    );
  }

  async release(uid: number): Promise<void> {
    await rm(this.#path(uid), { force: true });
  }

  /** Uids leased now (for tests and `devbot doctor`). */
  async leased(): Promise<number[]> {
    const names = await readdir(this.o.dir).catch(() => [] as string[]);
    return names.filter((n) => /^\d+$/.test(n)).map(Number);
  }

  #path(uid: number): string {
    return join(this.o.dir, String(uid));
  }

  async #create(uid: number, lease: Lease): Promise<boolean> {
    try {
      await writeFile(this.#path(uid), JSON.stringify(lease), { flag: 'wx', mode: 0o600 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  async #stale(uid: number): Promise<boolean> {
    let lease: Lease;
    try {
      lease = JSON.parse(await readFile(this.#path(uid), 'utf8')) as Lease;
    } catch {
      // Half-written or unreadable: only its age could tell; leave it.
      return false;
    }
    // Another host sharing the directory: its pids mean nothing here.
    if (lease.host !== hostname()) return false;
    if (isProcessAlive(lease.pid)) return false;
    return !(await stat(lease.sandbox).then(
      () => true,
      () => false,
    ));
  }
}

/** The uids of every process on the host (the owner of each /proc/<pid>). */
async function procUids(): Promise<Set<number>> {
  const uids = new Set<number>();
  const entries = await readdir('/proc').catch(() => [] as string[]);
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (pid) => {
        const s = await stat(join('/proc', pid)).catch(() => null);
        if (s) uids.add(s.uid);
      }),
  );
  return uids;
}
