/**
 * The memory module (issue 7): opens the memory store when the database has pgvector, saves what
 * each finished task taught (a TaskReporter), serves GET /memories and re-embeds old memories after
 * a model change. Its `memory` port feeds the crew (agents/tools/rag.ts: planner recall and tools). Without pgvector it
 * logs a warning and stays out of the way: tasks never fail because memory is unavailable.
 */
import {
  errorMessage,
  isTerminalEvent,
  type MemoryPort,
  type Task,
  type TaskEvent,
  type TaskReporter,
  UnavailableError,
} from '../../core/index.js';
import { createMemoriesRoutes } from '../../gateway/memories-route.js';
import type { Embedder } from '../../memory/embedder.js';
import { openMemory } from '../../memory/open-memory.js';
import { memoriesForTask, memoryScope } from '../../memory/task-memories.js';
import type { DevbotModule, Runtime } from '../runtime.js';

export interface MemoryModuleOptions {
  /** Overrides the embeddings provider chosen from config (tests, benchmarks). */
  embedder?: Embedder;
}

export interface MemoryModule extends DevbotModule {
  /** null when memory is unavailable (no pgvector); callers then work without memory. */
  readonly memory: MemoryPort | null;
  /** Resolves when every memory save started so far has finished (tests, shutdown). */
  idle(): Promise<void>;
}

export async function createMemoryModule(
  runtime: Runtime,
  options: MemoryModuleOptions = {},
): Promise<MemoryModule> {
  const log = runtime.logger.child({ component: 'memory' });
  let opened: Awaited<ReturnType<typeof openMemory>> | null = null;
  let unavailableReason = '';
  try {
    opened = await openMemory({
      sql: runtime.sql,
      config: runtime.config,
      logger: log,
      redact: (text) => runtime.secrets.redact(text),
      ...(options.embedder ? { embedder: options.embedder } : {}),
    });
  } catch (err) {
    if (!(err instanceof UnavailableError)) throw err;
    unavailableReason = err.message;
    log.warn({ reason: err.message }, `memory is disabled: ${err.message}`);
  }
  const memory = opened?.service ?? null;
  const pending = new Set<Promise<void>>();

  const save = async (task: Task, event: TaskEvent) => {
    if (!memory) return;
    const fresh = (await runtime.store.getTask(task.id)) ?? task;
    const status = event.type.slice('task.'.length);
    const ended = fresh.status === status ? fresh : { ...fresh, status: status as Task['status'] };
    const events = await runtime.store.listEvents(task.id);
    for (const input of memoriesForTask(ended, events)) {
      try {
        await memory.remember(input);
      } catch (err) {
        runtime.metrics.errorsTotal.inc({ component: 'memory' });
        log.warn({ taskId: task.id, kind: input.kind, err: errorMessage(err) }, 'memory: could not save');
      }
    }
  };

  const reporter: TaskReporter = {
    name: 'memory',
    accepts: (task) => memory !== null && memoryScope(task) !== null,
    // Saving runs beside the task's other reporters instead of before them: embedding may call a
    // remote model, and a chat's final message must not wait for it.
    async onEvent(task, event) {
      if (!isTerminalEvent(event) || event.type === 'task.cancelled') return;
      const job = save(task, event).catch((err) =>
        log.warn({ taskId: task.id, err: errorMessage(err) }, 'memory: save failed'),
      );
      pending.add(job);
      void job.finally(() => pending.delete(job));
    },
  };

  const runsWorker = runtime.role === 'all' || runtime.role === 'worker';
  let stopped = false;

  return {
    name: 'memory',
    memory,
    ...(memory ? { reporters: [reporter] } : {}),
    // Mounted either way, so GET /memories says why memory is off instead of 404.
    apiRoutes: [{ path: '/memories', app: createMemoriesRoutes({ memory, unavailableReason }) }],
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async start() {
      // Only workers re-embed, so a gateway and a worker do not both rewrite the same rows.
      if (opened && runsWorker && !stopped) void opened.reEmbedder.start();
    },
    async stop() {
      stopped = true;
      await opened?.reEmbedder.stop();
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
