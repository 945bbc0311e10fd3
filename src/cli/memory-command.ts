import { parseArgs } from 'node:util';
import type { Command } from 'commander';
import { type Config, loadConfig } from '../config/config.js';
import { BadInputError } from '../core/errors.js';
import {
  isMemoryKind,
  type Memory,
  type MemoryKind,
  type MemoryPort,
  type RecalledMemory,
} from '../core/memory.js';
import type { CliContext } from './cli-context.js';
import { usageError } from './usage-error.js';

export const MEMORY_USAGE = `usage: devbot memory <list|search|forget> [options]

  list   [--repo R] [--kind K] [--limit N] [--json]          newest memories
  search QUERY [--repo R] [--kind K] [--limit N] [--json]    most similar memories
  forget (--id ID | --repo R [--kind K] | --task TASK_ID)    delete memories`;

export interface MemoryCommandArgs {
  action: 'list' | 'search' | 'forget';
  query?: string;
  repo?: string;
  kind?: MemoryKind;
  id?: string;
  taskId?: string;
  limit?: number;
  json?: boolean;
}

/** Parses `devbot memory ...` arguments (after the word `memory`); throws BadInputError with usage. */
export function parseMemoryArgs(argv: readonly string[]): MemoryCommandArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new BadInputError(`${(err as Error).message}\n\n${MEMORY_USAGE}`, { cause: err });
  }
  const { values, positionals } = parsed;
  const [action, ...rest] = positionals;
  if (action !== 'list' && action !== 'search' && action !== 'forget')
    throw new BadInputError(`unknown memory command "${action ?? ''}"\n\n${MEMORY_USAGE}`);
  return memoryArgs(action, values, rest);
}

/** The options of `devbot memory <action>`, as a parser hands them over (all strings). */
export interface MemoryOptionValues {
  repo?: string | undefined;
  kind?: string | undefined;
  id?: string | undefined;
  task?: string | undefined;
  limit?: string | undefined;
  json?: boolean | undefined;
}

/** Checks one memory command's options and query words; throws BadInputError saying what is wrong. */
export function memoryArgs(
  action: MemoryCommandArgs['action'],
  values: MemoryOptionValues,
  words: readonly string[],
): MemoryCommandArgs {
  const args: MemoryCommandArgs = { action, json: values.json === true };
  if (values.kind !== undefined) {
    if (!isMemoryKind(values.kind))
      throw new BadInputError(`--kind must be a memory kind, not "${values.kind}"`);
    args.kind = values.kind;
  }
  if (values.limit !== undefined) {
    const n = Number(values.limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000)
      throw new BadInputError('--limit must be a whole number from 1 to 1000');
    args.limit = n;
  }
  if (values.repo !== undefined) args.repo = values.repo;
  if (values.id !== undefined) args.id = values.id;
  if (values.task !== undefined) args.taskId = values.task;
  if (action === 'search') {
    const text = words.join(' ').trim();
    if (!text) throw new BadInputError(`search needs a query\n\n${MEMORY_USAGE}`);
    args.query = text;
  }
  return args;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      repo: { type: 'string' },
      kind: { type: 'string' },
      id: { type: 'string' },
      task: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
}

/**
 * `devbot memory ...` end to end: opens the configured database, applies migrations, runs the
 * command (through the running devbot's API while it holds the embedded database).
 */
export async function memoryCli(
  argv: readonly string[],
  config: Config,
  write: (line: string) => void,
): Promise<number> {
  return runMemoryCli(parseMemoryArgs(argv), config, write);
}

/**
 * Runs parsed `devbot memory` arguments against the configured database, or through the running
 * devbot's `/memories` API when it holds the embedded database (PGlite serves one process).
 */
export async function runMemoryCli(
  args: MemoryCommandArgs,
  config: Config,
  write: (line: string) => void,
): Promise<number> {
  // Loaded when a memory command runs, so `devbot --help` does not load the database drivers.
  const [{ withDatabaseOrRunningDevbot }, { openMemory }, { HttpMemory }] = await Promise.all([
    import('./running-devbot.js'),
    import('../memory/open-memory.js'),
    import('./http-memory.js'),
  ]);
  return withDatabaseOrRunningDevbot(
    config,
    async (sql) => {
      const { service } = await openMemory({ sql, config });
      return runMemoryCommand(args, service, write);
    },
    (api) => runMemoryCommand(args, new HttpMemory(api), write),
    { max: 2 },
  );
}

