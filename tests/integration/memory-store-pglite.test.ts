import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/core/errors.js';
import type { SqlClient } from '../../src/core/sql-client.js';
import type { Embedder } from '../../src/memory/embedder.js';
import { normalize } from '../../src/memory/embedder.js';
import { HASHING_MODEL, HashingEmbedder } from '../../src/memory/hashing-embedder.js';
import { MemoryService } from '../../src/memory/memory-service.js';
import { buildSearchStatement, MemoryStore } from '../../src/memory/memory-store.js';
import { ReEmbedder } from '../../src/memory/re-embedder.js';
import { ensureVectorSchema, modelIndexName } from '../../src/memory/vector-schema.js';
import { SecretRegistry } from '../../src/observability/redact.js';
import { createPgliteClient } from '../../src/store/pglite-client.js';

/** The memory migrations, applied on their own (this file needs no tasks tables). */
const MIGRATIONS = ['004_memories.sql', '005_memories_order.sql'].map(
  (f) => new URL(`../../src/store/migrations/${f}`, import.meta.url),
);
const TASK_A = '6f1c1a52-8a57-4c1b-9a59-0d0f6c3e5a01';
const TASK_B = '6f1c1a52-8a57-4c1b-9a59-0d0f6c3e5a02';

/** A different model with a different dimension: its vectors must never meet the hashing ones. */
class TinyEmbedder implements Embedder {
  readonly model = 'tiny-8';
  readonly dimensions = 8;
  calls = 0;
  async embed(texts: readonly string[]): Promise<number[][]> {
    this.calls++;
    return texts.map((t) => {
      const v = new Array<number>(8).fill(0.01);
      for (const [i, ch] of [...t.toLowerCase()].entries()) {
        const k = (ch.charCodeAt(0) + i) % 8;
        v[k] = (v[k] ?? 0) + 1;
      }
      return normalize(v);
    });
  }
}

let sql: SqlClient;
let store: MemoryStore;
let memory: MemoryService;
const secrets = new SecretRegistry();

beforeAll(async () => {
  sql = await createPgliteClient();
  for (const m of MIGRATIONS) await sql.exec(readFileSync(m, 'utf8'));
  await ensureVectorSchema(sql);
  await ensureVectorSchema(sql); // idempotent: runs at every start
  store = new MemoryStore(sql);
  secrets.add('s3cr3t-token-value-123');
  memory = new MemoryService({ store, embedder: new HashingEmbedder(), redact: (t) => secrets.redact(t) });
});

afterAll(async () => {
  await sql?.close();
});

