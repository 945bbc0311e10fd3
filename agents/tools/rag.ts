/**
 * Retrieval over the memory port (issue 7): the `remember` and `recall` tools for the planner and
 * the coder, and the planner's up-front `recall(query)`. Every call is bound to the task's
 * repository: an agent cannot read or write another repository's memories. Recalled text is
 * fenced as untrusted, because memories carry what reviewers and chat users wrote.
 */
import { z } from 'zod';
import {
  fenceUntrusted,
  MEMORY_KINDS,
  type MemoryPort,
  type RecalledMemory,
  type Task,
} from '../../src/core/index.js';
import { defineTool, type Tool, ToolError } from '../llm/tool.js';

export interface RagScope {
  memory: MemoryPort;
  /** The repository (or chat scope) every call is bound to. */
  repo: string;
  taskId?: string | null;
  /** Top k for the planner's up-front recall and the tool's default. Default 5. */
  limit?: number;
  /** Similarity floor. Default 0.25. */
  minSimilarity?: number;
}

const DEFAULT_LIMIT = 5;
const DEFAULT_FLOOR = 0.25;
/** Kinds an agent may write; task/review/chat memories are written by devbot itself. */
const AGENT_KINDS = ['note', 'commands', 'lesson'] as const;

export function createRagTools(scope: RagScope): Tool[] {
  const remember = defineTool({
    name: 'remember',
    description:
      'Save a durable fact about this repository for future tasks (how to build or test it, a pitfall, a convention). One fact per call, in a sentence or two; never secrets.',
    schema: z.object({
      content: z.string().trim().min(3).max(2000),
      kind: z.enum(AGENT_KINDS).default('note'),
    }),
    run: async ({ content, kind }) => {
      try {
        const saved = await scope.memory.remember({
          repo: scope.repo,
          kind,
          content,
          metadata: { by: 'agent' },
          taskId: scope.taskId ?? null,
        });
        return saved ? `remembered (${kind})` : 'already remembered';
      } catch (err) {
        throw new ToolError(`could not remember: ${(err as Error).message}`, { cause: err });
      }
    },
  });

  const recall = defineTool({
    name: 'recall',
    description:
      'Search what earlier tasks on this repository learned (summaries, plans, files, test commands, reviewer requests, lessons from failures).',
    schema: z.object({
      query: z.string().trim().min(2).max(1000),
      kinds: z.array(z.enum(MEMORY_KINDS)).max(MEMORY_KINDS.length).optional(),
      limit: z
        .number()
        .int()
        .min(1)
        .max(20)
        .default(scope.limit ?? DEFAULT_LIMIT),
    }),
    run: async ({ query, kinds, limit }) => {
      let hits: RecalledMemory[];
      try {
        hits = await scope.memory.recall({
          query,
          repo: scope.repo,
          limit,
          minSimilarity: scope.minSimilarity ?? DEFAULT_FLOOR,
          ...(kinds ? { kinds } : {}),
        });
      } catch (err) {
        throw new ToolError(`could not recall: ${(err as Error).message}`, { cause: err });
      }
      if (hits.length === 0) return 'no memories match';
      return hits.map(formatMemory).join('\n\n');
    },
  });
  return [remember, recall];
}

/** The planner's up-front recall for a task; resolves to [] when memory is off or fails. */
export function createPlannerRecall(
  memory: MemoryPort | null,
  task: Pick<Task, 'repo'>,
  options: Pick<RagScope, 'limit' | 'minSimilarity'> & { scope?: string | null } = {},
): (query: string) => Promise<string[]> {
  const repo = options.scope ?? task.repo;
  return async (query) => {
    if (!memory || !repo) return [];
    try {
      const hits = await memory.recall({
        query,
        repo,
        limit: options.limit ?? DEFAULT_LIMIT,
        minSimilarity: options.minSimilarity ?? DEFAULT_FLOOR,
      });
      return hits.map(formatMemory);
    } catch {
      // Planning without memories beats failing the task.
      return [];
    }
  };
}

export function formatMemory(m: RecalledMemory): string {
  const when = m.createdAt.toISOString().slice(0, 10);
  return fenceUntrusted(`memory: ${m.kind} from ${when}, similarity ${m.similarity.toFixed(2)}`, m.content);
}
