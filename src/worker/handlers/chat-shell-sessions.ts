/**
 * The shell fast lane's per-chat state (DESIGN.md §1 flow 4, §3 chat_bindings): each Telegram chat
 * has one persistent sandbox, reused by its shell tasks, with the working directory and the
 * command history kept in `chat_bindings` across tasks (and restarts).
 *
 * Lifecycle of a chat's sandbox:
 * - created with `persistent: true` by the chat's first shell task, its id stored in the binding;
 * - held open while tasks (or a live preview) use it; each task releases it, never closes it;
 * - closed after `idleMs` without any user: the processes stop, the workspace stays on disk (local)
 *   or the sandbox is left to its own timeout (E2B);
 * - the chat's next task reattaches with `connect(id)` (same files, same cwd); when that finds
 *   nothing (deleted, expired, another host), a new sandbox is created and the binding updated.
 * - deleted by /reset (`reset`, refused while a task holds it), or by the retention sweep when the
 *   binding has not been touched for `retentionMs` (`sweep`, run hourly by a timer owned here).
 *   Both clear the binding's sandbox, cwd and history and keep its repository. A process that
 *   still holds a sandbox the binding no longer names (another process reset it) drops it.
 *
 * The cwd is tracked by wrapping each command: the wrapper first `cd`s to the chat's cwd, and an
 * EXIT trap writes `pwd` to a file in the sandbox's private /tmp, read back after the command.
 * A command killed by a signal (timeout, cancel) leaves no file: the cwd stays as it was.
 */
import {
  type ChatBindings,
  DevbotError,
  type Sandbox,
  type SandboxProvider,
  type ShellRunMode,
  type ShellSession,
  type ShellSessions,
  type Task,
  type TaskContext,
  telegramOrigin,
} from '../../core/index.js';
import type { Logger } from '../../observability/logger.js';

export interface ChatShellSessionsOptions {
  sandboxes: SandboxProvider;
  bindings: Pick<ChatBindings, 'get' | 'setSandbox' | 'recordShell' | 'clearShell' | 'listIdleSandboxes'>;
  /** Create chats' sandboxes with network access (DEVBOT_SANDBOX_NETWORK=allowlist). */
  network?: boolean;
  /** How long a chat's sandbox stays open with nothing using it. Default 30 minutes. */
  idleMs?: number;
  /** A chat's sandbox unused this long is deleted by the sweep. Unset: no periodic sweep. */
  retentionMs?: number;
  /** How often the sweep runs when retentionMs is set. Default 1 hour. */
  sweepEveryMs?: number;
  logger?: Logger;
}

/** Written by the wrapper's EXIT trap, inside the sandbox's own /tmp. */
export const CWD_FILE = '/tmp/.devbot-shell-cwd';
const MAX_CWD_CHARS = 4096;
const DEFAULT_IDLE_MS = 30 * 60_000;
const DEFAULT_SWEEP_EVERY_MS = 60 * 60_000;

/** What /reset did: `busy` when a task of this process holds the chat's sandbox right now. */
export type ResetOutcome = 'reset' | 'busy';

interface ChatEntry {
  sandbox: Sandbox;
  leases: number;
  /** Leases held only by a preview's server (its command finished): /reset may end those. */
  previews: number;
  idle: NodeJS.Timeout | null;
}

export class ChatShellSessions implements ShellSessions {
  readonly #o: ChatShellSessionsOptions;
  readonly #chats = new Map<number, ChatEntry>();
  /** Per chat: the open in progress, so two tasks of one chat never create two sandboxes. */
  readonly #opening = new Map<number, Promise<unknown>>();
  /** Per chat: an idle close in progress, awaited before reattaching. */
  readonly #closing = new Map<number, Promise<void>>();
  #stopped = false;
  #sweepTimer: NodeJS.Timeout | null = null;
  #sweeping: Promise<string[]> | null = null;

