/**
 * Limits that hold for a local sandbox as a whole, not per process (a per-process memory limit let
 * four processes hold 905 MB against 256 MB). Each test runs the attack inside a real sandbox;
 * where the limit is a cgroup, the host reads the group's own figures as well. Tests that need a
 * cgroup are skipped on hosts where devbot finds none (the reason is in the skip's name).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../sandbox/contract.js';
import { detectCgroupSupport } from '../../sandbox/local/cgroup-support.js';
import type { Sandbox } from '../../src/core/sandbox.js';
import { type LocalHarness, startLocalHarness } from '../helpers/sandbox-harness.js';

const MEMORY_MB = 256;
const MAX_PROCS = 64;
const CPUS = 0.5;
const DISK_MB = 64;
const TMP_MB = 32;
const cgroups = await detectCgroupSupport();
const noCgroup = cgroups.version ? '' : ` (skipped: ${cgroups.reason})`;

describe('local sandbox limits for the whole sandbox', () => {
  let harness: LocalHarness;
  let sandbox: Sandbox;

  beforeAll(async () => {
    harness = await startLocalHarness({
      memoryMb: MEMORY_MB,
      maxProcs: MAX_PROCS,
      cpus: CPUS,
      diskMb: DISK_MB,
      tmpMb: TMP_MB,
    });
    sandbox = await harness.provider.create({ taskId: 'limits' });
  });
  afterAll(async () => {
    await sandbox?.close();
    await harness?.close();
  });

  /** A file of this sandbox's cgroup for `controller`, as the host sees it. */
  const cgroupFile = (controller: 'memory' | 'pids' | 'cpu', file: string) =>
    readFileSync(
      join(harness.provider.hardening!.cgroup.parents[controller]!, sandbox.id, file),
      'utf8',
    ).trim();

  it.skipIf(!cgroups.version)(
    `four processes of 150 MB each in a ${MEMORY_MB} MB sandbox: killed, and together never above the limit${noCgroup}`,
    async () => {
      expect(harness.provider.hardening?.cgroup.version).toBe(cgroups.version);
      // bytearray(n) zero-fills, so every page is really used.
      const hog = `python3 -c "import time; b = bytearray(150 * 1024 * 1024); print('held', flush=True); time.sleep(3); print('done', flush=True)"`;
      const r = await sandbox.exec(`for i in 1 2 3 4; do (${hog}; echo "exit $?") & done; wait`, {
        timeoutMs: 60_000,
      });
      const exits = r.stdout.match(/^exit \d+$/gm) ?? [];
      expect(exits).toHaveLength(4);
      // The kernel killed some (SIGKILL: 137) or they got MemoryError (1); they never all held.
      expect(exits.filter((e) => e !== 'exit 0').length).toBeGreaterThanOrEqual(2);
      expect((r.stdout.match(/^done$/gm) ?? []).length).toBeLessThanOrEqual(2);
      const limit = MEMORY_MB * 1024 * 1024;
      if (cgroups.version === 'v1') {
        expect(Number(cgroupFile('memory', 'memory.limit_in_bytes'))).toBe(limit);
        expect(Number(cgroupFile('memory', 'memory.max_usage_in_bytes'))).toBeLessThanOrEqual(limit);
      } else {
        expect(Number(cgroupFile('memory', 'memory.max'))).toBe(limit);
        const peak = (() => {
          try {
            return Number(cgroupFile('memory', 'memory.peak'));
          } catch {
            return 0; // memory.peak is Linux 5.19+
          }
        })();
        expect(peak).toBeLessThanOrEqual(limit);
      }
      // The supervisor was spared: the sandbox still works.
      expect((await sandbox.exec('echo alive')).stdout).toBe('alive\n');
    },
    90_000,
  );

  it(`a fork loop spread over two commands stops at ${MAX_PROCS} processes for the whole sandbox`, async () => {
    await sandbox.writeFile(
      'fork.py',
      [
        'import os, sys, time',
        'n = 0',
        'for _ in range(int(sys.argv[1])):',
        '    try:',
        '        pid = os.fork()',
        '    except OSError:',
        '        break',
        '    if pid == 0:',
        '        time.sleep(float(sys.argv[2]))',
        '        os._exit(0)',
        '    n += 1',
        'print(n, flush=True)',
        'time.sleep(float(sys.argv[2]))',
      ].join('\n'),
    );
    const first = await sandbox.execBackground('python3 fork.py 40 30 > first.txt');
    await waitFor(async () => (await sandbox.exec('test -s first.txt')).exitCode === 0, 20_000);
    const second = await sandbox.exec('python3 fork.py 200 1', { timeoutMs: 30_000 });
    const a = Number((await sandbox.readFile('first.txt')).trim());
    const b = Number(second.stdout.trim());
    expect(a).toBe(40);
    // The second command got only what the first left of the sandbox's budget.
    expect(b).toBeGreaterThanOrEqual(0);
    expect(a + b).toBeLessThan(MAX_PROCS);
    if (cgroups.version) {
      expect(Number(cgroupFile('pids', 'pids.max'))).toBe(MAX_PROCS);
      expect(Number(cgroupFile('pids', 'pids.current'))).toBeLessThanOrEqual(MAX_PROCS);
    }
    await first.kill();
    await first.done;
    expect((await sandbox.exec('echo alive')).stdout).toBe('alive\n');
  });

  it.skipIf(!cgroups.parents.cpu)(
    `two busy loops share ${CPUS} CPU for the whole sandbox${cgroups.parents.cpu ? '' : ' (skipped: no cpu controller)'}`,
    async () => {
      const busy = `python3 -c "import time; s = time.time()
while time.time() - s < 2: pass
print(time.process_time())"`;
      const r = await sandbox.exec(`for i in 1 2; do ${busy} & done; wait`, { timeoutMs: 30_000 });
      const seconds = r.stdout.trim().split('\n').map(Number);
      expect(seconds).toHaveLength(2);
      // 2 s of wall time at half a CPU is 1 s of CPU between both (plus interpreter start-up).
      expect(seconds[0]! + seconds[1]!).toBeLessThan(1.4);
      const quota =
        cgroups.version === 'v1' ? cgroupFile('cpu', 'cpu.cfs_quota_us') : cgroupFile('cpu', 'cpu.max');
      expect(quota).toMatch(/^50000( 100000)?$/);
    },
    30_000,
  );

  it(`writing past the ${DISK_MB} MB workspace fails with ENOSPC, and the host disk holds at most that`, async (ctx) => {
    const quota = harness.provider.hardening!.diskQuota.workspace;
    if (!quota.ok) return ctx.skip(quota.reason);
    const r = await sandbox.exec(
      'head -c 200M /dev/zero 2>&1 >big; echo "exit $?"; stat -c %s big; dd if=/dev/zero of=small bs=1M count=1 2>&1',
    );
    expect(r.stdout).toMatch(/No space left on device\nexit 1\n/);
    expect(Number(r.stdout.split('\n')[2])).toBeLessThan(DISK_MB * 1024 * 1024);
    // Full means full for every process of the sandbox, not only the one that filled it.
    expect(r.stdout).toMatch(/dd: .*No space left on device/);
    // The host: the image holds at most the quota, however much was attempted.
    const image = await stat(join(harness.baseDir, sandbox.id, 'workspace.img'));
    expect(image.blocks * 512).toBeLessThanOrEqual(DISK_MB * 1024 * 1024);
    expect(image.size).toBe(DISK_MB * 1024 * 1024);
    // Freeing space makes the workspace usable again; the host reads it as a plain directory.
    await sandbox.exec('rm -f big small');
    await sandbox.writeFile('after.txt', 'room again');
    expect(readFileSync(join(harness.baseDir, sandbox.id, 'workspace', 'after.txt'), 'utf8')).toBe(
      'room again',
    );
  });

  it(`writing past the ${TMP_MB} MB /tmp fails with ENOSPC`, async (ctx) => {
    const quota = harness.provider.hardening!.diskQuota.tmp;
    if (!quota.ok) return ctx.skip(quota.reason);
    const r = await sandbox.exec(
      'head -c 100M /dev/zero 2>&1 >/tmp/big; echo "exit $?"; stat -c %s /tmp/big; rm -f /tmp/big',
    );
    expect(r.stdout).toMatch(/No space left on device\nexit 1\n/);
    expect(Number(r.stdout.split('\n')[2])).toBeLessThanOrEqual(TMP_MB * 1024 * 1024);
  });

  it("keeps a persistent sandbox's volume across closing and reattaching, and unmounts it on destroy", async (ctx) => {
    const quota = harness.provider.hardening!.diskQuota.workspace;
    if (!quota.ok) return ctx.skip(quota.reason);
    const chat = await harness.provider.create({ taskId: 'limits-chat', persistent: true });
    const mountPoint = join(harness.baseDir, chat.id, 'workspace');
    await chat.writeFile('kept.txt', 'kept');
    await chat.close();
    // Closed, still mounted: the host sees the files where it always did.
    expect(mounted(mountPoint)).toBe(true);
    expect(readFileSync(join(mountPoint, 'kept.txt'), 'utf8')).toBe('kept');
    const again = await harness.provider.connect(chat.id);
    expect((await again!.exec('cat kept.txt')).stdout).toBe('kept');
    await again!.close();
    // After a reboot (unmounted), reattaching mounts the same image again.
    execFileSync('umount', [mountPoint]);
    expect(existsSync(join(mountPoint, 'kept.txt'))).toBe(false);
    const afterReboot = await harness.provider.connect(chat.id);
    expect((await afterReboot!.exec('cat kept.txt')).stdout).toBe('kept');
    await harness.provider.destroy(chat.id);
    expect(mounted(mountPoint)).toBe(false);
    expect(existsSync(join(harness.baseDir, chat.id))).toBe(false);
  });

  it.skipIf(!cgroups.version)(`removes the sandbox's cgroup when it closes${noCgroup}`, async () => {
    const extra = await harness.provider.create({ taskId: 'limits-close' });
    const parents = Object.values(harness.provider.hardening!.cgroup.parents);
    const dirs = parents.map((parent) => join(parent, extra.id));
    await extra.execBackground('sleep 60');
    for (const dir of dirs) expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8')).not.toBe('');
    await extra.close();
    for (const dir of dirs) expect(() => readFileSync(join(dir, 'cgroup.procs'))).toThrow(/ENOENT/);
  });
});

/** Whether `path` is a mount point on this host. */
function mounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === path);
}
