import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BadInputError,
  type NewTask,
  type TaskEventMap,
  type TaskInput,
  type TaskOrigin,
} from '../../src/core/index.js';
import type { SqlClient } from '../../src/core/sql-client.js';
import { createPgClient } from '../../src/store/pg-client.js';
import { SqlChatRepoLinks } from '../../src/store/sql-chat-repo-links.js';
import { SqlTaskStore } from '../../src/store/sql-task-store.js';
import { openTestPglite } from '../helpers/pglite-template.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../helpers/test-env.js';

const backends: [string, () => Promise<{ sql: SqlClient; cleanup: () => Promise<void> }>][] = [
  [
    'pglite',
    async () => {
      const sql = await openTestPglite();
      return { sql, cleanup: () => sql.close() };
    },
  ],
  [
    'postgres',
    async () => {
      const schema = uniqueSchema();
      const sql = await createPgClient({ connectionString: TEST_DATABASE_URL, schema });
      return {
        sql,
        cleanup: async () => {
          await sql.close();
          await dropSchema(schema);
        },
      };
    },
  ],
];

/** A good task of someone's own (each in its own name, as concurrent users would send them). */
function plainTask(n: number): NewTask {
  return {
    source: 'api',
    requester: `user-${n}`,
    kind: 'question',
    prompt: `job ${n}`,
    input: { n } as TaskInput,
  };
}

/** `levels` arrays inside each other, built without recursion. */
function deep(levels: number): TaskInput {
  let value: unknown = 0;
  for (let i = 0; i < levels; i++) value = [value];
  return { value } as TaskInput;
}

