import type { Logger } from '../observability/logger.js';
import type { Embedder } from './embedder.js';
import type { MemoryStore } from './memory-store.js';

export interface ReEmbedderOptions {
  store: MemoryStore;
  embedder: Embedder;
  logger?: Logger;
  batchSize?: number;
}

/**
 * After the embedding model changes, old vectors cannot be compared with new ones: search only
 * sees memories of the current model, and this re-embeds the others in the background, batch by
 * batch, oldest first, until none is left. Stops on the first failing batch (the next start
 * resumes) and on stop().
 */
export class ReEmbedder {
  readonly #store: MemoryStore;
  readonly #embedder: Embedder;
  readonly #logger: Logger | undefined;
  readonly #batchSize: number;
  #abort: AbortController | null = null;
  #running: Promise<number> | null = null;

  constructor(options: ReEmbedderOptions) {
    this.#store = options.store;
    this.#embedder = options.embedder;
    this.#logger = options.logger;
    this.#batchSize = options.batchSize ?? 32;
  }

  /** Starts re-embedding in the background; the promise of the run is kept for stop()/tests. */
  start(): Promise<number> {
    if (this.#running) return this.#running;
    this.#abort = new AbortController();
    const signal = this.#abort.signal;
    this.#running = this.run(signal).catch((err: unknown) => {
      if (!signal.aborted)
        this.#logger?.warn({ err }, 'memory: re-embedding stopped; it resumes at the next start');
      return 0;
    });
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#running;
    this.#running = null;
    this.#abort = null;
  }

  /** Re-embeds every stale memory; returns how many were updated. */
  async run(signal?: AbortSignal): Promise<number> {
    const model = this.#embedder.model;
    let updated = 0;
    for (;;) {
      if (signal?.aborted) break;
      const batch = await this.#store.stale(model, this.#batchSize);
      if (batch.length === 0) break;
      const vectors = await this.#embedder.embed(
        batch.map((m) => m.content),
        signal,
      );
      let changed = 0;
      for (const [i, memory] of batch.entries()) {
        const vector = vectors[i];
        if (!vector || signal?.aborted) continue;
        if (await this.#store.replaceEmbedding(memory.id, memory.embeddingModel, vector, model)) changed++;
      }
      updated += changed;
      // Nothing changed: another process rewrote these rows with its own model; do not spin.
      if (changed === 0) break;
    }
    if (updated > 0)
      this.#logger?.info({ updated, model }, 'memory: re-embedded memories with the current model');
    return updated;
  }
}
