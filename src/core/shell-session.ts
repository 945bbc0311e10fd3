/**
 * What the shell handler needs from a long-lived shell (a Telegram chat's persistent sandbox):
 * a sandbox it must not close, a working directory and history kept across tasks. The handler
 * only sees these interfaces; src/worker/handlers/chat-shell-sessions.ts implements them.
 */
import type { TaskContext } from './ports.js';
import type { Sandbox } from './sandbox.js';

/** A foreground command reports the cwd it ended in; a background one (a server) never ends. */
export type ShellRunMode = 'foreground' | 'background';

/** One task's use of a long-lived sandbox. */
export interface ShellSession {
  /** Shared with the chat's other tasks: never close it, call release(). */
  readonly sandbox: Sandbox;
  /** Where the chat's shell is: the next command starts here. */
  readonly cwd: string;
  /** Recent commands of the chat, oldest first. */
  readonly history: readonly string[];
  /** The command wrapped to start in `cwd` (and, in the foreground, to leave its final cwd behind). */
  script(command: string, mode: ShellRunMode): string;
  /** Appends the command to the chat's history with the cwd it left behind. */
  finish(command: string, mode: ShellRunMode): Promise<void>;
  /**
   * This task is done with the sandbox, which stays open for the chat. Pass the error the task
   * failed with: a sandbox found closed is forgotten so the next task reconnects. Idempotent.
   */
  release(error?: unknown): Promise<void>;
}

export interface ShellSessions {
  /** The long-lived shell this task belongs to, or null (then it gets a fresh sandbox). */
  open(ctx: TaskContext): Promise<ShellSession | null>;
  /** Closes every sandbox it holds (shutdown). */
  stop?(): Promise<void>;
}
