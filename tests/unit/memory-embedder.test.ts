import { describe, expect, it } from 'vitest';
import { createEmbedder, embedderConfigProblem } from '../../src/memory/create-embedder.js';
import { embedText, HASHING_MODEL, HashingEmbedder, tokenize } from '../../src/memory/hashing-embedder.js';
import { OpenAiEmbedder } from '../../src/memory/openai-embedder.js';
import { scrubSecrets } from '../../src/memory/scrub-secrets.js';

const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);

describe('hashing embedder', () => {
  it('gives unit vectors of 384 dimensions, the same for the same text', async () => {
    const [a, b] = await new HashingEmbedder().embed(['npm test runs vitest', 'npm test runs vitest']);
    expect(a).toHaveLength(384);
    expect(Math.sqrt(dot(a ?? [], a ?? []))).toBeCloseTo(1, 6);
    expect(a).toEqual(b);
  });

  it('ranks texts sharing words above unrelated ones', () => {
    const query = embedText('how do I run the tests');
    const related = embedText('Run the tests with `npm test` (vitest); lint with npm run lint');
    const unrelated = embedText('The dark-mode toggle lives in src/theme/toggle.tsx');
    expect(dot(query, related)).toBeGreaterThan(dot(query, unrelated) + 0.1);
  });

  it('splits identifiers and paths into words', () => {
    expect(tokenize('src/themeToggle.tsx uses getUserName()')).toEqual([
      'src',
      'theme',
      'toggle',
      'tsx',
      'uses',
      'get',
      'user',
      'name',
    ]);
  });

  it('maps an empty text to a zero vector instead of NaN', () => {
    expect(embedText('').every((x) => x === 0)).toBe(true);
  });
});

describe('createEmbedder', () => {
  it('uses the local embedder without DEVBOT_EMBEDDING_MODEL, with =local, or without an LLM endpoint', () => {
    const llm = { OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' };
    expect(createEmbedder({}).model).toBe(HASHING_MODEL);
    expect(createEmbedder(llm).model).toBe(HASHING_MODEL);
    expect(createEmbedder({ ...llm, DEVBOT_EMBEDDING_MODEL: 'local' }).model).toBe(HASHING_MODEL);
    expect(createEmbedder({ DEVBOT_EMBEDDING_MODEL: 'nomic' }).model).toBe(HASHING_MODEL);
    expect(embedderConfigProblem({ DEVBOT_EMBEDDING_MODEL: 'nomic' })).toMatch(/needs OPENAI_BASE_URL/);
    expect(embedderConfigProblem({ ...llm, DEVBOT_EMBEDDING_MODEL: 'nomic' })).toBeNull();
  });

  it('uses the OpenAI-compatible endpoint when a model and an endpoint are configured', () => {
    const embedder = createEmbedder({
      OPENAI_BASE_URL: 'http://127.0.0.1:1/v1',
      DEVBOT_EMBEDDING_MODEL: 'nomic',
    });
    expect(embedder).toBeInstanceOf(OpenAiEmbedder);
    expect(embedder.model).toBe('nomic');
  });
});

describe('scrubSecrets', () => {
  it('masks well-known token shapes and URL credentials', () => {
    const text = [
      'token ghp_abcdefghijklmnopqrstuvwxyz0123456789',
      'key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx',
      'push https://x-access-token:v1.abcdef0123456789@github.com/o/r.git',
      'Authorization: Bearer abcdefghijklmnop1234',
      'bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw',
    ].join('\n');
    const out = scrubSecrets(text);
    expect(out).not.toMatch(/ghp_abc|sk-proj-AbC|v1\.abcdef|abcdefghijklmnop1234|AAHdqTcv/);
    expect(out).toContain('https://[redacted]@github.com/o/r.git');
  });

  it('leaves ordinary text alone', () => {
    const text = 'Ran npm test in src/app.ts: 12 passed (commit 3f2a9c1)';
    expect(scrubSecrets(text)).toBe(text);
  });
});
