import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryModule } from '../../src/app/modules/memory-module.js';
import type { Runtime } from '../../src/app/runtime.js';
import { loadConfig } from '../../src/config/config.js';
import { UnavailableError } from '../../src/core/errors.js';
import type { SqlClient } from '../../src/core/sql-client.js';
import type { ApiEnv } from '../../src/gateway/api-app.js';
import { MemoryStore } from '../../src/memory/memory-store.js';
import { openMemory } from '../../src/memory/open-memory.js';
import { ensureVectorSchema, MISSING_PGVECTOR_MESSAGE } from '../../src/memory/vector-schema.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { SecretRegistry } from '../../src/observability/redact.js';
import { migrate } from '../../src/store/migrate.js';
import { createPgClient } from '../../src/store/pg-client.js';

const URL_ = process.env.DEVBOT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `memory_test_${process.pid}_${Date.now().toString(36)}`;
/** The memory migrations, applied on their own (this file needs no tasks tables). */
const MIGRATIONS = ['004_memories.sql', '005_memories_order.sql'].map(
  (f) => new URL(`../../src/store/migrations/${f}`, import.meta.url),
);
const TASK = '2d3c7b8e-1f0a-4a3b-8c5d-6e7f8a9b0c1d';

let sql: SqlClient;
let hasPgvector = false;

beforeAll(async () => {
  sql = await createPgClient({ connectionString: URL_, schema: SCHEMA, max: 3 });
  for (const m of MIGRATIONS) await sql.exec(readFileSync(m, 'utf8'));
  const available = await sql.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
  hasPgvector = available.rows.length > 0;
});

afterAll(async () => {
  await sql?.close();
  const admin = new pg.Client({ connectionString: URL_ });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.end();
});

describe('memory on PostgreSQL', () => {
  it('the 004 migration runs through the migration runner on any PostgreSQL, twice', async () => {
    const dir = new URL('../../src/store/migrations/', import.meta.url).pathname;
    // The whole runner: 004 must not need pgvector, or devbot could not start on such a server.
    const first = await migrate(sql, dir);
    expect([...first.applied, ...first.skipped]).toContain('004_memories.sql');
    const second = await migrate(sql, dir);
    expect(second.applied).toEqual([]);
  });

  it('says clearly what to do when the server lacks pgvector', async (ctx) => {
    if (hasPgvector) ctx.skip();
    const err = await ensureVectorSchema(sql).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe(MISSING_PGVECTOR_MESSAGE);
    expect(MISSING_PGVECTOR_MESSAGE).toContain('install pgvector');
    expect(MISSING_PGVECTOR_MESSAGE).toContain('unset DATABASE_URL');
    await expect(openMemory({ sql, config: {} })).rejects.toThrow(MISSING_PGVECTOR_MESSAGE);
  });

  it('the module starts without pgvector: memory disabled, a warning, no reporter, 503 on /memories', async (ctx) => {
    if (hasPgvector) ctx.skip();
    const warnings: string[] = [];
    const logger = createLogger({
      level: 'warn',
      destination: { write: (line: string) => warnings.push(line) },
    });
    const runtime = {
      config: loadConfig({}),
      role: 'all',
      logger,
      metrics: new Metrics(),
      secrets: new SecretRegistry(),
      sql,
    } as unknown as Runtime;
    const mod = await createMemoryModule(runtime);
    expect(mod.memory).toBeNull();
    expect(mod.reporters ?? []).toEqual([]);
    const route = mod.apiRoutes?.find((r) => r.path === '/memories');
    const root = new Hono<ApiEnv>();
    root.use('*', async (c, next) => {
      c.set('claims', { subject: 'root', scopes: ['tasks:read', 'admin'] });
      await next();
    });
    if (route) root.route(route.path, route.app);
    const res = await root.request('/memories?q=x');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { message: string }).message).toBe(
      `memory is disabled: ${MISSING_PGVECTOR_MESSAGE}`,
    );
    await mod.start?.();
    await mod.stop?.();
    expect(warnings.join('\n')).toContain(
      'memory is disabled: the PostgreSQL server lacks the pgvector extension',
    );
  });

  it('lists, counts and forgets without touching vectors', async () => {
    await sql.query(
      `INSERT INTO memories (repo, kind, content, metadata, task_id, created_at) VALUES
        ('acme/web', 'task', 'first', '{"files":["a.ts"]}', $1, now() - interval '2 minutes'),
        ('acme/web', 'lesson', 'second', '{}', $1, now() - interval '1 minute'),
        ('acme/api', 'note', 'third', '{}', NULL, now())`,
      [TASK],
    );
    const store = new MemoryStore(sql);
    const listed = await store.list({ repo: 'acme/web' });
    expect(listed.map((m) => m.content)).toEqual(['second', 'first']);
    expect(listed[1]).toMatchObject({
      kind: 'task',
      metadata: { files: ['a.ts'] },
      taskId: TASK,
      embeddingModel: null,
    });
    expect(listed[1]?.createdAt).toBeInstanceOf(Date);
    expect(await store.count({ kind: 'lesson' })).toBe(1);
    expect(await store.forget({ taskId: TASK })).toBe(2);
    expect(await store.forget({ repo: 'acme/api', kind: 'note' })).toBe(1);
    expect(await store.count()).toBe(0);
  });
});
