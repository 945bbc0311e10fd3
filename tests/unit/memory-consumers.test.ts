import { Hono } from 'hono';
import { beforeEach, describe, expect, it } from 'vitest';
import { invokeTool } from '../../agents/llm/tool.js';
import { createPlannerRecall, createRagTools } from '../../agents/tools/rag.js';
import { parseMemoryArgs, runMemoryCommand } from '../../src/cli/memory-command.js';
import { BadInputError } from '../../src/core/errors.js';
import type { ApiEnv } from '../../src/gateway/api-app.js';
import { createMemoriesRoutes } from '../../src/gateway/memories-route.js';
import type { Scope } from '../../src/gateway/token-issuer.js';
import { FakeMemoryPort } from './memory-fake-port.js';

let memory: FakeMemoryPort;

beforeEach(async () => {
  memory = new FakeMemoryPort();
  await memory.remember({
    repo: 'acme/web',
    kind: 'commands',
    content: 'Verified with: npm test and npm run lint',
  });
  await memory.remember({ repo: 'acme/web', kind: 'task', content: 'Added the dark mode toggle' });
  await memory.remember({ repo: 'acme/api', kind: 'commands', content: 'Verified with: cargo test' });
});

describe('devbot memory CLI', () => {
  it('parses list, search and forget', () => {
    expect(parseMemoryArgs(['list', '--repo', 'acme/web', '--kind', 'task', '--limit', '3'])).toEqual({
      action: 'list',
      json: false,
      repo: 'acme/web',
      kind: 'task',
      limit: 3,
    });
    expect(parseMemoryArgs(['search', 'how', 'to', 'test', '--json'])).toMatchObject({
      action: 'search',
      query: 'how to test',
      json: true,
    });
    expect(parseMemoryArgs(['forget', '--task', 'abc'])).toMatchObject({ action: 'forget', taskId: 'abc' });
    expect(() => parseMemoryArgs(['drop'])).toThrow(BadInputError);
    expect(() => parseMemoryArgs(['search'])).toThrow(/needs a query/);
    expect(() => parseMemoryArgs(['list', '--kind', 'gossip'])).toThrow(/memory kind/);
    expect(() => parseMemoryArgs(['list', '--bogus'])).toThrow(BadInputError);
  });

  it('lists, searches and forgets through the port', async () => {
    const lines: string[] = [];
    const write = (l: string) => lines.push(l);
    expect(await runMemoryCommand(parseMemoryArgs(['list', '--repo', 'acme/web']), memory, write)).toBe(0);
    expect(lines.filter((l) => !l.startsWith('    ')).map((l) => l.split('  ')[2])).toEqual([
      'task',
      'commands',
    ]);

    lines.length = 0;
    await runMemoryCommand(
      parseMemoryArgs(['search', 'npm test', '--repo', 'acme/web', '--json']),
      memory,
      write,
    );
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ kind: 'commands', similarity: 1 });

    lines.length = 0;
    await runMemoryCommand(parseMemoryArgs(['forget', '--repo', 'acme/web']), memory, write);
    expect(lines).toEqual(['forgot 2 memories']);
    expect(memory.rows.map((m) => m.repo)).toEqual(['acme/api']);
    await expect(runMemoryCommand({ action: 'forget' }, memory, write)).rejects.toThrow(/needs --id/);
  });
});

describe('GET /memories', () => {
  const app = (scopes: Scope[]) => {
    const root = new Hono<ApiEnv>();
    root.use('*', async (c, next) => {
      c.set('claims', { subject: 'tester', scopes });
      await next();
    });
    root.route('/memories', createMemoriesRoutes({ memory }));
    return root;
  };

  it('searches with q, lists without, filtered by repo and kind', async () => {
    const admin = app(['tasks:read', 'admin']);
    const searched = await admin.request('/memories?repo=acme/web&q=npm%20test&limit=5');
    expect(searched.status).toBe(200);
    const body = (await searched.json()) as { memories: { kind: string; similarity: number }[] };
    expect(body.memories[0]).toMatchObject({ kind: 'commands', similarity: 1 });
    expect(memory.recalls.at(-1)).toMatchObject({ repo: 'acme/web', query: 'npm test', limit: 5 });

    const listed = (await (await admin.request('/memories?kind=commands')).json()) as {
      memories: { repo: string; createdAt: string }[];
    };
    expect(listed.memories.map((m) => m.repo)).toEqual(['acme/api', 'acme/web']);
    expect(typeof listed.memories[0]?.createdAt).toBe('string');
  });

  it('rejects bad queries and tokens without the admin scope', async () => {
    expect((await app(['tasks:read', 'admin']).request('/memories?kind=gossip')).status).toBe(400);
    expect((await app(['tasks:read', 'admin']).request('/memories?limit=0')).status).toBe(400);
    const forbidden = await app(['tasks:read']).request('/memories?repo=acme/web');
    expect(forbidden.status).toBe(403);
    expect(memory.recalls).toEqual([]);
  });
});

describe('rag tools', () => {
  it('binds remember and recall to the task repository and fences what they return', async () => {
    const tools = createRagTools({ memory, repo: 'acme/web', taskId: null });
    const recalled = await invokeTool(
      tools,
      'recall',
      JSON.stringify({ query: 'npm test', repo: 'acme/api' }),
    );
    expect(recalled.ok).toBe(true);
    const output = recalled.ok ? recalled.output : '';
    expect(output).toContain('npm test and npm run lint');
    expect(output).not.toContain('cargo');
    expect(output).toMatch(/<untrusted-[0-9a-f]{8} source="memory: commands/);

    const saved = await invokeTool(
      tools,
      'remember',
      JSON.stringify({ content: 'Run pnpm, not npm', kind: 'note' }),
    );
    expect(saved).toEqual({ ok: true, output: 'remembered (note)' });
    expect(memory.rows.at(-1)).toMatchObject({ repo: 'acme/web', kind: 'note', metadata: { by: 'agent' } });

    const refused = await invokeTool(tools, 'remember', JSON.stringify({ content: 'x y z', kind: 'review' }));
    expect(refused.ok).toBe(false);
  });

  it('gives the planner the top memories of the task repository, or nothing without memory', async () => {
    const recall = createPlannerRecall(memory, { repo: 'acme/web' });
    const lines = await recall('dark mode toggle');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('Added the dark mode toggle');
    expect(await createPlannerRecall(null, { repo: 'acme/web' })('dark mode')).toEqual([]);
    expect(await createPlannerRecall(memory, { repo: null })('dark mode')).toEqual([]);
  });
});
