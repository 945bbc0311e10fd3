import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BadInputError, type KindHandler, TASK_INPUT_SCHEMAS } from '../../src/core/index.js';
import { type Backend, startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';

const SECRET = 'sk-test-0123456789abcdef-secret';

/** The input keys the stand-in reads: it registers them with itself, as a handler does. */
const scriptedInput = TASK_INPUT_SCHEMAS.question.extend({
  steps: z.number().int().min(0).optional(),
  failTimes: z.number().int().min(0).optional(),
  permanent: z.boolean().optional(),
  leak: z.boolean().optional(),
});

/** A handler that behaves per the task's input: emit steps, fail N times, leak a secret. */
const handle: KindHandler['handle'] = async (ctx) => {
  const input = ctx.task.input as { steps?: number; failTimes?: number; permanent?: boolean; leak?: boolean };
  if (input.permanent) throw new BadInputError('the request makes no sense');
  if (ctx.attempt <= (input.failTimes ?? 0)) throw new Error(`flaky failure on attempt ${ctx.attempt}`);
  for (let i = 1; i <= (input.steps ?? 3); i++) {
    await ctx.emit('step', { phase: `step ${i}`, message: input.leak ? `token is ${SECRET}` : `doing ${i}` });
    await new Promise((r) => setTimeout(r, 20));
  }
  await ctx.patch({ branch: 'devbot/42-thing' });
  return { summary: `done after ${ctx.attempt} attempt(s)`, result: { ok: true } };
};
const scripted: KindHandler = { handle, input: scriptedInput };

describe.each<Backend>(['pglite', 'postgres'])('a task through the queue on %s', (backend) => {
  let devbot: TestDevbot;

  beforeAll(async () => {
    devbot = await startTestDevbot({
      backend,
      env: { OPENAI_API_KEY: SECRET, DEVBOT_TASK_ATTEMPTS: '3', DEVBOT_RETRY_BACKOFF_MS: '50' },
      handlers: { question: scripted },
    });
  });
  afterAll(async () => devbot?.stop());

  it('runs a task submitted over HTTP and streams its events over the WebSocket, in order, then closes', async () => {
    const created = await devbot.api.createTask({ kind: 'question', prompt: 'hello', input: { steps: 3 } });
    expect(created.status).toBe(202);
    const { events, code } = await devbot.api.stream(created.body.id);
    expect(code).toBe(1000);
    const types = events.map((e) => e.type);
    expect(types).toEqual(['task.created', 'task.started', 'step', 'step', 'step', 'task.succeeded']);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const task = (await devbot.api.getTask(created.body.id)).body;
    expect(task).toMatchObject({
      status: 'succeeded',
      resultSummary: 'done after 1 attempt(s)',
      branch: 'devbot/42-thing',
      attempts: 1,
    });
    expect(task.events).toHaveLength(6);
  });

  it('resuming the stream with the last seq seen loses and repeats nothing', async () => {
    const created = await devbot.api.createTask({ kind: 'question', prompt: 'resume', input: { steps: 6 } });
    const first = await devbot.api.stream(created.body.id, 0, { stopAfter: 3 });
    const lastSeen = first.events.at(-1)!.seq;
    const rest = await devbot.api.stream(created.body.id, lastSeen);
    const seqs = [...first.events, ...rest.events].map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(rest.events.at(-1)?.type).toBe('task.succeeded');
    // A stream opened after the end replays everything after `after` and closes.
    const late = await devbot.api.stream(created.body.id, 2);
    expect(late.events[0]?.seq).toBe(3);
    expect(late.events.at(-1)?.type).toBe('task.succeeded');
  });

  it('retries a failing handler with backoff, then succeeds', async () => {
    const created = await devbot.api.createTask({
      kind: 'question',
      prompt: 'flaky',
      input: { failTimes: 2 },
    });
    const task = await devbot.api.waitForEnd(created.body.id);
    expect(task.status).toBe('succeeded');
    expect(task.attempts).toBe(3);
    const types = (await devbot.api.getTask(created.body.id)).body.events.map(
      (e: { type: string }) => e.type,
    );
    expect(types.filter((t: string) => t === 'task.retrying')).toHaveLength(2);
    expect(types.filter((t: string) => t === 'task.succeeded')).toHaveLength(1);
  });

  it('fails after the last attempt with the error, and never retries bad input', async () => {
    const flaky = await devbot.api.createTask({ kind: 'question', prompt: 'x', input: { failTimes: 5 } });
    const bad = await devbot.api.createTask({ kind: 'question', prompt: 'x', input: { permanent: true } });
    const flakyEnd = await devbot.api.waitForEnd(flaky.body.id);
    const badEnd = await devbot.api.waitForEnd(bad.body.id);
    expect(flakyEnd).toMatchObject({ status: 'failed', attempts: 3, error: 'flaky failure on attempt 3' });
    expect(badEnd).toMatchObject({ status: 'failed', attempts: 1, error: 'the request makes no sense' });
  });

  it('refuses at submit a kind this deployment cannot run, with what to configure (422)', async () => {
    const dev = await devbot.api.createTask({ kind: 'dev', prompt: 'add dark mode', repo: 'acme/web' });
    expect(dev.status).toBe(422);
    expect(dev.body.message).toMatch(/cannot run dev tasks.*GITHUB_APP_ID.*OPENAI_API_KEY/);
    expect(await devbot.app.runtime.store.listTasks({ requester: 'alice', limit: 500 })).not.toContainEqual(
      expect.objectContaining({ prompt: 'add dark mode' }),
    );
  });

  it('fails an auto task whose LLM is unreachable, saying where it tried and what to check', async () => {
    const auto = await devbot.api.createTask({ prompt: 'what is this?' });
    // The router always exists (rules, then the LLM); this LLM (the default endpoint) cannot be
    // reached from here, and the error says where it tried and what to check.
    expect((await devbot.api.waitForEnd(auto.body.id)).error).toMatch(
      /could not reach the LLM server at https:\/\/api\.openai\.com.*OPENAI_BASE_URL/,
    );
  });

  it('masks known secrets in task events and errors', async () => {
    const created = await devbot.api.createTask({
      kind: 'question',
      prompt: 'leak',
      input: { leak: true, steps: 1 },
    });
    await devbot.api.waitForEnd(created.body.id);
    const body = JSON.stringify((await devbot.api.getTask(created.body.id)).body.events);
    expect(body).not.toContain(SECRET);
    expect(body).toContain('[redacted]');
  });
});
