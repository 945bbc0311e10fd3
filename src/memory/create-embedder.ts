import { type Config, hasLlm } from '../config/config.js';
import type { Embedder } from './embedder.js';
import { HashingEmbedder } from './hashing-embedder.js';
import { OpenAiEmbedder } from './openai-embedder.js';

export type EmbedderConfig = Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'DEVBOT_EMBEDDING_MODEL'>;

/**
 * Picks the embeddings provider: the OpenAI-compatible endpoint (OPENAI_BASE_URL/OPENAI_API_KEY)
 * with DEVBOT_EMBEDDING_MODEL when both are set; otherwise the local hashing embedder, which needs
 * no model and no network. Chat models do not imply an embedding model (an Ollama or vLLM server
 * serves whatever it was started with), so there is no guessed default.
 */
export function createEmbedder(config: EmbedderConfig): Embedder {
  const model = config.DEVBOT_EMBEDDING_MODEL;
  if (!model || model === 'local' || !hasLlm(config)) return new HashingEmbedder();
  return new OpenAiEmbedder({
    model,
    ...(config.OPENAI_API_KEY ? { apiKey: config.OPENAI_API_KEY } : {}),
    ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
  });
}

/** Why the configured embedding model is not used, or null when it is. */
export function embedderConfigProblem(config: EmbedderConfig): string | null {
  const model = config.DEVBOT_EMBEDDING_MODEL;
  if (model && model !== 'local' && !hasLlm(config))
    return `DEVBOT_EMBEDDING_MODEL=${model} needs OPENAI_BASE_URL or OPENAI_API_KEY; using the local hashing embedder`;
  return null;
}
