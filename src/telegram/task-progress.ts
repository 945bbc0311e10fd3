/**
 * What a Telegram status message shows about one task, folded from its events. Pure data: the
 * reporter keeps one per task and rebuilds it from the store after a restart.
 */
import type { Task, TaskEvent, TaskKind, TaskStatus } from '../core/index.js';

/** How many recent steps the status message lists. */
export const STEP_HISTORY = 5;
/** Output kept in memory per task (the tail for the status message, the rest for a document). */
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
  /** The last few steps, oldest first. */
  steps: string[];
  command: string | null;
  exitCode: number | null;
  output: string;
  /** True when output went past OUTPUT_CAP (the start was dropped) or the sandbox cut it. */
  outputTruncated: boolean;
  prUrl: string | null;
  previewUrl: string | null;
  summary: string | null;
  error: string | null;
  lastSeq: number;
}

export function newProgress(task: Task): TaskProgress {
  return {
    taskId: task.id,
    kind: task.kind,
    prompt: task.prompt,
    status: task.status,
    phase: task.status === 'running' ? 'running' : 'queued',
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    finishedAt: task.finishedAt,
    steps: [],
    command: typeof task.input.command === 'string' ? task.input.command : null,
    exitCode: null,
    output: '',
    outputTruncated: false,
    prUrl: task.prUrl,
    previewUrl: task.previewUrl,
    summary: task.resultSummary,
    error: task.error,
    lastSeq: 0,
  };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function pushStep(p: TaskProgress, step: string | null): void {
  if (!step) return;
  const oneLine = step.replace(/\s+/g, ' ').trim();
  if (!oneLine || p.steps.at(-1) === oneLine) return;
  p.steps.push(oneLine);
  if (p.steps.length > STEP_HISTORY) p.steps.splice(0, p.steps.length - STEP_HISTORY);
}

function appendOutput(p: TaskProgress, text: string): void {
  p.output += text;
  if (p.output.length > OUTPUT_CAP) {
    p.output = p.output.slice(p.output.length - OUTPUT_CAP);
    p.outputTruncated = true;
  }
}

/** Folds one event in; returns false for an event already seen (by seq). */
export function applyEvent(p: TaskProgress, event: TaskEvent): boolean {
  if (event.seq <= p.lastSeq) return false;
  p.lastSeq = event.seq;
  const d = event.data;
  switch (event.type) {
    case 'task.created':
    case 'task.queued':
      p.phase = 'queued';
      break;
    case 'task.started':
      p.status = 'running';
      p.phase = 'starting';
      p.startedAt ??= event.at;
      break;
    case 'task.routed': {
      const kind = str(d.kind);
      if (kind) p.kind = kind as TaskKind;
      const command = str((d.input as Record<string, unknown> | undefined)?.command);
      if (command) p.command = command;
      pushStep(p, `routed as ${kind ?? 'task'}${str(d.reason) ? `: ${str(d.reason)}` : ''}`);
      break;
    }
    case 'task.retrying':
      p.status = 'queued';
      p.phase = 'retrying';
      pushStep(p, `retrying${str(d.error) ? ` after: ${str(d.error)}` : ''}`);
      break;
    case 'step':
      p.phase = str(d.phase) ?? p.phase;
      pushStep(p, str(d.message) ?? str(d.phase));
      break;
    case 'log':
      pushStep(p, str(d.message));
      break;
    case 'command.started':
      p.phase = 'running command';
      p.command = str(d.command) ?? p.command;
      pushStep(p, p.command ? `$ ${p.command}` : 'running a command');
      break;
    case 'output':
      appendOutput(p, typeof d.text === 'string' ? d.text : '');
      break;
    case 'command.finished': {
      p.exitCode = num(d.exitCode);
      if (d.truncated === true) p.outputTruncated = true;
      const ms = num(d.durationMs);
      pushStep(p, `exit code ${p.exitCode ?? '?'}${ms === null ? '' : ` in ${formatDuration(ms)}`}`);
      break;
    }
    case 'preview_ready':
      p.previewUrl = str(d.url) ?? p.previewUrl;
      pushStep(p, `preview ready${num(d.port) ? ` on port ${num(d.port)}` : ''}`);
      break;
    case 'preview_closed':
      pushStep(p, `preview closed${str(d.reason) ? `: ${str(d.reason)}` : ''}`);
      break;
    case 'tool_call':
      pushStep(p, `🔧 ${str(d.tool) ?? 'tool'}`);
      break;
    case 'git':
      pushStep(p, `git ${str(d.action) ?? ''}`);
      break;
    case 'pr_opened':
      p.prUrl = str(d.url) ?? p.prUrl;
      pushStep(p, `pull request opened${num(d.number) ? ` #${num(d.number)}` : ''}`);
      break;
    case 'result':
      p.summary = str(d.summary) ?? p.summary;
      break;
    case 'task.succeeded':
    case 'task.failed':
    case 'task.cancelled':
      p.status = event.type.slice('task.'.length) as ProgressStatus;
      p.phase = p.status;
      p.finishedAt = event.at;
      p.summary = str(d.summary) ?? p.summary;
      p.error = str(d.error) ?? str(d.message) ?? p.error;
      break;
    default:
      // tool_result, llm: too fine-grained for a chat status line.
      break;
  }
  return true;
}

/** Takes the final word from the stored task (PR/preview URLs, summary, error). */
export function mergeFinalTask(p: TaskProgress, task: Task): void {
  p.prUrl = task.prUrl ?? p.prUrl;
  p.previewUrl = task.previewUrl ?? p.previewUrl;
  // The agent's reply to the person, when it wrote one, reads better in a chat than the summary.
  const reply = typeof task.result?.['reply'] === 'string' ? task.result['reply'] : null;
  p.summary = reply ?? task.resultSummary ?? p.summary;
  p.error = task.error ?? p.error;
  p.finishedAt = task.finishedAt ?? p.finishedAt;
  if (task.status !== 'queued' && task.status !== 'running') p.status = task.status;
  if (p.output === '' && task.result) {
    const r = task.result;
    const out = [r.output, r.stdout, r.stderr].filter((v): v is string => typeof v === 'string' && v !== '');
    if (out.length > 0) p.output = out.join('\n');
    if (p.exitCode === null && typeof r.exitCode === 'number') p.exitCode = r.exitCode;
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s % 60);
  if (m < 60) return `${m} min ${rest} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
