import type { Sandbox, TaskContext } from '../src/core/index.js';

/** A sandbox lent to an agent for one task, given back with `release()`. */
export interface Workspace {
  sandbox: Sandbox;
  /** Recent commands run in this sandbox (a chat's shell history), oldest first. */
  history?: readonly string[];
  /** Whether this sandbox has a way out (the egress proxy); unset: the agent's own setting. */
  network?: boolean;
  release(): Promise<void>;
}

/** Provides a task's workspace (the repo copy for questions, the chat's sandbox for shell). */
export type WorkspaceProvider = (ctx: TaskContext) => Promise<Workspace | null>;
