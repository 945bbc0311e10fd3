/**
 * Security review (issue 13), finding 3: a command that printed a NUL byte lost its output, was run
 * three times and the task failed (PostgreSQL refuses U+0000 in jsonb and text). Output is bytes:
 * the store keeps each NUL as U+FFFD. A shell task in a real local sandbox on PostgreSQL now runs
 * once, succeeds, and its output is readable from the API and the stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';

describe('a command that prints a NUL byte, on PostgreSQL', () => {
  let devbot: TestDevbot;

  beforeAll(async () => {
    devbot = await startTestDevbot({
      backend: 'postgres',
      env: { DEVBOT_TASK_ATTEMPTS: '3', DEVBOT_RETRY_BACKOFF_MS: '50' },
    });
  }, 60_000);
  afterAll(async () => devbot?.stop());

  it('succeeds on the first run; its output event reads a\\ufffdb', async () => {
    const created = await devbot.api.createTask({ kind: 'shell', command: "printf 'a\\0b'" });
    expect(created.status).toBe(202);
    const { events, code } = await devbot.api.stream(created.body.id);
    expect(code).toBe(1000);
    expect(events.map((e) => e.type)).not.toContain('task.retrying');
    expect(events.at(-1)?.type).toBe('task.succeeded');
    const printed = events
      .filter((e) => e.type === 'output')
      .map((e) => e.data['text'])
      .join('');
    expect(printed).toBe('a\ufffdb');

    const task = (await devbot.api.getTask(created.body.id)).body;
    expect(task).toMatchObject({ status: 'succeeded', attempts: 1, error: null });
    expect(task.result.output).toBe('a\ufffdb');
    const started = task.events.filter((e: { type: string }) => e.type === 'command.started');
    expect(started).toHaveLength(1);
  }, 60_000);
});
