import type { MemoryKind, RememberInput } from '../core/memory.js';
import type { Task } from '../core/task.js';
import type { TaskEvent } from '../core/task-event.js';

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

function chatId(task: Pick<Task, 'origin'>): string | null {
  const origin = task.origin;
  const raw = origin['chatId'] ?? origin['chat_id'] ?? (origin['chat'] as { id?: unknown } | undefined)?.id;
  return typeof raw === 'number' || typeof raw === 'string' ? String(raw) : null;
}

/** A task that failed because devbot is not configured for it teaches nothing about the repository. */
function isConfigurationFailure(events: readonly TaskEvent[]): boolean {
  const end = events.findLast((e) => e.type === 'task.failed');
  const code = end?.data['code'];
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
 * Reads the crew's structured result (summary, plan, filesChanged, checks, chatReply) when the
 * handler returned one, and falls back to the task's events (plan log line, commands run, files
 * written by tools) so memories do not depend on one handler's result shape.
 */
export function taskFacts(task: Task, events: readonly TaskEvent[]): TaskFacts {
  const result = findResult(task.result);
  const summary = str(result['summary']) ?? task.resultSummary;
  const planValue = result['plan'];
  let plan = strings(isRecord(planValue) ? planValue['steps'] : planValue);
  if (plan.length === 0) {
    const logged = events.find((e) => e.type === 'log' && str(e.data['message'])?.startsWith('Plan: '));
    const text = logged ? (str(logged.data['message']) ?? '').slice('Plan: '.length) : '';
    if (text) plan = [text];
  }

  const files = new Set(strings(result['filesChanged'] ?? result['files']));
  for (const e of events)
    if (e.type === 'tool_call' && ['write_file', 'edit_file'].includes(String(e.data['tool']))) {
      const args = e.data['args'];
      const path = isRecord(args) ? str(args['path']) : null;
      if (path) files.add(path);
    }

  const passed: string[] = [];
  const failed: string[] = [];
  const checks = result['checks'];
  if (Array.isArray(checks))
    for (const c of checks)
      if (isRecord(c) && str(c['command']))
        (c['exitCode'] === 0 ? passed : failed).push(str(c['command']) as string);
  if (passed.length === 0 && failed.length === 0)
    for (const e of events)
      if (e.type === 'command.finished' && str(e.data['command']))
        (e.data['exitCode'] === 0 ? passed : failed).push(str(e.data['command']) as string);

  const context = Array.isArray(task.input['context'])
    ? (task.input['context'] as unknown[]).flatMap((c) =>
        isRecord(c) && str(c['body'])
          ? [clip(str(c['body']) as string, 500)]
          : typeof c === 'string'
            ? [clip(c, 500)]
            : [],
      )
    : typeof task.input['context'] === 'string'
      ? [clip(task.input['context'], 500)]
      : [];

  return {
    summary: summary ? clip(summary, 1500) : null,
    chatReply: str(result['chatReply']),
    plan: plan.slice(0, 12).map((s) => clip(s, 300)),
    files: [...files].slice(0, MAX_FILES),
    commands: unique(passed).slice(0, MAX_COMMANDS),
    failedCommands: unique(failed).slice(0, MAX_COMMANDS),
    context,
  };
}

/** The crew result may be the task result itself or nested (the repo pipeline keeps it under `agent`). */
function findResult(value: unknown): Record<string, unknown> {
  if (!isRecord(value)) return {};
  for (const key of ['agent', 'crew', 'result'])
    if (isRecord(value[key]) && ('summary' in (value[key] as object) || 'plan' in (value[key] as object)))
      return value[key] as Record<string, unknown>;
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value.trim() ? value.trim() : null;
}

function strings(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '')
    : [];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function clip(text: string, max: number): string {
  const t = text.trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}
