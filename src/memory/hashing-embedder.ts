import { type Embedder, normalize } from './embedder.js';

export const HASHING_DIMENSIONS = 384;
/** Bump the version when the features change: old vectors are then re-embedded in the background. */
export const HASHING_MODEL = `devbot-hash-${HASHING_DIMENSIONS}-v1`;

/**
 * Embeddings that need no model and no network: feature hashing of words, word bigrams and
 * character trigrams into a fixed number of buckets, each feature with a hashed sign (so
 * collisions cancel out on average), square-root term frequency, L2-normalised. It captures lexical
 * overlap (file names, commands, identifiers), which is most of what repository memories share.
 */
export class HashingEmbedder implements Embedder {
  readonly model = HASHING_MODEL;
  readonly dimensions = HASHING_DIMENSIONS;

  async embed(texts: readonly string[]): Promise<number[][]> {
    return texts.map((text) => embedText(text));
  }
}

export function embedText(text: string, dims: number = HASHING_DIMENSIONS): number[] {
  const counts = new Map<string, number>();
  const add = (feature: string, weight: number) => counts.set(feature, (counts.get(feature) ?? 0) + weight);
  const words = tokenize(text);
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    add(`w:${word}`, 1);
    const next = words[i + 1];
    if (next !== undefined) add(`b:${word} ${next}`, 0.5);
    // Trigrams of the padded word let `test`, `tests` and `testing` share features.
    const padded = `^${word}$`;
    for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`, 0.25);
  }
  const vector = new Array<number>(dims).fill(0);
  for (const [feature, weight] of counts) {
    const h = fnv1a(feature);
    const bucket = h % dims;
    const sign = (h >>> 31) & 1 ? -1 : 1;
    vector[bucket] = (vector[bucket] ?? 0) + sign * Math.sqrt(weight);
  }
  return normalize(vector);
}

/** Lower-cased words; paths and identifiers split on punctuation and camelCase. */
export function tokenize(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0 && w.length <= 64);
}

/** 32-bit FNV-1a over UTF-16 code units: fast, stable across runs and processes. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
