/** The task list (`/ui/`), rendered on the server; the client script keeps the first page live. */
import { TASK_SOURCES, TASK_STATUSES, type Task } from '../../core/index.js';
import { ago, badge, cost, esc, page, taskDuration } from './ui-html.js';

export interface ListFilters {
  status?: string;
  source?: string;
  repo?: string;
  before?: string;
}

export function renderTaskList(o: {
  tasks: Task[];
  next: string | null;
  filters: ListFilters;
  subject: string;
  admin: boolean;
}): string {
  const f = o.filters;
  const select = (name: string, values: readonly string[], current: string | undefined) =>
    `<label>${esc(name)} <select name="${esc(name)}"><option value="">any</option>${values
      .map((v) => `<option${v === current ? ' selected' : ''}>${esc(v)}</option>`)
      .join('')}</select></label>`;
  const query = (extra: Record<string, string>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...f, ...extra })) if (v) q.set(k, v);
    return `/ui/?${q.toString()}`;
  };
  const rows = o.tasks.map(taskRow).join('');
  const body = `
<h1>Tasks <small>${o.admin ? 'everyone’s' : `of ${esc(o.subject)}`}</small></h1>
<form class="filters" method="get" action="/ui/">
  ${select('status', TASK_STATUSES, f.status)}
  ${select('source', TASK_SOURCES, f.source)}
  <label>repo <input name="repo" value="${esc(f.repo ?? '')}" placeholder="owner/name" size="16"></label>
  <button type="submit">Filter</button>
</form>
<table class="tasks"><thead><tr><th>status</th><th>kind</th><th>source</th><th>repo</th><th>request</th><th>requester</th><th>age</th><th>duration</th><th>cost</th></tr></thead>
<tbody id="tasks">${rows || ''}</tbody></table>
<p class="empty" id="empty"${rows ? ' hidden' : ''}>No tasks yet.</p>
<nav class="pages">${f.before ? `<a href="${esc(query({ before: '' }))}">Newest</a>` : ''}${o.next ? `<a id="older" href="${esc(query({ before: o.next }))}">Older</a>` : ''}</nav>`;
  const data: Record<string, string> = { page: 'list' };
  // Only the first page updates live (an older page stays as it was opened).
  if (!f.before) {
    const q = new URLSearchParams();
    for (const k of ['status', 'source', 'repo'] as const) if (f[k]) q.set(k, f[k] as string);
    data['list'] = `/tasks?${q.toString()}`;
  }
  return page({ title: 'Tasks', body, data, signedIn: true });
}

function taskRow(t: Task): string {
  return `<tr data-id="${esc(t.id)}"><td>${badge(t.status)}</td><td>${esc(t.kind)}</td><td>${esc(t.source)}</td><td>${esc(t.repo ?? '')}</td><td class="req"><a href="/ui/tasks/${esc(t.id)}">${esc(clipPrompt(t.prompt))}</a></td><td>${esc(t.requester)}</td><td><time datetime="${esc(t.createdAt.toISOString())}">${esc(ago(t.createdAt))}</time></td><td>${esc(taskDuration(t))}</td><td>${esc(cost(t.usage.costUsd))}</td></tr>`;
}

export function clipPrompt(prompt: string): string {
  const one = prompt.replace(/\s+/g, ' ').trim();
  return one.length > 80 ? `${one.slice(0, 79)}…` : one || '(no text)';
}
