/**
 * The Sandbox contract: every provider passes this suite (DESIGN.md §4). A provider's test file
 * calls `runSandboxContract('local', makeHarness)`; vitest globals come from the caller's import.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox, SandboxProvider } from '../src/core/sandbox.js';

export interface ContractHarness {
  provider: SandboxProvider;
  /** GETs a URL returned by exposePort (through the gateway's proxy for local sandboxes). */
  fetchPreview(url: string): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export interface ContractOptions {
  /** Output cap the harness configured on the provider. */
  outputLimit: number;
  /** Slower providers (network) get more time. */
  slowMs?: number;
  skip?: boolean;
}

export function runSandboxContract(
  name: string,
  makeHarness: () => Promise<ContractHarness>,
  options: ContractOptions,
): void {
  const slow = options.slowMs ?? 10_000;
  describe.skipIf(options.skip === true)(`Sandbox contract: ${name}`, () => {
    let harness: ContractHarness;
    let sandbox: Sandbox;

    beforeAll(async () => {
      harness = await makeHarness();
      sandbox = await harness.provider.create({ taskId: `contract-${Date.now()}` });
    });
    afterAll(async () => {
      await sandbox?.close();
      await harness?.close();
    });

    it('runs a command and reports stdout, stderr and the exit code', async () => {
      const r = await sandbox.exec('echo out; echo err >&2; exit 7');
      expect(r.stdout).toBe('out\n');
      expect(r.stderr).toBe('err\n');
      expect(r.exitCode).toBe(7);
      expect(r.timedOut).toBe(false);
      expect(r.truncated).toBe(false);
    });

    it('starts in the workspace and honours cwd', async () => {
      expect((await sandbox.exec('pwd')).stdout.trim()).toBe(sandbox.workdir);
      await sandbox.exec('mkdir -p sub/dir');
      expect((await sandbox.exec('pwd', { cwd: `${sandbox.workdir}/sub/dir` })).stdout.trim()).toBe(
        `${sandbox.workdir}/sub/dir`,
      );
      const missing = await sandbox.exec('pwd', { cwd: `${sandbox.workdir}/nope` });
      expect(missing.exitCode).not.toBe(0);
    });

    it('passes env to the command', async () => {
      const r = await sandbox.exec('echo "$GREETING-$OTHER"', { env: { GREETING: 'hi', OTHER: 'there' } });
      expect(r.stdout).toBe('hi-there\n');
    });

    it('streams output while the command runs', async () => {
      const seen: { at: number; text: string }[] = [];
      const start = Date.now();
      const r = await sandbox.exec('echo one; sleep 0.6; echo two', {
        onStdout: (text) => seen.push({ at: Date.now() - start, text }),
      });
      expect(r.stdout).toBe('one\ntwo\n');
      const first = seen.find((s) => s.text.includes('one'));
      expect(first).toBeDefined();
      // "one" arrived well before the command ended.
      expect(first!.at).toBeLessThan(r.durationMs - 300);
    });

    it('kills the whole process tree at the timeout', async () => {
      const r = await sandbox.exec('(sleep 30; echo leaked > leaked.txt) & setsid sleep 30 & sleep 30', {
        timeoutMs: 500,
      });
      expect(r.timedOut).toBe(true);
      expect(r.exitCode).not.toBe(0);
      expect(r.durationMs).toBeLessThan(slow);
      const ps = await sandbox.exec('ps -eo args 2>/dev/null | grep -c "^sleep 30" || true');
      expect(ps.stdout.trim()).toBe('0');
    });

    it('cuts output at the cap with a marker', async () => {
      const r = await sandbox.exec(`head -c ${options.outputLimit * 3} /dev/zero | tr '\\0' x`);
      expect(r.truncated).toBe(true);
      expect(r.stdout).toContain(`[devbot: output truncated after ${options.outputLimit} bytes]`);
      expect(r.stdout.length).toBeLessThan(options.outputLimit + 200);
    });

    it('writes, reads and lists files', async () => {
      await sandbox.writeFile('notes/a.txt', 'héllo\n');
      expect(await sandbox.readFile('notes/a.txt')).toBe('héllo\n');
      expect((await sandbox.exec('cat notes/a.txt')).stdout).toBe('héllo\n');
      const entries = await sandbox.listFiles('notes');
      expect(entries).toEqual([expect.objectContaining({ name: 'a.txt', type: 'file', size: 7 })]);
      const root = await sandbox.listFiles('.');
      expect(root.find((e) => e.name === 'notes')?.type).toBe('dir');
      await expect(sandbox.readFile('does/not/exist')).rejects.toThrow();
    });

    it('runs ordinary development work: git, npm test, node worker threads, python threads', async () => {
      await sandbox.writeFile(
        'proj/package.json',
        JSON.stringify({ name: 'proj', version: '1.0.0', scripts: { test: 'node test.js' } }),
      );
      await sandbox.writeFile(
        'proj/test.js',
        `const { Worker } = require('node:worker_threads');
new Worker('require("node:worker_threads").parentPort.postMessage(6 * 7)', { eval: true }).on('message', (m) => {
  console.log('answer', m);
  process.exit(0);
});
`,
      );
      const r = await sandbox.exec(
        [
          'cd proj',
          'git init -q && git add -A && git -c user.name=d -c user.email=d@example.com commit -qm init',
          'git log --oneline | wc -l',
          'npm test --silent',
          `python3 -c "from concurrent.futures import ThreadPoolExecutor as P; print(sum(P(4).map(abs, range(5))))"`,
        ].join(' && '),
        { env: { npm_config_update_notifier: 'false' }, timeoutMs: slow * 6 },
      );
      expect(r.stderr).toBe('');
      expect(r.stdout.replace(/^\s+/gm, '')).toBe('1\nanswer 42\n10\n');
      expect(r.exitCode).toBe(0);
    });

    it('runs background commands and kills them', async () => {
      const bg = await sandbox.execBackground('echo started; touch /tmp/bg-started; sleep 60');
      const r = await sandbox.exec('echo meanwhile');
      expect(r.stdout).toBe('meanwhile\n');
      // Kill it once it has surely printed (on a busy machine it may not have started yet).
      await waitFor(async () => (await sandbox.exec('test -f /tmp/bg-started')).exitCode === 0, slow);
      await bg.kill();
      const done = await bg.done;
      expect(done.exitCode).not.toBe(0);
      expect(done.stdout).toContain('started');
    });

    it('serves an HTTP page through exposePort', async () => {
      await sandbox.writeFile('site/index.html', '<h1>contract page</h1>');
      const server = await sandbox.execBackground('cd site && exec python3 -m http.server 8000');
      await waitFor(async () => (await sandbox.exec(portProbe(8000))).exitCode === 0, slow);
      const url = await sandbox.exposePort(8000);
      expect(url).toMatch(/^https?:\/\//);
      const page = await harness.fetchPreview(url);
      expect(page.status).toBe(200);
      expect(page.body).toContain('contract page');
      await server.kill();
    });

    it('reattaches to a persistent sandbox by id after close', async () => {
      if (!harness.provider.connect) return;
      const chat = await harness.provider.create({ taskId: 'contract-chat', persistent: true });
      await chat.writeFile('history.txt', 'kept');
      await chat.close();
      const again = await harness.provider.connect(chat.id);
      expect(again).not.toBeNull();
      try {
        expect((await again!.exec('cat history.txt')).stdout).toBe('kept');
      } finally {
        await again!.close();
      }
      expect(await harness.provider.connect('sb-does-not-exist')).toBeNull();
    });

    it('closes twice safely and refuses work afterwards', async () => {
      const extra = await harness.provider.create({ taskId: 'contract-close' });
      await extra.exec('true');
      await extra.close();
      await extra.close();
      await expect(extra.exec('true')).rejects.toThrow();
    });
  });
}

export function portProbe(port: number): string {
  return `python3 -c "import socket; socket.create_connection(('127.0.0.1', ${port}), 1).close()" 2>/dev/null`;
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
