/**
 * Limits that hold for a local sandbox as a whole, not per process (a per-process memory limit let
 * four processes hold 905 MB against 256 MB). Each test runs the attack inside a real sandbox;
 * where the limit is a cgroup, the host reads the group's own figures as well. Tests that need a
 * cgroup are skipped on hosts where devbot finds none (the reason is in the skip's name).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../sandbox/contract.js';
import { detectCgroupSupport } from '../../sandbox/local/cgroup-support.js';
import type { Sandbox } from '../../src/core/sandbox.js';
import { type LocalHarness, startLocalHarness } from '../helpers/sandbox-harness.js';

const MEMORY_MB = 256;
const MAX_PROCS = 64;
const CPUS = 0.5;
const cgroups = await detectCgroupSupport();
const noCgroup = cgroups.version ? '' : ` (skipped: ${cgroups.reason})`;

describe('local sandbox limits for the whole sandbox', () => {
  let harness: LocalHarness;
  let sandbox: Sandbox;

  beforeAll(async () => {
    harness = await startLocalHarness({ memoryMb: MEMORY_MB, maxProcs: MAX_PROCS, cpus: CPUS });
    sandbox = await harness.provider.create({ taskId: 'limits' });
  });
  afterAll(async () => {
    await sandbox?.close();
    await harness?.close();
  });

  /** A file of this sandbox's cgroup for `controller`, as the host sees it. */
  const cgroupFile = (controller: 'memory' | 'pids' | 'cpu', file: string) =>
    readFileSync(join(harness.provider.cgroups.parents[controller]!, sandbox.id, file), 'utf8').trim();

  it.skipIf(!cgroups.version)(
    `four processes of 150 MB each in a ${MEMORY_MB} MB sandbox: killed, and together never above the limit${noCgroup}`,
    async () => {
      expect(harness.provider.cgroups.version).toBe(cgroups.version);
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

  it.skipIf(!cgroups.version)(`removes the sandbox's cgroup when it closes${noCgroup}`, async () => {
    const extra = await harness.provider.create({ taskId: 'limits-close' });
    const dirs = Object.values(harness.provider.cgroups.parents).map((parent) => join(parent, extra.id));
    await extra.execBackground('sleep 60');
    for (const dir of dirs) expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8')).not.toBe('');
    await extra.close();
    for (const dir of dirs) expect(() => readFileSync(join(dir, 'cgroup.procs'))).toThrow(/ENOENT/);
  });
});
