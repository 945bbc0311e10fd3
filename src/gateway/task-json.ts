import type { Task, TaskEvent } from '../core/index.js';

/** The API's view of a task: everything but internal bookkeeping. */
export function taskJson(task: Task) {
  return {
    id: task.id,
    source: task.source,
    kind: task.kind,
    status: task.status,
    requester: task.requester,
    repo: task.repo,
    prompt: task.prompt,
    input: task.input,
    origin: task.origin,
    branch: task.branch,
    prUrl: task.prUrl,
    previewUrl: task.previewUrl,
    resultSummary: task.resultSummary,
    result: task.result,
    error: task.error,
    usage: task.usage,
    attempts: task.attempts,
    createdAt: task.createdAt.toISOString(),
    startedAt: task.startedAt?.toISOString() ?? null,
    finishedAt: task.finishedAt?.toISOString() ?? null,
  };
}

export function eventJson(event: TaskEvent) {
  return { seq: event.seq, at: event.at.toISOString(), type: event.type, data: event.data };
}
