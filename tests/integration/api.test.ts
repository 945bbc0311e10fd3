import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadInputError, type TaskHandler } from '../../src/core/index.js';
import { ApiClient } from '../helpers/api-client.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';

/** A handler that waits until the test releases it (or the task is cancelled). */
function gatedHandler() {
  const gates = new Map<string, () => void>();
  const handler: TaskHandler = async (ctx) => {
    await new Promise<void>((resolve, reject) => {
      gates.set(ctx.task.id, resolve);
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
    });
    return { summary: 'released' };
  };
  return { handler, release: (id: string) => gates.get(id)?.(), has: (id: string) => gates.has(id) };
}

describe('the /tasks API: bad input and access', () => {
  let devbot: TestDevbot;
  const gate = gatedHandler();

  beforeAll(async () => {
    devbot = await startTestDevbot({
      env: { DEVBOT_RATE_LIMIT: '1000', DEVBOT_BODY_LIMIT: '2048' },
      handlers: {
        question: gate.handler,
        shell: async () => {
          throw new BadInputError('nope');
        },
        // A bare stand-in: the documented follow-up input (no repository host here, no push).
        followup: async () => ({ summary: 'followed up' }),
      },
    });
  });
  afterAll(async () => devbot?.stop());

  it('answers /healthz, /readyz and /metrics without a token (no DEVBOT_METRICS_TOKEN set)', async () => {
    expect((await fetch(`${devbot.app.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${devbot.app.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`${devbot.app.url}/metrics`)).text();
    expect(metrics).toContain('devbot_queue_depth');
    expect(metrics).toContain('devbot_http_request_duration_seconds');
  });

  it('401 without a token, with a malformed token, and with a token signed by another secret', async () => {
    const none = await fetch(`${devbot.app.url}/tasks`, { method: 'POST', body: '{}' });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: 'unauthorized' });
    expect((await new ApiClient(devbot.app.url, 'garbage').createTask({ prompt: 'x' })).status).toBe(401);
    const forged =
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJldmUiLCJpc3MiOiJkZXZib3QiLCJhdWQiOiJkZXZib3QtYXBpIiwic2NvcGUiOiJ0YXNrczp3cml0ZSJ9.x6Yh1oQeT2d6fYbq8eN0y8uJ0ZtD4wqfX3y4r7m3V1I';
    const res = await new ApiClient(devbot.app.url, forged).createTask({ prompt: 'x' });
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/not valid/);
  });

  it('403 when the token lacks the scope, or the task is someone else’s', async () => {
    const reader = await devbot.client('reader', ['tasks:read']);
    const res = await reader.createTask({ kind: 'question', prompt: 'x' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'forbidden' });
    const mine = await devbot.api.createTask({ kind: 'question', prompt: 'private' });
    const bob = await devbot.client('bob');
    expect((await bob.getTask(mine.body.id)).status).toBe(403);
    expect((await bob.request('POST', `/tasks/${mine.body.id}/cancel`)).status).toBe(403);
    const spoof = await bob.createTask({ prompt: 'x', source: 'telegram' });
    expect(spoof.status).toBe(403);
    await devbot.api.request('POST', `/tasks/${mine.body.id}/cancel`);
  });

  it('400 for a body that is not JSON, fails the schema, or has unknown fields', async () => {
    const notJson = await devbot.api.createTask('{"prompt":', {});
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatchObject({ error: 'invalid_body', message: 'the body must be JSON' });
    const empty = await devbot.api.createTask({});
    expect(empty.status).toBe(400);
    expect(empty.body.message).toMatch(/prompt/);
    const badKind = await devbot.api.createTask({ kind: 'rm-rf', prompt: 'x' });
    expect(badKind.status).toBe(400);
    expect(badKind.body.message).toMatch(/kind/);
    expect((await devbot.api.createTask({ prompt: 'x', surprise: 1 })).status).toBe(400);
    expect((await devbot.api.createTask({ prompt: 'x', repo: 'not a repo' })).status).toBe(400);
    // `.` and `..` as owner or name would walk API paths and the mirror cache (issue 13, finding 22).
    for (const repo of ['../x', 'acme/..', './.', 'acme/.'])
      expect((await devbot.api.createTask({ prompt: 'x', repo })).body.message).toMatch(
        /cannot be \. or \.\./,
      );
    expect(
      (await devbot.api.createTask({ kind: 'shell', command: 'x', preview: { port: 70000 } })).status,
    ).toBe(400);
  });

  it("400 for input keys the task's kind does not take, naming the key and the ones it takes", async () => {
    const before = (await devbot.api.request('GET', '/tasks?limit=500')).body.tasks.length;
    const refused: [unknown, RegExp][] = [
      [
        { kind: 'question', prompt: 'x', input: { surprise: 1 } },
        /^input\.surprise: is not an input of question tasks \(they take context\)$/,
      ],
      // A key of another kind is not this kind's.
      [
        { kind: 'shell', command: 'ls', input: { prNumber: 1 } },
        /^input\.prNumber: is not an input of shell tasks \(they take command, preview\)$/,
      ],
      [{ kind: 'question', command: 'ls' }, /^command: is not an input of question tasks/],
      [
        { kind: 'followup', prompt: 'x', input: { prNumber: 1, push: 'anywhere' } },
        /^input\.push: is not an input of followup tasks \(they take instruction, prNumber, branch, context, mode\)$/,
      ],
      [{ kind: 'followup', prompt: 'x', input: { prNumber: -1 } }, /^input\.prNumber: /],
      [{ kind: 'followup', prompt: 'x', input: { mode: 'merge' } }, /^input\.mode: /],
      [{ kind: 'question', prompt: 'x', input: { context: [{ body: 1 }] } }, /^input\.context/],
      // `auto` may become any kind this deployment runs: their keys, and nothing else.
      [{ prompt: 'x', input: { nope: true } }, /^input\.nope: is not an input of auto tasks \(they take /],
    ];
    for (const [body, message] of refused) {
      const res = await devbot.api.createTask(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.message).toMatch(message);
    }
    expect((await devbot.api.request('GET', '/tasks?limit=500')).body.tasks.length).toBe(before);
    const auto = await devbot.api.createTask({ prompt: 'x', input: { context: 'c', prNumber: 3 } });
    expect(auto.status).toBe(202);
    expect((await devbot.api.getTask(auto.body.id)).body.input).toEqual({ context: 'c', prNumber: 3 });
    await devbot.api.request('POST', `/tasks/${auto.body.id}/cancel`);
  });

  it("a service token, even an admin one, cannot forge a task's origin or set devbot's own input keys", async () => {
    // What an operator would give a bot process that calls the API: it still speaks as `api`.
    const bot = await devbot.client('telegram-bot', ['tasks:read', 'tasks:write', 'admin']);
    const before = (await bot.request('GET', '/tasks?limit=500')).body.tasks.length;
    for (const forged of [
      { kind: 'shell', command: 'id', source: 'telegram' },
      { kind: 'shell', command: 'id', origin: { chatId: 42 } },
      { kind: 'shell', command: 'id', requester: 'tg:42' },
    ]) {
      const res = await bot.createTask(forged);
      expect(res.status, JSON.stringify(forged)).toBe(403);
      expect(res.body.message).toMatch(/set by devbot, not by API callers/);
    }
    for (const [kind, input] of [
      ['shell', { chatSandbox: true }],
      ['followup', { prNumber: 1, ciFix: { attempt: 1, max: 2, check: 'ci' } }],
      ['followup', { skipApproval: true }],
      ['followup', { approvedPlan: { steps: ['push'], files: [] } }],
      ['followup', { revisions: ['push it'] }],
    ] as const) {
      const res = await bot.createTask({
        kind,
        prompt: 'x',
        ...(kind === 'shell' ? { command: 'id' } : {}),
        input,
      });
      expect(res.status, JSON.stringify(input)).toBe(400);
      expect(res.body.message).toMatch(/^input\.\w+: is set by .*, not by API callers/);
    }
    // The same keys through JSON's own tricks. `constructor`, case variants and a top-level
    // `__proto__` are refused; `__proto__` in input never becomes a key or a prototype (zod drops
    // it): the task is a plain one.
    const post = (raw: string) =>
      fetch(`${devbot.app.url}/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bot.token}`, 'content-type': 'application/json' },
        body: raw,
      });
    for (const raw of [
      '{"kind":"followup","prompt":"x","input":{"prNumber":1,"constructor":{"prototype":{"skipApproval":true}}}}',
      '{"kind":"followup","prompt":"x","input":{"prNumber":1,"SkipApproval":true}}',
      '{"kind":"Followup","prompt":"x","input":{"prNumber":1}}',
      '{"kind":"shell","command":"id","__proto__":{"source":"telegram","requester":"tg:42"}}',
    ])
      expect((await post(raw)).status, raw).toBe(400);
    for (const raw of ['{"kind":"shell","command":"id","input":{"__proto__":{"chatSandbox":true}}}']) {
      const res = await post(raw);
      expect(res.status, raw).toBe(202);
      const { id } = (await res.json()) as { id: string };
      const task = (await bot.getTask(id)).body;
      expect(task).toMatchObject({ source: 'api', requester: 'telegram-bot', input: { command: 'id' } });
      expect(Object.keys(task.input)).toEqual(['command']);
      await bot.request('POST', `/tasks/${id}/cancel`);
    }
    expect(({} as Record<string, unknown>)['chatSandbox']).toBeUndefined();
    expect((await bot.request('GET', '/tasks?limit=500')).body.tasks.length).toBe(before + 1);
  });

  it('413 over the body limit, and nothing is created', async () => {
    const before = (await devbot.api.request('GET', '/tasks?limit=500')).body.tasks.length;
    const res = await devbot.api.createTask({ prompt: 'x'.repeat(5000) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'payload_too_large' });
    expect((await devbot.api.request('GET', '/tasks?limit=500')).body.tasks.length).toBe(before);
  });

  it('413 for a chunked body (no Content-Length) that grows past the limit', async () => {
    const chunk = new TextEncoder().encode(`{"prompt":"${'y'.repeat(1500)}`);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await fetch(`${devbot.app.url}/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${devbot.api.token}`, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: 'payload_too_large' });
  });

  it('404 for unknown tasks and routes, 409 cancelling an ended task', async () => {
    expect((await devbot.api.getTask('00000000-0000-0000-0000-000000000000')).status).toBe(404);
    expect((await devbot.api.getTask('not-a-uuid')).status).toBe(404);
    const unknown = await devbot.api.request('GET', '/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: 'not_found' });
    const failing = await devbot.api.createTask({ kind: 'shell', command: 'false' });
    await devbot.api.waitForEnd(failing.body.id);
    const again = await devbot.api.request('POST', `/tasks/${failing.body.id}/cancel`);
    expect(again.status).toBe(409);
  });

  it('answers every request with a request id, keeping a sane incoming one', async () => {
    const own = await devbot.api.request('GET', '/tasks', undefined, { 'x-request-id': 'trace-123' });
    expect(own.headers.get('x-request-id')).toBe('trace-123');
    const bad = await devbot.api.request('GET', '/tasks', undefined, {
      'x-request-id': 'no spaces <allowed>',
    });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('the same Idempotency-Key twice is one task; keys are per requester', async () => {
    const a = await devbot.api.createTask({ kind: 'question', prompt: 'once' }, { 'idempotency-key': 'abc' });
    const b = await devbot.api.createTask({ kind: 'question', prompt: 'once' }, { 'idempotency-key': 'abc' });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body.id).toBe(a.body.id);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    const carol = await devbot.client('carol');
    const c = await carol.createTask({ kind: 'question', prompt: 'once' }, { 'idempotency-key': 'abc' });
    expect(c.body.id).not.toBe(a.body.id);
    for (const id of [a.body.id, c.body.id]) await devbot.api.request('POST', `/tasks/${id}/cancel`);
  });

  it('lists only the caller’s tasks, filtered by status; admins see all', async () => {
    const dave = await devbot.client('dave');
    const t = await dave.createTask({ kind: 'shell', command: 'x' });
    await dave.waitForEnd(t.body.id);
    const list = await dave.request('GET', '/tasks?status=failed');
    expect(list.body.tasks.map((x: { id: string }) => x.id)).toEqual([t.body.id]);
    expect((await dave.request('GET', '/tasks?status=bogus')).status).toBe(400);
    const admin = await devbot.client('root', ['admin']);
    const all = await admin.request('GET', '/tasks?limit=500');
    expect(all.body.tasks.length).toBeGreaterThan(1);
  });

  it('pages with ?before=<next> without gaps or repeats, and filters by repo', async () => {
    const erin = await devbot.client('erin');
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1)
      ids.push((await erin.createTask({ kind: 'shell', command: `x${i}` })).body.id);
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const page = await erin.request('GET', `/tasks?limit=2${next ? `&before=${next}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.tasks.map((t: { id: string }) => t.id));
      next = page.body.next;
    } while (next);
    // Every task once (tasks created in one batch share a timestamp: the id orders those).
    expect(seen).toHaveLength(5);
    expect([...seen].sort()).toEqual([...ids].sort());
    expect((await erin.request('GET', '/tasks?repo=acme/none')).body).toEqual({ tasks: [], next: null });
    expect((await erin.request('GET', '/tasks?repo=../x')).status).toBe(400);
    expect((await erin.request('GET', '/tasks?before=nope')).status).toBe(400);
  });

  it('cancels a running task: its handler is aborted and it ends cancelled', async () => {
    const created = await devbot.api.createTask({ kind: 'question', prompt: 'wait' });
    const id = created.body.id;
    const start = Date.now();
    while (!gate.has(id) && Date.now() - start < 10_000) await new Promise((r) => setTimeout(r, 20));
    expect(gate.has(id)).toBe(true);
    const res = await devbot.api.request('POST', `/tasks/${id}/cancel`);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('cancelled');
    const ended = await devbot.api.waitForEnd(id);
    expect(ended.status).toBe('cancelled');
    gate.release(id);
    await new Promise((r) => setTimeout(r, 200));
    const events = (await devbot.api.getTask(id)).body.events.map((e: { type: string }) => e.type);
    expect(events.filter((t: string) => t === 'task.cancelled')).toHaveLength(1);
    expect(events).not.toContain('task.succeeded');
  });
});

describe('rate limiting', () => {
  let devbot: TestDevbot;
  beforeAll(async () => {
    devbot = await startTestDevbot({ env: { DEVBOT_RATE_LIMIT: '3' } });
  });
  afterAll(async () => devbot?.stop());

  it('429 with Retry-After once a requester exceeds DEVBOT_RATE_LIMIT a minute; others unaffected', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await devbot.api.request('GET', '/tasks')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await devbot.api.request('GET', '/tasks');
    expect(limited.body).toMatchObject({ error: 'rate_limited' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const other = await devbot.client('someone-else');
    expect((await other.request('GET', '/tasks')).status).toBe(200);
  });
});
