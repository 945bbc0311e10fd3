/**
 * The seed flow end to end: POST /tasks a shell command that serves a page, follow the WebSocket
 * stream, fetch the preview URL through the gateway, check the page, the events and the status.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskEventType } from '../../src/core/index.js';
import { taskEventSchemas, taskSchema } from '../../src/gateway/api-schemas.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';

const SEED = 'echo "Hello from devbot" > index.html && python3 -m http.server 8000';

describe('MVP: a shell task serves a page at a preview URL', () => {
  let devbot: TestDevbot;

  beforeAll(async () => {
    devbot = await startTestDevbot({
      env: { DEVBOT_PREVIEW_TTL: '60', DEVBOT_SANDBOX_TIMEOUT_MS: '3000', DEVBOT_SANDBOX_MAX_PROCS: '64' },
    });
  });

  afterAll(async () => {
    await devbot?.stop();
  });

  it('runs the seed command and the preview URL returns the page', async () => {
    const posted = Date.now();
    const res = await devbot.api.createTask({ kind: 'shell', command: SEED, preview: { port: 8000 } });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    const { events } = await devbot.api.stream(id);
    const types = events.map((e) => e.type);
    const ready = events.find((e) => e.type === 'preview_ready');
    expect(ready, `events: ${types.join(', ')}`).toBeDefined();
    const url = ready!.data['url'] as string;
    expect(url).toMatch(new RegExp(`^${devbot.app.url}/preview/[A-Za-z0-9_-]{22}/$`));
    expect(ready!.data['port']).toBe(8000);

    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe('Hello from devbot\n');

    // The order the UI relies on: created ... started, command.started, preview_ready, succeeded.
    const order = ['task.created', 'task.started', 'command.started', 'preview_ready', 'task.succeeded'];
    const positions = order.map((t) => types.indexOf(t));
    expect(
      positions.every((p) => p >= 0),
      types.join(', '),
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(types.at(-1)).toBe('task.succeeded');
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    // Each streamed event fits its component in the OpenAPI document (GET /openapi.json).
    for (const e of events) {
      const schema = taskEventSchemas[e.type as TaskEventType];
      expect(schema?.safeParse(e).error, JSON.stringify(e)).toBeUndefined();
    }

    const task = (await devbot.api.getTask(id)).body;
    expect(taskSchema.safeParse(task).error).toBeUndefined();
    expect(task.status).toBe('succeeded');
    expect(task.previewUrl).toBe(url);
    const readyAt = Date.parse(String((ready as { at?: unknown }).at ?? ''));
    console.info(`POST /tasks -> preview_ready: ${Number.isNaN(readyAt) ? 'n/a' : readyAt - posted} ms`);

    const metrics = await (await fetch(`${devbot.app.url}/metrics`)).text();
    expect(metrics).toMatch(/devbot_previews_active 1/);
    expect(metrics).toMatch(/devbot_sandbox_start_seconds_count\{provider="local"\} 1/);
  });

  it('fails a command that exits non-zero, with its code and output', async () => {
    const res = await devbot.api.createTask({ kind: 'shell', command: 'echo boom >&2; exit 3' });
    const task = await devbot.api.waitForEnd(res.body.id as string);
    expect(task.status).toBe('failed');
    expect(task.error).toContain('exited with code 3');
    expect(task.error).toContain('boom');
    const { events } = await devbot.api.stream(res.body.id as string);
    const finished = events.find((e) => e.type === 'command.finished');
    expect(finished?.data).toMatchObject({ exitCode: 3 });
    expect(events.some((e) => e.type === 'output' && String(e.data['text']).includes('boom'))).toBe(true);
  });

  it('cancelling a running shell task kills its command', async () => {
    const marker = `devbot-cancel-${Date.now()}`;
    const res = await devbot.api.createTask({ kind: 'shell', command: `echo ${marker}; exec sleep 1000` });
    const id = res.body.id as string;
    const streamed = devbot.api.stream(id);
    await waitUntil(async () => {
      const task = (await devbot.api.getTask(id)).body;
      return (task.events ?? []).some((e: { type: string }) => e.type === 'output');
    });
    expect(hostProcesses('sleep 1000')).toBeGreaterThan(0);
    const cancel = await devbot.api.request('POST', `/tasks/${id}/cancel`);
    expect(cancel.status).toBeLessThan(300);
    const { events } = await streamed;
    expect(events.at(-1)?.type).toBe('task.cancelled');
    expect((await devbot.api.getTask(id)).body.status).toBe('cancelled');
    await waitUntil(async () => hostProcesses('sleep 1000') === 0);
  });

  it('ends a fork bomb at the time limit and stays healthy', async () => {
    const res = await devbot.api.createTask({
      kind: 'shell',
      // The bomb goes off in a subshell and the command's own shell becomes the sleep (exec): once
      // the bomb holds every process the sandbox's cgroup allows, a shell that still had to fork
      // would fail with "Cannot fork" before the time limit (contained either way).
      command: '(bomb() { bomb | bomb & }; bomb) & exec sleep 100',
    });
    const task = await devbot.api.waitForEnd(res.body.id as string, 30_000);
    expect(task.status).toBe('failed');
    expect(task.error).toMatch(/ran out of time/);
    expect((await fetch(`${devbot.app.url}/healthz`)).status).toBe(200);
    const after = await devbot.api.createTask({ kind: 'shell', command: 'echo still fine' });
    const done = await devbot.api.waitForEnd(after.body.id as string);
    expect(done.status).toBe('succeeded');
  });

  it('answers 404 for an unknown preview token', async () => {
    const res = await fetch(`${devbot.app.url}/preview/not-a-real-token/`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found' });
  });
});

function hostProcesses(args: string): number {
  const out = execFileSync('ps', ['-e', '-o', 'args='], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.trim() === args).length;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
