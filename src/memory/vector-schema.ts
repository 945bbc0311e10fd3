import { UnavailableError } from '../core/errors.js';
import type { SqlClient } from '../core/sql-client.js';
import { fnv1a } from './hashing-embedder.js';

export const MISSING_PGVECTOR_MESSAGE =
  'the PostgreSQL server lacks the pgvector extension: install pgvector (e.g. the pgvector/pgvector image) or unset DATABASE_URL to use embedded PGlite';

/** pgvector indexes `vector` up to 2000 dimensions and `halfvec` up to 4000. */
const MAX_VECTOR_INDEX_DIM = 2000;
const MAX_HALFVEC_INDEX_DIM = 4000;

/**
 * Adds what migration 004 leaves out because it needs pgvector: the extension and the untyped
 * `embedding vector` column (untyped so that models of different dimensions share one table; each
 * (model, dimension) gets its own partial HNSW index, see ensureModelIndex). Idempotent; run at
 * every start, so installing pgvector later enables memory without a new migration.
 */
export async function ensureVectorSchema(sql: SqlClient): Promise<void> {
  const table = await sql.query("SELECT to_regclass('memories') IS NOT NULL AS present");
  if (table.rows[0]?.present !== true)
    throw new UnavailableError(
      'the memories table is missing: run `devbot migrate` (migration 004_memories.sql)',
    );
  // Checked before changing anything: ALTER TABLE takes an exclusive lock even when it has
  // nothing to do, and every devbot process runs this at start.
  const state = await sql.query<{ installed: boolean; available: boolean; has_column: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') AS installed,
            EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS available,
            EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('memories')
                      AND attname = 'embedding' AND NOT attisdropped) AS has_column`,
  );
  const row = state.rows[0];
  const installed = row?.installed === true;
  const available = row?.available === true;
  if (!installed && !available) throw new UnavailableError(MISSING_PGVECTOR_MESSAGE);
  if (!installed) {
    try {
      await sql.exec('CREATE EXTENSION IF NOT EXISTS vector');
    } catch (err) {
      throw new UnavailableError(
        `could not enable the pgvector extension (CREATE EXTENSION vector needs a role that may create extensions): ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  if (row?.has_column !== true)
    await sql.exec('ALTER TABLE memories ADD COLUMN IF NOT EXISTS embedding vector');
}

/** The expression both the index and every search use, so the planner can match them. */
export function embeddingExpression(dim: number): string {
  assertDim(dim);
  return dim <= MAX_VECTOR_INDEX_DIM ? `(embedding::vector(${dim}))` : `(embedding::halfvec(${dim}))`;
}

/** The query parameter cast that goes with embeddingExpression. */
export function queryCast(dim: number): string {
  assertDim(dim);
  return dim <= MAX_VECTOR_INDEX_DIM ? `::vector(${dim})` : `::halfvec(${dim})`;
}

/** A SQL string literal; model names are checked first, this is the second line of defence. */
export function sqlLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

const MODEL_NAME = /^[\w.:/@+-]{1,200}$/;

export function assertModelName(model: string): void {
  if (!MODEL_NAME.test(model)) throw new UnavailableError(`unsupported embedding model name: ${model}`);
}

function assertDim(dim: number): void {
  if (!Number.isInteger(dim) || dim < 1 || dim > MAX_HALFVEC_INDEX_DIM)
    throw new UnavailableError(`unsupported embedding dimension ${dim} (pgvector indexes up to 4000)`);
}

export function modelIndexName(model: string, dim: number): string {
  return `memories_hnsw_${fnv1a(`${model}:${dim}`).toString(36)}_${dim}`;
}

/**
 * One partial HNSW index per (model, dimension): a search filters on both, so it walks a graph
 * of comparable vectors only. Creating an index that a concurrent process just created is fine.
 */
export async function ensureModelIndex(sql: SqlClient, model: string, dim: number): Promise<void> {
  assertModelName(model);
  const ops = dim <= MAX_VECTOR_INDEX_DIM ? 'vector_cosine_ops' : 'halfvec_cosine_ops';
  const statement = `CREATE INDEX IF NOT EXISTS ${modelIndexName(model, dim)} ON memories USING hnsw (${embeddingExpression(dim)} ${ops}) WHERE embedding_model = ${sqlLiteral(model)} AND embedding_dim = ${dim}`;
  try {
    await sql.exec(statement);
  } catch (err) {
    // 42P07 duplicate relation / 23505 unique violation on pg_class: another process won the race.
    const code = (err as { code?: string }).code;
    if (code !== '42P07' && code !== '23505') throw err;
  }
}
