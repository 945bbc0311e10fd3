/**
 * Renders a task's progress as Telegram HTML: the status message (edited in place) and the result
 * message (sent new at the end, so the user is notified). Every dynamic part is escaped and cut to
 * a budget so the visible text stays within Telegram's 4096 UTF-16 code units.
 */
import {
  formatDuration,
  type ProgressStatus,
  planText,
  type TaskKind,
  type TaskProgress,
} from '../core/index.js';
import {
  escapeHtml,
  htmlToPlain,
  lastLines,
  MAX_MESSAGE_LENGTH,
  tailText,
  truncateText,
  visibleLength,
} from './telegram-text.js';

/** A link button, or a button whose press comes back as a callback query (at most 64 bytes of data). */
export type InlineButton = { text: string; url: string } | { text: string; callbackData: string };

export interface RenderedMessage {
  html: string;
  buttons?: InlineButton[][];
}

export interface RenderedResult extends RenderedMessage {
  /** The full output, when it does not fit in the message. */
  document?: { fileName: string; content: string };
}

/** Output shown in the status message while a command runs. */
const STATUS_OUTPUT_CHARS = 1200;
const STATUS_OUTPUT_LINES = 15;
/** Output that fits in the result message; beyond it the full output goes as a document. */
const RESULT_OUTPUT_CHARS = 3000;
const RESULT_TAIL_CHARS = 1500;
const PROMPT_CHARS = 300;
const STEP_CHARS = 200;

const STATUS_ICON: Record<ProgressStatus, string> = {
  queued: '🕐',
  running: '⏳',
  waiting: '⏸️',
  succeeded: '✅',
  failed: '❌',
  cancelled: '🚫',
};

const STATUS_WORD: Record<ProgressStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  waiting: 'Waiting for approval',
  succeeded: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

const KIND_LABEL: Record<TaskKind, string> = {
  auto: 'Task',
  shell: 'Shell',
  dev: 'Dev task',
  question: 'Question',
  followup: 'Follow-up',
};

function elapsed(p: TaskProgress, now: Date): string {
  const from = p.startedAt ?? p.createdAt;
  const to = p.finishedAt ?? now;
  return formatDuration(to.getTime() - from.getTime());
}

function headline(p: TaskProgress): string {
  if (p.command && (p.kind === 'shell' || p.kind === 'auto'))
    return `<code>$ ${escapeHtml(truncateText(p.command, PROMPT_CHARS))}</code>`;
  return `<i>${escapeHtml(truncateText(p.prompt.replace(/\s+/g, ' ').trim(), PROMPT_CHARS))}</i>`;
}

/** How many recent steps the status message lists. */
const STATUS_STEPS = 5;

function stepsBlock(p: TaskProgress): string {
  return p.activity
    .slice(-STATUS_STEPS)
    .map((s) => `• ${escapeHtml(truncateText(s, STEP_CHARS))}`)
    .join('\n');
}

/** The status message: status, phase, elapsed time, the last steps, the output tail. */
export function renderStatus(p: TaskProgress, now: Date = new Date()): RenderedMessage {
  const finished = p.status === 'succeeded' || p.status === 'failed' || p.status === 'cancelled';
  const phase = finished || p.phase === p.status ? '' : ` · ${escapeHtml(truncateText(p.phase, 60))}`;
  const lines = [
    `${STATUS_ICON[p.status]} <b>${KIND_LABEL[p.kind]}</b> · ${STATUS_WORD[p.status]}${phase} · ${elapsed(p, now)}`,
    headline(p),
  ];
  const steps = stepsBlock(p);
  if (steps) lines.push(steps);
  if (finished && p.error && p.status !== 'succeeded')
    lines.push(`<b>Error:</b> ${escapeHtml(truncateText(p.error, 500))}`);
  const footer = `<code>${escapeHtml(p.taskId)}</code>`;
  // The output tail only while the task runs; the result message carries it at the end.
  if (!finished && p.output.trim() !== '') {
    const used = visibleLength(lines.join('\n')) + visibleLength(footer) + 4;
    const room = Math.min(STATUS_OUTPUT_CHARS, MAX_MESSAGE_LENGTH - used - 16);
    // Only the end of the output matters here; slicing first keeps each render cheap on long output.
    const tail = tailText(lastLines(p.output.slice(-STATUS_OUTPUT_CHARS * 4), STATUS_OUTPUT_LINES), room);
    if (tail.trim() !== '') lines.push(`<pre>${escapeHtml(tail)}</pre>`);
  }
  lines.push(footer);
  return { html: ensureFits(lines.join('\n')) };
}

