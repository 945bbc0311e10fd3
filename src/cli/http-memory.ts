import type {
  ForgetFilter,
  Memory,
  MemoryListFilter,
  MemoryPort,
  RecalledMemory,
  RecallQuery,
} from '../core/memory.js';
import type { RunningDevbotApi } from './running-devbot.js';

type MemoryJson = Omit<RecalledMemory, 'createdAt' | 'similarity'> & {
  createdAt: string;
  similarity?: number;
};

/** The running devbot's `/memories` routes, for `devbot memory` while it holds the embedded database. */
export class HttpMemory implements Pick<MemoryPort, 'list' | 'recall' | 'forget'> {
  constructor(private readonly api: RunningDevbotApi) {}

  async list(filter: MemoryListFilter = {}): Promise<Memory[]> {
    return this.#get({
      ...(filter.limit !== undefined ? { limit: String(filter.limit) } : {}),
      ...(filter.repo ? { repo: filter.repo } : {}),
      ...(filter.kind ? { kind: filter.kind } : {}),
    });
  }

  async recall(query: RecallQuery): Promise<RecalledMemory[]> {
    const rows = await this.#get({
      q: query.query,
      ...(query.limit !== undefined ? { limit: String(query.limit) } : {}),
      ...(query.repo ? { repo: query.repo } : {}),
      ...(query.kinds?.[0] ? { kind: query.kinds[0] } : {}),
      ...(query.minSimilarity !== undefined ? { minSimilarity: String(query.minSimilarity) } : {}),
    });
    return rows.map((m) => ({ ...m, similarity: (m as Partial<RecalledMemory>).similarity ?? 0 }));
  }

  async forget(filter: ForgetFilter): Promise<number> {
    const params = new URLSearchParams({
      ...(filter.id ? { id: filter.id } : {}),
      ...(filter.repo ? { repo: filter.repo } : {}),
      ...(filter.kind ? { kind: filter.kind } : {}),
      ...(filter.taskId ? { task: filter.taskId } : {}),
    });
    const body = await this.api.call<{ forgotten: number }>('DELETE', `/memories?${params}`);
    return body.forgotten;
  }

  async #get(params: Record<string, string>): Promise<Memory[]> {
    const body = await this.api.call<{ memories: MemoryJson[] }>(
      'GET',
      `/memories?${new URLSearchParams(params)}`,
    );
    return body.memories.map((m) => ({ ...m, createdAt: new Date(m.createdAt) }));
  }
}
