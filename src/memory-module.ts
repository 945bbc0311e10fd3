/**
 * The memory module (issue 7): opens the memory store when the database has pgvector, saves what
 * each finished task taught (a TaskReporter), serves GET /memories and re-embeds old memories after
 * a model change. Its `memory` port feeds the crew (agents/tools/rag.ts: planner recall and tools). Without pgvector it
 * logs a warning and stays out of the way: tasks never fail because memory is unavailable.
 */
import { errorMessage, UnavailableError } from './core/errors.js';
import type { Task, TaskEvent, TaskReporter } from './core/index.js';
import type {
  ForgetFilter,
  Memory,
  MemoryListFilter,
  MemoryPort,
  RecalledMemory,
  RecallQuery,
  RememberInput,
} from './core/memory.js';
import { isTerminalEvent } from './core/task-event.js';
import { createMemoriesRoutes } from './gateway/memories-route.js';
import type { Embedder } from './memory/embedder.js';
import { openMemory } from './memory/open-memory.js';
import { memoriesForTask, memoryScope } from './memory/task-memories.js';
import type { DevbotModule, ModuleFactory, Runtime } from './runtime.js';

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

export interface MemoryWiring {
  /** Put this in the module list (before the modules that use `memory`). */
  factory: ModuleFactory;
  /**
   * A port that works before the module exists, so it can be handed to other modules' factories
   * (agentsModule({ memory })): until the module opened memory, and whenever memory is disabled,
   * recall and list find nothing, forget forgets nothing and remember fails with UnavailableError.
   */
  memory: MemoryPort;
  /** The module once the factory ran (null before). */
  module(): MemoryModule | null;
}

/** The memory module plus a late-bound port for the modules that consume it. */
export function memoryModule(options: MemoryModuleOptions = {}): MemoryWiring {
  let current: MemoryModule | null = null;
  const port = () => current?.memory ?? null;
  const memory: MemoryPort = {
    async remember(input: RememberInput): Promise<Memory | null> {
      const p = port();
      if (!p) throw new UnavailableError('memory is disabled (see the startup warning)');
      return p.remember(input);
    },
    async recall(query: RecallQuery): Promise<RecalledMemory[]> {
      return port()?.recall(query) ?? [];
    },
    async list(filter?: MemoryListFilter): Promise<Memory[]> {
      return port()?.list(filter) ?? [];
    },
    async forget(filter: ForgetFilter): Promise<number> {
      return port()?.forget(filter) ?? 0;
    },
  };
  return {
    factory: async (runtime) => {
      current = await createMemoryModule(runtime, options);
      return current;
    },
    memory,
    module: () => current,
  };
}