/** The final message: outcome, summary, output (or the output as a document), PR/preview buttons. */
export function renderResult(p: TaskProgress, taskUrl?: string): RenderedResult {
  const lines = [
    `${STATUS_ICON[p.status]} <b>${STATUS_WORD[p.status]}</b> · ${KIND_LABEL[p.kind]} · ${elapsed(p, new Date())}`,
  ];
  if (p.status !== 'succeeded' && p.error)
    lines.push(`<b>Error:</b> ${escapeHtml(truncateText(p.error, 800))}`);
  const said = p.reply ?? p.summary;
  if (said) lines.push(escapeHtml(truncateText(said, 1200)));
  const result: RenderedResult = { html: '' };
  const output = p.output.replace(/\n+$/, '');
  if (output.trim() !== '') {
    const command = p.command ? `$ ${truncateText(p.command, PROMPT_CHARS)}\n` : '';
    if (output.length <= RESULT_OUTPUT_CHARS && !p.outputTruncated) {
      lines.push(`<pre>${escapeHtml(command + output)}</pre>`);
    } else {
      lines.push(`<pre>${escapeHtml(command + tailText(output, RESULT_TAIL_CHARS))}</pre>`);
      lines.push(
        `<i>The full output (${output.length} characters${p.outputTruncated ? ', cut at the start' : ''}) is attached.</i>`,
      );
      result.document = { fileName: `devbot-${p.taskId}-output.txt`, content: `${p.output}` };
    }
  }
  if (p.exitCode !== null && p.kind === 'shell') lines.push(`exit code ${p.exitCode}`);
  const buttons: InlineButton[] = [];
  if (p.prUrl) buttons.push({ text: '🔀 Pull request', url: p.prUrl });
  if (p.previewUrl) buttons.push({ text: '🌐 Preview', url: p.previewUrl });
  const rows = buttons.length > 0 ? [buttons] : [];
  if (taskUrl) rows.push([{ text: '📋 Open task', url: taskUrl }]);
  if (rows.length > 0) result.buttons = rows;
  lines.push(`<code>${escapeHtml(p.taskId)}</code>`);
  result.html = ensureFits(lines.join('\n'));
  return result;
}

/** Callback data of the plan buttons: `ap:<a|r|c>:<round>:<task id>` (under 64 bytes). */
export function planCallback(action: 'a' | 'r' | 'c', round: number, taskId: string): string {
  return `ap:${action}:${round}:${taskId}`;
}

const PLAN_CHARS = 3000;

/** The plan of a waiting task, with Approve / Revise / Cancel (or, once decided, the outcome). */
export function renderPlan(p: TaskProgress, decided?: string): RenderedMessage {
  const plan = p.plan ? planText(p.plan) : '';
  const lines = [
    `📋 <b>Plan</b> · ${KIND_LABEL[p.kind]}`,
    headline(p),
    `<pre>${escapeHtml(truncateText(plan || '(the planner returned no steps)', PLAN_CHARS))}</pre>`,
  ];
  if (decided) lines.push(escapeHtml(decided));
  else if (p.waitingUntil)
    lines.push(
      `<i>Approve to start, Revise to change the plan (reply with what), or Cancel. Expires ${escapeHtml(p.waitingUntil.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}.</i>`,
    );
  lines.push(`<code>${escapeHtml(p.taskId)}</code>`);
  const message: RenderedMessage = { html: ensureFits(lines.join('\n')) };
  if (!decided)
    message.buttons = [
      [
        { text: '✅ Approve', callbackData: planCallback('a', p.planRound, p.taskId) },
        { text: '✏️ Revise', callbackData: planCallback('r', p.planRound, p.taskId) },
        { text: '🚫 Cancel', callbackData: planCallback('c', p.planRound, p.taskId) },
      ],
    ];
  return message;
}

/**
 * A risky command waits for a person (`approval: commands`): the command, why it asks, and three
 * buttons; once decided (`decided` says how), the same message without buttons.
 */
export function renderCommandAsk(
  p: TaskProgress,
  ask: { id: string; command: string; reasons: string; expiresAt: string },
  decided?: string,
): RenderedMessage {
  const lines = [
    `⏸️ <b>A command needs your OK</b> · ${KIND_LABEL[p.kind]}`,
    `<pre>${escapeHtml(truncateText(ask.command, PLAN_CHARS))}</pre>`,
    `Why: ${escapeHtml(truncateText(ask.reasons, 500))}`,
  ];
  if (decided) lines.push(escapeHtml(decided));
  else
    lines.push(
      `<i>No answer by ${escapeHtml(ask.expiresAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))} counts as Deny.</i>`,
    );
  lines.push(`<code>${escapeHtml(p.taskId)}</code>`);
  const message: RenderedMessage = { html: ensureFits(lines.join('\n')) };
  if (!decided)
    message.buttons = [
      [
        { text: '✅ Allow once', callbackData: `ca:o:${ask.id}` },
        { text: '♾️ Allow for this task', callbackData: `ca:t:${ask.id}` },
      ],
      [{ text: '🚫 Deny', callbackData: `ca:d:${ask.id}` }],
    ];
  return message;
}

/** The first status message, sent before the task exists (the fast acknowledgement). */
export function renderAck(kind: TaskKind, text: string): RenderedMessage {
  const what =
    kind === 'shell'
      ? `<code>$ ${escapeHtml(truncateText(text, PROMPT_CHARS))}</code>`
      : `<i>${escapeHtml(truncateText(text.replace(/\s+/g, ' ').trim(), PROMPT_CHARS))}</i>`;
  return { html: `${STATUS_ICON.queued} <b>${KIND_LABEL[kind]}</b> · Queued\n${what}` };
}

/**
 * Last guard: if the budgets above ever add up past the limit, fall back to plain text cut to fit
 * (escaped again, so it is still valid HTML).
 */
function ensureFits(html: string): string {
  if (visibleLength(html) <= MAX_MESSAGE_LENGTH) return html;
  return escapeHtml(truncateText(htmlToPlain(html), MAX_MESSAGE_LENGTH));
}
