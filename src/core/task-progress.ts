/**
 * The one progress fold: events -> what a task's progress looks like. Every surface renders from
 * it (the Telegram status message, the GitHub sticky comment and check run). Pure data: a reporter
 * keeps one per task and rebuilds it from the stored events after a restart.
 */

import { formatDuration } from './format-duration.js';
import type { Task, TaskKind, TaskStatus } from './task.js';
import type { TaskEvent } from './task-event.js';
import type { TaskPlan } from './task-plan.js';
import { replyText } from './task-result.js';

/** Steps kept (the newest); surfaces show fewer. */
export const STEP_HISTORY = 50;
/** Output kept in memory per task (the tail for a status message, the rest for a document). */
export const OUTPUT_CAP = 512 * 1024;

/** A task's status as the progress reports show it: the task's own. */
export type ProgressStatus = TaskStatus;

export interface TaskProgress {
  taskId: string;
  kind: TaskKind;
  prompt: string;
  status: ProgressStatus;
  phase: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** The phases the task went through (`step` events and retries), oldest first. */
  steps: string[];
  /** Everything worth a line in a chat: phases, commands, tools, git, PR, preview; oldest first. */
  activity: string[];
  command: string | null;
  exitCode: number | null;
  output: string;
  /** True when output went past OUTPUT_CAP (the start was dropped) or the sandbox cut it. */
  outputTruncated: boolean;
  branch: string | null;
  /** The last commit pushed (a check run belongs on it). */
  headSha: string | null;
  prUrl: string | null;
  previewUrl: string | null;
  summary: string | null;
  /** What to tell the requester (the result's reply, else the summary). */
  reply: string | null;
  error: string | null;
  /** The failure's code (`bad_input`, `forbidden`, `git`, `error`…): what a public surface may say. */
  errorCode: string | null;
  durationMs: number | null;
  costUsd: number | null;
  /** The plan a waiting task shows, and its round (buttons of an older round are stale). */
  plan: TaskPlan | null;
  planRound: number;
  /** When a waiting task's approval expires (ISO). */
  waitingUntil: string | null;
  /** Risky commands the running task waits on (`approval: commands`), oldest first. */
  commandAsks: { id: string; command: string; reasons: string; expiresAt: string }[];
  lastSeq: number;
}

export function newProgress(task: Task): TaskProgress {
  return {
    taskId: task.id,
    kind: task.kind,
    prompt: task.prompt,
    status: task.status,
    phase:
      task.status === 'running' ? 'running' : task.status === 'waiting' ? 'waiting for approval' : 'queued',
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    finishedAt: task.finishedAt,
    steps: [],
    activity: [],
    command: task.input.command ?? null,
    exitCode: null,
    output: '',
    outputTruncated: false,
    branch: task.branch,
    headSha: null,
    prUrl: task.prUrl,
    previewUrl: task.previewUrl,
    summary: task.resultSummary,
    reply: replyText(task.result),
    error: task.error,
    errorCode: null,
    durationMs: null,
    costUsd: null,
    plan: null,
    planRound: 0,
    waitingUntil: null,
    commandAsks: [],
    lastSeq: 0,
  };
}

function oneLine(text: string | null | undefined): string {
  return (text ?? '').replace(/\s+/g, ' ').trim();
}

function pushLine(lines: string[], text: string | null | undefined): void {
  const line = oneLine(text);
  if (!line || lines.at(-1) === line) return;
  lines.push(line);
  if (lines.length > STEP_HISTORY) lines.splice(0, lines.length - STEP_HISTORY);
}

function appendOutput(p: TaskProgress, text: string): void {
  p.output += text;
  if (p.output.length > OUTPUT_CAP) {
    p.output = p.output.slice(p.output.length - OUTPUT_CAP);
    p.outputTruncated = true;
  }
}

const COMMAND_DECISION_WORDS = {
  allowed_once: '✅ allowed once',
  allowed_task: '✅ allowed for this task',
  denied: '🚫 denied',
  expired: '⌛ no answer, not run',
} as const;

