/**
 * The memory port (DESIGN.md §3, issue 7): what devbot remembers about a repository between tasks.
 * Agents remember and recall through it; src/memory implements it over pgvector.
 */

/**
 * What a memory is about. `task`: summary, plan, files and checks of a finished task; `commands`:
 * the commands that verified a change; `review`: what a reviewer asked for; `lesson`: what went
 * wrong in a failed task; `chat`: a conversation turn; `note`: anything an agent chose to remember.
 */
export const MEMORY_KINDS = ['task', 'commands', 'review', 'lesson', 'chat', 'note'] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];

export function isMemoryKind(value: string): value is MemoryKind {
  return (MEMORY_KINDS as readonly string[]).includes(value);
}

export interface Memory {
  id: string;
  /** `owner/name`, or a chat scope (`chat:<id>`) for conversations bound to no repository. */
  repo: string;
  kind: MemoryKind;
  content: string;
  metadata: Record<string, unknown>;
  taskId: string | null;
  /** The embedding model the stored vector came from (null while it has none). */
  embeddingModel: string | null;
  embeddingDim: number | null;
  createdAt: Date;
}

export interface RecalledMemory extends Memory {
  /** Cosine similarity to the query, 1 = same direction. */
  similarity: number;
}

export interface RememberInput {
  repo: string;
  kind: MemoryKind;
  content: string;
  metadata?: Record<string, unknown>;
  taskId?: string | null;
  /** Saving twice with the same key stores one memory (reporters may see an event twice). */
  dedupeKey?: string;
}

export interface RecallQuery {
  query: string;
  repo?: string;
  kinds?: readonly MemoryKind[];
  /** Top k; default 5. */
  limit?: number;
  /** Memories less similar than this are left out; default 0.2. */
  minSimilarity?: number;
}

export interface MemoryListFilter {
  repo?: string;
  kind?: MemoryKind;
  taskId?: string;
  limit?: number;
}

/** At least one field must be set: forgetting everything by accident is not possible. */
export interface ForgetFilter {
  id?: string;
  repo?: string;
  taskId?: string;
  kind?: MemoryKind;
}

export interface MemoryPort {
  /** Stores a memory; returns null when the dedupe key was already used. */
  remember(input: RememberInput): Promise<Memory | null>;
  recall(query: RecallQuery): Promise<RecalledMemory[]>;
  list(filter?: MemoryListFilter): Promise<Memory[]>;
  /** Deletes matching memories; returns how many. */
  forget(filter: ForgetFilter): Promise<number>;
}
