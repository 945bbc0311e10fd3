/**
 * `/devbot` comments that act on the task already at work on an issue (issue 18) instead of
 * starting another: `/devbot go` approves its waiting plan, `/devbot revise <what>` plans again with
 * the change, and any other `/devbot <text>` goes to the running crew (steering) or, while the plan
 * waits, revises it. `/devbot allow` (once), `/devbot allow task` (for the rest of the task) and
 * `/devbot deny` answer the newest command the running task waits on (`approval: commands`).
 * The sender already passed the write-permission gate. Pure parsing plus one
 * injected lookup, so github-trigger.ts keeps only the one hook.
 */
import type { PersonCommandDecision, Task, TaskApprovals } from '../core/index.js';
import type { GithubTrigger } from './github-trigger.js';

/** The label that, beside the trigger label, skips plan approval for an issue. */
export const AUTO_LABEL = 'devbot-auto';

export type IssueCommand =
  | { type: 'go' }
  | { type: 'revise'; text: string }
  | { type: 'say'; text: string }
  | { type: 'command'; decision: PersonCommandDecision };

export function parseIssueCommand(instruction: string): IssueCommand {
  const text = instruction.trim();
  if (/^(go|approve)\b\s*$/i.test(text)) return { type: 'go' };
  if (/^allow\s*$/i.test(text)) return { type: 'command', decision: 'allowed_once' };
  if (/^allow\s+(task|all|always)\s*$/i.test(text)) return { type: 'command', decision: 'allowed_task' };
  if (/^deny\s*$/i.test(text)) return { type: 'command', decision: 'denied' };
  const revise = /^revise\b[\s:]*([\s\S]*)$/i.exec(text);
  if (revise) return { type: 'revise', text: (revise[1] ?? '').trim() };
  return { type: 'say', text };
}

/** Whether the issue of a labelled event carries the `devbot-auto` label too. */
export function hasAutoLabel(payload: unknown): boolean {
  const issue = (payload as { issue?: { labels?: unknown } } | null)?.issue;
  const labels = Array.isArray(issue?.labels) ? issue.labels : [];
  return labels.some(
    (l) =>
      typeof (l as { name?: unknown }).name === 'string' &&
      (l as { name: string }).name.toLowerCase() === AUTO_LABEL,
  );
}

export interface TaskCommandDeps {
  approvals: TaskApprovals;
  /** The newest task on this issue that has not ended (queued, running or waiting), or null. */
  activeTask(repo: string, issueNumber: number): Promise<Task | null>;
}

/** What a command did: the task it acted on, or a refusal to post; null when it is a new task. */
export type TaskCommandResult = { acted: Task } | { refused: string } | null;

export async function handleTaskCommand(t: GithubTrigger, deps: TaskCommandDeps): Promise<TaskCommandResult> {
  // Only comments on an issue or PR conversation; reviews start follow-ups as before.
  if (t.commentId === undefined || t.reviewCommentId !== undefined) return null;
  const command = parseIssueCommand(t.instruction);
  const task = await deps.activeTask(`${t.owner}/${t.repo}`, t.issueNumber);
  const by = `gh:${t.sender}`;
  if (command.type === 'command') {
    if (!task) return { refused: 'there is no command waiting for approval on this issue' };
    const outcome = await deps.approvals.decideCommand(task.id, null, by, command.decision);
    return outcome.ok ? { acted: outcome.task } : { refused: outcome.message };
  }
  if (!task) {
    if (command.type === 'say') return null;
    return { refused: 'there is no plan waiting for approval on this issue' };
  }
  if (command.type === 'go') {
    const outcome = await deps.approvals.approve(task.id, by);
    return outcome.ok ? { acted: outcome.task } : { refused: outcome.message };
  }
  if (command.type === 'revise' || task.status === 'waiting') {
    const text = command.text;
    if (!text) return { refused: 'say what should change: `/devbot revise <what>`' };
    const outcome = await deps.approvals.revise(task.id, by, text);
    return outcome.ok ? { acted: outcome.task } : { refused: outcome.message };
  }
  if (task.status !== 'running' || !command.text) return null;
  const outcome = await deps.approvals.steer(task.id, by, command.text);
  return outcome.ok ? { acted: outcome.task } : null;
}
