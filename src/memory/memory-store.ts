import { BadInputError } from '../core/errors.js';
import type { ForgetFilter, Memory, MemoryKind, MemoryListFilter, RecalledMemory } from '../core/memory.js';
import type { SqlClient } from '../core/sql-client.js';
import {
  assertModelName,
  embeddingExpression,
  ensureModelIndex,
  queryCast,
  sqlLiteral,
} from './vector-schema.js';

export interface StoredMemoryInput {
  repo: string;
  kind: MemoryKind;
  content: string;
  metadata: Record<string, unknown>;
  taskId: string | null;
  dedupeKey: string | null;
  embedding: readonly number[];
  model: string;
}

export interface VectorSearch {
  embedding: readonly number[];
  model: string;
  repo?: string;
  kinds?: readonly MemoryKind[];
  limit: number;
  minSimilarity: number;
  /** HNSW candidate list size; larger is slower and more exact. */
  efSearch?: number;
  /**
   * true: scan every candidate (ground truth for the benchmark); false: always the HNSW index;
   * unset: exact when the repository has few memories, else HNSW.
   */
  exact?: boolean;
}

export interface StaleMemory {
  id: string;
  content: string;
  embeddingModel: string | null;
}

const COLUMNS = 'id, repo, kind, content, metadata, task_id, embedding_model, embedding_dim, created_at';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_LIST = 1000;
/** Searches run when nothing else waits for the embedded database (QueryOptions.background). */
const BACKGROUND = { background: true } as const;
export const DEFAULT_EF_SEARCH = 100;

interface MemoryRow {
  id: string;
  repo: string;
  kind: string;
  content: string;
  metadata: Record<string, unknown> | string | null;
  task_id: string | null;
  embedding_model: string | null;
  embedding_dim: number | null;
  created_at: Date | string;
  distance?: number;
}

/** The memories table over SqlClient: the same SQL on PostgreSQL (pgvector) and PGlite. */
export class MemoryStore {
  readonly #sql: SqlClient;
  /** (model, dim) pairs whose HNSW index this process has already ensured. */
  readonly #indexed = new Set<string>();
  /** The hnsw.ef_search this PGlite session was last set to. */
  #sessionEf: number | null = null;
  /** Whether pgvector >= 0.8 (iterative index scans); older servers reject the setting. */
  #iterative: Promise<boolean> | null = null;

  constructor(sql: SqlClient) {
    this.#sql = sql;
  }

