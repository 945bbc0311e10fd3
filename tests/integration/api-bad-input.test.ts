/**
 * Security review (issue 13), finding 2: one request with a NUL byte or deeply nested input failed
 * the task creations of everyone whose request shared its batched INSERT, and got a 500 itself.
 * Through the API on both databases: the bad request gets a 400 naming the field, and the 29
 * concurrent requests of other users are created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TASK_INPUT_SCHEMAS } from '../../src/core/index.js';
import { INPUT_LIMITS } from '../../src/gateway/task-routes.js';
import { type Backend, startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';

/** `levels` objects inside each other: {a: {a: ... 'leaf'}}. */
function nested(levels: number): Record<string, unknown> {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = { a: value };
  return value as Record<string, unknown>;
}

describe.each<Backend>(['pglite', 'postgres'])('bad task input through the API on %s', (backend) => {
  let devbot: TestDevbot;

  beforeAll(async () => {
    devbot = await startTestDevbot({
      backend,
      handlers: {
        // The stand-in takes any value under `a` and `big`, so the limits alone decide.
        question: {
          handle: async () => ({ summary: 'answered' }),
          input: TASK_INPUT_SCHEMAS.question.extend({
            a: z.unknown().optional(),
            big: z.string().optional(),
          }),
        },
        // Follow-ups with the documented input (nothing to push to here).
        followup: async () => ({ summary: 'followed up' }),
      },
    });
  });
  afterAll(async () => devbot?.stop());

  /** 30 users create tasks at once; user 15 sends `bad`. */
  async function thirtyWithOneBad(bad: unknown) {
    const clients = await Promise.all(Array.from({ length: 30 }, (_, i) => devbot.client(`user-${i}`)));
    const answers = await Promise.all(
      clients.map((c, i) => c.createTask(i === 15 ? bad : { kind: 'question', prompt: `job ${i}` })),
    );
    const good = answers.filter((_, i) => i !== 15);
    expect(good.map((a) => a.status)).toEqual(good.map(() => 202));
    for (const a of good)
      expect((await devbot.api.request('GET', `/tasks/${a.body.id}`)).status).not.toBe(500);
    return answers[15]!;
  }

  it.each<[string, unknown, RegExp]>([
    ['a NUL in the prompt', { kind: 'question', prompt: 'a\u0000b' }, /^prompt: must not contain a NUL/],
    [
      'a NUL in the command',
      { kind: 'shell', command: 'printf a\u0000' },
      /^command: must not contain a NUL/,
    ],
    [
      'a NUL in an input value',
      { prompt: 'x', input: { a: { b: ['ok', 'x\u0000'] } } },
      /^input\.a\.b\.1: must not contain a NUL/,
    ],
    [
      'a NUL in an input key',
      { prompt: 'x', input: { 'k\u0000ey': 1 } },
      /^input\.k\\u0000ey: the key must not contain a NUL/,
    ],
    [
      'a lone surrogate in the input',
      { prompt: 'x', input: { s: 'x\ud800' } },
      /^input\.s: must not contain a lone UTF-16 surrogate/,
    ],
    [
      'a NUL in the idempotency key',
      { prompt: 'x', idempotencyKey: 'k\u0000' },
      /^idempotencyKey: must not contain a NUL/,
    ],
    [
      'input nested 9 levels deep',
      { prompt: 'x', input: nested(9) },
      /^input(\.a){8}: nests objects and arrays deeper than 8 levels/,
    ],
    [
      'input over 64 KiB',
      { prompt: 'x', input: { big: 'x'.repeat(70_000) } },
      /^input: is \d+ bytes as JSON; at most 65536/,
    ],
    [
      'a pull request number that is not a number',
      { kind: 'followup', repo: 'acme/app', prompt: 'x', input: { prNumber: '1 OR 1=1' } },
      /^input\.prNumber: Invalid input: expected number/,
    ],
    [
      'a follow-up branch devbot did not make',
      { kind: 'followup', repo: 'local/widgets', prompt: 'x', input: { branch: 'main' } },
      /^input\.branch: must be a branch devbot made/,
    ],
    [
      "a chat's persistent sandbox asked for by an API caller",
      { kind: 'shell', command: 'id', input: { chatSandbox: true } },
      /^input\.chatSandbox: is set by devbot's chat front door, not by API callers/,
    ],
  ])('%s: 400 naming the field; the 29 others are created', async (_what, bad, message) => {
    const answer = await thirtyWithOneBad(bad);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_body');
    expect(answer.body.message).toMatch(message);
  });

  it('refuses a body nested 100 000 levels deep with 400, not a crash', async () => {
    const body = `{"prompt":"x","input":{"v":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    const answer = await thirtyWithOneBad(body);
    expect(answer.status).toBe(400);
    expect(answer.body.message).toMatch(/^input\.v(\.0){7}: nests objects and arrays deeper than 8 levels/);
  });

  it('takes input at the limits: 8 levels and 64 KiB', async () => {
    expect(INPUT_LIMITS).toEqual({ maxDepth: 8, maxBytes: 65_536 });
    const deepest = await devbot.api.createTask({ kind: 'question', prompt: 'x', input: nested(8) });
    expect(deepest.status).toBe(202);
    const filler = 'x'.repeat(65_536 - JSON.stringify({ big: '' }).length);
    const largest = await devbot.api.createTask({ kind: 'question', prompt: 'x', input: { big: filler } });
    expect(largest.status).toBe(202);
    const ended = await devbot.api.waitForEnd(largest.body.id);
    expect(ended.input.big).toHaveLength(filler.length);
  });
});
