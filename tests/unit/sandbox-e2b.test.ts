import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type E2BCommandHandle,
  type E2BRunOptions,
  type E2BSandboxLike,
  E2BSandboxProvider,
  type E2BSdk,
} from '../../sandbox/e2b/e2b-sandbox-provider.js';

/** A scripted command: emits chunks, then exits with a code (or waits to be killed). */
interface Script {
  chunks?: { stream: 'stdout' | 'stderr'; text: string }[];
  exitCode?: number;
  hang?: boolean;
}

class FakeE2BSandbox implements E2BSandboxLike {
  readonly runs: { cmd: string; opts: E2BRunOptions }[] = [];
  readonly timeouts: number[] = [];
  killed = 0;
  killedCommands = 0;
  store = new Map<string, string>();
  constructor(
    readonly sandboxId: string,
    readonly script: (cmd: string) => Script,
  ) {}
  commands = {
    run: async (cmd: string, opts: E2BRunOptions): Promise<E2BCommandHandle> => {
      this.runs.push({ cmd, opts });
      const script = this.script(cmd);
      let finish: (code: number) => void = () => {};
      const exited = new Promise<number>((resolve) => {
        finish = resolve;
      });
      queueMicrotask(() => {
        for (const c of script.chunks ?? []) (c.stream === 'stdout' ? opts.onStdout : opts.onStderr)(c.text);
        if (!script.hang) finish(script.exitCode ?? 0);
      });
      return {
        pid: this.runs.length,
        wait: async () => {
          const code = await exited;
          // Like the SDK: a non-zero exit rejects with a CommandExitError carrying exitCode.
          if (code !== 0)
            throw Object.assign(new Error(`exit ${code}`), { exitCode: code, stdout: '', stderr: '' });
          return { exitCode: 0, stdout: '', stderr: '' };
        },
        kill: async () => {
          this.killedCommands += 1;
          finish(137);
          return true;
        },
      };
    },
  };
  files = {
    read: async (path: string) => {
      const v = this.store.get(path);
      if (v === undefined) throw new Error('not found');
      return v;
    },
    write: async (path: string, data: string) => {
      this.store.set(path, data);
      return {};
    },
    list: async (path: string) =>
      [...this.store.keys()]
        .filter((k) => k.startsWith(`${path}/`))
        .map((k) => ({
          name: k.slice(path.length + 1),
          path: k,
          type: 'file',
          size: this.store.get(k)!.length,
        })),
  };
  getHost(port: number) {
    return `${port}-${this.sandboxId}.e2b.app`;
  }
  async setTimeout(ms: number) {
    this.timeouts.push(ms);
  }
  async kill() {
    this.killed += 1;
    return true;
  }
}

function fakeSandbox(id: string, script: (cmd: string) => Script = () => ({})) {
  return new FakeE2BSandbox(id, script);
}