  async insert(input: StoredMemoryInput): Promise<Memory | null> {
    const dim = input.embedding.length;
    await this.ensureIndex(input.model, dim);
    if (input.taskId !== null) assertUuid(input.taskId, 'task id');
    const res = await this.#sql.query<MemoryRow>(
      `INSERT INTO memories (repo, kind, content, metadata, task_id, dedupe_key, embedding, embedding_model, embedding_dim)
       VALUES ($1, $2, $3, $4, $5, $6, $7::vector, $8, $9)
       ON CONFLICT (dedupe_key) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        input.repo,
        input.kind,
        input.content,
        JSON.stringify(input.metadata),
        input.taskId,
        input.dedupeKey,
        toVectorLiteral(input.embedding),
        input.model,
        dim,
      ],
    );
    const row = res.rows[0];
    return row ? toMemory(row) : null;
  }

  async ensureIndex(model: string, dim: number): Promise<void> {
    const key = `${model}:${dim}`;
    if (this.#indexed.has(key)) return;
    await ensureModelIndex(this.#sql, model, dim);
    this.#indexed.add(key);
  }

  /**
   * Top-k by cosine similarity among memories embedded by `model` only. Iterative index scans
   * keep filling k when a repo/kind filter rejects many neighbours; the outer query restores strict
   * order (relaxed scans may be slightly out of order) and applies the similarity floor.
   */
  async search(search: VectorSearch): Promise<RecalledMemory[]> {
    const exact = search.exact ?? (search.repo !== undefined && (await this.#fewCandidates(search)));
    const { statement, params } = buildSearchStatement(search, exact);
    const ef = Math.min(
      Math.max(Math.trunc(search.efSearch ?? DEFAULT_EF_SEARCH), clampLimit(search.limit)),
      1000,
    );
    let rows: MemoryRow[];
    // A search waits for the task writes queued beside it on the embedded database (BACKGROUND).
    if (exact) rows = (await this.#sql.query<MemoryRow>(statement, params, BACKGROUND)).rows;
    else if (this.#sql.dialect === 'pglite') {
      // PGlite is one session: set the HNSW knobs once instead of a transaction per search,
      // which costs several round trips through the WASM boundary.
      if (this.#sessionEf !== ef) {
        const iterative = (await this.#iterativeScans()) ? '; SET hnsw.iterative_scan = relaxed_order' : '';
        await this.#sql.exec(`SET hnsw.ef_search = ${ef}${iterative}`);
        this.#sessionEf = ef;
      }
      rows = (await this.#sql.query<MemoryRow>(statement, params, BACKGROUND)).rows;
    } else {
      const iterative = await this.#iterativeScans();
      rows = await this.#sql.transaction(async (tx) => {
        await tx.query(`SET LOCAL hnsw.ef_search = ${ef}`);
        if (iterative) await tx.query('SET LOCAL hnsw.iterative_scan = relaxed_order');
        return (await tx.query<MemoryRow>(statement, params)).rows;
      });
    }
    return rows.map((row) => ({ ...toMemory(row), similarity: 1 - Number(row.distance ?? 1) }));
  }

  /**
   * Whether the filter leaves fewer than EXACT_SEARCH_BELOW candidates. Counting stops there, so
   * the probe costs the same for a huge repository as for a mid-sized one.
   */
  async #fewCandidates(search: VectorSearch): Promise<boolean> {
    const { where, params } = candidateFilter(search, 1);
    const res = await this.#sql.query<{ n: number | string }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM memories WHERE ${where.join(' AND ')} LIMIT ${EXACT_SEARCH_BELOW}) c`,
      params,
      BACKGROUND,
    );
    return Number(res.rows[0]?.n ?? 0) < EXACT_SEARCH_BELOW;
  }

  #iterativeScans(): Promise<boolean> {
    this.#iterative ??= this.#sql
      .query<{ v: string }>("SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'")
      .then((res) => {
        const [major = 0, minor = 0] = (res.rows[0]?.v ?? '0.0').split('.').map(Number);
        return major > 0 || minor >= 8;
      });
    return this.#iterative;
  }

  async list(filter: MemoryListFilter = {}): Promise<Memory[]> {
    const { where, params } = whereClause(filter);
    params.push(clampLimit(filter.limit ?? 50));
    const res = await this.#sql.query<MemoryRow>(
      `SELECT ${COLUMNS} FROM memories ${where} ORDER BY created_at DESC, seq DESC LIMIT $${params.length}`,
      params,
    );
    return res.rows.map(toMemory);
  }

  async forget(filter: ForgetFilter): Promise<number> {
    const { where, params } = whereClause(filter);
    if (params.length === 0) throw new BadInputError('forget needs an id, a repo, a task id or a kind');
    const res = await this.#sql.query(`DELETE FROM memories ${where}`, params);
    return res.rowCount;
  }

  async count(filter: MemoryListFilter = {}): Promise<number> {
    const { where, params } = whereClause(filter);
    const res = await this.#sql.query<{ n: number | string }>(
      `SELECT count(*)::int AS n FROM memories ${where}`,
      params,
    );
    return Number(res.rows[0]?.n ?? 0);
  }

  /** Memories whose vector came from another model (or that have none), oldest first. */
  async stale(model: string, limit: number): Promise<StaleMemory[]> {
    const res = await this.#sql.query<{ id: string; content: string; embedding_model: string | null }>(
      `SELECT id, content, embedding_model FROM memories
       WHERE embedding_model IS DISTINCT FROM $1 OR embedding IS NULL
       ORDER BY created_at LIMIT $2`,
      [model, limit],
    );
    return res.rows.map((r) => ({ id: r.id, content: r.content, embeddingModel: r.embedding_model }));
  }

  /**
   * Replaces one memory's vector. Guarded on the model it was read with, so a concurrent
   * re-embedder (another process) or a forget in between is harmless.
   */
  async replaceEmbedding(
    id: string,
    fromModel: string | null,
    embedding: readonly number[],
    model: string,
  ): Promise<boolean> {
    await this.ensureIndex(model, embedding.length);
    const res = await this.#sql.query(
      `UPDATE memories SET embedding = $2::vector, embedding_model = $3, embedding_dim = $4
       WHERE id = $1 AND embedding_model IS NOT DISTINCT FROM $5`,
      [id, toVectorLiteral(embedding), model, embedding.length, fromModel],
    );
    return res.rowCount > 0;
  }
}

