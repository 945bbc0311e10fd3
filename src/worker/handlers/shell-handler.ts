import { BadInputError, CancelledError, LimitExceededError } from '../../core/errors.js';
import type { TaskContext, TaskHandler, TaskOutcome } from '../../core/ports.js';
import type { BackgroundProcess, ExecResult, Sandbox, SandboxProvider } from '../../core/sandbox.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import { inferPreviewPort } from './infer-preview-port.js';
import type { ShellSession, ShellSessions } from './shell-session.js';

export interface ShellHandlerOptions {
  sandboxes: SandboxProvider;
  /** How long a preview sandbox stays up after the task succeeds (DEVBOT_PREVIEW_TTL). */
  previewTtlSeconds: number;
  /** Per-command time limit when no preview is asked for (DEVBOT_SANDBOX_TIMEOUT_MS). */
  commandTimeoutMs?: number;
  /** How long to wait for a preview port to answer. */
  previewWaitMs?: number;
  /** Output events are batched: one per this many ms or this many characters. */
  flushIntervalMs?: number;
  flushChars?: number;
  metrics?: Metrics;
  logger?: Logger;
  /**
   * Long-lived shells (a Telegram chat's persistent sandbox, cwd and history). A task that
   * belongs to one runs there and leaves the sandbox open; any other gets a fresh sandbox.
   */
  sessions?: ShellSessions;
}

/** The command ran and exited non-zero: retrying the same command will not help. */
export class CommandFailedError extends BadInputError {
  constructor(
    readonly exitCode: number,
    readonly outputTail: string,
  ) {
    super(`the command exited with code ${exitCode}${outputTail ? `:\n${outputTail}` : ''}`);
  }
}

interface ShellInput {
  command: string;
  port: number | null;
}

const TAIL_CHARS = 2000;
const POLL_MS = 150;

/**
 * Runs `kind: shell` tasks: a fresh sandbox (or the chat's persistent one, through `sessions`),
 * the command's output streamed as batched `output` events. With `preview.port` (or a command that
 * ends by serving with `python3 -m http.server`), the command runs in the background, the task
 * waits until the port answers, reports `preview_ready` and succeeds, and the server lives on for
 * the preview TTL: in a fresh sandbox the whole sandbox, in a chat's sandbox only the server (a new
 * preview on the same port replaces it).
 */
export class ShellHandler {
  readonly #o: ShellHandlerOptions;
  readonly #previews = new Map<string, () => Promise<void>>();
  /** Previews in long-lived sandboxes by `sandboxId:port`, so a new one on the port replaces them. */
  readonly #portPreviews = new Map<string, () => Promise<void>>();

  constructor(options: ShellHandlerOptions) {
    this.#o = options;
  }

  readonly handle: TaskHandler = async (ctx) => {
    const input = parseInput(ctx.task.input, ctx.task.prompt);
    const session = (await this.#o.sessions?.open(ctx)) ?? null;
    if (session) return this.#inSession(ctx, session, input);
    const started = performance.now();
    const sandbox = await this.#o.sandboxes.create({ taskId: ctx.task.id });
    this.#o.metrics?.sandboxStart.observe(
      { provider: this.#o.sandboxes.name },
      (performance.now() - started) / 1000,
    );
    try {
      return input.port === null
        ? await this.#runOnce(ctx, sandbox, input.command)
        : await this.#runWithPreview(ctx, sandbox, input.command, input.port);
    } catch (err) {
      await sandbox.close().catch(() => {});
      throw err;
    }
  };

  /** Closes every sandbox still serving a preview (shutdown). */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.#previews.values()].map((close) => close()));
  }

