/** A TaskContext for agent tests: records events and patches, applies patches to the task. */
import type { NewTaskEvent, Task, TaskContext, TaskEvent, TaskPatch } from '../../../src/core/index.js';

export interface RecordingContext extends TaskContext {
  events: TaskEvent[];
  patches: TaskPatch[];
  controller: AbortController;
}

export function makeTask(partial: Partial<Task> = {}): Task {
  const now = new Date();
  return {
    id: partial.id ?? `t-${Math.random().toString(36).slice(2, 10)}`,
    source: 'api',
    origin: {},
    requester: 'api:tester',
    repo: 'acme/small-repo',
    kind: 'dev',
    prompt: 'fix slugify',
    input: {},
    status: 'running',
    idempotencyKey: null,
    branch: null,
    prUrl: null,
    previewUrl: null,
    resultSummary: null,
    result: null,
    error: null,
    usage: {},
    attempts: 1,
    createdAt: now,
    startedAt: now,
    finishedAt: null,
    updatedAt: now,
    ...partial,
  };
}

export function createRecordingContext(task: Task): RecordingContext {
  const events: TaskEvent[] = [];
  const patches: TaskPatch[] = [];
  const controller = new AbortController();
  const ctx: RecordingContext = {
    task,
    events,
    patches,
    controller,
    signal: controller.signal,
    attempt: 1,
    emit: async (
      type: NewTaskEvent['type'],
      data: Record<string, unknown> = {},
      options: { patch?: TaskPatch } = {},
    ) => {
      const event = { taskId: task.id, seq: events.length + 1, at: new Date(), type, data } as TaskEvent;
      events.push(event);
      if (options.patch) {
        patches.push(options.patch);
        Object.assign(ctx.task, options.patch);
      }
      return event;
    },
    patch: async (patch: TaskPatch) => {
      patches.push(patch);
      Object.assign(ctx.task, patch);
    },
  };
  return ctx;
}
