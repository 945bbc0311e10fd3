import { describe, expect, it } from 'vitest';
import type { Task, TaskEvent } from '../../src/core/index.js';
import { memoriesForTask, memoryScope } from '../../src/memory/task-memories.js';
import { makeTask } from '../fakes/llm/recording-context.js';

const ID = '0b7a6f0e-3c55-4a57-9f43-0a1a6c9b1d10';

function task(overrides: Partial<Task>): Task {
  return makeTask({
    id: ID,
    requester: 'alice',
    repo: 'acme/web',
    prompt: 'add a dark-mode toggle',
    status: 'succeeded',
    branch: 'devbot/dark-mode',
    prUrl: 'https://github.com/acme/web/pull/7',
    resultSummary: 'Added the toggle',
    finishedAt: new Date(),
    ...overrides,
  });
}

let seq = 0;
function event(type: TaskEvent['type'], data: Record<string, unknown> = {}): TaskEvent {
  seq += 1;
  return { taskId: ID, seq, at: new Date(), type, data } as TaskEvent;
}

describe('memoriesForTask', () => {
  it('saves summary, plan, files and verifying commands of a successful dev task from its result', () => {
    const saved = memoriesForTask(
      task({
        result: {
          summary: 'Added a dark-mode toggle to the header',
          plan: ['add toggle component', 'wire it into the header'],
          changed: ['src/theme/toggle.tsx', 'src/header.tsx'],
          checks: [
            { kind: 'test', command: 'npm test', exitCode: 0 },
            { kind: 'lint', command: 'npm run lint', exitCode: 0 },
          ],
        },
      }),
      [event('task.succeeded')],
    );
    expect(saved.map((m) => m.kind)).toEqual(['task', 'commands']);
    const [main, commands] = saved;
    expect(main?.content).toContain('Task: add a dark-mode toggle');
    expect(main?.content).toContain('Outcome: Added a dark-mode toggle to the header');
    expect(main?.content).toContain('Plan: 1. add toggle component 2. wire it into the header');
    expect(main?.content).toContain('Files changed: src/theme/toggle.tsx, src/header.tsx');
    expect(main?.content).toContain('Verified with: npm test; npm run lint');
    expect(main?.dedupeKey).toBe(`${ID}:task`);
    expect(main?.repo).toBe('acme/web');
    expect(commands?.content).toContain('npm test; npm run lint');
  });

  it('falls back to the events when the result has no structure', () => {
    const [main] = memoriesForTask(task({ result: null }), [
      event('log', { message: 'Plan: 1. read the header 2. add the toggle' }),
      event('tool_call', { tool: 'write_file', args: { path: 'src/toggle.tsx' } }),
      event('command.finished', { command: 'npm test', exitCode: 1 }),
      event('command.finished', { command: 'npm test', exitCode: 0 }),
      event('task.succeeded'),
    ]);
    expect(main?.content).toContain('Outcome: Added the toggle');
    expect(main?.content).toContain('Plan: 1. read the header 2. add the toggle');
    expect(main?.content).toContain('Files changed: src/toggle.tsx');
    expect(main?.content).toContain('Verified with: npm test');
  });

  it('saves what the reviewer asked for after a follow-up', () => {
    const saved = memoriesForTask(
      task({
        kind: 'followup',
        prompt: 'please rename the prop to `enabled`',
        input: { context: [{ author: 'bob', body: 'also add a test for the toggle' }] },
      }),
      [event('task.succeeded')],
    );
    const review = saved.find((m) => m.kind === 'review');
    expect(review?.content).toContain('A reviewer asked: please rename the prop to `enabled`');
    expect(review?.content).toContain('also add a test for the toggle');
  });

  it('saves a failed task as a lesson, with the failing commands', () => {
    const [lesson] = memoriesForTask(
      task({ status: 'failed', error: 'checks still failed after 3 rounds', result: null }),
      [
        event('command.finished', { command: 'npm run typecheck', exitCode: 2 }),
        event('task.failed', { code: 'error' }),
      ],
    );
    expect(lesson?.kind).toBe('lesson');
    expect(lesson?.content).toContain('What went wrong: checks still failed after 3 rounds');
    expect(lesson?.content).toContain('Failing commands: npm run typecheck');
  });

  it('learns nothing from a failure caused by missing configuration', () => {
    expect(
      memoriesForTask(task({ status: 'failed', error: 'no LLM configured' }), [
        event('task.failed', { code: 'unavailable' }),
      ]),
    ).toEqual([]);
  });

  it('saves chat turns of Telegram tasks, in the chat scope when no repository is bound', () => {
    const t = task({
      source: 'telegram',
      repo: null,
      kind: 'question',
      origin: { chatId: -100123 },
      prompt: 'what is our deploy target?',
      result: { summary: 'The deploy target is fly.io.', reply: 'fly.io' },
    });
    expect(memoryScope(t)).toBe('chat:-100123');
    const saved = memoriesForTask(t, [event('task.succeeded')]);
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ kind: 'chat', repo: 'chat:-100123' });
    expect(saved[0]?.content).toBe('User (alice): what is our deploy target?\ndevbot: fly.io');
  });

  it('saves nothing for a task with neither repository nor chat', () => {
    expect(memoriesForTask(task({ repo: null, kind: 'shell' }), [event('task.succeeded')])).toEqual([]);
  });
});
