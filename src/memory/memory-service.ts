import { BadInputError } from '../core/errors.js';
import {
  type ForgetFilter,
  isMemoryKind,
  type Memory,
  type MemoryListFilter,
  type MemoryPort,
  type RecalledMemory,
  type RecallQuery,
  type RememberInput,
} from '../core/memory.js';
import type { Embedder } from './embedder.js';
import type { MemoryStore } from './memory-store.js';
import { scrubSecrets } from './scrub-secrets.js';

export interface MemoryServiceOptions {
  store: MemoryStore;
  embedder: Embedder;
  /** Masks known secret values (runtime.secrets.redact); applied before anything is stored. */
  redact?: (text: string) => string;
  /** Longer contents are cut: a memory is a note, not a log. */
  maxContentChars?: number;
}

export const DEFAULT_RECALL_LIMIT = 5;
export const DEFAULT_MIN_SIMILARITY = 0.2;
const DEFAULT_MAX_CONTENT = 4_000;

/** The MemoryPort: scrubs secrets, embeds with the configured model, stores and searches. */
export class MemoryService implements MemoryPort {
  readonly #store: MemoryStore;
  readonly #embedder: Embedder;
  readonly #redact: (text: string) => string;
  readonly #maxContent: number;

  constructor(options: MemoryServiceOptions) {
    this.#store = options.store;
    this.#embedder = options.embedder;
    const redact = options.redact ?? ((t: string) => t);
    this.#redact = (text) => scrubSecrets(redact(text));
    this.#maxContent = options.maxContentChars ?? DEFAULT_MAX_CONTENT;
  }

  get embeddingModel(): string {
    return this.#embedder.model;
  }

  async remember(input: RememberInput): Promise<Memory | null> {
    if (!isMemoryKind(input.kind)) throw new BadInputError(`unknown memory kind: ${String(input.kind)}`);
    if (!input.repo.trim()) throw new BadInputError('a memory needs a repository (or chat scope)');
    let content = this.#redact(input.content.trim());
    if (!content) throw new BadInputError('a memory needs content');
    if (content.length > this.#maxContent) content = `${content.slice(0, this.#maxContent)}…`;
    const metadata = redactValues(input.metadata ?? {}, this.#redact) as Record<string, unknown>;
    const [embedding] = await this.#embedder.embed([content]);
    if (!embedding) throw new BadInputError('the embedder returned no vector');
    return this.#store.insert({
      repo: input.repo,
      kind: input.kind,
      content,
      metadata,
      taskId: input.taskId ?? null,
      dedupeKey: input.dedupeKey ?? null,
      embedding,
      model: this.#embedder.model,
    });
  }

  async recall(query: RecallQuery): Promise<RecalledMemory[]> {
    const text = query.query.trim();
    if (!text) return [];
    for (const kind of query.kinds ?? [])
      if (!isMemoryKind(kind)) throw new BadInputError(`unknown memory kind: ${String(kind)}`);
    const [embedding] = await this.#embedder.embed([text]);
    if (!embedding) return [];
    return this.#store.search({
      embedding,
      model: this.#embedder.model,
      ...(query.repo !== undefined ? { repo: query.repo } : {}),
      ...(query.kinds !== undefined ? { kinds: query.kinds } : {}),
      limit: query.limit ?? DEFAULT_RECALL_LIMIT,
      minSimilarity: query.minSimilarity ?? DEFAULT_MIN_SIMILARITY,
    });
  }

  list(filter?: MemoryListFilter): Promise<Memory[]> {
    return this.#store.list(filter);
  }

  forget(filter: ForgetFilter): Promise<number> {
    return this.#store.forget(filter);
  }
}

/** Applies `redact` to every string inside a JSON-like value (keys included), keeping its shape. */
function redactValues(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactValues(v, redact));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [redact(k), redactValues(v, redact)]),
    );
  return value;
}