/** Folds one event in; returns false for an event already seen (by seq) or one that shows nothing. */
export function applyEvent(p: TaskProgress, event: TaskEvent): boolean {
  if (event.seq <= p.lastSeq) return false;
  p.lastSeq = event.seq;
  switch (event.type) {
    case 'task.created':
      p.phase = 'queued';
      return false;
    case 'task.started':
      // A new attempt waits on no command an earlier attempt asked about.
      p.commandAsks = [];
      p.status = 'running';
      p.phase = 'starting';
      p.startedAt ??= event.at;
      return true;
    case 'task.routed': {
      const d = event.data;
      p.kind = d.kind;
      if (typeof d.input?.['command'] === 'string') p.command = d.input['command'];
      pushLine(p.activity, `routed as ${d.kind}${d.reason ? `: ${d.reason}` : ''}`);
      return true;
    }
    case 'task.retrying': {
      const d = event.data;
      p.status = 'queued';
      p.phase = 'retrying';
      pushLine(p.activity, `retrying${d.error ? ` after: ${d.error}` : ''}`);
      pushLine(p.steps, `Retrying: ${d.reason ?? d.error ?? 'transient error'}`);
      return true;
    }
    case 'task.waiting':
      p.status = 'waiting';
      p.phase = 'waiting for approval';
      p.plan = event.data.plan;
      p.planRound = event.data.round;
      p.waitingUntil = event.data.expiresAt;
      pushLine(p.activity, 'plan ready: waiting for approval');
      pushLine(p.steps, 'Waiting for approval of the plan');
      return true;
    case 'approval': {
      const d = event.data;
      p.status = 'queued';
      p.waitingUntil = null;
      p.phase = d.decision === 'approved' ? 'approved' : 'revising';
      const line = d.decision === 'approved' ? `plan approved by ${d.by}` : `plan revision asked by ${d.by}`;
      pushLine(p.activity, line);
      pushLine(p.steps, line);
      return true;
    }
    case 'command.approval_requested': {
      const { id, command, reasons, expiresAt } = event.data;
      p.commandAsks.push({ id, command, reasons, expiresAt });
      p.phase = 'waiting for approval of a command';
      pushLine(p.activity, `⏸️ asks to run: ${command}`);
      pushLine(p.steps, `Waiting for approval to run: ${command}`);
      return true;
    }
    case 'command.approval_decided': {
      const d = event.data;
      p.commandAsks = p.commandAsks.filter((a) => a.id !== d.id);
      const words = COMMAND_DECISION_WORDS[d.decision];
      pushLine(p.activity, `${words}: ${d.command}${d.decision === 'expired' ? '' : ` (${d.by})`}`);
      return true;
    }
    case 'steer':
      // Shown once the crew reads it (its `log` says "📝 noted: …").
      return false;
    case 'step':
      p.phase = event.data.phase || p.phase;
      pushLine(p.activity, event.data.message || event.data.phase);
      pushLine(p.steps, event.data.message || event.data.phase);
      return true;
    case 'log':
      pushLine(p.activity, event.data.message);
      return true;
    case 'command.started':
      p.phase = 'running command';
      p.command = event.data.command || p.command;
      pushLine(p.activity, p.command ? `$ ${p.command}` : 'running a command');
      return true;
    case 'output':
      appendOutput(p, event.data.text);
      return true;
    case 'command.finished': {
      const d = event.data;
      p.exitCode = d.exitCode;
      if (d.truncated) p.outputTruncated = true;
      pushLine(p.activity, `exit code ${d.exitCode} in ${formatDuration(d.durationMs)}`);
      return true;
    }
    case 'preview_ready':
      p.previewUrl = event.data.url;
      pushLine(p.activity, `preview ready on port ${event.data.port}`);
      return true;
    case 'tool_call':
      pushLine(p.activity, `🔧 ${event.data.tool}`);
      return true;
    case 'git':
      pushLine(p.activity, `git ${event.data.action}`);
      if (event.data.action === 'pushed') {
        p.headSha = event.data.sha;
        p.branch = event.data.branch;
        return true;
      }
      return false;
    case 'pr_opened':
      p.prUrl = event.data.url;
      pushLine(p.activity, `pull request opened #${event.data.number}`);
      return true;
    case 'task.succeeded':
      finish(p, 'succeeded', event.at);
      p.summary = event.data.summary || p.summary;
      return true;
    case 'task.failed':
      finish(p, 'failed', event.at);
      p.error = event.data.error || p.error;
      p.errorCode = event.data.code || null;
      return true;
    case 'task.cancelled':
      finish(p, 'cancelled', event.at);
      if (event.data.by) p.error = `cancelled by ${event.data.by}`;
      return true;
    case 'tool_result':
    case 'llm':
    case 'diff':
      // Too fine-grained for a status line.
      return false;
  }
}

function finish(p: TaskProgress, status: ProgressStatus, at: Date): void {
  p.status = status;
  p.phase = status;
  p.finishedAt = at;
  p.commandAsks = [];
  p.durationMs = at.getTime() - (p.startedAt ?? p.createdAt).getTime();
}

/** Takes the final word from the stored task (PR/preview URLs, summary, reply, error, cost). */
export function mergeFinalTask(p: TaskProgress, task: Task): void {
  p.prUrl = task.prUrl ?? p.prUrl;
  p.previewUrl = task.previewUrl ?? p.previewUrl;
  p.branch = task.branch ?? p.branch;
  p.summary = task.resultSummary ?? p.summary;
  p.reply = replyText(task.result) ?? p.summary;
  p.error = task.error ?? p.error;
  p.finishedAt = task.finishedAt ?? p.finishedAt;
  if (task.status !== 'queued' && task.status !== 'running' && task.status !== 'waiting')
    p.status = task.status;
  const start = task.startedAt ?? task.createdAt;
  if (p.finishedAt) p.durationMs = p.finishedAt.getTime() - start.getTime();
  if (typeof task.usage.costUsd === 'number') p.costUsd = task.usage.costUsd;
  if (p.output === '' && task.result?.output) p.output = task.result.output;
  if (p.exitCode === null && typeof task.result?.exitCode === 'number') p.exitCode = task.result.exitCode;
}
