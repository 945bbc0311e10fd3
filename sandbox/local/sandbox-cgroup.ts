/**
 * The cgroup of one local sandbox: limits on the whole process tree (memory, processes, CPU),
 * where a per-process rlimit lets four processes take four times the memory. The sandbox joins it
 * before bubblewrap starts (wrap()), so every process it ever has is inside from its first
 * instruction; close kills what is left and removes the group.
 */
import { mkdir, readdir, readFile, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxCommand } from './bwrap-args.js';
import type { CgroupController, CgroupSupport } from './cgroup-support.js';
import { writeCgroupFile } from './write-cgroup-file.js';

export interface CgroupLimits {
  memoryBytes: number;
  maxProcs: number;
  /** CPUs' worth of time per period (0.5 = half of one core); 0: no quota. */
  cpus: number;
}

/** The CFS period: quotas are given per 100 ms. */
const CPU_PERIOD_US = 100_000;
const REMOVE_ATTEMPTS = 50;

export class SandboxCgroup {
  readonly #support: CgroupSupport;
  /** Per controller, this sandbox's group directory (v2: the same one for all). */
  readonly dirs: Partial<Record<CgroupController, string>>;

  private constructor(support: CgroupSupport, dirs: Partial<Record<CgroupController, string>>) {
    this.#support = support;
    this.dirs = dirs;
  }

  /** The group a sandbox has or had (to remove what a crashed devbot left). */
  static of(support: CgroupSupport, id: string): SandboxCgroup {
    const dirs = Object.fromEntries(
      Object.entries(support.parents).map(([controller, parent]) => [controller, join(parent, id)]),
    ) as Partial<Record<CgroupController, string>>;
    return new SandboxCgroup(support, dirs);
  }

  /**
   * Removes groups of sandboxes that are gone without a close (devbot was killed): empty ones
   * older than `minAgeMs`, so a group another worker is just filling is left alone. rmdir refuses
   * a group that still has processes, so a live sandbox's group is never touched.
   */
  static async sweep(support: CgroupSupport, minAgeMs = 10 * 60_000): Promise<void> {
    for (const parent of new Set(Object.values(support.parents))) {
      const names = await readdir(parent).catch(() => [] as string[]);
      for (const name of names.filter((n) => /^(sb|probe)-[a-z0-9-]+$/.test(n))) {
        const info = await stat(join(parent, name)).catch(() => null);
        if (info?.isDirectory() && Date.now() - info.mtimeMs > minAgeMs)
          await rmdir(join(parent, name)).catch(() => {});
      }
    }
  }

  /** Creates the group (reusing one a crash left behind) and writes its limits. */
  static async create(support: CgroupSupport, id: string, limits: CgroupLimits): Promise<SandboxCgroup> {
    const group = SandboxCgroup.of(support, id);
    for (const dir of group.#unique()) await mkdir(dir, { recursive: true });
    try {
      await group.#writeLimits(limits);
    } catch (err) {
      await group.remove();
      throw err;
    }
    return group;
  }

  /**
   * The sandbox command, started by a shell that first moves itself into this group (as root,
   * before anything drops privileges) and then execs the command: its whole tree inherits it.
   */
  wrap(command: SandboxCommand): SandboxCommand {
    const procs = this.#unique().map((dir) => join(dir, 'cgroup.procs'));
    return {
      ...command,
      command: '/bin/sh',
      args: [
        '-c',
        'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"',
        'devbot-cgroup',
        ...procs,
        '--',
        command.command,
        ...command.args,
      ],
    };
  }

  /** Kills every process still in the group and removes it (safe to call twice). */
  async remove(): Promise<void> {
    for (let attempt = 0; attempt < REMOVE_ATTEMPTS; attempt++) {
      let left = 0;
      for (const dir of this.#unique()) {
        if (!(await stat(dir).catch(() => null))) continue;
        await this.#killAll(dir);
        try {
          await rmdir(dir);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left++;
        }
      }
      if (left === 0) return;
      // Killed processes leave the group a moment later: wait for them, a little.
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async #killAll(dir: string): Promise<void> {
    if (this.#support.version === 'v2') {
      // cgroup.kill (Linux 5.14+) kills the group atomically, forks in flight included.
      const done = await writeCgroupFile(join(dir, 'cgroup.kill'), '1').then(
        () => true,
        () => false,
      );
      if (done) return;
    }
    const pids = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }

  async #writeLimits(limits: CgroupLimits): Promise<void> {
    const { memory, pids, cpu } = this.dirs;
    const quota = limits.cpus > 0 ? Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US)) : 0;
    if (this.#support.version === 'v2') {
      if (memory) {
        await writeCgroupFile(join(memory, 'memory.max'), String(limits.memoryBytes));
        // Swap would let the sandbox hold more than its limit (on hosts that have swap).
        await writeOptional(join(memory, 'memory.swap.max'), '0');
      }
      if (pids) await writeCgroupFile(join(pids, 'pids.max'), String(limits.maxProcs));
      if (cpu) await writeCgroupFile(join(cpu, 'cpu.max'), quota > 0 ? `${quota} ${CPU_PERIOD_US}` : 'max');
      return;
    }
    if (memory) {
      await writeCgroupFile(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // memory + swap (present with swap accounting); must not be below memory.limit_in_bytes.
      await writeOptional(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
    }
    if (pids) await writeCgroupFile(join(pids, 'pids.max'), String(limits.maxProcs));
    if (cpu) {
      await writeCgroupFile(join(cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
      await writeCgroupFile(join(cpu, 'cpu.cfs_quota_us'), quota > 0 ? String(quota) : '-1');
    }
  }

  #unique(): string[] {
    return [...new Set(Object.values(this.dirs))];
  }
}

async function writeOptional(path: string, value: string): Promise<void> {
  await writeCgroupFile(path, value).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
