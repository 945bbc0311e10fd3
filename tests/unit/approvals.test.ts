/** The pure parts of approvals (issue 18): GitHub commands, the progress fold, what surfaces render. */
import { describe, expect, it } from 'vitest';
import {
  type ApprovalOutcome,
  applyEvent,
  newProgress,
  type Task,
  type TaskApprovals,
  type TaskEvent,
} from '../../src/core/index.js';
import type { GithubTrigger } from '../../src/github/github-trigger.js';
import { renderProgressComment } from '../../src/github/progress-comment.js';
import { handleTaskCommand, hasAutoLabel, parseIssueCommand } from '../../src/github/task-commands.js';
import { planCallback, renderPlan } from '../../src/telegram/render-progress.js';

const TASK_ID = '0b6f8a2e-1c1e-4c1a-9f55-2f7d7b0b9c11';

function task(): Task {
  const now = new Date();
  return {
    id: TASK_ID,
    source: 'telegram',
    origin: { chatId: 1 },
    requester: 'tg:1',
    repo: 'acme/app',
    kind: 'dev',
    prompt: 'add <b>dark</b> mode',
    input: {},
    status: 'running',
    idempotencyKey: null,
    branch: null,
    prUrl: null,
    previewUrl: null,
    resultSummary: null,
    result: null,
    error: null,
    usage: {},
    attempts: 1,
    createdAt: now,
    startedAt: now,
    finishedAt: null,
    updatedAt: now,
  };
}

const event = (seq: number, e: Pick<TaskEvent, 'type' | 'data'>) =>
  ({ taskId: TASK_ID, seq, at: new Date(), ...e }) as TaskEvent;

describe('GitHub commands on a task at work', () => {
  it('parses go, revise and anything else', () => {
    expect(parseIssueCommand('go')).toEqual({ type: 'go' });
    expect(parseIssueCommand(' GO ')).toEqual({ type: 'go' });
    expect(parseIssueCommand('go and also fix the footer')).toEqual({
      type: 'say',
      text: 'go and also fix the footer',
    });
    expect(parseIssueCommand('revise: keep the old API')).toEqual({
      type: 'revise',
      text: 'keep the old API',
    });
    expect(parseIssueCommand('revise')).toEqual({ type: 'revise', text: '' });
    expect(parseIssueCommand('revisers unite')).toEqual({ type: 'say', text: 'revisers unite' });
  });

  it('finds devbot-auto among the issue labels only', () => {
    expect(hasAutoLabel({ issue: { labels: [{ name: 'devbot' }, { name: 'DevBot-Auto' }] } })).toBe(true);
    expect(hasAutoLabel({ issue: { labels: [{ name: 'devbot' }] }, label: { name: 'devbot-auto' } })).toBe(
      false,
    );
    expect(hasAutoLabel(null)).toBe(false);
  });
});

describe('a waiting task on every surface', () => {
  const plan = { steps: ['Add a <toggle>', 'Test it'], files: ['src/app.ts'], verify: 'npm test' };

  it('folds waiting, then the decision', () => {
    const p = newProgress(task());
    applyEvent(
      p,
      event(1, {
        type: 'task.waiting',
        data: { reason: 'plan', plan, round: 2, expiresAt: '2030-01-01T00:00:00.000Z' },
      }),
    );
    expect(p).toMatchObject({ status: 'waiting', phase: 'waiting for approval', plan, planRound: 2 });
    applyEvent(p, event(2, { type: 'approval', data: { decision: 'approved', by: 'tg:1', round: 2 } }));
    expect(p).toMatchObject({ status: 'queued', phase: 'approved', waitingUntil: null });
    expect(applyEvent(p, event(3, { type: 'steer', data: { by: 'tg:1', text: 'hi' } }))).toBe(false);
  });

  it('renders the plan with three callback buttons under 64 bytes, escaped; decided, without buttons', () => {
    const p = newProgress(task());
    applyEvent(
      p,
      event(1, {
        type: 'task.waiting',
        data: { reason: 'plan', plan, round: 12, expiresAt: '2030-01-01T00:00:00.000Z' },
      }),
    );
    const open = renderPlan(p);
    expect(open.html).toContain('1. Add a &lt;toggle&gt;');
    expect(open.html).toContain('add &lt;b&gt;dark&lt;/b&gt; mode');
    const data = (open.buttons ?? []).flat().map((b) => ('callbackData' in b ? b.callbackData : ''));
    expect(data).toEqual([
      planCallback('a', 12, TASK_ID),
      planCallback('r', 12, TASK_ID),
      planCallback('c', 12, TASK_ID),
    ]);
    for (const d of data) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(64);
    const decided = renderPlan(p, '✅ Approved: working on it.');
    expect(decided.buttons).toBeUndefined();
    expect(decided.html).toContain('Approved');
  });

  it('the sticky comment shows the plan and how to answer', () => {
    const p = newProgress({ ...task(), source: 'github' });
    applyEvent(
      p,
      event(1, {
        type: 'task.waiting',
        data: { reason: 'plan', plan, round: 1, expiresAt: '2030-01-01T00:00:00.000Z' },
      }),
    );
    const body = renderProgressComment(p);
    expect(body).toContain('waits for your approval');
    expect(body).toContain('2. Test it');
    expect(body).toContain('`/devbot go`');
    expect(body).toContain('`/devbot revise <what>`');
  });
});

