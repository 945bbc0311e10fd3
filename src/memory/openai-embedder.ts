import OpenAI from 'openai';
import { UnavailableError } from '../core/errors.js';
import { type Embedder, normalize } from './embedder.js';

export interface OpenAiEmbedderOptions {
  model: string;
  apiKey?: string;
  baseURL?: string;
  /** Texts per request. */
  batchSize?: number;
  timeoutMs?: number;
  /** Injected in tests; built from apiKey/baseURL otherwise. */
  client?: OpenAI;
}

/** Long texts are cut before embedding: embedding models have input limits (8k tokens for OpenAI). */
const MAX_INPUT_CHARS = 8_000;

/** Any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Ollama, vLLM, llama.cpp). */
export class OpenAiEmbedder implements Embedder {
  readonly model: string;
  #dimensions: number | null = null;
  readonly #client: OpenAI;
  readonly #batchSize: number;

  constructor(options: OpenAiEmbedderOptions) {
    this.model = options.model;
    this.#batchSize = options.batchSize ?? 64;
    this.#client =
      options.client ??
      new OpenAI({
        // Local servers (Ollama, llama.cpp) take any key; the SDK insists on one.
        apiKey: options.apiKey ?? 'unused',
        ...(options.baseURL ? { baseURL: options.baseURL } : {}),
        timeout: options.timeoutMs ?? 30_000,
        maxRetries: 2,
      });
  }

  get dimensions(): number | null {
    return this.#dimensions;
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += this.#batchSize) {
      const batch = texts.slice(i, i + this.#batchSize).map((t) => t.slice(0, MAX_INPUT_CHARS) || ' ');
      let res: OpenAI.CreateEmbeddingResponse;
      try {
        res = await this.#client.embeddings.create(
          { model: this.model, input: batch, encoding_format: 'float' },
          signal ? { signal } : {},
        );
      } catch (err) {
        throw new UnavailableError(
          `the embeddings endpoint failed for model ${this.model}: check OPENAI_BASE_URL and DEVBOT_EMBEDDING_MODEL (or set DEVBOT_EMBEDDING_MODEL=local)`,
          { cause: err },
        );
      }
      // The API may answer out of order; `index` says which input each vector belongs to.
      const sorted = [...res.data].sort((a, b) => a.index - b.index);
      if (sorted.length !== batch.length)
        throw new UnavailableError(
          `the embeddings endpoint returned ${sorted.length} vectors for ${batch.length} inputs`,
        );
      for (const item of sorted) {
        const vector = normalize([...item.embedding]);
        if (this.#dimensions === null) this.#dimensions = vector.length;
        else if (vector.length !== this.#dimensions)
          throw new UnavailableError(
            `model ${this.model} returned vectors of ${vector.length} dimensions after ${this.#dimensions}`,
          );
        out.push(vector);
      }
    }
    return out;
  }
}
