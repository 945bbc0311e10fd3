/**
 * The embeddings port: text in, one vector per text out. Providers: the local hashing embedder
 * (no model, no network) and any OpenAI-compatible `/v1/embeddings` server.
 */
export interface Embedder {
  /** Stored with every vector; a different model means vectors that must not be compared. */
  readonly model: string;
  /** Vector length when known up front (the hashing embedder); null until the first call. */
  readonly dimensions: number | null;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<number[][]>;
}

/** Scales a vector to unit length in place, so cosine similarity is a dot product. */
export function normalize(vector: number[]): number[] {
  let sum = 0;
  for (const x of vector) sum += x * x;
  if (sum === 0) return vector;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] ?? 0) * scale;
  return vector;
}