describe('a /devbot comment on an issue with a task at work', () => {
  const trigger = (instruction: string): GithubTrigger => ({
    kind: 'dev',
    owner: 'acme',
    repo: 'app',
    installationId: 1,
    issueNumber: 7,
    issueTitle: 't',
    issueBody: '',
    commentId: 99,
    sender: 'bob',
    instruction,
    idempotencyKey: 'gh:comment:99',
    reactTo: null,
  });
  /** A TaskApprovals that records what it was asked (the port, not our implementation). */
  function recorder(task: Task | null) {
    const calls: string[] = [];
    const ok = async (): Promise<ApprovalOutcome> => ({ ok: true, task: task as Task });
    const approvals: TaskApprovals = {
      pending: async () => null,
      approve: async (id, by) => {
        calls.push(`approve ${id} ${by}`);
        return ok();
      },
      revise: async (id, by, text) => {
        calls.push(`revise ${id} ${by} ${text}`);
        return ok();
      },
      steer: async (id, by, text) => {
        calls.push(`steer ${id} ${by} ${text}`);
        return ok();
      },
      command: async () => null,
      decideCommand: async (id, commandId, by, decision) => {
        calls.push(`command ${id} ${commandId ?? 'oldest'} ${by} ${decision}`);
        return ok();
      },
    };
    return { calls, deps: { approvals, activeTask: async () => task } };
  }

  it('go approves, revise and words on a waiting task revise, words on a running task steer', async () => {
    const waiting = { ...task(), status: 'waiting' as const };
    let r = recorder(waiting);
    expect(await handleTaskCommand(trigger('go'), r.deps)).toEqual({ acted: waiting });
    expect(await handleTaskCommand(trigger('revise keep it small'), r.deps)).toEqual({ acted: waiting });
    expect(await handleTaskCommand(trigger('use tabs'), r.deps)).toEqual({ acted: waiting });
    expect(r.calls).toEqual([
      `approve ${TASK_ID} gh:bob`,
      `revise ${TASK_ID} gh:bob keep it small`,
      `revise ${TASK_ID} gh:bob use tabs`,
    ]);
    expect(await handleTaskCommand(trigger('revise'), r.deps)).toEqual({
      refused: expect.stringContaining('say what should change'),
    });
    const running = task();
    r = recorder(running);
    expect(await handleTaskCommand(trigger('also the footer'), r.deps)).toEqual({ acted: running });
    expect(r.calls).toEqual([`steer ${TASK_ID} gh:bob also the footer`]);
  });

  it('with no task at work: go is refused, anything else starts a task; reviews are never commands', async () => {
    const r = recorder(null);
    expect(await handleTaskCommand(trigger('go'), r.deps)).toEqual({
      refused: expect.stringContaining('no plan waiting'),
    });
    expect(await handleTaskCommand(trigger('add a footer'), r.deps)).toBeNull();
    const busy = recorder(task());
    expect(
      await handleTaskCommand(
        (({ commentId: _c, ...rest }) => ({ ...rest, reviewId: 5 }))(trigger('go')),
        busy.deps,
      ),
    ).toBeNull();
    expect(busy.calls).toEqual([]);
  });
});
