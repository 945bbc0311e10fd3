/**
 * The sandbox boundary, proven against the local (bubblewrap) provider: what a command inside
 * cannot reach, and what the limits do to hostile commands. Each check pairs with a host-side
 * control so the test fails if the boundary were missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portProbe, waitFor } from '../../sandbox/contract.js';
import type { Sandbox } from '../../src/core/sandbox.js';
import { type LocalHarness, startLocalHarness } from '../helpers/sandbox-harness.js';
import { SYSCALL_PROBE } from '../helpers/syscall-probe.js';

const OUTPUT_LIMIT = 32 * 1024;
const SECRET = `devbot-boundary-secret-${Math.random().toString(36).slice(2)}`;

describe('local sandbox boundary', () => {
  let harness: LocalHarness;
  let sandbox: Sandbox;
  let hostServer: Server;
  let hostPort: number;

  beforeAll(async () => {
    process.env['DEVBOT_BOUNDARY_SECRET'] = SECRET;
    harness = await startLocalHarness({ outputLimit: OUTPUT_LIMIT, maxProcs: 64, memoryMb: 512 });
    sandbox = await harness.provider.create({ taskId: 'boundary' });
    hostServer = createServer((_req, res) => res.end('host service'));
    await new Promise<void>((resolve) => hostServer.listen(0, '127.0.0.1', resolve));
    hostPort = (hostServer.address() as AddressInfo).port;
  });

  afterAll(async () => {
    delete process.env['DEVBOT_BOUNDARY_SECRET'];
    await sandbox?.close();
    await harness?.close();
    await new Promise((resolve) => hostServer?.close(resolve));
  });

  it('cannot reach a port the host listens on', async () => {
    // Control: the same probe from the host connects.
    execFileSync('/usr/bin/python3', [
      '-c',
      `import socket; socket.create_connection(('127.0.0.1', ${hostPort}), 1)`,
    ]);
    const r = await sandbox.exec(portProbe(hostPort));
    expect(r.exitCode).not.toBe(0);
    const dns = await sandbox.exec(
      `python3 -c "import socket; socket.create_connection(('1.1.1.1', 53), 1)" 2>&1`,
    );
    expect(dns.exitCode).not.toBe(0);
  });

  it('does not see the host environment', async () => {
    const r = await sandbox.exec('env; cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"');
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).not.toContain('DEVBOT_BOUNDARY_SECRET');
    expect(r.stdout).toContain('HOME=/workspace');
  });

  it('cannot read host files: /root, the data dir, the repository, /etc/shadow', async () => {
    const r = await sandbox.exec(
      `ls /root 2>&1; ls ${harness.baseDir} 2>&1; ls ${process.cwd()} 2>&1; cat /etc/shadow 2>&1; echo done`,
    );
    expect(r.stdout).toContain('done');
    expect(r.stdout).not.toContain('.pyenv');
    expect(r.stdout).not.toContain('package.json');
    expect(r.stdout).not.toContain('supervisor.py');
    expect(r.stdout).not.toMatch(/root:[^x]/);
    // The pyenv python under /root is invisible; python3 is the system one.
    expect((await sandbox.exec('command -v python3')).stdout.trim()).toMatch(
      /^\/usr\/(local\/)?bin\/python3$/,
    );
  });

  it("does not see the host's configuration: gitconfig, profile, hosts, npm's global npmrc", async () => {
    const hostHas = (path: string) => existsSync(path);
    const r = await sandbox.exec(
      'ls -A /etc; echo ---; git config --system --list 2>&1; echo ---; cat /etc/hosts; echo ---; ls -A /etc/ssl; echo ---; cat /usr/etc/npmrc /usr/local/etc/npmrc 2>/dev/null; ls -A /usr/etc /usr/local/etc 2>/dev/null; echo end',
    );
    const [etc = '', gitSystem = '', hosts = '', ssl = '', usrEtc = ''] = r.stdout.split('---\n');
    // The host has a system gitconfig here (a credential helper): none of it shows inside.
    for (const name of ['gitconfig', 'profile', 'bash.bashrc', 'ca-certificates', 'shadow', 'resolv.conf'])
      expect(etc.split('\n'), name).not.toContain(name);
    expect(gitSystem).not.toMatch(/credential|url\.|http\./);
    if (hostHas('/etc/gitconfig')) expect(gitSystem).toMatch(/unable to read|No such file/);
    expect(hosts).toBe('127.0.0.1 localhost devbot\n::1 localhost ip6-localhost ip6-loopback\n');
    expect(ssl.split('\n')).not.toContain('private');
    expect(ssl.split('\n')).toContain('certs');
    // npm's global config directory is devbot's: at most the system CA bundle, never a token.
    expect(usrEtc).not.toMatch(/_authToken|_auth=|password|registry=/);
    for (const line of usrEtc.split('\n').filter((l) => l.includes('=')))
      expect(line).toBe('cafile=/etc/ssl/certs/ca-certificates.crt');
    // ...and ordinary work still finds what it needs: users, certificates, git.
    const work = await sandbox.exec(
      'id -un && test -s /etc/ssl/certs/ca-certificates.crt && git init -q g && git -C g -c user.name=a -c user.email=a@b commit -q --allow-empty -m x && echo ok',
    );
    expect(work.stdout).toBe('devbot\nok\n');
  });

  it('file operations refuse FIFOs, devices and symlinks planted where the host reads or writes, at once', async () => {
    const s = await harness.provider.create({ taskId: 'boundary-files' });
    try {
      // The supervisor's own stdin/stdout are the host's channel: reading or writing them through
      // a planted symlink would hang it or forge its answers.
      await s.exec(
        'mkfifo fifo fifo2 && ln -s /etc/passwd passwd-link && ln -s /proc/self/fd/0 in-link && ln -s /proc/self/fd/1 out-link && echo kept > real && ln -s real real-link',
      );
      const reader = await s.execBackground('cat fifo2 > got');
      const started = Date.now();
      await expect(s.readFile('fifo')).rejects.toThrow(/fifo is not a regular file/);
      await expect(s.readFile('passwd-link')).rejects.toThrow(/symbolic link/);
      await expect(s.readFile('in-link')).rejects.toThrow(/symbolic link/);
      await expect(s.readFile('/dev/zero')).rejects.toThrow(/not a regular file/);
      await expect(s.writeFile('fifo', 'x')).rejects.toThrow(/not a regular file/);
      await expect(s.writeFile('fifo2', 'x')).rejects.toThrow(/not a regular file/);
      await expect(s.writeFile('out-link', '{"id":1,"ev":"ok"}\n')).rejects.toThrow(/symbolic link/);
      await expect(s.writeFile('real-link', 'overwritten')).rejects.toThrow(/symbolic link/);
      await expect(s.listFiles('fifo')).rejects.toThrow(/not a directory/i);
      expect(Date.now() - started).toBeLessThan(3_000);
      // Nothing was written through a link, and the sandbox still answers.
      expect(await s.readFile('real')).toBe('kept\n');
      await reader.kill();
      expect((await s.exec('echo alive; cat got')).stdout).toBe('alive\n');
    } finally {
      await s.close();
    }
  });

  it('seccomp: nested namespaces, mounts, bpf, io_uring, perf, keys, modules and kexec are denied', async () => {
    // Control: the same probe on the host, as an unprivileged uid, without the filter.
    const host = JSON.parse(
      execFileSync(
        '/usr/bin/setpriv',
        ['--reuid=312345', '--regid=312345', '--clear-groups', '/usr/bin/python3', '-c', SYSCALL_PROBE],
        { encoding: 'utf8' },
      ),
    ) as Record<string, string>;
    expect(host['unshare']).toBe('ok');
    expect(host['clone']).toBe('ok');
    expect(Object.values(host).filter((e) => e !== 'Operation not permitted').length).toBeGreaterThan(15);
    await sandbox.writeFile('probe.py', SYSCALL_PROBE);
    const r = await sandbox.exec('python3 probe.py');
    expect(r.stderr).toBe('');
    const inside = JSON.parse(r.stdout) as Record<string, string>;
    expect(Object.keys(inside).sort()).toEqual(Object.keys(host).sort());
    for (const [name, result] of Object.entries(inside))
      expect(result, name).toBe(name === 'clone3' ? 'Function not implemented' : 'Operation not permitted');
    // The same from the shell: no user namespace (so no root inside one), no mounts.
    const sh = await sandbox.exec(
      'unshare -Ur id -u 2>&1; unshare -Urn true 2>&1; mkdir -p m && mount -t tmpfs none m 2>&1; unshare -p -f true 2>&1; echo end',
    );
    expect(sh.stdout).not.toMatch(/^0$/m);
    expect(sh.stdout.match(/unshare failed: Operation not permitted/g)?.length).toBe(3);
    expect(sh.stdout).toMatch(/mount: .*(must be superuser|Operation not permitted)/);
    expect(sh.stdout).toMatch(/end\n$/);
  });

  it('runs as an unprivileged user that cannot write the system or gain root', async () => {
    const r = await sandbox.exec('id -u; touch /usr/x 2>&1; su -c id root </dev/null 2>&1; echo end');
    expect(r.stdout.split('\n')[0]).toBe('1000');
    expect(r.stdout).toMatch(/Read-only file system|Permission denied/);
    expect(r.stdout).not.toMatch(/uid=0/);
  });

  it("does not see other sandboxes' workspaces", async () => {
    const other = await harness.provider.create({ taskId: 'boundary-other' });
    try {
      await other.writeFile('mine.txt', 'other sandbox');
      const r = await sandbox.exec('ls -R /workspace /tmp /run 2>&1; echo end');
      expect(r.stdout).not.toContain('mine.txt');
    } finally {
      await other.close();
    }
  });

  it('contains a fork bomb and ends it at the timeout', async () => {
    const meta = JSON.parse(await readFile(join(harness.baseDir, sandbox.id, 'sandbox.json'), 'utf8')) as {
      uid: number;
    };
    // The bomb goes off in a subshell and the command's shell becomes the sleep (exec): once the
    // bomb holds every process the sandbox may have, a shell that still had to fork would end
    // early with "Cannot fork" instead of at the timeout.
    const r = await sandbox.exec('(bomb() { bomb | bomb & }; bomb) & exec sleep 5', { timeoutMs: 2_000 });
    expect(r.timedOut).toBe(true);
    // Nothing of the bomb survives on the host: only the sandbox's own processes under its uid
    // (the supervisor and its helper, and bwrap when it runs unprivileged) are left.
    await waitFor(async () => countHostProcesses(meta.uid, ['bwrap', 'python3']) === 0, 5_000);
    expect(countHostProcesses(meta.uid)).toBeLessThanOrEqual(4);
    // ...and the sandbox and the host still work.
    expect((await sandbox.exec('echo alive')).stdout).toBe('alive\n');
    expect(execFileSync('echo', ['host ok']).toString()).toBe('host ok\n');
  });

  it('limits processes per sandbox', async () => {
    const r = await sandbox.exec('for i in $(seq 1 100); do sleep 5 & done 2>&1; wait', { timeoutMs: 3_000 });
    expect(r.stdout + r.stderr).toMatch(/fork|Resource temporarily unavailable|Cannot/i);
  });

  it('limits memory', async () => {
    const r = await sandbox.exec('python3 -c "x = bytearray(1024 * 1024 * 1024)" 2>&1');
    expect(r.exitCode).not.toBe(0);
    // The sandbox's memory cgroup kills it (137); without one, the per-process limit refuses it.
    expect(r.exitCode === 137 || r.stdout.includes('MemoryError'), r.stdout).toBe(true);
  });

  it('ends an endless loop at the timeout', async () => {
    const r = await sandbox.exec('while :; do :; done', { timeoutMs: 500 });
    expect(r.timedOut).toBe(true);
    expect(r.durationMs).toBeLessThan(5_000);
  });

  it('caps a flood of output without buffering it', async () => {
    const r = await sandbox.exec('yes devbot', { timeoutMs: 1_500 });
    expect(r.truncated).toBe(true);
    expect(r.stdout.length).toBeLessThanOrEqual(OUTPUT_LIMIT + 100);
    expect(r.stdout).toContain(`[devbot: output truncated after ${OUTPUT_LIMIT} bytes]`);
  });

  it('serves two previews on the same port, each its own page', async () => {
    const a = await harness.provider.create({ taskId: 'preview-a' });
    const b = await harness.provider.create({ taskId: 'preview-b' });
    try {
      await Promise.all(
        [a, b].map(async (s, i) => {
          await s.writeFile('index.html', `page ${i === 0 ? 'A' : 'B'}`);
          await s.execBackground('python3 -m http.server 8000');
          await waitFor(async () => (await s.exec(portProbe(8000))).exitCode === 0, 10_000);
        }),
      );
      const [urlA, urlB] = await Promise.all([a.exposePort(8000), b.exposePort(8000)]);
      expect(urlA).not.toBe(urlB);
      expect(await (await fetch(urlA!)).text()).toBe('page A');
      expect(await (await fetch(urlB!)).text()).toBe('page B');
      await a.close();
      const gone = await fetch(urlA!);
      expect(gone.status).toBe(404);
      expect(await gone.json()).toMatchObject({ error: 'not_found' });
    } finally {
      await a.close();
      await b.close();
    }
  });
});

/** Processes of a host uid, leaving out those whose command name is in `except`. */
function countHostProcesses(uid: number, except: readonly string[] = []): number {
  const out = execFileSync('ps', ['-e', '-o', 'uid=,comm='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([owner, comm]) => owner === String(uid) && !except.includes(comm ?? '')).length;
}
