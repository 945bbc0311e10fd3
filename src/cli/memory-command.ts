import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config/config.js';
import { BadInputError } from '../core/errors.js';
import {
  isMemoryKind,
  type Memory,
  type MemoryKind,
  type MemoryPort,
  type RecalledMemory,
} from '../core/memory.js';
import { openMemory } from '../memory/open-memory.js';
import { migrate } from '../store/migrate.js';
import { createPgClient } from '../store/pg-client.js';
import { createPgliteClient } from '../store/pglite-client.js';

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
    const text = rest.join(' ').trim();
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
 * command. With embedded PGlite, stop devbot first: a PGlite data directory has one user at a time.
 */
export async function memoryCli(
  argv: readonly string[],
  config: Config,
  write: (line: string) => void,
): Promise<number> {
  const args = parseMemoryArgs(argv);
  const sql = config.DATABASE_URL
    ? await createPgClient({ connectionString: config.DATABASE_URL, max: 2 })
    : await createPgliteClient({ dataDir: join(config.dataDir, 'pglite') });
  try {
    await migrate(sql);
    const { service } = await openMemory({ sql, config });
    return await runMemoryCommand(args, service, write);
  } finally {
    await sql.close();
  }
}

/** Runs one `devbot memory` command; returns the process exit code. */
export async function runMemoryCommand(
  args: MemoryCommandArgs,
  memory: MemoryPort,
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
