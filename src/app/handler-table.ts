/**
 * Which handler runs which kind of task: one explicit table, built once at start from the modules
 * (no merge order, no handler that exists only to be replaced). `auto` has no handler: the worker
 * routes it to one of these kinds first.
 */
import type { TaskHandler, TaskKind } from '../core/index.js';

export type RoutedKind = Exclude<TaskKind, 'auto'>;
export type HandlerTable = Partial<Record<RoutedKind, TaskHandler>>;

export interface HandlerParts {
  /** The shell lane: explicit commands verbatim, plain words through the shell agent. */
  shell: TaskHandler;
  /** Questions answered by a read-only agent run. */
  question: TaskHandler;
  /** A task becomes a pull request; null when no repository host is configured. */
  repoTask: TaskHandler | null;
}

/**
 * The table for a process. `overrides` replaces whole entries (tests and benchmarks that script a
 * kind's handler); it is applied here and nowhere else.
 */
export function buildHandlerTable(parts: HandlerParts, overrides: HandlerTable = {}): HandlerTable {
  const table: HandlerTable = {
    shell: parts.shell,
    question: parts.question,
    ...(parts.repoTask ? { dev: parts.repoTask, followup: parts.repoTask } : {}),
  };
  return { ...table, ...overrides };
}
