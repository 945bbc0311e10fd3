/**
 * Small HTML helpers for the dashboard's server-rendered pages. Every value from a task (prompts,
 * output, file names, summaries) goes through esc(); links go through safeHref(), so only http(s)
 * URLs become links.
 */
import { formatDuration, type Task, type TaskEvent } from '../../core/index.js';
// The page and the client script share these (a plain-JS module the browser loads too).
import { cost, eventLine as sharedEventLine, statusClass } from './assets/event-line.js';

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
export { statusClass };

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

export { cost };

/** One line about an event, for the timeline (the client script writes the same for live ones). */
export function eventLine(event: Pick<TaskEvent, 'type' | 'data'>): string {
  return sharedEventLine(event.type, event.data as Record<string, unknown>);
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