describe.each(backends)('task store on %s', (_name, open) => {
  let store: SqlTaskStore;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const opened = await open();
    cleanup = opened.cleanup;
    store = new SqlTaskStore(opened.sql);
    await store.migrate();
  });
  afterAll(async () => cleanup());

  it('links chats to repositories: unique per chat, case-insensitive, capped per chat, unlinked one or all', async () => {
    const links = new SqlChatRepoLinks(store.sql);
    const link = (chatId: number, repo: string, by = 'tg:1', threadId: number | null = null) =>
      links.link({ chatId, repo, linkedBy: by, threadId }, 3);
    expect(await link(-5, 'Acme/Shop')).toBe('linked');
    expect(await link(-5, 'acme/shop', 'tg:2', 11)).toBe('updated');
    expect(await link(-5, 'acme/b')).toBe('linked');
    expect(await link(-5, 'acme/c')).toBe('linked');
    expect(await link(-5, 'acme/d')).toEqual({ full: 3 });
    expect(await link(-5, 'ACME/C')).toBe('updated'); // a link it has already is no new one
    expect(await link(8, 'acme/shop')).toBe('linked');
    expect((await links.list(-5)).map((l) => l.repo)).toEqual(['acme/shop', 'acme/b', 'acme/c']);
    expect(await links.chatsFor('ACME/shop')).toMatchObject([
      { chatId: -5, repo: 'acme/shop', linkedBy: 'tg:2', threadId: 11 },
      { chatId: 8, repo: 'acme/shop', linkedBy: 'tg:1', threadId: null },
    ]);
    expect(await links.unlink(-5, 'Acme/Shop')).toEqual(['acme/shop']);
    expect(await links.unlink(-5, 'acme/shop')).toEqual([]);
    expect(await links.unlink(-5)).toEqual(['acme/b', 'acme/c']);
    expect(await links.list(-5)).toEqual([]);
    expect((await links.chatsFor('acme/shop')).map((l) => l.chatId)).toEqual([8]);
  });

  it('migrates idempotently', async () => {
    await store.migrate();
    await store.migrate();
    const res = await store.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(res.rows[0]?.n).toBeGreaterThanOrEqual(1);
  });

  it('creates a task with its first event', async () => {
    const { task, created } = await store.createTask({
      source: 'api',
      requester: 'alice',
      kind: 'shell',
      prompt: 'echo hi',
      input: { command: 'echo hi' },
      origin: { chatId: 1 },
    });
    expect(created).toBe(true);
    expect(task).toMatchObject({ status: 'queued', kind: 'shell', requester: 'alice', attempts: 0 });
    expect(task.input).toEqual({ command: 'echo hi' });
    const events = await store.listEvents(task.id);
    expect(events.map((e) => [e.seq, e.type])).toEqual([[1, 'task.created']]);
  });

  it('is idempotent on the key: the same request twice is one task', async () => {
    const input = {
      source: 'api' as const,
      requester: 'bob',
      kind: 'dev' as const,
      prompt: 'x',
      idempotencyKey: 'k-1',
    };
    const a = await store.createTask(input);
    const b = await store.createTask({ ...input, prompt: 'different' });
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.task.id).toBe(a.task.id);
    expect(b.task.prompt).toBe('x');
    const count = await store.sql.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM tasks WHERE idempotency_key = 'k-1'",
    );
    expect(count.rows[0]?.n).toBe(1);
  });

  it('keeps every field of a batch intact, awkward text and nulls included', async () => {
    const awkward = [
      'plain',
      'NULL',
      '',
      'quotes " and \' and \\ backslashes',
      '{braces}, commas, and {"json": [1, 2]}',
      'unicode: ✅ 😀 ß\nnew line\ttab',
    ];
    const results = await Promise.all(
      awkward.map((text, i) =>
        store.createTask({
          source: 'api',
          requester: text || 'r',
          kind: 'question',
          prompt: text || ' ',
          repo: i % 2 === 0 ? null : `acme/${i}`,
          // Awkward values of any shape: the store keeps JSON as given.
          input: { text, n: i, nested: { list: [text] } } as TaskInput,
          origin: { text } as TaskOrigin,
          idempotencyKey: i === 1 ? 'NULL' : null,
        }),
      ),
    );
    for (const [i, { task }] of results.entries()) {
      const text = awkward[i]!;
      const stored = await store.getTask(task.id);
      expect(stored).toMatchObject({
        prompt: text || ' ',
        requester: text || 'r',
        repo: i % 2 === 0 ? null : `acme/${i}`,
        input: { text, n: i, nested: { list: [text] } },
        origin: { text },
      });
    }
    const keyed = await store.sql.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM tasks WHERE idempotency_key = 'NULL'",
    );
    expect(keyed.rows[0]?.n).toBe(1);
  });

  it('keeps one task per key when the same key arrives concurrently (one batch)', async () => {
    const input = {
      source: 'api' as const,
      requester: 'e',
      kind: 'dev' as const,
      prompt: 'x',
      idempotencyKey: 'k-2',
    };
    const results = await Promise.all([
      store.createTask(input),
      store.createTask(input),
      store.createTask({ ...input, idempotencyKey: null }),
      store.createTask(input),
    ]);
    const keyed = [results[0]!, results[1]!, results[3]!];
    expect(new Set(keyed.map((r) => r.task.id)).size).toBe(1);
    expect(keyed.filter((r) => r.created)).toHaveLength(1);
    expect(results[2]!.created).toBe(true);
    expect(results[2]!.task.id).not.toBe(keyed[0]!.task.id);
    expect((await store.listEvents(keyed[0]!.task.id)).map((e) => e.type)).toEqual(['task.created']);
  });

  it.each<[string, (n: number) => NewTask]>([
    ['a NUL in the prompt', (n) => ({ ...plainTask(n), prompt: 'before\u0000after' })],
    ['a NUL in an input key', (n) => ({ ...plainTask(n), input: { 'k\u0000': 1 } as TaskInput })],
    ['a lone surrogate in the input', (n) => ({ ...plainTask(n), input: { text: 'x\ud800y' } as TaskInput })],
    ['input nested past what JSON.stringify can encode', (n) => ({ ...plainTask(n), input: deep(20_000) })],
  ])('one bad row (%s) fails alone; the other 29 of its batch are created', async (_what, bad) => {
    // Created concurrently, they share a batch (the first flushes alone, the rest together).
    const submitted = Array.from({ length: 30 }, (_, i) =>
      store.createTask(i === 15 ? bad(i) : plainTask(i)),
    );
    const settled = await Promise.allSettled(submitted);
    const failed = settled.flatMap((r, i) => (r.status === 'rejected' ? [[i, r.reason]] : []));
    expect(failed.map(([i]) => i)).toEqual([15]);
    expect(failed[0]?.[1]).toBeInstanceOf(BadInputError);
    expect(String(failed[0]?.[1])).toMatch(/the task cannot be stored/);
    for (const [i, r] of settled.entries()) {
      if (r.status !== 'fulfilled') continue;
      expect(r.value.created).toBe(true);
      expect((await store.getTask(r.value.task.id))?.prompt).toBe(`job ${i}`);
    }
  });

  it('stores events, results and errors holding NUL or invalid UTF-16 with U+FFFD in their place', async () => {
    const { task } = await store.createTask(plainTask(99));
    const nasty = 'a\u0000b\ud800c\udfffd';
    const kept = 'literal \\u0000 and \\ud800, emoji 😀, \\\\';
    const event = await store.appendEvent(
      task.id,
      { type: 'output', data: { stream: 'stdout', text: nasty, [`key\u0000`]: kept } as never },
      { error: `err ${nasty}` },
    );
    const expected = { stream: 'stdout', text: 'a\ufffdb\ufffdc\ufffdd', 'key\ufffd': kept };
    expect(event.data).toEqual(expected);
    expect((await store.listEvents(task.id, 1))[0]?.data).toEqual(expected);
    await store.patchTask(task.id, { resultSummary: nasty });
    const finished = await store.finishTask(
      task.id,
      'failed',
      { result: { summary: nasty, output: nasty }, error: nasty },
      { error: nasty, code: 'error' },
    );
    expect(finished?.event.data).toEqual({ error: 'a\ufffdb\ufffdc\ufffdd', code: 'error' });
    const stored = await store.getTask(task.id);
    expect(stored).toMatchObject({
      status: 'failed',
      // Text columns: NUL replaced here, lone surrogates by the UTF-8 encoding of the driver.
      error: 'a\ufffdb\ufffdc\ufffdd',
      resultSummary: 'a\ufffdb\ufffdc\ufffdd',
      result: { summary: 'a\ufffdb\ufffdc\ufffdd', output: 'a\ufffdb\ufffdc\ufffdd' },
    });
  });

  it('refuses an event it cannot encode with a BadInputError (no retry can help)', async () => {
    const { task } = await store.createTask(plainTask(98));
    const data = { stream: 'stdout', text: 'x', deep: deep(20_000) } as never;
    await expect(store.appendEvent(task.id, { type: 'output', data })).rejects.toBeInstanceOf(BadInputError);
  });

  it('appends an event and changes the task in the same write when given a patch', async () => {
    const { task } = await store.createTask({ source: 'api', requester: 'p', kind: 'dev', prompt: 'x' });
    const event = await store.appendEvent(
      task.id,
      { type: 'llm', data: { tokensIn: 5 } as TaskEventMap['llm'] },
      { usage: { tokensIn: 5, llmRequests: 1 }, branch: 'devbot/1-x' },
    );
    expect(event).toMatchObject({ seq: 2, type: 'llm', data: { tokensIn: 5 } });
    const stored = await store.getTask(task.id);
    expect(stored).toMatchObject({ usage: { tokensIn: 5, llmRequests: 1 }, branch: 'devbot/1-x' });
    // Without a patch the task's fields stay as they were.
    await store.appendEvent(task.id, { type: 'log', data: { message: 'm' } });
    expect((await store.getTask(task.id))?.usage).toEqual({ tokensIn: 5, llmRequests: 1 });
  });

  it('numbers events without gaps or duplicates under concurrent writers', async () => {
    const { task } = await store.createTask({ source: 'api', requester: 'c', kind: 'shell', prompt: 'p' });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.appendEvent(task.id, { type: 'log', data: { message: String(i) } }),
      ),
    );
    const events = await store.listEvents(task.id);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect((await store.listEvents(task.id, 19)).map((e) => e.seq)).toEqual([20, 21]);
  });

  it('ends a task exactly once, with its terminal event in the same step', async () => {
    const { task } = await store.createTask({ source: 'api', requester: 'd', kind: 'shell', prompt: 'p' });
    const running = await store.markRunning(task.id);
    expect(running).toMatchObject({ status: 'running', attempts: 1 });
    const first = await store.finishTask(
      task.id,
      'succeeded',
      { resultSummary: 'done' },
      { summary: 'done' },
    );
    const second = await store.finishTask(
      task.id,
      'failed',
      { error: 'late' },
      { error: 'late', code: 'error' },
    );
    expect(first?.task).toMatchObject({ status: 'succeeded', resultSummary: 'done' });
    expect(first?.event).toMatchObject({ type: 'task.succeeded', seq: 2, data: { summary: 'done' } });
    expect(second).toBeNull();
    expect(await store.markRunning(task.id)).toBeNull();
    const events = await store.listEvents(task.id);
    expect(events.filter((e) => e.type.startsWith('task.') && e.type !== 'task.created')).toHaveLength(1);
    expect((await store.getTask(task.id))?.status).toBe('succeeded');
  });

  it('patches fields and lists by status, source and requester', async () => {
    const { task } = await store.createTask({
      source: 'telegram',
      requester: 'tg:1',
      kind: 'auto',
      prompt: 'p',
    });
    const patched = await store.patchTask(task.id, {
      kind: 'dev',
      branch: 'devbot/1-x',
      previewUrl: 'http://p',
      usage: { tokensIn: 5 },
    });
    expect(patched).toMatchObject({
      kind: 'dev',
      branch: 'devbot/1-x',
      previewUrl: 'http://p',
      usage: { tokensIn: 5 },
    });
    const listed = await store.listTasks({ source: 'telegram', requester: 'tg:1' });
    expect(listed.map((t) => t.id)).toEqual([task.id]);
    expect((await store.listTasks({ status: 'succeeded' })).every((t) => t.status === 'succeeded')).toBe(
      true,
    );
    expect((await store.listUnfinished()).some((t) => t.id === task.id)).toBe(true);
  });

  it('returns null for unknown or malformed ids', async () => {
    expect(await store.getTask('00000000-0000-0000-0000-000000000000')).toBeNull();
    expect(await store.getTask('not-a-uuid')).toBeNull();
    expect(await store.listEvents('nope')).toEqual([]);
    await expect(
      store.appendEvent('00000000-0000-0000-0000-000000000000', { type: 'log', data: { message: 'm' } }),
    ).rejects.toThrow(/does not exist/);
  });
});
