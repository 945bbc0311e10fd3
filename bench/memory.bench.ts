/**
 * Memory retrieval benchmark (issue 7, DESIGN.md §7): synthetic 384-dim memories on embedded
 * PGlite + pgvector. Measures insert throughput (through the store's one-row API and in batches),
 * recall@10 of `recall` against exact search, and p50/p99 latency of `recall` (the MemoryService
 * path: a bounded candidate count, then the HNSW scan, or an exact scan for a repository with few
 * memories), with exact search as the baseline.
 *
 *   npx tsx bench/memory.bench.ts                     10k memories (default)
 *   DEVBOT_BENCH_MEMORY_SIZES=10000,100000 npx tsx bench/memory.bench.ts
 *
 * The data are clustered (200 centroids, points at cosine ~0.64 from their centroid), which is
 * closer to text embeddings than uniform noise; queries are fresh points from the same clusters.
 */

import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { SqlClient } from '../src/core/sql-client.js';
import type { Embedder } from '../src/memory/embedder.js';
import { normalize } from '../src/memory/embedder.js';
import { MemoryService } from '../src/memory/memory-service.js';
import { MemoryStore, toVectorLiteral } from '../src/memory/memory-store.js';
import { ensureModelIndex, ensureVectorSchema, modelIndexName } from '../src/memory/vector-schema.js';
import { createPgliteClient } from '../src/store/pglite-client.js';

const DIM = 384;
const MODEL = 'bench-synthetic-384';
const REPO = 'bench/repo';
/** Every 50th bulk-loaded memory belongs to a second, small repository (2%). */
const SMALL_REPO = 'bench/small';
const SMALL_EVERY = 50;
const CLUSTERS = 200;
const NOISE = 1.2;
const QUERIES = Number(process.env.DEVBOT_BENCH_MEMORY_QUERIES ?? 200);
const K = 10;
const BATCH = 250;
const API_INSERTS = 300;

export interface MemoryBenchSize {
  memories: number;
  insertApiPerSecond: number;
  /** Bulk load: batched rows, then one HNSW build, per second overall. */
  insertBatchPerSecond: number;
  insertSeconds: number;
  indexBuildSeconds: number;
  recallAt10: number;
  p50Ms: number;
  p99Ms: number;
  exactP50Ms: number;
  exactP99Ms: number;
  /** The same measurements for a repository holding 2% of the memories (searched exactly below 2500). */
  smallRepo: { memories: number; recallAt10: number; p50Ms: number; p99Ms: number; exactP50Ms: number };
}

export interface MemoryBenchResult {
  name: string;
  unit: string;
  /** p50 latency of recall (top 10, HNSW) at the first size. */
  value: number;
  /** p50 latency of exact search (sequential scan) at the same size. */
  baseline: number;
  target: number;
  recallAt10: number;
  recallTarget: number;
  pass: boolean;
  dataset: string;
  sizes: MemoryBenchSize[];
  /** The machine is shared; latency under load is not latency on an idle machine. */
  loadAverage: number[];
}

