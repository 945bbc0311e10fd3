/**
 * The one progress vocabulary. Every surface (Telegram, GitHub, WebSocket, logs, memory) renders
 * from these events, and each event type has exactly one payload type: TaskEventMap below.
 * `seq` is per task, starts at 1 and has no gaps.
 */

import type { TaskKind } from './task.js';
import type { TaskPlan } from './task-plan.js';

/** Payload of each event type. Optional fields are optional on the wire too (older rows). */
export interface TaskEventMap {
  /** Written by the store with the task row. */
  'task.created': { source: string; kind: TaskKind; requester: string };
  'task.started': { attempt: number };
  /** The router decided what an `auto` task is. */
  'task.routed': { kind: TaskKind; reason: string; confidence?: number; input?: Record<string, unknown> };
  /** The attempt ended and the task went back to the queue. */
  'task.retrying': { attempt?: number; error?: string; reason?: string };
  'task.succeeded': { summary: string };
  'task.failed': { error: string; code: string };
  'task.cancelled': { by?: string; reason?: string };
  /** The task stopped for a person (a plan to approve): it holds no worker slot and no sandbox. */
  'task.waiting': { reason: 'plan'; plan: TaskPlan; round: number; expiresAt: string };
  /** A person decided on a waiting task: it goes back to the queue. */
  approval: { decision: 'approved' | 'revised'; by: string; round: number; text?: string };
  /** A message from the requester for the running task (read by the crew before its next turn). */
  steer: { by: string; text: string };
  /** A risky command waits for a person (`approval: commands`); the task keeps running. */
  'command.approval_requested': { id: string; command: string; reasons: string; expiresAt: string };
  /** A person (or the timeout, `expired`) decided on a waiting command. */
  'command.approval_decided': {
    id: string;
    command: string;
    decision: 'allowed_once' | 'allowed_task' | 'denied' | 'expired';
    by: string;
  };
  /** A phase change. */
  step: { phase: string; message: string };
  /** A line of narrative. */
  log: { message: string };
  /** Command output, batched. */
  output: { stream: 'stdout' | 'stderr'; text: string };
  'command.started': { command: string; background?: boolean; port?: number };
  'command.finished': {
    command: string;
    exitCode: number;
    durationMs: number;
    truncated?: boolean;
    timedOut?: boolean;
    /** The command was not run again: an identical passing run was reused. */
    reused?: boolean;
  };
  /** Emitted once per preview, by whoever exposed the port. */
  preview_ready: { url: string; port: number };
  tool_call: { tool: string; args: string };
  tool_result: { tool: string; ok: boolean; summary: string };
  llm: {
    role: string;
    model: string;
    tokensIn: number;
    tokensOut: number;
    costUsd: number;
    durationMs: number;
  };
  git: GitEventData;
  pr_opened: { url: string; number: number; reused: boolean };
  /** The change a repo task committed, as a unified diff (binary patches left out, capped). */
  diff: { text: string; files: number; truncated?: boolean };
}

export type GitEventData =
  | { action: 'checkout'; base: string; sha: string; ms: number }
  | { action: 'committed'; sha: string; branch: string; files: number }
  | { action: 'pushed'; sha: string; branch: string };

export type TaskEventType = keyof TaskEventMap;

export const TERMINAL_EVENT_TYPES: readonly TaskEventType[] = [
  'task.succeeded',
  'task.failed',
  'task.cancelled',
];

/** One stored event; `type` narrows `data` (`if (e.type === 'output') e.data.text`). */
export type TaskEvent = {
  [K in TaskEventType]: { taskId: string; seq: number; at: Date; type: K; data: TaskEventMap[K] };
}[TaskEventType];

/** An event to append; the store assigns seq and time. */
export type NewTaskEvent = {
  [K in TaskEventType]: { type: K; data: TaskEventMap[K] };
}[TaskEventType];

export function isTerminalEvent(event: Pick<TaskEvent, 'type'>): boolean {
  return TERMINAL_EVENT_TYPES.includes(event.type);
}
