import { describe, expect, it } from 'vitest';
import type {
  BackgroundProcess,
  ExecOptions,
  ExecResult,
  Sandbox,
  SandboxProvider,
  Task,
  TaskContext,
  TaskEvent,
  TaskPatch,
} from '../../src/core/index.js';
import { CancelledError, isPermanent } from '../../src/core/index.js';
import { Metrics } from '../../src/observability/metrics.js';
import { CommandFailedError, ShellHandler } from '../../src/worker/handlers/shell-handler.js';
import { PreviewLeases } from '../../src/worker/preview-leases.js';

type Behaviour = (command: string, options: ExecOptions) => Promise<ExecResult>;

const ok = (over: Partial<ExecResult> = {}): ExecResult => ({
  exitCode: 0,
  stdout: '',
  stderr: '',
  truncated: false,
  timedOut: false,
  durationMs: 1,
  ...over,
});

/** An in-test Sandbox: each command's behaviour is scripted; records what happened. */
class ScriptedSandbox implements Sandbox {
  readonly id = 'sb-test';
  readonly provider = 'fake';
  readonly workdir = '/workspace';
  readonly commands: string[] = [];
  closed = 0;
  exposed: number[] = [];
  constructor(
    private readonly behave: Behaviour,
    private readonly background?: (command: string, options: ExecOptions) => BackgroundProcess,
  ) {}
  exec(command: string, options: ExecOptions = {}) {
    this.commands.push(command);
    return this.behave(command, options);
  }
  async execBackground(command: string, options: ExecOptions = {}) {
    this.commands.push(`bg:${command}`);
    if (!this.background) throw new Error('no background');
    return this.background(command, options);
  }
  readFile = async () => '';
  writeFile = async () => {};
  listFiles = async () => [];
  async exposePort(port: number) {
    this.exposed.push(port);
    return `http://gw/preview/tok${port}/`;
  }
  async close() {
    this.closed += 1;
  }
}

function provider(sandbox: Sandbox): SandboxProvider & { created: number } {
  return {
    name: 'fake',
    created: 0,
    async create() {
      this.created += 1;
      return sandbox;
    },
    check: async () => {},
    close: async () => {},
  };
}

function context(input: Record<string, unknown>, signal = new AbortController().signal) {
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const patches: TaskPatch[] = [];
  const task = { id: 't1', prompt: String(input['command'] ?? ''), input } as unknown as Task;
  const ctx: TaskContext = {
    task,
    signal,
    attempt: 1,
    emit: async (type, data) => {
      events.push({ type, data: data as Record<string, unknown> });
      return { taskId: 't1', seq: events.length, at: new Date(), type, data } as TaskEvent;
    },
    patch: async (p) => {
      patches.push(p);
    },
  };
  return { ctx, events, patches };
}

/** The one preview lifetime, as the sandbox module builds it. */
function leases(ttlSeconds: number, metrics?: Metrics): PreviewLeases {
  return new PreviewLeases({ ttlMs: ttlSeconds * 1000, ...(metrics ? { metrics } : {}) });
}