  constructor(options: ChatShellSessionsOptions) {
    this.#o = options;
    if (options.retentionMs !== undefined) {
      this.#sweepTimer = setInterval(() => {
        void this.sweep().catch((err: unknown) =>
          options.logger?.warn({ err }, 'chat sandbox: sweep failed'),
        );
      }, options.sweepEveryMs ?? DEFAULT_SWEEP_EVERY_MS);
      this.#sweepTimer.unref();
    }
  }

  /** Chats whose sandbox is open in this process (for tests and metrics). */
  get openChats(): number[] {
    return [...this.#chats.keys()];
  }

  async open(ctx: TaskContext): Promise<ShellSession | null> {
    const chatId = chatOf(ctx.task);
    if (chatId === null) return null;
    const previous = this.#opening.get(chatId) ?? Promise.resolve();
    const opened = previous.catch(() => {}).then(() => this.#acquire(chatId, ctx.task.id));
    this.#opening.set(chatId, opened);
    try {
      const { entry, cwd, history } = await opened;
      return this.#session(chatId, entry, cwd, history);
    } finally {
      if (this.#opening.get(chatId) === opened) this.#opening.delete(chatId);
    }
  }

  /**
   * Deletes the chat's sandbox and workspace and forgets its cwd and history (the repository
   * stays). Runs in the chat's open queue, so no task of this process attaches meanwhile.
   */
  async reset(chatId: number): Promise<ResetOutcome> {
    const previous = this.#opening.get(chatId) ?? Promise.resolve();
    const resetting = previous.catch(() => {}).then(() => this.#reset(chatId));
    this.#opening.set(chatId, resetting);
    try {
      return await resetting;
    } finally {
      if (this.#opening.get(chatId) === resetting) this.#opening.delete(chatId);
    }
  }

  async #reset(chatId: number): Promise<ResetOutcome> {
    const entry = this.#chats.get(chatId);
    // A command still running refuses; a preview server alone does not: starting over ends it.
    if (entry && entry.leases - entry.previews > 0) return 'busy';
    await this.#close(chatId);
    const binding = await this.#o.bindings.get(chatId);
    // Destroy first: if it fails, the binding still names the sandbox and /reset can be retried.
    if (binding?.sandboxId) await this.#destroy(chatId, binding.sandboxId);
    await this.#o.bindings.clearShell(chatId);
    this.#o.logger?.info({ chatId, sandboxId: binding?.sandboxId }, 'chat sandbox: reset');
    return 'reset';
  }

  /**
   * Deletes the sandboxes of chats whose binding has not been touched for retentionMs (any shell
   * command touches it). Chats with a sandbox open here are skipped. Returns the deleted ids.
   */
  sweep(now = new Date()): Promise<string[]> {
    const retentionMs = this.#o.retentionMs;
    if (retentionMs === undefined || this.#stopped) return Promise.resolve([]);
    this.#sweeping ??= this.#sweep(new Date(now.getTime() - retentionMs)).finally(() => {
      this.#sweeping = null;
    });
    return this.#sweeping;
  }

  async #sweep(before: Date): Promise<string[]> {
    const deleted: string[] = [];
    for (const { chatId, sandboxId } of await this.#o.bindings.listIdleSandboxes(before)) {
      if (this.#stopped) break;
      if (this.#chats.has(chatId) || this.#opening.has(chatId)) continue;
      // Clear the binding first, and only if it is still stale: a chat that ran a command
      // meanwhile keeps its sandbox, and the next command never reattaches one being deleted.
      if (!(await this.#o.bindings.clearShell(chatId, { sandboxId, before }))) continue;
      try {
        await this.#destroy(chatId, sandboxId);
        deleted.push(sandboxId);
        this.#o.logger?.info({ chatId, sandboxId }, 'chat sandbox: deleted after the retention period');
      } catch (err) {
        this.#o.logger?.warn({ err, chatId, sandboxId }, 'chat sandbox: deleting an old sandbox failed');
      }
    }
    return deleted;
  }

  async #destroy(chatId: number, sandboxId: string): Promise<void> {
    const { sandboxes, logger } = this.#o;
    if (sandboxes.destroy) await sandboxes.destroy(sandboxId);
    else
      logger?.warn(
        { chatId, sandboxId, provider: sandboxes.name },
        'chat sandbox: provider cannot delete it',
      );
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#sweepTimer = null;
    const closing = [...this.#chats.keys()].map((chatId) => this.#close(chatId));
    await Promise.allSettled([...closing, ...this.#closing.values(), this.#sweeping]);
  }

  async #acquire(
    chatId: number,
    taskId: string,
  ): Promise<{ entry: ChatEntry; cwd: string | null; history: string[] }> {
    if (this.#stopped) throw new DevbotError('sandbox_closed', 'devbot is shutting down');
    await this.#closing.get(chatId);
    const binding = await this.#o.bindings.get(chatId);
    // Synchronous from here to the lease: an idle timer cannot close the entry in between.
    let entry = this.#chats.get(chatId);
    if (entry && entry.leases === 0 && binding?.sandboxId !== entry.sandbox.id) {
      // Reset or swept by another process: this sandbox's workspace is gone; start over.
      void this.#close(chatId);
      entry = undefined;
    }
    if (!entry) {
      const sandbox = await this.#attach(chatId, binding?.sandboxId ?? null, taskId);
      entry = this.#chats.get(chatId) ?? { sandbox, leases: 0, previews: 0, idle: null };
      this.#chats.set(chatId, entry);
    }
    if (entry.idle) clearTimeout(entry.idle);
    entry.idle = null;
    entry.leases += 1;
    return { entry, cwd: binding?.shellCwd ?? null, history: binding?.shellHistory ?? [] };
  }

  /** The chat's sandbox from an earlier task (or an earlier run), or a new persistent one. */
  async #attach(chatId: number, sandboxId: string | null, taskId: string): Promise<Sandbox> {
    const { sandboxes, bindings, logger } = this.#o;
    if (sandboxId && sandboxes.connect) {
      const found = await sandboxes.connect(sandboxId).catch((err: unknown) => {
        logger?.warn({ err, chatId, sandboxId }, 'chat sandbox: reattaching failed; starting a new one');
        return null;
      });
      if (found) return found;
      logger?.info({ chatId, sandboxId }, 'chat sandbox: gone; starting a new one');
    }
    const sandbox = await sandboxes.create({
      taskId,
      persistent: true,
      ...(this.#o.network ? { network: true } : {}),
    });
    try {
      await bindings.setSandbox(chatId, sandbox.id);
    } catch (err) {
      await sandbox.close().catch(() => {});
      throw err;
    }
    logger?.info({ chatId, sandboxId: sandbox.id }, 'chat sandbox: created');
    return sandbox;
  }

  #session(chatId: number, entry: ChatEntry, storedCwd: string | null, history: string[]): ShellSession {
    const { sandbox } = entry;
    const cwd = storedCwd ?? sandbox.workdir;
    let released = false;
    let previewing = false;
    return {
      sandbox,
      cwd,
      history,
      script: (command, mode) => wrapCommand(command, cwd, sandbox.workdir, mode),
      finish: async (command, mode: ShellRunMode) => {
        if (mode === 'background' && !previewing) {
          previewing = true;
          entry.previews += 1;
        }
        const after = mode === 'foreground' ? await readCwd(sandbox) : null;
        // Best effort: the command already ran, and failing the task would retry (rerun) it.
        await this.#o.bindings.recordShell(chatId, command, after ?? cwd).catch((err: unknown) => {
          this.#o.logger?.warn({ err, chatId }, 'chat sandbox: recording the shell history failed');
        });
      },
      release: async (error?: unknown) => {
        if (released) return;
        released = true;
        entry.leases -= 1;
        if (previewing) entry.previews -= 1;
        const broken = error instanceof DevbotError && error.code === 'sandbox_closed';
        if (broken && this.#chats.get(chatId) === entry) {
          // The next task reconnects (or starts over) instead of reusing a dead sandbox.
          this.#chats.delete(chatId);
          await sandbox.close().catch(() => {});
          return;
        }
        if (entry.leases === 0 && this.#chats.get(chatId) === entry) this.#idle(chatId, entry);
      },
    };
  }

  #idle(chatId: number, entry: ChatEntry): void {
    const idleMs = this.#o.idleMs ?? DEFAULT_IDLE_MS;
    entry.idle = setTimeout(() => void this.#close(chatId), idleMs);
    entry.idle.unref();
  }

  /** Closes the chat's sandbox (processes stop; a persistent workspace stays for connect). */
  #close(chatId: number): Promise<void> {
    const entry = this.#chats.get(chatId);
    if (!entry) return this.#closing.get(chatId) ?? Promise.resolve();
    this.#chats.delete(chatId);
    if (entry.idle) clearTimeout(entry.idle);
    const closing = entry.sandbox
      .close()
      .then(() => this.#o.logger?.info({ chatId, sandboxId: entry.sandbox.id }, 'chat sandbox: closed'))
      .catch((err: unknown) => this.#o.logger?.warn({ err, chatId }, 'chat sandbox: closing failed'))
      .finally(() => {
        if (this.#closing.get(chatId) === closing) this.#closing.delete(chatId);
      });
    this.#closing.set(chatId, closing);
    return closing;
  }
}

/**
 * The chat a task's shell belongs to: only tasks the Telegram bot created (only its front door
 * sets source `telegram`; API callers can set neither source nor origin). `/sh` sets `input.chatSandbox`; a message the router sent to
 * the shell lane belongs to its chat too, unless `chatSandbox: false` asks for a fresh sandbox.
 */
export function chatOf(task: Pick<Task, 'source' | 'origin' | 'input'>): number | null {
  if (task.input.chatSandbox === false) return null;
  const chatId = telegramOrigin(task)?.chatId;
  return chatId !== undefined && Number.isSafeInteger(chatId) ? chatId : null;
}

/**
 * The command as the chat's shell runs it: start in `cwd` (or the workspace, when that directory
 * is gone) and, in the foreground, record the final directory on exit. The user's text goes on
 * its own line, unchanged, so nothing in it can alter the wrapper.
 */
export function wrapCommand(command: string, cwd: string, workdir: string, mode: ShellRunMode): string {
  const dir = shellQuote(cwd);
  const enter =
    cwd === workdir
      ? `cd -- ${dir}`
      : `cd -- ${dir} 2>/dev/null || { echo ${shellQuote(`devbot: ${cwd} is gone; starting in ${workdir}`)} >&2; cd -- ${shellQuote(workdir)}; }`;
  if (mode === 'background') return `${enter}\n${command}`;
  const file = shellQuote(CWD_FILE);
  return `rm -f ${file}; trap 'pwd > ${CWD_FILE} 2>/dev/null' EXIT; ${enter}\n${command}`;
}

/** The directory the last foreground command ended in, if it said (a killed one cannot). */
async function readCwd(sandbox: Sandbox): Promise<string | null> {
  const text = await sandbox.readFile(CWD_FILE).catch(() => null);
  if (text === null) return null;
  const cwd = text.replace(/\n$/, '');
  // Written from inside the sandbox, so treat it as untrusted: one absolute path, nothing else.
  if (!cwd.startsWith('/') || cwd.length > MAX_CWD_CHARS || /[\n\0]/.test(cwd)) return null;
  return cwd;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