class FakeSdk implements E2BSdk {
  readonly created: Parameters<E2BSdk['create']>[0][] = [];
  readonly sandboxes: FakeE2BSandbox[] = [];
  readonly killedIds: string[] = [];
  listed: { sandboxId: string; metadata: Record<string, string> }[] = [];
  constructor(readonly script: (cmd: string) => Script = () => ({})) {}
  async create(opts: Parameters<E2BSdk['create']>[0]) {
    this.created.push(opts);
    const sb = fakeSandbox(`sbx${this.sandboxes.length + 1}`, this.script);
    this.sandboxes.push(sb);
    return sb;
  }
  async connect(id: string) {
    const sb = this.sandboxes.find((s) => s.sandboxId === id);
    if (!sb) throw new Error('not found');
    return sb;
  }
  async list() {
    return this.listed;
  }
  async kill(id: string) {
    this.killedIds.push(id);
    return true;
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('E2BSandboxProvider (fake SDK)', () => {
  it('creates with timeoutMs and task metadata, no internet unless asked, and kills once on close', async () => {
    const sdk = new FakeSdk();
    const provider = new E2BSandboxProvider({ apiKey: 'k', sdk, timeoutMs: 120_000, template: 'devbot' });
    const sandbox = await provider.create({ taskId: 'task-1' });
    expect(sdk.created[0]).toEqual({
      apiKey: 'k',
      template: 'devbot',
      timeoutMs: 120_000,
      metadata: { app: 'devbot', taskId: 'task-1' },
      allowInternetAccess: false,
    });
    await (await provider.create({ taskId: 'task-2', network: true })).close();
    expect(sdk.created[1]).toMatchObject({ allowInternetAccess: true });
    await sandbox.close();
    await sandbox.close();
    expect(sdk.sandboxes[0]!.killed).toBe(1);
    await expect(sandbox.exec('true')).rejects.toThrow(/closed/);
  });

  it('refuses to start without an API key', async () => {
    const provider = new E2BSandboxProvider({ apiKey: '', sdk: new FakeSdk() });
    await expect(provider.check()).rejects.toThrow(/E2B_API_KEY/);
  });

  it('streams output, maps cwd/env and reports a non-zero exit code', async () => {
    const sdk = new FakeSdk(() => ({
      chunks: [
        { stream: 'stdout', text: 'a' },
        { stream: 'stderr', text: 'b' },
        { stream: 'stdout', text: 'c' },
      ],
      exitCode: 3,
    }));
    const provider = new E2BSandboxProvider({ apiKey: 'k', sdk });
    const sandbox = await provider.create({ taskId: 't' });
    const seen: string[] = [];
    const r = await sandbox.exec('cmd', {
      cwd: '/home/user/x',
      env: { A: '1' },
      onStdout: (t) => seen.push(`o:${t}`),
      onStderr: (t) => seen.push(`e:${t}`),
    });
    expect(r).toMatchObject({ exitCode: 3, stdout: 'ac', stderr: 'b', truncated: false, timedOut: false });
    expect(seen).toEqual(['o:a', 'e:b', 'o:c']);
    const run = sdk.sandboxes[0]!.runs[0]!;
    expect(run.opts).toMatchObject({ background: true, cwd: '/home/user/x', envs: { A: '1' }, timeoutMs: 0 });
  });

  it('caps output with a marker', async () => {
    const sdk = new FakeSdk(() => ({ chunks: [{ stream: 'stdout', text: 'x'.repeat(50) }] }));
    const provider = new E2BSandboxProvider({ apiKey: 'k', sdk, outputLimit: 20 });
    const sandbox = await provider.create({ taskId: 't' });
    const r = await sandbox.exec('flood');
    expect(r.truncated).toBe(true);
    expect(r.stdout).toBe(`${'x'.repeat(20)}\n[devbot: output truncated after 20 bytes]`);
  });

  it('kills a command at its timeout and on abort', async () => {
    const sdk = new FakeSdk(() => ({ hang: true }));
    const provider = new E2BSandboxProvider({ apiKey: 'k', sdk });
    const sandbox = await provider.create({ taskId: 't' });
    const timed = await sandbox.exec('sleep', { timeoutMs: 20 });
    expect(timed).toMatchObject({ timedOut: true, exitCode: 124 });
    const controller = new AbortController();
    const pending = sandbox.exec('sleep', { signal: controller.signal });
    controller.abort();
    expect((await pending).exitCode).toBe(137);
    expect(sdk.sandboxes[0]!.killedCommands).toBe(2);
  });

  it('runs background commands that can be killed', async () => {
    const sdk = new FakeSdk(() => ({ hang: true, chunks: [{ stream: 'stdout', text: 'up' }] }));
    const provider = new E2BSandboxProvider({ apiKey: 'k', sdk });
    const sandbox = await provider.create({ taskId: 't' });
    const bg = await sandbox.execBackground('server');
    await bg.kill();
    expect(await bg.done).toMatchObject({ exitCode: 137, stdout: 'up' });
  });

  it('reads, writes and lists files relative to /home/user', async () => {
    const provider = new E2BSandboxProvider({ apiKey: 'k', sdk: new FakeSdk() });
    const sandbox = await provider.create({ taskId: 't' });
    await sandbox.writeFile('a.txt', 'hi');
    expect(await sandbox.readFile('/home/user/a.txt')).toBe('hi');
    expect(await sandbox.listFiles('.')).toEqual([]);
    expect(await sandbox.listFiles('/home/user')).toEqual([
      { name: 'a.txt', path: '/home/user/a.txt', type: 'file', size: 2 },
    ]);
  });

  it('exposes a port as the https host from getHost', async () => {
    const provider = new E2BSandboxProvider({ apiKey: 'k', sdk: new FakeSdk() });
    const sandbox = await provider.create({ taskId: 't' });
    expect(await sandbox.exposePort(8000)).toBe('https://8000-sbx1.e2b.app/');
  });

  it('renews the sandbox timeout half-way while open, and stops after close', async () => {
    vi.useFakeTimers();
    const sdk = new FakeSdk();
    const provider = new E2BSandboxProvider({ apiKey: 'k', sdk, timeoutMs: 1_000 });
    const sandbox = await provider.create({ taskId: 't' });
    await vi.advanceTimersByTimeAsync(1_100);
    expect(sdk.sandboxes[0]!.timeouts).toEqual([1_000, 1_000]);
    await sandbox.keepAlive?.(5_000);
    expect(sdk.sandboxes[0]!.timeouts.at(-1)).toBe(5_000);
    await sandbox.close();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(sdk.sandboxes[0]!.timeouts).toHaveLength(3);
  });

  it('leaves a persistent sandbox running on close so connect can find it', async () => {
    const sdk = new FakeSdk();
    const provider = new E2BSandboxProvider({ apiKey: 'k', sdk });
    const sandbox = await provider.create({ taskId: 't', persistent: true });
    expect(sdk.created[0]?.metadata).toMatchObject({ taskId: 't', persistent: 'true' });
    await sandbox.close();
    expect(sdk.sandboxes[0]!.killed).toBe(0);
    expect((await provider.connect('sbx1'))?.id).toBe('sbx1');
    expect(await provider.connect('missing')).toBeNull();
  });

  it('destroys a persistent sandbox by id, open here or not', async () => {
    const sdk = new FakeSdk();
    const provider = new E2BSandboxProvider({ apiKey: 'k', sdk });
    const sandbox = await provider.create({ taskId: 't', persistent: true });
    await provider.destroy(sandbox.id);
    expect(sdk.killedIds).toEqual([sandbox.id]);
    await expect(sandbox.exec('true')).rejects.toThrow(/closed/);
    await provider.destroy('elsewhere');
    expect(sdk.killedIds).toEqual([sandbox.id, 'elsewhere']);
  });

  it('reaps sandboxes whose task has finished, never open or persistent ones', async () => {
    const sdk = new FakeSdk();
    const provider = new E2BSandboxProvider({ apiKey: 'k', sdk });
    const open = await provider.create({ taskId: 'running-here' });
    sdk.listed = [
      { sandboxId: open.id, metadata: { app: 'devbot', taskId: 'done-but-open' } },
      { sandboxId: 'old1', metadata: { app: 'devbot', taskId: 'finished' } },
      { sandboxId: 'old2', metadata: { app: 'devbot', taskId: 'still-running' } },
      { sandboxId: 'old3', metadata: { app: 'devbot' } },
      // A chat's sandbox idle-closed after its first task ended: it must survive for the next /sh.
      { sandboxId: 'chat1', metadata: { app: 'devbot', taskId: 'finished', persistent: 'true' } },
    ];
    const killed = await provider.reap(async (taskId) => taskId !== 'still-running');
    expect(killed).toEqual(['old1']);
    expect(sdk.killedIds).toEqual(['old1']);
  });

  it("split workers: another worker's reaper spares a preview its live owner holds after the task, not a dead owner's", async () => {
    // One E2B account, two worker processes. Worker A's task ended; A holds its sandbox as a preview.
    const sdk = new FakeSdk();
    const a = new E2BSandboxProvider({ apiKey: 'k', sdk, owner: 'worker-a' });
    const b = new E2BSandboxProvider({ apiKey: 'k', sdk, owner: 'worker-b' });
    const preview = await a.create({ taskId: 'ended' });
    const leakedByB = await b.create({ taskId: 'ended' });
    await leakedByB.close(); // closed here, but (say) the kill was lost: B's own leak
    sdk.killedIds.length = 0;
    expect(sdk.created.map((c) => c.metadata['owner'])).toEqual(['worker-a', 'worker-b']);
    sdk.listed = sdk.sandboxes.map((sb, i) => ({
      sandboxId: sb.sandboxId,
      metadata: sdk.created[i]!.metadata,
    }));
    const alive = new Set(['worker-a', 'worker-b']);
    const finished = async () => true;
    const isAlive = async (owner: string) => alive.has(owner);

    expect(await b.reap(finished, isAlive)).toEqual([leakedByB.id]);
    expect(sdk.killedIds).not.toContain(preview.id);
    // A is killed (its presence lapses): its sandbox is left behind, and B reaps it.
    alive.delete('worker-a');
    sdk.listed = sdk.listed.filter((l) => l.sandboxId !== leakedByB.id);
    expect(await b.reap(finished, isAlive)).toEqual([preview.id]);
  });
});
