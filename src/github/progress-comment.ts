/**
 * Renders one task's progress as the sticky GitHub comment (and the check run's summary). Pure:
 * the reporter keeps the state, this turns it into Markdown.
 */
import { formatDuration, type ProgressStatus, planText, type TaskProgress } from '../core/index.js';
import { DEVBOT_MARKER } from './github-trigger.js';

const MAX_STEPS = 12;

const HEADLINE: Record<ProgressStatus, string> = {
  queued: '⏳ **devbot** accepted this and will start shortly.',
  running: '⚙️ **devbot** is working on this…',
  waiting: '⏸️ **devbot** has a plan and waits for your approval.',
  succeeded: '✅ **devbot** finished.',
  failed: '❌ **devbot** could not finish this.',
  cancelled: '🚫 **devbot** stopped: the task was cancelled.',
};

export function progressMarker(taskId: string): string {
  return `${DEVBOT_MARKER}progress task=${taskId} -->`;
}

export function renderSteps(state: TaskProgress): string {
  const shown = state.steps.slice(-MAX_STEPS);
  const hidden = state.steps.length - shown.length;
  const lines = shown.map((s, i) => {
    const last = i === shown.length - 1 && state.status === 'running';
    return `- ${last ? '▸' : '✓'} ${s}`;
  });
  if (hidden > 0) lines.unshift(`- … ${hidden} earlier step${hidden === 1 ? '' : 's'}`);
  return lines.join('\n');
}

/** `taskPage`: the task's read-only page on the dashboard (its share link), when there is one. */
export function renderProgressComment(state: TaskProgress, taskPage?: string): string {
  const out = [progressMarker(state.taskId), HEADLINE[state.status], ''];
  if (state.status === 'waiting' && state.plan) {
    out.push('**Plan**', '', planText(state.plan), '');
    out.push('Comment `/devbot go` to start or `/devbot revise <what>` to change the plan.', '');
  }
  const ask = state.status === 'running' ? state.commandAsks.at(-1) : undefined;
  if (ask) {
    out.push(
      '**⏸️ devbot wants to run a command that needs your OK:**',
      '',
      fence(ask.command),
      '',
      `Why: ${ask.reasons}`,
      '',
      'Comment `/devbot allow` to run it once, `/devbot allow task` to allow it for the rest of this task, or `/devbot deny` (no answer by ' +
        `${ask.expiresAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} counts as deny).`,
      '',
    );
  }
  if (state.summary && state.status === 'succeeded') out.push(state.summary, '');
  const error = publicError(state);
  if (error && state.status !== 'succeeded') out.push(`> ${error.split('\n').join('\n> ')}`, '');
  const steps = renderSteps(state);
  if (steps) out.push('<details><summary>Steps</summary>', '', steps, '', '</details>', '');
  const links: string[] = [];
  if (state.prUrl) links.push(`**Pull request:** ${state.prUrl}`);
  if (state.previewUrl) links.push(`**Preview:** ${state.previewUrl}`);
  if (state.branch && !state.prUrl) links.push(`**Branch:** \`${state.branch}\``);
  if (taskPage) links.push(`[Task page](${taskPage})`);
  if (links.length) out.push(links.join(' · '), '');
  const facts: string[] = [];
  if (state.durationMs !== null) facts.push(`time ${formatDuration(state.durationMs)}`);
  if (state.costUsd !== null) facts.push(`cost $${state.costUsd.toFixed(4)}`);
  facts.push(`task \`${state.taskId}\``);
  out.push(`<sub>${facts.join(' · ')}</sub>`);
  return out.join('\n');
}

/** A code block that the text cannot close early. */
function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}sh\n${text.length > 1000 ? `${text.slice(0, 997)}…` : text}\n${ticks}`;
}

/**
 * Errors devbot wrote for the requester (bad input, a refusal, a limit, a cancel) are shown; any
 * other failure can quote internal URLs, git's stderr or host paths, so a public page gets a
 * generic reason and the details stay in the task's events, for its owner.
 */
const PUBLIC_ERROR_CODES = ['bad_input', 'forbidden', 'limit_exceeded', 'cancelled', 'unavailable'];

export function publicError(state: Pick<TaskProgress, 'error' | 'errorCode' | 'taskId'>): string | null {
  if (!state.error) return null;
  if (state.errorCode === null || PUBLIC_ERROR_CODES.includes(state.errorCode)) return state.error;
  return `devbot hit an internal error (${state.errorCode}); the operator can read the details in task ${state.taskId}'s events.`;
}

/** The check run's output summary (no marker, no details block). */
export function renderCheckSummary(state: TaskProgress): string {
  const out: string[] = [];
  if (state.summary && state.status === 'succeeded') out.push(state.summary, '');
  const error = publicError(state);
  if (error && state.status !== 'succeeded') out.push(error, '');
  const steps = renderSteps(state);
  if (steps) out.push(steps, '');
  const links: string[] = [];
  if (state.prUrl) links.push(`Pull request: ${state.prUrl}`);
  if (state.previewUrl) links.push(`Preview: ${state.previewUrl}`);
  if (links.length) out.push(links.join(' · '), '');
  const facts: string[] = [];
  if (state.costUsd !== null)
    facts.push(`cost${state.status === 'running' ? ' so far' : ''} $${state.costUsd.toFixed(4)}`);
  if (state.durationMs !== null) facts.push(`time ${formatDuration(state.durationMs)}`);
  if (facts.length) out.push(facts.join(' · '));
  return out.join('\n').trim().slice(0, 60_000) || 'Working…';
}
