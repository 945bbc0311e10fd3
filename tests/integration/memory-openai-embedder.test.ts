import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/core/errors.js';
import { OpenAiEmbedder } from '../../src/memory/openai-embedder.js';
import { type ScriptedLlmServer, startScriptedLlm } from '../fakes/llm/scripted-llm-server.js';

describe('OpenAI-compatible embedder', () => {
  let llm: ScriptedLlmServer;
  beforeAll(async () => {
    llm = await startScriptedLlm({ embeddingDimensions: 64 });
  });
  afterAll(async () => llm?.close());

  it('embeds in batches with the configured model and learns the dimension', async () => {
    const embedder = new OpenAiEmbedder({ model: 'nomic-embed-text', baseURL: llm.baseUrl, batchSize: 2 });
    expect(embedder.dimensions).toBeNull();
    const vectors = await embedder.embed(['npm test', 'dark mode toggle', 'npm test']);
    expect(vectors).toHaveLength(3);
    expect(embedder.dimensions).toBe(64);
    for (const v of vectors) expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    expect(vectors[0]).toEqual(vectors[2]);
    expect(vectors[0]).not.toEqual(vectors[1]);
    expect(llm.embeddingRequests.map((r) => [r.model, r.input.length])).toEqual([
      ['nomic-embed-text', 2],
      ['nomic-embed-text', 1],
    ]);
  });

  it('fails with what to check when the endpoint is unreachable', async () => {
    const embedder = new OpenAiEmbedder({ model: 'm', baseURL: 'http://127.0.0.1:9/v1', timeoutMs: 2000 });
    const err = await embedder.embed(['x']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toMatch(/DEVBOT_EMBEDDING_MODEL=local/);
  });
});