/**
 * `devbot memory list|search|forget` on the command line: commander parses (and prints each
 * subcommand's help); the checks are the same as parseMemoryArgs's, and a failed one is a usage
 * error (exit 2).
 */
export function registerMemoryCommand(program: Command, ctx: CliContext): void {
  const memory = program
    .command('memory')
    .description('look into what devbot remembers')
    .addHelpText(
      'after',
      `
On PostgreSQL (DATABASE_URL) or a stopped embedded devbot this opens the database; while devbot
runs on the embedded database it goes through that devbot's admin API on HOST:PORT.`,
    );
  const run =
    (action: MemoryCommandArgs['action']) =>
    async (...params: unknown[]): Promise<void> => {
      // commander passes the declared arguments, then the options, then the command.
      const command = params.at(-1) as Command;
      const values = params.at(-2) as MemoryOptionValues;
      const words = action === 'search' ? (params[0] as string[]) : [];
      let args: MemoryCommandArgs;
      try {
        args = memoryArgs(action, values, words);
      } catch (err) {
        if (err instanceof BadInputError) usageError(command, err.message.split('\n')[0] ?? err.message);
        throw err;
      }
      const config = loadConfig(ctx.env(), ctx.cwd);
      ctx.exitCode = await runMemoryCli(args, config, (line) => ctx.out(`${line}\n`));
    };
  const filters = (command: Command) =>
    command
      .option('--repo <repo>', 'only this repository (owner/name)')
      .option('--kind <kind>', 'only this kind of memory')
      .option('--limit <n>', 'at most this many (1-1000)')
      .option('--json', 'one JSON object per line');
  filters(memory.command('list').description('the newest memories')).action(run('list'));
  filters(
    memory
      .command('search')
      .description('the memories most similar to QUERY')
      .argument('<query...>', 'what to look for'),
  ).action(run('search'));
  memory
    .command('forget')
    .description("delete memories: one (--id), a repository's (--repo [--kind]) or a task's (--task)")
    .option('--id <id>', 'the memory with this id')
    .option('--repo <repo>', "this repository's memories")
    .option('--kind <kind>', 'with --repo: only this kind')
    .option('--task <taskId>', 'what this task taught devbot')
    .option('--json', 'print {"forgotten": N}')
    .action(async (values: MemoryOptionValues, command: Command) => {
      if (!values.id && !values.repo && !values.task)
        usageError(command, 'forget needs --id, --repo or --task');
      await run('forget')(values, command);
    });
}

/** Runs one `devbot memory` command; returns the process exit code. */
export async function runMemoryCommand(
  args: MemoryCommandArgs,
  memory: Pick<MemoryPort, 'list' | 'recall' | 'forget'>,
  write: (line: string) => void,
): Promise<number> {
  switch (args.action) {
    case 'list': {
      const rows = await memory.list({
        limit: args.limit ?? 20,
        ...(args.repo ? { repo: args.repo } : {}),
        ...(args.kind ? { kind: args.kind } : {}),
      });
      print(rows, args, write);
      return 0;
    }
    case 'search': {
      const rows = await memory.recall({
        query: args.query ?? '',
        limit: args.limit ?? 10,
        minSimilarity: 0,
        ...(args.repo ? { repo: args.repo } : {}),
        ...(args.kind ? { kinds: [args.kind] } : {}),
      });
      print(rows, args, write);
      return 0;
    }
    case 'forget': {
      if (!args.id && !args.repo && !args.taskId)
        throw new BadInputError(`forget needs --id, --repo or --task\n\n${MEMORY_USAGE}`);
      const n = await memory.forget({
        ...(args.id ? { id: args.id } : {}),
        ...(args.repo ? { repo: args.repo } : {}),
        ...(args.taskId ? { taskId: args.taskId } : {}),
        ...(args.kind ? { kind: args.kind } : {}),
      });
      write(args.json ? JSON.stringify({ forgotten: n }) : `forgot ${n} ${n === 1 ? 'memory' : 'memories'}`);
      return 0;
    }
  }
}

function print(
  rows: (Memory | RecalledMemory)[],
  args: MemoryCommandArgs,
  write: (line: string) => void,
): void {
  if (args.json) {
    for (const m of rows) write(JSON.stringify(m));
    return;
  }
  if (rows.length === 0) {
    write('no memories');
    return;
  }
  for (const m of rows) {
    const score = 'similarity' in m ? `  similarity ${m.similarity.toFixed(3)}` : '';
    write(`${m.id}  ${m.repo}  ${m.kind}  ${m.createdAt.toISOString()}${score}`);
    for (const line of m.content.split('\n')) write(`    ${line}`);
  }
}
