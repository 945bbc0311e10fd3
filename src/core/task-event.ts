/**
 * The one progress vocabulary. Every surface (Telegram, GitHub, WebSocket, logs) renders from these.
 * `seq` is per task, starts at 1 and has no gaps.
 */
export const TASK_EVENT_TYPES = [
  'task.created',
  'task.queued',
  'task.started',
  'task.routed',
  'task.retrying',
  'task.succeeded',
  'task.failed',
  'task.cancelled',
  'step', // a phase change: { phase, message }
  'log', // a line of narrative: { message }
  'output', // command output: { stream: 'stdout'|'stderr', text }
  'command.started', // { command }
  'command.finished', // { command, exitCode, durationMs, truncated }
  'preview_ready', // { url, port }
  'preview_closed', // { reason }
  'tool_call', // { tool, args }
  'tool_result', // { tool, ok, summary }
  'llm', // { role, tokensIn, tokensOut }
  'git', // { action, ... }
  'pr_opened', // { url, number }
  'result', // the handler's structured result
] as const;

export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

export const TERMINAL_EVENT_TYPES: readonly string[] = ['task.succeeded', 'task.failed', 'task.cancelled'];

export interface TaskEvent {
  taskId: string;
  seq: number;
  at: Date;
  type: TaskEventType;
  data: Record<string, unknown>;
}

export interface NewTaskEvent {
  type: TaskEventType;
  data?: Record<string, unknown>;
}

export function isTerminalEvent(event: Pick<TaskEvent, 'type'>): boolean {
  return TERMINAL_EVENT_TYPES.includes(event.type);
}
