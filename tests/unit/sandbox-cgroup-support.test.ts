/**
 * Finding a cgroup hierarchy for local sandboxes: mountinfo parsing for v1, v2-only and hybrid
 * hosts, and the reasons given when none is usable. Creating real groups is covered by
 * tests/integration/sandbox-limits.test.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupMounts, detectCgroupSupport } from '../../sandbox/local/cgroup-support.js';
import { removeDir, tempDir } from '../helpers/test-env.js';

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const V2_ONLY = `29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`;

const dir = tempDir('devbot-cgroup-');
afterAll(() => removeDir(dir));

describe('cgroupMounts', () => {
  it('reads v1 controllers from the super options and finds v2 mounts', () => {
    expect(cgroupMounts(HYBRID)).toEqual([
      { path: '/sys/fs/cgroup/cpu,cpuacct', version: 'v1', controllers: ['rw', 'cpu', 'cpuacct'] },
      { path: '/sys/fs/cgroup/memory', version: 'v1', controllers: ['rw', 'memory'] },
      { path: '/sys/fs/cgroup/pids', version: 'v1', controllers: ['rw', 'pids'] },
      { path: '/sys/fs/cgroup/unified', version: 'v2', controllers: [] },
    ]);
    expect(cgroupMounts(V2_ONLY)).toEqual([{ path: '/sys/fs/cgroup', version: 'v2', controllers: [] }]);
    expect(cgroupMounts('36 25 0:31 / /mnt/with\\040space rw - cgroup2 cgroup2 rw')[0]?.path).toBe(
      '/mnt/with space',
    );
  });
});

describe('detectCgroupSupport', () => {
  it('says why when there is no hierarchy at all', async () => {
    const none = await detectCgroupSupport('');
    expect(none).toEqual({
      version: null,
      parents: {},
      reason: 'no cgroup v1 hierarchy with the memory and pids controller',
    });
  });

  it('says why a v2 hierarchy without the controllers, or one it cannot write, is not used', async () => {
    const bare = join(dir, 'bare');
    const readonly = join(dir, 'readonly');
    for (const d of [bare, readonly]) mkdirSync(d);
    writeFileSync(join(bare, 'cgroup.controllers'), '\n');
    // Looks like a v2 root with the controllers, but is no cgroupfs: its groups cannot be made.
    writeFileSync(join(readonly, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    writeFileSync(join(readonly, 'cgroup.subtree_control'), 'cpu memory pids\n');
    const info = [bare, readonly]
      .map((d, i) => `${40 + i} 31 0:3${i} / ${d} rw - cgroup2 cgroup2 rw`)
      .join('\n');
    const found = await detectCgroupSupport(info);
    expect(found.version).toBeNull();
    expect(found.reason).toContain(`cgroup v2 at ${bare} has no memory or pids controller`);
    expect(found.reason).toMatch(new RegExp(`cgroup v2 at ${readonly} is not usable: ENOENT`));
    expect(found.reason).toContain('no cgroup v1 hierarchy with the memory and pids controller');
  });
});
