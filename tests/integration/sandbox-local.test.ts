import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSandboxContract } from '../../sandbox/contract.js';
import { localSandboxHardening } from '../../sandbox/local/local-sandbox-hardening.js';
import { LocalSandboxProvider } from '../../sandbox/local/local-sandbox-provider.js';
import { startLocalHarness } from '../helpers/sandbox-harness.js';

const OUTPUT_LIMIT = 64 * 1024;

runSandboxContract('local (bubblewrap)', () => startLocalHarness({ outputLimit: OUTPUT_LIMIT }), {
  outputLimit: OUTPUT_LIMIT,
});

describe('local provider housekeeping', () => {
  it('refuses, at check, a sandbox directory too deep for Unix socket paths', async () => {
    const deep = join(tmpdir(), 'devbot-deep-'.padEnd(90, 'x'));
    const provider = new LocalSandboxProvider({
      baseDir: join(deep, 'sandboxes'),
      previews: { publish: () => 'http://x/', unpublishSandbox: () => {} },
      warm: 0,
    });
    await expect(provider.check()).rejects.toThrow(
      /too deep for Unix socket paths .*set DEVBOT_DATA_DIR to a shorter path/,
    );
    await rm(deep, { recursive: true, force: true });
  });

  it('starts sandboxes the way this process may (the container-capabilities run expects userns)', async () => {
    const h = await startLocalHarness();
    try {
      await h.provider.check();
      const expected = process.env['DEVBOT_TEST_EXPECT_LAUNCH_MODE'];
      if (expected) expect(h.provider.launchMode).toBe(expected);
      else expect(['privileged', 'userns']).toContain(h.provider.launchMode);
    } finally {
      await h.close();
    }
  });

  it('says what confines its sandboxes here, each part with its reason (what devbot doctor shows)', async () => {
    const h = await startLocalHarness();
    try {
      await h.provider.check();
      const status = await localSandboxHardening({ baseDir: h.baseDir });
      // The provider decided from the same probes.
      expect(h.provider.hardening).toEqual(status);
      expect(status.launchMode).toBe(h.provider.launchMode);
      expect(status.seccomp).toMatchObject({ ok: true, reason: expect.stringMatching(/nested namespaces/) });
      expect(['v1', 'v2', null]).toContain(status.cgroup.version);
      if (status.cgroup.version)
        expect(status.cgroup.controllers).toEqual(expect.arrayContaining(['memory', 'pids']));
      expect(status.cgroup.reason).not.toBe('');
      const { workspace, tmp } = status.diskQuota;
      expect(workspace.mechanism).toBe(workspace.ok ? 'loop-mounted ext4 volume' : null);
      expect(workspace.reason).not.toBe('');
      if (status.launchMode === 'userns') expect(workspace.reason).toMatch(/needs CAP_SYS_ADMIN/);
      expect(tmp).toMatchObject({ ok: true, mechanism: 'size-limited tmpfs' });
      // The probes leave nothing behind but the seccomp cache.
      expect((await readdir(h.baseDir)).filter((n) => /probe|template/.test(n))).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('removes directories left by a crashed devbot, keeps persistent ones and live owners', async () => {
    const baseDir = await mkdtemp(join(tmpdir(), 'devbot-sbx-orphans-'));
    const previews = { publish: () => 'http://x/', unpublishSandbox: () => {} };
    try {
      const dead = spawnSync('true').pid!;
      const write = async (id: string, owner: number, persistent: boolean, host = hostname()) => {
        await mkdir(join(baseDir, id, 'workspace'), { recursive: true });
        await writeFile(join(baseDir, id, 'owner.json'), JSON.stringify({ pid: owner, host }));
        await writeFile(join(baseDir, id, 'sandbox.json'), JSON.stringify({ uid: 200001, persistent }));
      };
      await write('sb-crashed', dead, false);
      await write('sb-chat', dead, true);
      await write('sb-other-worker', process.ppid, false);
      // Another container sharing the directory: its pid is not ours to judge.
      await write('sb-other-host', dead, false, 'another-container');
      const provider = new LocalSandboxProvider({ baseDir, previews, warm: 0 });
      await provider.check();
      expect((await provider.listIds()).sort()).toEqual(['sb-chat', 'sb-other-host', 'sb-other-worker']);
      await provider.close();
    } finally {
      await rm(baseDir, { recursive: true, force: true });
    }
  });

  it('destroy() kills a live persistent sandbox and removes its workspace; unknown ids are fine', async () => {
    const baseDir = await mkdtemp(join(tmpdir(), 'devbot-sbx-destroy-'));
    const previews = { publish: () => 'http://x/', unpublishSandbox: () => {} };
    const provider = new LocalSandboxProvider({ baseDir, previews, warm: 0 });
    try {
      const kept = await provider.create({ taskId: 'chat-a', persistent: true });
      await kept.writeFile('note.txt', 'stays');
      await kept.close();
      const live = await provider.create({ taskId: 'chat-b', persistent: true });
      await live.writeFile('note.txt', 'goes');
      await provider.destroy(live.id);
      await expect(live.exec('true')).rejects.toThrow(/closed/);
      expect(await provider.connect(live.id)).toBeNull();
      await provider.destroy(kept.id);
      expect(await provider.listIds()).toEqual([]);
      await provider.destroy(live.id);
      await provider.destroy('../escape');
    } finally {
      await provider.close();
      await rm(baseDir, { recursive: true, force: true });
    }
  });
});
