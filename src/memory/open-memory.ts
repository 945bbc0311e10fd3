import type { Config } from '../config/config.js';
import type { SqlClient } from '../core/sql-client.js';
import type { Logger } from '../observability/logger.js';
import { createEmbedder, embedderConfigProblem } from './create-embedder.js';
import type { Embedder } from './embedder.js';
import { MemoryService } from './memory-service.js';
import { MemoryStore } from './memory-store.js';
import { ReEmbedder } from './re-embedder.js';
import { ensureVectorSchema } from './vector-schema.js';

export interface OpenMemoryOptions {
  sql: SqlClient;
  config: Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'DEVBOT_EMBEDDING_MODEL'>;
  logger?: Logger;
  redact?: (text: string) => string;
  /** Overrides the provider chosen from config (tests). */
  embedder?: Embedder;
}

export interface OpenedMemory {
  service: MemoryService;
  store: MemoryStore;
  embedder: Embedder;
  reEmbedder: ReEmbedder;
}

/**
 * Makes memory usable on this database: pgvector and the embedding column (throws
 * UnavailableError with what to do when the server lacks pgvector), then the store, the embedder
 * and the background re-embedder.
 */
export async function openMemory(options: OpenMemoryOptions): Promise<OpenedMemory> {
  await ensureVectorSchema(options.sql);
  const store = new MemoryStore(options.sql);
  const problem = options.embedder ? null : embedderConfigProblem(options.config);
  if (problem) options.logger?.warn(`memory: ${problem}`);
  const embedder = options.embedder ?? createEmbedder(options.config);
  const service = new MemoryService({
    store,
    embedder,
    ...(options.redact ? { redact: options.redact } : {}),
  });
  const reEmbedder = new ReEmbedder({
    store,
    embedder,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return { service, store, embedder, reEmbedder };
}