describe('shell handler', () => {
  it('streams output as batched events and succeeds on exit 0', async () => {
    const sandbox = new ScriptedSandbox(async (_c, o) => {
      // 300 tiny chunks in one burst must not become 300 events.
      for (let i = 0; i < 300; i++) o.onStdout?.(`line ${i}\n`);
      o.onStderr?.('warn\n');
      return ok({ stdout: 'x' });
    });
    const metrics = new Metrics();
    const handler = new ShellHandler({
      sandboxes: provider(sandbox),
      previews: leases(60, metrics),
      metrics,
    });
    const { ctx, events } = context({ command: 'make' });
    const outcome = await handler.handle(ctx);
    expect(outcome.summary).toContain('exit code 0');
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('command.started');
    expect(types.at(-1)).toBe('command.finished');
    const outputs = events.filter((e) => e.type === 'output');
    expect(outputs.length).toBeGreaterThan(1);
    expect(outputs.length).toBeLessThan(10);
    const stdout = outputs
      .filter((e) => e.data['stream'] === 'stdout')
      .map((e) => e.data['text'])
      .join('');
    expect(stdout.split('\n')).toHaveLength(301);
    expect(outputs.at(-1)?.data).toEqual({ stream: 'stderr', text: 'warn\n' });
    expect(sandbox.closed).toBe(1);
    expect(await metrics.registry.getSingleMetricAsString('devbot_sandbox_commands_total')).toContain(
      'outcome="ok"} 1',
    );
  });

  it('fails permanently with the exit code and the output tail on a non-zero exit', async () => {
    const sandbox = new ScriptedSandbox(async () => ok({ exitCode: 2, stderr: 'no such file' }));
    const handler = new ShellHandler({ sandboxes: provider(sandbox), previews: leases(60) });
    const { ctx, events } = context({ command: 'cat nope' });
    const err = await handler.handle(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    expect(isPermanent(err)).toBe(true);
    expect((err as Error).message).toContain('exited with code 2');
    expect((err as Error).message).toContain('no such file');
    expect(events.at(-1)).toMatchObject({ type: 'command.finished', data: { exitCode: 2 } });
    expect(sandbox.closed).toBe(1);
  });

  it('kills the command when the task is cancelled', async () => {
    const controller = new AbortController();
    let sawSignal: AbortSignal | undefined;
    const sandbox = new ScriptedSandbox(
      (_c, o) =>
        new Promise((resolve) => {
          sawSignal = o.signal;
          o.signal?.addEventListener('abort', () => resolve(ok({ exitCode: 137 })));
        }),
    );
    const handler = new ShellHandler({ sandboxes: provider(sandbox), previews: leases(60) });
    const { ctx } = context({ command: 'sleep 100' }, controller.signal);
    const running = handler.handle(ctx);
    await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await expect(running).rejects.toBeInstanceOf(CancelledError);
    expect(sawSignal).toBe(controller.signal);
    expect(sandbox.closed).toBe(1);
  });

  it('rejects a missing command and a bad preview port', async () => {
    const handler = new ShellHandler({
      sandboxes: provider(new ScriptedSandbox(async () => ok())),
      previews: leases(1),
    });
    await expect(handler.handle(context({ command: '  ' }).ctx)).rejects.toThrow(/needs a command/);
    await expect(handler.handle(context({ command: 'x', preview: { port: 70000 } }).ctx)).rejects.toThrow(
      /port/,
    );
  });

  it('with a preview: waits for the port, reports preview_ready, keeps the sandbox for the TTL', async () => {
    let probes = 0;
    let finish: (r: ExecResult) => void = () => {};
    const done = new Promise<ExecResult>((resolve) => {
      finish = resolve;
    });
    const sandbox = new ScriptedSandbox(
      async () => ok({ exitCode: ++probes < 3 ? 1 : 0 }),
      (_c, o) => {
        o.onStdout?.('Serving HTTP on 0.0.0.0 port 8000\n');
        return { id: 'bg1', done, kill: async () => finish(ok({ exitCode: 137 })) };
      },
    );
    const metrics = new Metrics();
    const handler = new ShellHandler({
      sandboxes: provider(sandbox),
      previews: leases(0.3, metrics),
      metrics,
    });
    const { ctx, events, patches } = context({
      command: 'python3 -m http.server 8000',
      preview: { port: 8000 },
    });
    const outcome = await handler.handle(ctx);
    expect(probes).toBe(3);
    // The preview is the task's result; the worker writes it on the task row.
    expect(outcome.preview).toEqual({ url: 'http://gw/preview/tok8000/', port: 8000 });
    expect(patches).toEqual([]);
    const types = events.map((e) => e.type);
    expect(types).toEqual(['command.started', 'output', 'preview_ready']);
    expect(events.at(-1)?.data).toEqual({ url: 'http://gw/preview/tok8000/', port: 8000 });
    expect(sandbox.closed).toBe(0);
    expect(handler.activePreviews).toBe(1);
    expect(await metrics.registry.getSingleMetricAsString('devbot_previews_active')).toContain(' 1');
    // After the TTL the sandbox closes, quietly: no more events.
    await new Promise((r) => setTimeout(r, 450));
    expect(sandbox.closed).toBe(1);
    expect(handler.activePreviews).toBe(0);
    expect(events).toHaveLength(3);
    expect(await metrics.registry.getSingleMetricAsString('devbot_previews_active')).toContain(' 0');
  });

  it('with a preview: fails with the output when the server exits before the port answers', async () => {
    const sandbox = new ScriptedSandbox(
      async () => ok({ exitCode: 1 }),
      (_c, o) => {
        o.onStderr?.('Address already in use\n');
        return { id: 'bg', done: Promise.resolve(ok({ exitCode: 1 })), kill: async () => {} };
      },
    );
    const handler = new ShellHandler({ sandboxes: provider(sandbox), previews: leases(60) });
    const { ctx, events } = context({ command: 'serve', preview: { port: 8000 } });
    const err = await handler.handle(ctx).catch((e: unknown) => e);
    expect((err as Error).message).toContain('exited with code 1');
    expect((err as Error).message).toContain('Address already in use');
    expect(events.some((e) => e.type === 'preview_ready')).toBe(false);
    expect(sandbox.closed).toBe(1);
  });
});
