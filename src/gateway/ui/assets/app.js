// devbot dashboard: the live parts of the server-rendered pages. Plain JavaScript, no build step.
// Everything from a task is written with textContent (never innerHTML): it is untrusted text.

const body = document.body;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function formatDuration(ms) {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s % 60);
  if (m < 60) return `${m} min ${rest} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function cost(usd) {
  if (typeof usd !== 'number' || !Number.isFinite(usd)) return '';
  return usd === 0 ? '$0' : `$${usd < 0.01 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

function clip(text, max) {
  const one = String(text ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

function statusClass(status) {
  return `st st-${String(status).replace(/[^a-z]/g, '') || 'unknown'}`;
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

// The same lines as the server's eventLine (src/gateway/ui/ui-html.ts).
function eventLine(type, d) {
  const str = (k) => (typeof d[k] === 'string' ? d[k] : '');
  switch (type) {
    case 'task.created':
      return `created by ${str('requester')} (${str('source')}, ${str('kind')})`;
    case 'task.started':
      return `started (attempt ${d.attempt ?? 1})`;
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
      return `exit ${d.exitCode} in ${formatDuration(Number(d.durationMs) || 0)}: ${str('command')}`;
    case 'command.approval_requested':
      return `⏸️ waits for approval to run: ${clip(str('command'), 200)} (${str('reasons')})`;
    case 'command.approval_decided':
      return `command ${str('decision').replace('_', ' ')} by ${str('by')}: ${clip(str('command'), 200)}`;
    case 'preview_ready':
      return `preview ready: ${str('url')}`;
    case 'tool_call':
      return `tool ${str('tool')} ${clip(str('args'), 200)}`;
    case 'tool_result':
      return `tool ${str('tool')} ${d.ok ? 'ok' : 'failed'}: ${clip(str('summary'), 200)}`;
    case 'llm':
      return `${str('role')} (${str('model')}): ${d.tokensIn} in, ${d.tokensOut} out, ${cost(Number(d.costUsd))}`;
    case 'git':
      return `git ${str('action')} ${str('branch') || str('base')} ${str('sha').slice(0, 7)}`.trim();
    case 'pr_opened':
      return `pull request #${d.number}: ${str('url')}`;
    case 'diff':
      return `diff of ${d.files} file(s)`;
    default:
      return clip(JSON.stringify(d), 200);
  }
}

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