  /** The task runs in a long-lived sandbox: it is released at the end (or by the preview), never closed. */
  async #inSession(ctx: TaskContext, session: ShellSession, input: ShellInput): Promise<TaskOutcome> {
    try {
      if (input.port === null) {
        const outcome = await this.#runOnce(ctx, session.sandbox, input.command, session);
        await session.release();
        return outcome;
      }
      // On success the preview keeps the lease until it ends.
      return await this.#runWithPreview(ctx, session.sandbox, input.command, input.port, session);
    } catch (err) {
      await session.release(err);
      throw err;
    }
  }

  get activePreviews(): number {
    return this.#previews.size;
  }

  async #runOnce(
    ctx: TaskContext,
    sandbox: Sandbox,
    command: string,
    session: ShellSession | null = null,
  ): Promise<TaskOutcome> {
    await ctx.emit('command.started', { command });
    const output = new OutputBatcher(ctx, this.#o.flushIntervalMs ?? 100, this.#o.flushChars ?? 4096);
    const script = session ? session.script(command, 'foreground') : command;
    const result = await sandbox.exec(script, {
      onStdout: (text) => output.push('stdout', text),
      onStderr: (text) => output.push('stderr', text),
      signal: ctx.signal,
      ...(this.#o.commandTimeoutMs ? { timeoutMs: this.#o.commandTimeoutMs } : {}),
    });
    await output.close();
    // A failed command is history too, and may have changed directory before failing.
    await session?.finish(command, 'foreground');
    await this.#finished(ctx, command, result);
    if (!session) await sandbox.close();
    return {
      summary: `exit code 0${result.truncated ? ' (output truncated)' : ''}`,
      result: {
        exitCode: 0,
        durationMs: result.durationMs,
        truncated: result.truncated,
        output: tail(result),
      },
    };
  }

  async #runWithPreview(
    ctx: TaskContext,
    sandbox: Sandbox,
    command: string,
    port: number,
    session: ShellSession | null = null,
  ): Promise<TaskOutcome> {
    // One port, one server: the chat's earlier preview on this port gives way to the new one.
    const portKey = `${sandbox.id}:${port}`;
    if (session) await this.#portPreviews.get(portKey)?.();
    await ctx.emit('command.started', { command, background: true, port });
    const output = new OutputBatcher(ctx, this.#o.flushIntervalMs ?? 100, this.#o.flushChars ?? 4096);
    let collected = '';
    const collect = (text: string) => {
      collected = (collected + text).slice(-TAIL_CHARS);
    };
    const script = session ? session.script(command, 'background') : command;
    const proc = await sandbox.execBackground(script, {
      onStdout: (text) => {
        collect(text);
        output.push('stdout', text);
      },
      onStderr: (text) => {
        collect(text);
        output.push('stderr', text);
      },
    });
    const waitMs = this.#o.previewWaitMs ?? 60_000;
    const ready = await waitForPort(sandbox, port, proc, ctx.signal, waitMs);
    if (ready !== 'open') {
      await proc.kill();
      const result = await proc.done;
      await output.close();
      if (ready === 'aborted') throw new CancelledError();
      await this.#finished(ctx, command, { ...result, stdout: collected, stderr: '' });
      if (ready === 'timeout')
        throw new LimitExceededError(
          `nothing answered on port ${port} within ${Math.round(waitMs / 1000)} s`,
        );
      throw new BadInputError(`the command exited before anything answered on port ${port}:\n${collected}`);
    }
    const url = await sandbox.exposePort(port);
    await output.close();
    await ctx.emit('preview_ready', { url, port });
    await ctx.patch({ previewUrl: url });
    this.#o.metrics?.sandboxCommands.inc({ provider: sandbox.provider, outcome: 'ok' });
    if (session) {
      await session.finish(command, 'background');
      this.#keepSessionPreview(ctx.task.id, portKey, session, proc);
    } else this.#keepPreview(ctx.task.id, sandbox, proc);
    return {
      summary: `preview at ${url}`,
      result: { previewUrl: url, port, ttlSeconds: this.#o.previewTtlSeconds },
      patch: { previewUrl: url },
    };
  }

  /** Keeps the sandbox for the TTL (or until the server exits), then closes it quietly. */
  #keepPreview(taskId: string, sandbox: Sandbox, proc: BackgroundProcess): void {
    this.#holdPreview(taskId, sandbox, proc, async () => {
      await sandbox
        .close()
        .catch((err) => this.#o.logger?.warn({ err, taskId }, 'closing a preview sandbox failed'));
    });
  }

  /**
   * A preview in a long-lived sandbox: for the TTL (or until the server exits, or another preview
   * takes the port) only the server runs; then it is killed and the sandbox released, not closed.
   */
  #keepSessionPreview(taskId: string, portKey: string, session: ShellSession, proc: BackgroundProcess): void {
    this.#holdPreview(
      taskId,
      session.sandbox,
      proc,
      async () => {
        await proc.kill().catch(() => {});
        await proc.done.catch(() => {});
        await session.release();
      },
      portKey,
    );
  }

  /**
   * The lifecycle both kinds of preview share: kept alive for the TTL, ended at most once — by the
   * timer, by the server exiting, by stop() or by a newer preview on the same port — then released.
   */
  #holdPreview(
    taskId: string,
    sandbox: Sandbox,
    proc: BackgroundProcess,
    release: () => Promise<void>,
    portKey?: string,
  ): void {
    const ttlMs = this.#o.previewTtlSeconds * 1000;
    void sandbox.keepAlive?.(ttlMs + 60_000).catch(() => {});
    this.#o.metrics?.previewsActive.inc();
    let closing: Promise<void> | null = null;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        clearTimeout(timer);
        this.#previews.delete(taskId);
        if (portKey !== undefined && this.#portPreviews.get(portKey) === close)
          this.#portPreviews.delete(portKey);
        this.#o.metrics?.previewsActive.dec();
        await release();
        this.#o.logger?.info({ taskId }, 'preview closed');
      })();
      return closing;
    };
    const timer = setTimeout(() => void close(), ttlMs);
    timer.unref();
    void proc.done.then(() => close());
    this.#previews.set(taskId, close);
    if (portKey !== undefined) this.#portPreviews.set(portKey, close);
  }

  async #finished(ctx: TaskContext, command: string, result: ExecResult): Promise<void> {
    await ctx.emit('command.finished', {
      command,
      exitCode: result.exitCode,
      durationMs: result.durationMs,
      truncated: result.truncated,
      ...(result.timedOut ? { timedOut: true } : {}),
    });
    const outcome = result.timedOut ? 'timeout' : result.exitCode === 0 ? 'ok' : 'error';
    this.#o.metrics?.sandboxCommands.inc({ provider: this.#o.sandboxes.name, outcome });
    if (ctx.signal.aborted) throw new CancelledError();
    if (result.timedOut)
      throw new LimitExceededError(
        `the command ran out of time after ${result.durationMs} ms:\n${tail(result)}`,
      );
    if (result.exitCode !== 0) throw new CommandFailedError(result.exitCode, tail(result));
  }
}

