import { Hono } from 'hono';
import { z } from 'zod';
import { MEMORY_KINDS, type Memory, type MemoryPort, type RecalledMemory } from '../core/memory.js';
import type { ApiEnv } from './api-env.js';
import { ApiError } from './api-error.js';

export interface MemoriesRoutesDeps {
  /** null when memory is disabled: every request gets 503 with `unavailableReason`. */
  memory: MemoryPort | null;
  unavailableReason?: string;
}

export const memoriesQuery = z.object({
  repo: z.string().trim().min(1).max(200).optional(),
  q: z.string().trim().min(1).max(2000).optional(),
  kind: z.enum(MEMORY_KINDS).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  minSimilarity: z.coerce.number().min(-1).max(1).optional(),
});

export const forgetMemoriesQuery = z
  .object({
    id: z.string().trim().min(1).max(200).optional(),
    repo: z.string().trim().min(1).max(200).optional(),
    kind: z.enum(MEMORY_KINDS).optional(),
    task: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .refine((f) => f.id !== undefined || f.repo !== undefined || f.task !== undefined, {
    message: 'give id, repo or task (forgetting everything at once is not possible)',
  });

/**
 * `GET /memories?repo=&q=&kind=&limit=`: with `q`, the memories most similar to it; without, the
 * newest. `DELETE /memories?id=|repo=[&kind=]|task=` forgets them (`{"forgotten": N}`). Mounted
 * at /memories behind the API's JWT check; memories span every repository and chat, so reading
 * or forgetting them needs an admin token on top. `devbot memory` uses these when a running
 * devbot holds the embedded database.
 */
export function createMemoriesRoutes(deps: MemoriesRoutesDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use('*', async (c, next) => {
    if (!c.get('claims')?.scopes.includes('admin'))
      throw new ApiError(403, 'forbidden', 'memories need an admin token (devbot token --admin)');
    await next();
  });
  app.delete('/', async (c) => {
    const parsed = forgetMemoriesQuery.safeParse(c.req.query());
    if (!parsed.success)
      return c.json(
        {
          error: 'invalid_query',
          message: parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '),
        },
        400,
      );
    if (!deps.memory)
      return c.json(
        { error: 'unavailable', message: `memory is disabled: ${deps.unavailableReason ?? 'see the logs'}` },
        503,
      );
    const { id, repo, kind, task } = parsed.data;
    const forgotten = await deps.memory.forget({
      ...(id ? { id } : {}),
      ...(repo ? { repo } : {}),
      ...(kind ? { kind } : {}),
      ...(task ? { taskId: task } : {}),
    });
    return c.json({ forgotten });
  });
  app.get('/', async (c) => {
    const parsed = memoriesQuery.safeParse(c.req.query());
    if (!parsed.success)
      return c.json(
        {
          error: 'invalid_query',
          message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        },
        400,
      );
    const { repo, q, kind, limit, minSimilarity } = parsed.data;
    if (!deps.memory)
      return c.json(
        { error: 'unavailable', message: `memory is disabled: ${deps.unavailableReason ?? 'see the logs'}` },
        503,
      );
    const memories = q
      ? await deps.memory.recall({
          query: q,
          limit,
          ...(repo ? { repo } : {}),
          ...(kind ? { kinds: [kind] } : {}),
          ...(minSimilarity !== undefined ? { minSimilarity } : {}),
        })
      : await deps.memory.list({ limit, ...(repo ? { repo } : {}), ...(kind ? { kind } : {}) });
    return c.json({ memories: memories.map(memoryJson) });
  });
  return app;
}

export function memoryJson(m: Memory | RecalledMemory): Record<string, unknown> {
  return {
    id: m.id,
    repo: m.repo,
    kind: m.kind,
    content: m.content,
    metadata: m.metadata,
    taskId: m.taskId,
    embeddingModel: m.embeddingModel,
    embeddingDim: m.embeddingDim,
    createdAt: m.createdAt.toISOString(),
    ...('similarity' in m ? { similarity: Math.round(m.similarity * 1000) / 1000 } : {}),
  };
}
