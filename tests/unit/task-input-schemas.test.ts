/**
 * Each kind's handler is registered with the `input` it takes from API callers (issue 13): the
 * table the gateway validates against, built without running any handler.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildHandlerTable, inputSchemaOf } from '../../src/app/handler-table.js';
import { INTERNAL_INPUT_KEYS, TASK_INPUT_SCHEMAS, type TaskHandler } from '../../src/core/index.js';
import { inputProblems } from '../../src/gateway/task-routes.js';

const never: TaskHandler = async () => {
  throw new Error('building the table runs no handler');
};

describe('the input schema of each kind', () => {
  it('takes none of the keys only devbot sets', () => {
    for (const [kind, schema] of Object.entries(TASK_INPUT_SCHEMAS))
      for (const key of Object.keys(INTERNAL_INPUT_KEYS))
        expect(Object.keys(schema.shape), `${kind} takes ${key}`).not.toContain(key);
  });

  it('registers the documented input with a handler, and a stand-in with its own', () => {
    const own = TASK_INPUT_SCHEMAS.question.extend({ steps: z.number().optional() });
    const table = buildHandlerTable(
      {
        shell: never,
        question: never,
        repoTask: { handle: never, input: { dev: TASK_INPUT_SCHEMAS.dev.extend({ command: z.string() }) } },
      },
      { question: { handle: never, input: own }, shell: never },
    );
    expect(table.shell?.input).toBe(TASK_INPUT_SCHEMAS.shell);
    expect(table.question?.input).toBe(own);
    expect(Object.keys(table.dev?.input.shape ?? {})).toContain('command');
    expect(table.followup?.input).toBe(TASK_INPUT_SCHEMAS.followup);
  });

  it('has no schema for a kind without a handler; auto takes the keys of every kind it may become', () => {
    const table = buildHandlerTable({ shell: never, question: never, repoTask: null });
    const schemaOf = inputSchemaOf(table);
    expect(schemaOf('dev')).toBeNull();
    expect(Object.keys(schemaOf('auto')?.shape ?? {}).sort()).toEqual(['command', 'context', 'preview']);
    // A repository host set up while devbot runs adds its kinds, and auto follows.
    table.followup = { handle: never, input: TASK_INPUT_SCHEMAS.followup };
    expect(Object.keys(schemaOf('auto')?.shape ?? {})).toContain('prNumber');
  });

  it('names an unknown key with the keys the kind takes, and a bad type by its path', () => {
    expect(inputProblems('shell', TASK_INPUT_SCHEMAS.shell, { command: 'ls' })).toBeNull();
    expect(inputProblems('shell', TASK_INPUT_SCHEMAS.shell, { command: 'ls', x: 1 } as never)).toBe(
      'input.x: is not an input of shell tasks (they take command, preview)',
    );
    expect(
      inputProblems('question', TASK_INPUT_SCHEMAS.question, { command: 'ls' }, new Set(['command'])),
    ).toMatch(/^command: is not an input of question tasks/);
    expect(
      inputProblems('followup', TASK_INPUT_SCHEMAS.followup, { context: [{ body: 'a', who: 'b' }] } as never),
    ).toMatch(/^input\.context/);
    expect(inputProblems('shell', TASK_INPUT_SCHEMAS.shell, { preview: { port: 0 } })).toMatch(
      /^input\.preview\.port: /,
    );
  });
});
