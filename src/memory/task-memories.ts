import {
  type MemoryKind,
  type RememberInput,
  type Task,
  type TaskEvent,
  telegramOrigin,
} from '../core/index.js';

const MAX_PROMPT = 600;
const MAX_FILES = 40;
const MAX_COMMANDS = 10;

/** What a finished task taught, as memories to save (empty when there is nothing worth keeping). */
export function memoriesForTask(task: Task, events: readonly TaskEvent[]): RememberInput[] {
  const scope = memoryScope(task);
  if (!scope) return [];
  const facts = taskFacts(task, events);
  const out: RememberInput[] = [];
  const add = (kind: MemoryKind, content: string, metadata: Record<string, unknown> = {}) =>
    out.push({
      repo: scope,
      kind,
      content,
      metadata: { source: task.source, taskKind: task.kind, ...metadata },
      taskId: task.id,
      dedupeKey: `${task.id}:${kind}`,
    });
  const request = clip(task.prompt, MAX_PROMPT);

  if (task.status === 'succeeded') {
    if ((task.kind === 'dev' || task.kind === 'followup') && task.repo) {
      const lines = [`Task: ${request}`];
      if (facts.summary) lines.push(`Outcome: ${facts.summary}`);
      if (facts.plan.length === 1) lines.push(`Plan: ${facts.plan[0]}`);
      else if (facts.plan.length > 1)
        lines.push(`Plan: ${facts.plan.map((s, i) => `${i + 1}. ${s}`).join(' ')}`);
      if (facts.files.length > 0) lines.push(`Files changed: ${facts.files.join(', ')}`);
      if (facts.commands.length > 0) lines.push(`Verified with: ${facts.commands.join('; ')}`);
      if (task.prUrl) lines.push(`Pull request: ${task.prUrl}`);
      add('task', lines.join('\n'), { files: facts.files, commands: facts.commands, prUrl: task.prUrl });
      if (facts.commands.length > 0)
        add('commands', `Commands that verified a change in ${task.repo}: ${facts.commands.join('; ')}`, {
          commands: facts.commands,
        });
    }
    if (task.kind === 'followup' && task.repo) {
      const asked = [request, ...facts.context].filter(Boolean).join('\n');
      add(
        'review',
        `A reviewer asked: ${clip(asked, 1500)}${facts.summary ? `\nDone: ${facts.summary}` : ''}`,
        {
          prUrl: task.prUrl,
          branch: task.branch,
        },
      );
    }
  } else if (task.status === 'failed' && !isConfigurationFailure(events)) {
    const lines = [
      `Task failed: ${request}`,
      `What went wrong: ${clip(task.error ?? 'unknown error', 1000)}`,
    ];
    if (facts.failedCommands.length > 0) lines.push(`Failing commands: ${facts.failedCommands.join('; ')}`);
    add('lesson', lines.join('\n'), {
      error: clip(task.error ?? '', 300),
      failedCommands: facts.failedCommands,
    });
  }

  if (task.source === 'telegram' && (task.status === 'succeeded' || task.status === 'failed')) {
    const reply = facts.chatReply ?? facts.summary ?? task.error ?? '';
    add('chat', `User (${task.requester}): ${request}${reply ? `\ndevbot: ${clip(reply, 1500)}` : ''}`, {
      chatId: chatId(task),
    });
  }
  return out;
}

/** Memories belong to a repository; a chat bound to none keeps its own scope. */
export function memoryScope(task: Pick<Task, 'repo' | 'source' | 'origin'>): string | null {
  if (task.repo) return task.repo;
  const id = chatId(task);
  return task.source === 'telegram' && id !== null ? `chat:${id}` : null;
}

function chatId(task: Pick<Task, 'source' | 'origin'>): string | null {
  const id = telegramOrigin(task)?.chatId;
  return id === undefined ? null : String(id);
}

/** A task that failed because devbot is not configured for it teaches nothing about the repository. */
function isConfigurationFailure(events: readonly TaskEvent[]): boolean {
  const end = events.findLast((e) => e.type === 'task.failed');
  const code = end?.type === 'task.failed' ? end.data.code : undefined;
  return code === 'unavailable' || code === 'cancelled';
}

interface TaskFacts {
  summary: string | null;
  chatReply: string | null;
  plan: string[];
  files: string[];
  commands: string[];
  failedCommands: string[];
  context: string[];
}

/**
 * Reads the task's typed result (summary, reply, plan, files changed, checks) and falls back to
 * the task's events (plan log line, commands run, files written by tools) for what it lacks.
 */
export function taskFacts(task: Task, events: readonly TaskEvent[]): TaskFacts {
  const result = task.result;
  const summary = str(result?.summary) ?? task.resultSummary;
  let plan = (result?.plan ?? []).filter((s) => s.trim() !== '');
  if (plan.length === 0) {
    const logged = events.find((e) => e.type === 'log' && e.data.message.startsWith('Plan: '));
    const text = logged?.type === 'log' ? logged.data.message.slice('Plan: '.length).trim() : '';
    if (text) plan = [text];
  }

  const files = new Set(result?.changed ?? []);
  for (const e of events)
    if (e.type === 'tool_call' && ['write_file', 'edit_file'].includes(e.data.tool)) {
      const path = pathArgument(e.data.args);
      if (path) files.add(path);
    }

  const passed: string[] = [];
  const failed: string[] = [];
  for (const c of result?.checks ?? []) (c.exitCode === 0 ? passed : failed).push(c.command);
  if (passed.length === 0 && failed.length === 0)
    for (const e of events)
      if (e.type === 'command.finished' && e.data.command)
        (e.data.exitCode === 0 ? passed : failed).push(e.data.command);

  const given = task.input.context;
  const context = (typeof given === 'string' ? [given] : (given ?? []).map((c) => c.body))
    .filter((c) => typeof c === 'string' && c.trim() !== '')
    .map((c) => clip(c, 500));

  return {
    summary: summary ? clip(summary, 1500) : null,
    chatReply: str(result?.reply),
    plan: plan.slice(0, 12).map((s) => clip(s, 300)),
    files: [...files].slice(0, MAX_FILES),
    commands: unique(passed).slice(0, MAX_COMMANDS),
    failedCommands: unique(failed).slice(0, MAX_COMMANDS),
    context,
  };
}

/** A tool call's `path` argument (arguments are stored as clipped JSON text). */
function pathArgument(args: unknown): string | null {
  if (isRecord(args)) return str(args['path']);
  if (typeof args !== 'string') return null;
  try {
    const parsed: unknown = JSON.parse(args);
    return isRecord(parsed) ? str(parsed['path']) : null;
  } catch {
    return /"path"\s*:\s*"([^"]+)"/.exec(args)?.[1] ?? null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value.trim() ? value.trim() : null;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function clip(text: string, max: number): string {
  const t = text.trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}
