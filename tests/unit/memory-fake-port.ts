import type {
  ForgetFilter,
  Memory,
  MemoryListFilter,
  MemoryPort,
  RecalledMemory,
  RecallQuery,
  RememberInput,
} from '../../src/core/index.js';

/**
 * An in-memory MemoryPort for unit tests of the port's consumers (CLI, HTTP route, agent tools):
 * "similarity" is the share of query words found in the content, which is enough to order results.
 */
export class FakeMemoryPort implements MemoryPort {
  readonly rows: Memory[] = [];
  readonly recalls: RecallQuery[] = [];
  #n = 0;

  async remember(input: RememberInput): Promise<Memory | null> {
    this.#n += 1;
    const m: Memory = {
      id: `00000000-0000-4000-8000-${String(this.#n).padStart(12, '0')}`,
      repo: input.repo,
      kind: input.kind,
      content: input.content,
      metadata: input.metadata ?? {},
      taskId: input.taskId ?? null,
      embeddingModel: 'fake',
      embeddingDim: 1,
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, this.#n)),
    };
    this.rows.push(m);
    return m;
  }

  async recall(query: RecallQuery): Promise<RecalledMemory[]> {
    this.recalls.push(query);
    const words = query.query.toLowerCase().split(/\W+/).filter(Boolean);
    return this.rows
      .filter(
        (m) =>
          (query.repo === undefined || m.repo === query.repo) &&
          (!query.kinds || query.kinds.includes(m.kind)),
      )
      .map((m) => ({
        ...m,
        similarity:
          words.filter((w) => m.content.toLowerCase().includes(w)).length / Math.max(1, words.length),
      }))
      .filter((m) => m.similarity >= (query.minSimilarity ?? 0.2))
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, query.limit ?? 5);
  }

  async list(filter: MemoryListFilter = {}): Promise<Memory[]> {
    return this.rows
      .filter((m) => (!filter.repo || m.repo === filter.repo) && (!filter.kind || m.kind === filter.kind))
      .reverse()
      .slice(0, filter.limit ?? 50);
  }

  async forget(filter: ForgetFilter): Promise<number> {
    const before = this.rows.length;
    const keep = this.rows.filter(
      (m) =>
        !(
          (filter.id === undefined || m.id === filter.id) &&
          (filter.repo === undefined || m.repo === filter.repo) &&
          (filter.taskId === undefined || m.taskId === filter.taskId) &&
          (filter.kind === undefined || m.kind === filter.kind)
        ),
    );
    this.rows.splice(0, this.rows.length, ...keep);
    return before - keep.length;
  }
}
