import {
  type BackgroundProcess,
  BadInputError,
  CancelledError,
  type ExecResult,
  LimitExceededError,
  type PreviewRecords,
  previewToken,
  type Sandbox,
  type SandboxProvider,
  type ShellSession,
  type ShellSessions,
  type TaskContext,
  type TaskHandler,
  type TaskInput,
  type TaskResult,
  waitForPort,
} from '../../core/index.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { PreviewLeases } from '../preview-leases.js';
import { inferPreviewPort } from './infer-preview-port.js';

export interface ShellHandlerOptions {
  sandboxes: SandboxProvider;
  /** Keeps a preview's sandbox (or its server in a chat's sandbox) alive for the preview TTL. */
  previews: PreviewLeases;
  /** Where previews are recorded (their links answer 410 once they end). */
  previewRecords?: PreviewRecords;
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

  /** The task runs in a long-lived sandbox: it is released at the end (or by the preview), never closed. */
  async #inSession(ctx: TaskContext, session: ShellSession, input: ShellInput): Promise<TaskResult> {
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
    return this.#o.previews.active;
  }

  async #runOnce(
    ctx: TaskContext,
    sandbox: Sandbox,
    command: string,
    session: ShellSession | null = null,
  ): Promise<TaskResult> {
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
      exitCode: 0,
      durationMs: result.durationMs,
      truncated: result.truncated,
      output: tail(result),
    };
  }

  async #runWithPreview(
    ctx: TaskContext,
    sandbox: Sandbox,
    command: string,
    port: number,
    session: ShellSession | null = null,
  ): Promise<TaskResult> {
    // One port, one server: the chat's earlier preview on this port gives way to the new one.
    const portKey = `${sandbox.id}:${port}`;
    if (session) await this.#o.previews.end(portKey);
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
    const ready = await waitForPort(sandbox, port, { process: proc, signal: ctx.signal, timeoutMs: waitMs });
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
    this.#o.metrics?.sandboxCommands.inc({ provider: sandbox.provider, outcome: 'ok' });
    if (session) {
      await session.finish(command, 'background');
      this.#keepSessionPreview(ctx.task.id, portKey, session, proc);
    } else {
      this.#keepPreview(ctx.task.id, sandbox, proc);
      // A shell preview ends with its TTL; the record lets its link say so (410) afterwards.
      const token = previewToken(url);
      if (token)
        await this.#o.previewRecords
          ?.record({ token, taskId: ctx.task.id, repo: null, branch: null, commit: null, command, port })
          .catch(() => {});
    }
    return { summary: `preview at ${url}`, preview: { url, port } };
  }

  /** Keeps the sandbox for the TTL (or until the server exits), then closes it. */
  #keepPreview(taskId: string, sandbox: Sandbox, proc: BackgroundProcess): void {
    this.#o.previews.hold({ taskId, sandbox, ended: proc.done, release: () => sandbox.close() });
  }

  /**
   * A preview in a long-lived sandbox: for the TTL (or until the server exits, or another preview
   * takes the port) only the server runs; then it is killed and the sandbox released, not closed.
   */
  #keepSessionPreview(taskId: string, portKey: string, session: ShellSession, proc: BackgroundProcess): void {
    this.#o.previews.hold({
      taskId,
      sandbox: session.sandbox,
      ended: proc.done,
      key: portKey,
      release: async () => {
        await proc.kill().catch(() => {});
        await proc.done.catch(() => {});
        await session.release();
      },
    });
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

function parseInput(input: TaskInput, prompt: string): ShellInput {
  const command = input.command?.trim() ? input.command : prompt;
  if (!command.trim()) throw new BadInputError('a shell task needs a command');
  const preview: unknown = input.preview;
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
