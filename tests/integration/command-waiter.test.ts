/**
 * The waiting side of command approval (issue 18) on the real SQL store (PGlite): a decision another
 * process records wakes the wait through the task's live events; a lost live message is made up by
 * the slow poll; no answer in time is a deny recorded once, with its event; a cancel ends the wait at
 * once; "Allow for this task" lets the same (normalized) command through without asking; a decision
 * after the task ended is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelledError,
  type CommandApprovalRequest,
  type EventBus,
  type TaskEvent,
} from '../../src/core/index.js';
import type { SqlClient } from '../../src/core/sql-client.js';
import { SqlCommandApprovalStore } from '../../src/store/sql-command-approval-store.js';
import { SqlTaskStore } from '../../src/store/sql-task-store.js';
import { type CommandWaiterDeps, waitForCommandApproval } from '../../src/worker/command-waiter.js';
import { openTestPglite } from '../helpers/pglite-template.js';

/** The EventBus's tail at its port: what `publish` gets is yielded to every tail of that task. */
function memoryBus(options: { drop?: boolean } = {}) {
  const listeners = new Set<(e: TaskEvent) => void>();
  const bus: Pick<EventBus, 'tail' | 'publish'> = {
    async publish(event) {
      if (!options.drop) for (const l of listeners) l(event);
    },
    async *tail(taskId, afterSeq, signal) {
      const queue: TaskEvent[] = [];
      let wake: (() => void) | null = null;
      const listener = (e: TaskEvent) => {
        if (e.taskId === taskId && e.seq > afterSeq) queue.push(e);
        wake?.();
      };
      listeners.add(listener);
      signal.addEventListener('abort', () => wake?.(), { once: true });
      try {
        while (!signal.aborted) {
          const next = queue.shift();
          if (next) yield next;
          else await new Promise<void>((r) => (wake = r));
        }
      } finally {
        listeners.delete(listener);
      }
    },
  };
  return bus;
}

let sql: SqlClient & { close(): Promise<void> };
let tasks: SqlTaskStore;
let commands: SqlCommandApprovalStore;

beforeAll(async () => {
  sql = await openTestPglite();
  tasks = new SqlTaskStore(sql);
  commands = new SqlCommandApprovalStore(sql);
}, 30_000);
afterAll(async () => sql?.close());

async function runningTask(): Promise<string> {
  const { task } = await tasks.createTask({
    source: 'api',
    requester: 'alice',
    kind: 'dev',
    prompt: 'p',
    input: {},
    origin: {},
  });
  await tasks.markRunning(task.id);
  return task.id;
}

const request = (command: string): CommandApprovalRequest => ({
  command,
  normalized: command.replace(/\s+/g, ' ').trim(),
  reasons: 'uses the network (curl http://x)',
});

function deps(bus: ReturnType<typeof memoryBus>, over: Partial<CommandWaiterDeps> = {}) {
  const published: TaskEvent[] = [];
  const reported: TaskEvent[] = [];
  const d: CommandWaiterDeps = {
    commands,
    events: tasks,
    bus,
    timeoutMs: 60_000,
    pollMs: 60_000,
    publish: async (e) => {
      published.push(e);
      await bus.publish(e);
    },
    report: async (e) => {
      reported.push(e);
    },
    ...over,
  };
  return { d, published, reported };
}

/** Resolves with the open request once the waiter has asked. */
async function asked(taskId: string) {
  for (let i = 0; i < 200; i++) {
    const [open] = await commands.open(taskId);
    if (open) return open;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no request');
}

describe('waiting for a command decision', () => {
  it('a decision recorded elsewhere wakes the wait through the live events, within a second', async () => {
    const taskId = await runningTask();
    const bus = memoryBus();
    const { d, published, reported } = deps(bus);
    const verdict = waitForCommandApproval(d, taskId, new AbortController().signal, request('curl http://x'));
    const open = await asked(taskId);
    const started = Date.now();
    // Another process: the store decides, the bus carries the event.
    const decided = await commands.decide(taskId, open.id, { decision: 'denied', by: 'tg:1' });
    await bus.publish(decided!.event);
    expect(await verdict).toEqual({ allowed: false, decision: 'denied', by: 'tg:1' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(published.map((e) => e.type)).toEqual(['command.approval_requested']);
    expect(reported.map((e) => e.type)).toEqual(['command.approval_decided']);
    // Decided once: a second answer changes nothing.
    expect(await commands.decide(taskId, open.id, { decision: 'allowed_once', by: 'tg:1' })).toBeNull();
  });

  it('a lost live message is made up by the poll; "Allow for this task" then lets the same command through', async () => {
    const taskId = await runningTask();
    const bus = memoryBus({ drop: true });
    const { d } = deps(bus, { pollMs: 50 });
    const verdict = waitForCommandApproval(d, taskId, new AbortController().signal, request('npm install'));
    const open = await asked(taskId);
    await commands.decide(taskId, open.id, { decision: 'allowed_task', by: 'gh:bob' });
    expect(await verdict).toMatchObject({ allowed: true, decision: 'allowed_task' });
    const again = await waitForCommandApproval(
      d,
      taskId,
      new AbortController().signal,
      request('npm   install'),
    );
    expect(again).toMatchObject({ allowed: true, decision: 'allowed_task' });
    expect(await commands.open(taskId)).toEqual([]);
    // Another command still asks.
    const other = waitForCommandApproval(
      d,
      taskId,
      new AbortController().signal,
      request('npm install left-pad'),
    );
    const second = await asked(taskId);
    expect(second.command).toBe('npm install left-pad');
    await commands.decide(taskId, second.id, { decision: 'allowed_once', by: 'gh:bob' });
    expect(await other).toMatchObject({ allowed: true, decision: 'allowed_once' });
  });

  it('no answer in time is a deny, recorded once with its event', async () => {
    const taskId = await runningTask();
    const { d, published } = deps(memoryBus(), { timeoutMs: 100 });
    const verdict = await waitForCommandApproval(
      d,
      taskId,
      new AbortController().signal,
      request('git push'),
    );
    expect(verdict).toEqual({ allowed: false, decision: 'expired', by: 'devbot' });
    expect(published.map((e) => e.type)).toEqual(['command.approval_requested', 'command.approval_decided']);
    const events = await tasks.listEvents(taskId, 0, ['command.approval_decided']);
    expect(events.map((e) => e.data)).toMatchObject([
      { decision: 'expired', by: 'devbot', command: 'git push' },
    ]);
  });

  it('a cancel ends the wait at once; a task that no longer runs cannot ask', async () => {
    const taskId = await runningTask();
    const { d } = deps(memoryBus());
    const controller = new AbortController();
    const verdict = waitForCommandApproval(d, taskId, controller.signal, request('rm -rf /'));
    await asked(taskId);
    const started = Date.now();
    controller.abort(new CancelledError());
    await expect(verdict).rejects.toBeInstanceOf(CancelledError);
    expect(Date.now() - started).toBeLessThan(200);
    await tasks.finishTask(taskId, 'cancelled', {}, { by: 'alice' });
    await expect(
      waitForCommandApproval(d, taskId, new AbortController().signal, request('rm -rf ~')),
    ).rejects.toBeInstanceOf(CancelledError);
  });
});
