// devbot dashboard: the text the server-rendered pages and the live client script both write for a
// task (its status class, cost, durations and one line per event). Plain JavaScript, an ES module:
// the browser loads it from /ui/assets/, the gateway imports it (types in event-line.d.ts), so an
// event reads the same whether it was on the page or arrived live.

export function formatDuration(ms) {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s % 60);
  if (m < 60) return `${m} min ${rest} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function cost(usd) {
  if (typeof usd !== 'number' || !Number.isFinite(usd)) return '';
  return usd === 0 ? '$0' : `$${usd < 0.01 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

export function clip(text, max) {
  const one = String(text ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

export function statusClass(status) {
  return `st st-${String(status).replace(/[^a-z]/g, '') || 'unknown'}`;
}

/** One line about an event, for the timeline. */
export function eventLine(type, d) {
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
