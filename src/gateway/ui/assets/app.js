// devbot dashboard: the live parts of the server-rendered pages. Plain JavaScript, no build step.
// Everything from a task is written with textContent (never innerHTML): it is untrusted text.

import { clip, cost, eventLine, formatDuration, statusClass } from './event-line.js';

const body = document.body;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

function setStatus(status) {
  for (const badge of document.querySelectorAll('.head [data-status]')) {
    badge.className = statusClass(status);
    badge.textContent = status;
  }
  body.dataset.status = status;
  if (TERMINAL.has(status)) document.getElementById('cancel')?.remove();
}

// ---- the task page: the timeline and output follow the task stream (WebSocket) ----

function taskPage() {
  const timeline = document.getElementById('timeline');
  const output = document.getElementById('output');
  const live = document.getElementById('live');
  let lastSeq = Number(body.dataset.lastSeq) || 0;
  let ended = TERMINAL.has(body.dataset.status);
  let retry = 500;

  const cancel = document.getElementById('cancel');
  cancel?.addEventListener('click', async () => {
    cancel.disabled = true;
    cancel.textContent = 'Cancelling…';
    const res = await fetch(`/tasks/${encodeURIComponent(body.dataset.task)}/cancel`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'x-devbot-ui': '1' },
    }).catch(() => null);
    if (!res || (!res.ok && res.status !== 409)) {
      cancel.disabled = false;
      cancel.textContent = 'Cancel';
      const note = el('p', 'error', `Could not cancel (${res ? res.status : 'network error'}).`);
      cancel.after(note);
    }
  });

  function append(event) {
    // The stream sends each seq once and in order; a reconnect resumes after the last one seen.
    if (event.seq <= lastSeq) return;
    lastSeq = event.seq;
    const item = el('li', `ev ev-${String(event.type).replace(/[^a-z]/g, '-')} new`);
    item.dataset.seq = String(event.seq);
    const time = el('time', '', String(event.at).slice(11, 19));
    time.dateTime = event.at;
    item.append(time, ' ', el('span', '', eventLine(event.type, event.data || {})));
    timeline.append(item);
    if (event.type === 'output' && typeof event.data.text === 'string') {
      const atBottom = output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
      output.append(document.createTextNode(event.data.text));
      if (atBottom) output.scrollTop = output.scrollHeight;
    }
    if (event.type === 'task.started') setStatus('running');
    if (event.type === 'task.retrying') setStatus('queued');
    const end = /^task\.(succeeded|failed|cancelled)$/.exec(event.type);
    if (end) {
      ended = true;
      setStatus(end[1]);
      // The finished task's diff, links and cost are on the page as the server renders it.
      setTimeout(() => location.reload(), 800);
    }
  }

  function connect() {
    if (ended) return;
    const url = new URL(body.dataset.stream, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('after', String(lastSeq));
    const ws = new WebSocket(url);
    ws.addEventListener('open', () => {
      retry = 500;
      live.hidden = false;
    });
    ws.addEventListener('message', (m) => {
      try {
        append(JSON.parse(m.data));
      } catch {
        // not an event
      }
    });
    ws.addEventListener('close', () => {
      live.hidden = true;
      if (ended) return;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10_000);
    });
  }
  if (output) output.scrollTop = output.scrollHeight;
  connect();
}

// ---- the task list: the first page follows GET /tasks ----

function taskRow(t) {
  const tr = el('tr');
  tr.dataset.id = t.id;
  const cell = (text, className) => {
    const td = el('td', className, text);
    tr.append(td);
    return td;
  };
  const status = el('span', statusClass(t.status), t.status);
  status.dataset.status = '';
  cell('').append(status);
  cell(t.kind);
  cell(t.source);
  cell(t.repo ?? '');
  const a = el('a', '', clip(t.prompt, 80) || '(no text)');
  a.href = `/ui/tasks/${encodeURIComponent(t.id)}`;
  cell('', 'req').append(a);
  cell(t.requester);
  const time = el('time', '', ago(t.createdAt));
  time.dateTime = t.createdAt;
  cell('').append(time);
  const end = t.finishedAt ? Date.parse(t.finishedAt) : Date.now();
  cell(t.startedAt ? formatDuration(end - Date.parse(t.startedAt)) : '');
  cell(cost(t.usage?.costUsd));
  return tr;
}

function listPage() {
  const source = body.dataset.list;
  if (!source) return;
  const tbody = document.getElementById('tasks');
  const empty = document.getElementById('empty');
  async function refresh() {
    if (document.visibilityState === 'visible') {
      const res = await fetch(source, { credentials: 'same-origin' }).catch(() => null);
      if (res?.ok) {
        const { tasks } = await res.json();
        tbody.replaceChildren(...tasks.slice(0, 50).map(taskRow));
        empty.hidden = tasks.length > 0;
      }
    }
    setTimeout(refresh, 2000);
  }
  setTimeout(refresh, 2000);
}

if (body.dataset.page === 'task') taskPage();
if (body.dataset.page === 'list') listPage();