/** A deterministic PRNG so every run measures the same data. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeGenerator(seed: number) {
  const rand = mulberry32(seed);
  const gauss = () => {
    const u = rand() || 1e-12;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  const centroids = Array.from({ length: CLUSTERS }, () => normalize(Array.from({ length: DIM }, gauss)));
  return () => {
    const c = centroids[Math.floor(rand() * CLUSTERS)] as number[];
    const scale = NOISE / Math.sqrt(DIM);
    return normalize(c.map((x) => x + gauss() * scale));
  };
}

/** Returns the query vector registered for a query text: recall runs its real path, minus a model. */
class PresetEmbedder implements Embedder {
  readonly model = MODEL;
  readonly dimensions = DIM;
  readonly vectors = new Map<string, number[]>();
  async embed(texts: readonly string[]): Promise<number[][]> {
    return texts.map((t) => {
      const v = this.vectors.get(t);
      if (!v) throw new Error(`no preset vector for ${t}`);
      return v;
    });
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

async function insertBatch(sql: SqlClient, vectors: number[][], offset: number): Promise<void> {
  const values: string[] = [];
  const params: unknown[] = [];
  vectors.forEach((v, i) => {
    params.push(`synthetic memory ${offset + i}`, toVectorLiteral(v));
    const a = params.length - 1;
    const repo = (offset + i) % SMALL_EVERY === 0 ? SMALL_REPO : REPO;
    values.push(`('${repo}', 'note', $${a}, '{}'::jsonb, $${a + 1}::vector, '${MODEL}', ${DIM})`);
  });
  await sql.query(
    `INSERT INTO memories (repo, kind, content, metadata, embedding, embedding_model, embedding_dim) VALUES ${values.join(', ')}`,
    params,
  );
}

async function measureSize(size: number, log: (line: string) => void): Promise<MemoryBenchSize> {
  const sql = await createPgliteClient();
  try {
    for (const f of ['004_memories.sql', '005_memories_order.sql'])
      await sql.exec(readFileSync(new URL(`../src/store/migrations/${f}`, import.meta.url), 'utf8'));
    await ensureVectorSchema(sql);
    const store = new MemoryStore(sql);
    const embedder = new PresetEmbedder();
    const service = new MemoryService({ store, embedder });
    const next = makeGenerator(42);

    // 1. The one-row API path (embed + insert + index maintenance), as tasks save memories.
    const apiCount = Math.min(API_INSERTS, size);
    let t0 = performance.now();
    for (let i = 0; i < apiCount; i++) {
      const text = `api memory ${i}`;
      embedder.vectors.set(text, next());
      await service.remember({ repo: REPO, kind: 'note', content: text });
    }
    const apiSeconds = (performance.now() - t0) / 1000;

    // 2. The rest as a bulk load: rows first, then the HNSW index is rebuilt over all of them
    // (maintaining the graph row by row in WASM is several times slower than one build).
    t0 = performance.now();
    await sql.exec(`DROP INDEX ${modelIndexName(MODEL, DIM)}`);
    let inserted = apiCount;
    let lastLog = performance.now();
    while (inserted < size) {
      const n = Math.min(BATCH, size - inserted);
      await insertBatch(
        sql,
        Array.from({ length: n }, () => next()),
        inserted,
      );
      inserted += n;
      if (performance.now() - lastLog > 15_000) {
        log(`  inserted ${inserted}/${size}`);
        lastLog = performance.now();
      }
    }
    const loadSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    await sql.exec("SET maintenance_work_mem = '256MB'");
    await ensureModelIndex(sql, MODEL, DIM);
    const buildSeconds = (performance.now() - t0) / 1000;
    const batchSeconds = loadSeconds + buildSeconds;
    log(`  loaded in ${round(loadSeconds, 1)} s, index built in ${round(buildSeconds, 1)} s`);
    await sql.exec('ANALYZE memories');

    // 3. Queries: HNSW through recall(), exact through the store with the index disabled; on the
    // big repository and on the small one (where a filtered HNSW scan must look further).
    const makeQueries = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => {
        const text = `${prefix} ${i}`;
        embedder.vectors.set(text, next());
        return text;
      });
    const measure = async (repo: string, queries: string[]) => {
      for (const q of queries.slice(0, 5))
        await service.recall({ query: q, repo, limit: K, minSimilarity: -1 });
      const hnswMs: number[] = [];
      const exactMs: number[] = [];
      let overlap = 0;
      for (const q of queries) {
        let t = performance.now();
        const approx = await service.recall({ query: q, repo, limit: K, minSimilarity: -1 });
        hnswMs.push(performance.now() - t);
        t = performance.now();
        const exact = await store.search({
          embedding: embedder.vectors.get(q) as number[],
          model: MODEL,
          repo,
          limit: K,
          minSimilarity: -1,
          exact: true,
        });
        exactMs.push(performance.now() - t);
        const truth = new Set(exact.map((m) => m.id));
        overlap += approx.filter((m) => truth.has(m.id)).length / Math.max(1, truth.size);
      }
      hnswMs.sort((x, y) => x - y);
      exactMs.sort((x, y) => x - y);
      return { recall: overlap / queries.length, hnswMs, exactMs };
    };
    const big = await measure(REPO, makeQueries('query', QUERIES));
    const small = await measure(
      SMALL_REPO,
      makeQueries('small query', Math.max(10, Math.floor(QUERIES / 4))),
    );
    const { hnswMs, exactMs } = big;
    return {
      memories: size,
      insertApiPerSecond: round(apiCount / apiSeconds, 1),
      insertBatchPerSecond: size > apiCount ? round((size - apiCount) / batchSeconds, 1) : 0,
      insertSeconds: round(apiSeconds + batchSeconds, 1),
      indexBuildSeconds: round(buildSeconds, 1),
      recallAt10: round(big.recall, 4),
      p50Ms: round(percentile(hnswMs, 50)),
      p99Ms: round(percentile(hnswMs, 99)),
      exactP50Ms: round(percentile(exactMs, 50)),
      exactP99Ms: round(percentile(exactMs, 99)),
      smallRepo: {
        memories: Math.floor((size - apiCount) / SMALL_EVERY),
        recallAt10: round(small.recall, 4),
        p50Ms: round(percentile(small.hnswMs, 50)),
        p99Ms: round(percentile(small.hnswMs, 99)),
        exactP50Ms: round(percentile(small.exactMs, 50)),
      },
    };
  } finally {
    await sql.close();
  }
}

export async function run(
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<MemoryBenchResult> {
  const sizes = (process.env.DEVBOT_BENCH_MEMORY_SIZES ?? '10000')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
  const results: MemoryBenchSize[] = [];
  for (const size of sizes) {
    log(`memory bench: ${size} memories...`);
    const r = await measureSize(size, log);
    log(`  ${JSON.stringify(r)}`);
    results.push(r);
  }
  const first = results[0] as MemoryBenchSize;
  return {
    name: `memory recall top-${K} p50 (PGlite, HNSW) at ${first.memories} memories`,
    unit: 'ms',
    value: first.p50Ms,
    baseline: first.exactP50Ms,
    target: 20,
    recallAt10: first.recallAt10,
    recallTarget: 0.95,
    pass: first.p50Ms <= 20 && first.recallAt10 >= 0.95,
    dataset: `synthetic ${DIM}-dim, ${CLUSTERS} clusters, ${QUERIES} queries; 98% of memories in one repository, 2% in a small one`,
    sizes: results,
    loadAverage: loadavg().map((x) => round(x, 2)),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await run();
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