export function createShellHandler(options: ShellHandlerOptions): ShellHandler {
  return new ShellHandler(options);
}

function parseInput(input: Record<string, unknown>, prompt: string): ShellInput {
  const command = typeof input['command'] === 'string' && input['command'].trim() ? input['command'] : prompt;
  if (!command.trim()) throw new BadInputError('a shell task needs a command');
  const preview = input['preview'];
  // Without an explicit preview (a chat's /sh cannot give one), a command that ends by serving
  // files is a preview on its port; `preview: null` turns this off.
  if (preview === undefined) return { command, port: inferPreviewPort(command) };
  if (preview === null) return { command, port: null };
  const port = (preview as { port?: unknown }).port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new BadInputError('preview.port must be an integer between 1 and 65535');
  return { command, port };
}

function tail(result: Pick<ExecResult, 'stdout' | 'stderr'>): string {
  const text = [result.stdout, result.stderr].filter(Boolean).join('\n');
  return text.length > TAIL_CHARS ? `…${text.slice(-TAIL_CHARS)}` : text;
}

/**
 * Polls from inside the sandbox until something accepts connections on the port, the command
 * exits, the task is cancelled, or time runs out.
 */
async function waitForPort(
  sandbox: Sandbox,
  port: number,
  proc: BackgroundProcess,
  signal: AbortSignal,
  waitMs: number,
): Promise<'open' | 'exited' | 'aborted' | 'timeout'> {
  let exited = false;
  void proc.done.then(() => {
    exited = true;
  });
  const probe = `python3 -c "import socket; socket.create_connection(('127.0.0.1', ${port}), 1).close()" 2>/dev/null`;
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (signal.aborted) return 'aborted';
    if (exited) return 'exited';
    const result = await sandbox.exec(probe, { timeoutMs: 5_000, signal });
    if (result.exitCode === 0) return 'open';
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return 'timeout';
}

/** Collects output and emits it as `output` events, one per interval or size, in order. */
class OutputBatcher {
  #stream: 'stdout' | 'stderr' = 'stdout';
  #buffer = '';
  #timer: NodeJS.Timeout | null = null;
  #chain: Promise<unknown> = Promise.resolve();
  #open = true;

  constructor(
    private readonly ctx: TaskContext,
    private readonly intervalMs: number,
    private readonly maxChars: number,
  ) {}

  push(stream: 'stdout' | 'stderr', text: string): void {
    if (!this.#open) return;
    if (stream !== this.#stream) this.#flush();
    this.#stream = stream;
    this.#buffer += text;
    if (this.#buffer.length >= this.maxChars) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), this.intervalMs);
  }

  /** Emits what is left; output arriving afterwards (a preview server's logs) is dropped. */
  async close(): Promise<void> {
    this.#flush();
    this.#open = false;
    await this.#chain;
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#buffer) return;
    const data = { stream: this.#stream, text: this.#buffer };
    this.#buffer = '';
    this.#chain = this.#chain.then(() => this.ctx.emit('output', data)).catch(() => {});
  }
}