describe('memory store on PGlite', () => {
  it('recalls the most relevant memory of the repository first', async () => {
    await memory.forget({ repo: 'acme/web' });
    await memory.remember({
      repo: 'acme/web',
      kind: 'commands',
      content: 'Verified with: npm test (vitest) and npm run lint',
      taskId: TASK_A,
    });
    await memory.remember({
      repo: 'acme/web',
      kind: 'task',
      content: 'Added a dark-mode toggle in src/theme/toggle.tsx; the theme is stored in localStorage',
      taskId: TASK_A,
      metadata: { files: ['src/theme/toggle.tsx'] },
    });
    await memory.remember({
      repo: 'acme/api',
      kind: 'commands',
      content: 'Verified with: npm test and npm run lint',
    });

    const hits = await memory.recall({ repo: 'acme/web', query: 'how are the tests run? npm test' });
    expect(hits[0]?.content).toContain('npm test (vitest)');
    expect(hits.every((h) => h.repo === 'acme/web')).toBe(true);
    expect(hits[0]?.similarity).toBeGreaterThan(0.2);
    expect(hits[0]?.embeddingModel).toBe(HASHING_MODEL);
    expect(hits[0]?.embeddingDim).toBe(384);

    const toggles = await memory.recall({ repo: 'acme/web', query: 'dark mode toggle', kinds: ['task'] });
    expect(toggles.map((h) => h.kind)).toEqual(['task']);
    expect(toggles[0]?.metadata).toEqual({ files: ['src/theme/toggle.tsx'] });
    expect(toggles[0]?.taskId).toBe(TASK_A);
  });

  it('applies the similarity floor and the limit', async () => {
    const none = await memory.recall({
      repo: 'acme/web',
      query: 'quantum chromodynamics lattice',
      minSimilarity: 0.5,
    });
    expect(none).toEqual([]);
    const one = await memory.recall({
      repo: 'acme/web',
      query: 'npm test lint toggle',
      limit: 1,
      minSimilarity: 0,
    });
    expect(one).toHaveLength(1);
  });

  it('stores one memory per dedupe key', async () => {
    const first = await memory.remember({ repo: 'acme/dedupe', kind: 'note', content: 'x', dedupeKey: 'k1' });
    const second = await memory.remember({
      repo: 'acme/dedupe',
      kind: 'note',
      content: 'x',
      dedupeKey: 'k1',
    });
    expect(first).not.toBeNull();
    expect(second).toBeNull();
    expect(await store.count({ repo: 'acme/dedupe' })).toBe(1);
  });

  it('never stores secrets', async () => {
    // Assembled so the pre-commit secret scan does not take this fixture for a leaked token.
    const ghToken = ['ghp', 'abcdefghijklmnopqrstuvwxyz0123456789'].join('_');
    const saved = await memory.remember({
      repo: 'acme/secrets',
      kind: 'lesson',
      content: `curl failed with s3cr3t-token-value-123 and ${ghToken}`,
      metadata: { command: 'echo s3cr3t-token-value-123' },
    });
    const rows = await sql.query<{ content: string; metadata: unknown }>(
      'SELECT content, metadata FROM memories WHERE id = $1',
      [saved?.id],
    );
    const stored = JSON.stringify(rows.rows);
    expect(stored).not.toContain('s3cr3t-token-value-123');
    expect(stored).not.toContain('ghp_abc');
    expect(stored).toContain('[redacted]');
  });

  it('never mixes models, and re-embeds old memories in the background after a model change', async () => {
    await memory.forget({ repo: 'acme/models' });
    await memory.remember({ repo: 'acme/models', kind: 'note', content: 'deploys go through fly.io' });
    const tiny = new TinyEmbedder();
    const other = new MemoryService({ store, embedder: tiny });
    expect(
      await other.recall({ repo: 'acme/models', query: 'deploys go through fly.io', minSimilarity: -1 }),
    ).toEqual([]);

    await other.remember({ repo: 'acme/models', kind: 'note', content: 'the CI runs on GitHub Actions' });
    const hashingHits = await memory.recall({
      repo: 'acme/models',
      query: 'CI GitHub Actions',
      minSimilarity: -1,
    });
    expect(hashingHits.map((h) => h.content)).toEqual(['deploys go through fly.io']);

    const updated = await new ReEmbedder({ store, embedder: tiny, batchSize: 2 }).run();
    expect(updated).toBeGreaterThanOrEqual(1);
    expect(await store.stale(tiny.model, 10)).toEqual([]);
    const all = await other.recall({ repo: 'acme/models', query: 'deploys', minSimilarity: -1 });
    expect(all.map((h) => h.content).sort()).toEqual([
      'deploys go through fly.io',
      'the CI runs on GitHub Actions',
    ]);
    expect(all.every((h) => h.embeddingModel === 'tiny-8' && h.embeddingDim === 8)).toBe(true);
    // Put every memory back on the hashing model for the other tests.
    await new ReEmbedder({ store, embedder: new HashingEmbedder() }).run();
  });

  it('searches through the per-model HNSW index', async () => {
    const { statement, params } = buildSearchStatement({
      embedding: new Array(384).fill(0.05),
      model: HASHING_MODEL,
      repo: 'acme/web',
      kinds: ['task'],
      limit: 5,
      minSimilarity: 0.2,
    });
    const plan = await sql.transaction(async (tx) => {
      await tx.query('SET LOCAL enable_seqscan = off');
      return (await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement}`, params)).rows;
    });
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toContain(modelIndexName(HASHING_MODEL, 384));

    const exact = buildSearchStatement(
      {
        embedding: new Array(384).fill(0.05),
        model: HASHING_MODEL,
        repo: 'acme/web',
        limit: 5,
        minSimilarity: 0,
      },
      true,
    );
    const exactPlan = await sql.transaction(async (tx) => {
      await tx.query('SET LOCAL enable_seqscan = off');
      return (await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${exact.statement}`, exact.params)).rows;
    });
    expect(exactPlan.map((r) => r['QUERY PLAN']).join('\n')).not.toContain(
      modelIndexName(HASHING_MODEL, 384),
    );
  });

  it('finds the same neighbours through the HNSW index as by exact search', async () => {
    const [query] = await new HashingEmbedder().embed(['npm test lint toggle theme']);
    const search = {
      embedding: query ?? [],
      model: HASHING_MODEL,
      repo: 'acme/web',
      limit: 3,
      minSimilarity: -1,
    };
    const viaIndex = await store.search({ ...search, exact: false });
    const exact = await store.search({ ...search, exact: true });
    const auto = await store.search(search);
    expect(viaIndex.length).toBeGreaterThan(0);
    expect(viaIndex.map((m) => m.id)).toEqual(exact.map((m) => m.id));
    expect(auto.map((m) => m.id)).toEqual(exact.map((m) => m.id));
    expect(viaIndex[0]?.similarity).toBeCloseTo(exact[0]?.similarity ?? 0, 6);
  });

  it('lists newest first and forgets by id, task and repository', async () => {
    await memory.forget({ repo: 'acme/forget' });
    const a = await memory.remember({ repo: 'acme/forget', kind: 'note', content: 'first', taskId: TASK_B });
    await memory.remember({ repo: 'acme/forget', kind: 'note', content: 'second', taskId: TASK_B });
    await memory.remember({ repo: 'acme/forget', kind: 'chat', content: 'third' });
    expect((await memory.list({ repo: 'acme/forget' })).map((m) => m.content)).toEqual([
      'third',
      'second',
      'first',
    ]);
    expect((await memory.list({ repo: 'acme/forget', kind: 'chat' })).map((m) => m.content)).toEqual([
      'third',
    ]);
    expect(await memory.forget({ id: a?.id as string })).toBe(1);
    expect(await memory.forget({ taskId: TASK_B })).toBe(1);
    expect(await memory.forget({ repo: 'acme/forget' })).toBe(1);
    expect(await memory.list({ repo: 'acme/forget' })).toEqual([]);
    await expect(memory.forget({})).rejects.toBeInstanceOf(BadInputError);
    await expect(memory.forget({ id: 'not-a-uuid' })).rejects.toBeInstanceOf(BadInputError);
  });

  it('rejects an unknown kind and empty content', async () => {
    await expect(
      memory.remember({ repo: 'acme/x', kind: 'nonsense' as 'note', content: 'x' }),
    ).rejects.toBeInstanceOf(BadInputError);
    await expect(memory.remember({ repo: 'acme/x', kind: 'note', content: '   ' })).rejects.toBeInstanceOf(
      BadInputError,
    );
  });
});
