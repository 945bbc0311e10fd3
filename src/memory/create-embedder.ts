import { type Config, hasLlm } from '../config/config.js';
import type { Embedder } from './embedder.js';
import { HashingEmbedder } from './hashing-embedder.js';
import { OpenAiEmbedder } from './openai-embedder.js';

/** The embedding model used when an LLM is configured and DEVBOT_EMBEDDING_MODEL is not set. */
export const DEFAULT_OPENAI_EMBEDDING_MODEL = 'text-embedding-3-small';

/**
 * Picks the embeddings provider: `DEVBOT_EMBEDDING_MODEL=local` or no LLM configured -> the local
 * hashing embedder; otherwise the OpenAI-compatible endpoint with DEVBOT_EMBEDDING_MODEL.
 */
export function createEmbedder(
  config: Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'DEVBOT_EMBEDDING_MODEL'>,
): Embedder {
  if (config.DEVBOT_EMBEDDING_MODEL === 'local' || !hasLlm(config)) return new HashingEmbedder();
  return new OpenAiEmbedder({
    model: config.DEVBOT_EMBEDDING_MODEL ?? DEFAULT_OPENAI_EMBEDDING_MODEL,
    ...(config.OPENAI_API_KEY ? { apiKey: config.OPENAI_API_KEY } : {}),
    ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
  });
}
