/**
 * Which handler runs which kind of task, and which `input` the kind accepts from API callers: one
 * explicit table, built once at start from the modules (no merge order, no handler that exists only
 * to be replaced). `auto` has no handler: the worker routes it to one of these kinds first. Every
 * role builds the table, so a gateway validates input without running any handler.
 */
import {
  autoInputSchema,
  type KindHandler,
  kindHandler,
  type RoutedKind,
  type TaskHandler,
  type TaskInputSchema,
  type TaskKind,
} from '../core/index.js';

export type { RoutedKind };
export type HandlerTable = Partial<Record<RoutedKind, KindHandler>>;

/**
 * Replacements for whole entries (tests and benchmarks that script a kind). A bare handler accepts
 * its kind's documented input; a stand-in that reads keys of its own registers them with it.
 */
export type HandlerOverrides = Partial<Record<RoutedKind, TaskHandler | KindHandler>>;

export interface HandlerParts {
  /** The shell lane: explicit commands verbatim, plain words through the shell agent. */
  shell: TaskHandler;
  /** Questions answered by a read-only agent run. */
  question: TaskHandler;
  /** A task becomes a pull request; null when no repository host is configured. */
  repoTask: RepoTaskEntry | null;
}

/** The repo task handler runs two kinds; `input` by kind when its agent reads keys of its own. */
export interface RepoTaskEntry {
  handle: TaskHandler;
  input?: Partial<Record<'dev' | 'followup', TaskInputSchema>>;
}

/** The dev and follow-up entries of a repo task handler. */
export function repoTaskEntries(entry: RepoTaskEntry): Pick<Required<HandlerTable>, 'dev' | 'followup'> {
  return {
    dev: kindHandler('dev', entry.handle, entry.input?.dev),
    followup: kindHandler('followup', entry.handle, entry.input?.followup),
  };
}

/**
 * The table for a process. `overrides` replaces whole entries (tests and benchmarks that script a
 * kind's handler); it is applied here and nowhere else.
 */
export function buildHandlerTable(parts: HandlerParts, overrides: HandlerOverrides = {}): HandlerTable {
  const table: HandlerTable = {
    shell: kindHandler('shell', parts.shell),
    question: kindHandler('question', parts.question),
    ...(parts.repoTask ? repoTaskEntries(parts.repoTask) : {}),
  };
  for (const [kind, entry] of Object.entries(overrides) as [RoutedKind, TaskHandler | KindHandler][])
    table[kind] = typeof entry === 'function' ? kindHandler(kind, entry) : entry;
  return table;
}

/**
 * The input schema of a kind in a table, null when the table has no handler for it; `auto` accepts
 * the keys of every kind it may be routed to (made again only when the table changed).
 */
export function inputSchemaOf(table: HandlerTable): (kind: TaskKind) => TaskInputSchema | null {
  let auto: { from: TaskInputSchema[]; schema: TaskInputSchema } | null = null;
  return (kind) => {
    if (kind !== 'auto') return table[kind]?.input ?? null;
    const from = Object.values(table).map((h) => h.input);
    if (!auto || auto.from.length !== from.length || auto.from.some((s, i) => s !== from[i]))
      auto = { from, schema: autoInputSchema(from) };
    return auto.schema;
  };
}