/**
 * A repository's own memories are searched exactly below this many: scanning a couple of thousand
 * vectors is as fast as a filtered HNSW walk, and exact (the benchmark's 2%-repository case showed
 * the filtered walk missing neighbours at 100k memories).
 */
export const EXACT_SEARCH_BELOW = 2500;

/** The candidate filter: one model and dimension, optionally a repository and kinds. */
function candidateFilter(search: VectorSearch, firstParam: number): { where: string[]; params: unknown[] } {
  assertModelName(search.model);
  const dim = search.embedding.length;
  const params: unknown[] = [];
  const where = [`embedding_model = ${sqlLiteral(search.model)}`, `embedding_dim = ${dim}`];
  if (search.repo !== undefined) {
    params.push(search.repo);
    where.push(`repo = $${firstParam + params.length - 1}`);
  }
  if (search.kinds !== undefined && search.kinds.length > 0) {
    params.push([...search.kinds]);
    where.push(`kind = ANY($${firstParam + params.length - 1}::text[])`);
  }
  return { where, params };
}

/**
 * Top-k by cosine distance among memories embedded by one model. The model and dimension are
 * inlined (checked) rather than bound, so the planner can match the partial HNSW index's predicate
 * even under a generic plan. `exact` orders by an expression the index cannot serve (`+ 0`), so
 * the planner scans the candidates instead; no session setting is needed for that.
 */
export function buildSearchStatement(
  search: VectorSearch,
  exact = false,
): { statement: string; params: unknown[] } {
  const dim = search.embedding.length;
  const filter = candidateFilter(search, 2);
  const params: unknown[] = [toVectorLiteral(search.embedding), ...filter.params];
  params.push(clampLimit(search.limit));
  const limitParam = `$${params.length}`;
  params.push(1 - search.minSimilarity);
  const distance = `${embeddingExpression(dim)} <=> $1${queryCast(dim)}`;
  const statement = `SELECT * FROM (
      SELECT ${COLUMNS}, ${exact ? `(${distance}) + 0` : distance} AS distance
      FROM memories WHERE ${filter.where.join(' AND ')}
      ORDER BY distance LIMIT ${limitParam}
    ) nearest WHERE distance <= $${params.length} ORDER BY distance`;
  return { statement, params };
}

function whereClause(filter: MemoryListFilter & ForgetFilter): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const parts: string[] = [];
  const add = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    params.push(value);
    parts.push(`${column} = $${params.length}`);
  };
  if (filter.id !== undefined) assertUuid(filter.id, 'memory id');
  if (filter.taskId !== undefined) assertUuid(filter.taskId, 'task id');
  add('id', filter.id);
  add('repo', filter.repo);
  add('kind', filter.kind);
  add('task_id', filter.taskId);
  return { where: parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '', params };
}

function assertUuid(value: string, what: string): void {
  if (!UUID.test(value)) throw new BadInputError(`${what} must be a UUID: ${value}`);
}

function clampLimit(limit: number): number {
  if (!Number.isFinite(limit)) return 10;
  return Math.min(Math.max(Math.trunc(limit), 1), MAX_LIST);
}

export function toVectorLiteral(vector: readonly number[]): string {
  for (const x of vector)
    if (!Number.isFinite(x)) throw new BadInputError('an embedding contains a non-finite number');
  return `[${vector.join(',')}]`;
}

function toMemory(row: MemoryRow): Memory {
  const metadata = typeof row.metadata === 'string' ? JSON.parse(row.metadata) : (row.metadata ?? {});
  return {
    id: row.id,
    repo: row.repo,
    kind: row.kind as MemoryKind,
    content: row.content,
    metadata: metadata as Record<string, unknown>,
    taskId: row.task_id,
    embeddingModel: row.embedding_model,
    embeddingDim: row.embedding_dim === null ? null : Number(row.embedding_dim),
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
  };
}
