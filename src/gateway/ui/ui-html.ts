/**
 * Small HTML helpers for the dashboard's server-rendered pages. Every value from a task (prompts,
 * output, file names, summaries) goes through esc(); links go through safeHref(), so only http(s)
 * URLs become links.
 */
import { formatDuration, type Task, type TaskEvent } from '../../core/index.js';

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text as HTML text or attribute value. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (ch) => ENTITIES[ch] ?? ch);
}

/** An http(s) URL, or null: nothing else (javascript:, data:) is ever put in an href. */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}

/** A status as a CSS class: known or not (a status added later renders plainly, never breaks). */
export function statusClass(status: string): string {
  return `st st-${status.replace(/[^a-z]/g, '') || 'unknown'}`;
}

export function badge(status: string): string {
  return `<span class="${statusClass(status)}" data-status>${esc(status)}</span>`;
}

export function ago(at: Date, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - at.getTime()) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** How long a task ran (or has been running); empty when it has not started. */
export function taskDuration(task: Pick<Task, 'startedAt' | 'finishedAt'>, now = Date.now()): string {
  if (!task.startedAt) return '';
  return formatDuration((task.finishedAt?.getTime() ?? now) - task.startedAt.getTime());
}

export function cost(usd: number | undefined | null): string {
  if (usd === undefined || usd === null || !Number.isFinite(usd)) return '';
  return usd === 0 ? '$0' : `$${usd < 0.01 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

/** One line about an event, for the timeline (the client script writes the same for live ones). */
export function eventLine(event: Pick<TaskEvent, 'type' | 'data'>): string {
  const d = event.data as Record<string, unknown>;
  const str = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : '');
  switch (event.type) {
    case 'task.created':
      return `created by ${str('requester')} (${str('source')}, ${str('kind')})`;
    case 'task.started':
      return `started (attempt ${String(d['attempt'] ?? 1)})`;
    case 'task.routed':
      return `routed as ${str('kind')}${str('reason') ? `: ${str('reason')}` : ''}`;
    case 'task.retrying':
      return `retrying${str('error') ? ` after: ${str('error')}` : ''}`;
    case 'task.succeeded':
      return `succeeded: ${str('summary')}`;
    case 'task.failed':
      return `failed: ${str('error')}`;
    case 'task.cancelled':
      return `cancelled${str('by') ? ` by ${str('by')}` : ''}`;
    case 'step':
      return str('message') || str('phase');
    case 'log':
      return str('message');
    case 'output':
      return `${str('stream')}: ${clip(str('text'), 200)}`;
    case 'command.started':
      return `$ ${str('command')}`;
    case 'command.finished':
      return `exit ${String(d['exitCode'])} in ${formatDuration(Number(d['durationMs']) || 0)}: ${str('command')}`;
    case 'command.approval_requested':
      return `⏸️ waits for approval to run: ${clip(str('command'), 200)} (${str('reasons')})`;
    case 'command.approval_decided':
      return `command ${str('decision').replace('_', ' ')} by ${str('by')}: ${clip(str('command'), 200)}`;
    case 'preview_ready':
      return `preview ready: ${str('url')}`;
    case 'tool_call':
      return `tool ${str('tool')} ${clip(str('args'), 200)}`;
    case 'tool_result':
      return `tool ${str('tool')} ${d['ok'] ? 'ok' : 'failed'}: ${clip(str('summary'), 200)}`;
    case 'llm':
      return `${str('role')} (${str('model')}): ${String(d['tokensIn'])} in, ${String(d['tokensOut'])} out, ${cost(Number(d['costUsd']))}`;
    case 'git':
      return `git ${str('action')} ${str('branch') || str('base')} ${str('sha').slice(0, 7)}`.trim();
    case 'pr_opened':
      return `pull request #${String(d['number'])}: ${str('url')}`;
    case 'diff':
      return `diff of ${String(d['files'])} file(s)`;
    default:
      return clip(JSON.stringify(d), 200);
  }
}

function clip(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

export interface PageOptions {
  title: string;
  body: string;
  /** Data for the client script, as data- attributes of <body> (no inline script anywhere). */
  data?: Record<string, string>;
  /** Show the sign-out button and the link to the list (not on share pages). */
  signedIn?: boolean;
}

export function page(o: PageOptions): string {
  const data = Object.entries(o.data ?? {})
    .map(([k, v]) => ` data-${k}="${esc(v)}"`)
    .join('');
  const nav = o.signedIn
    ? `<nav><a href="/ui/">Tasks</a><a href="/ui/evals">Evals</a><form method="post" action="/ui/signout"><button type="submit">Sign out</button></form></nav>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(o.title)} · devbot</title>
<link rel="stylesheet" href="/ui/assets/app.css">
<script type="module" src="/ui/assets/app.js"></script>
</head><body${data}>
<header><a class="brand" href="/ui/">devbot</a>${nav}</header>
<main>${o.body}</main>
</body></html>`;
}
