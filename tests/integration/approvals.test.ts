/**
 * Approvals and steering (issue 18), end to end in one whole devbot (real Redis, PGlite kept across
 * a restart, the real local sandbox, the agents module's crew, the scripted LLM, the fake GitHub
 * and the fake Telegram Bot API):
 * - `approval: plan` in `.devbot.yml`: the plan arrives with Approve / Revise / Cancel; another
 *   user's press, a forged or stale button, a double press and an approval after a cancel change
 *   nothing and say why; Revise re-plans with the reply; while the task waits no worker slot and no
 *   sandbox is held; every devbot process stops and starts again, then Approve opens the PR once;
 *   an unanswered plan expires as cancelled with a message.
 * - GitHub: the plan in the sticky comment; `/devbot go` by a read-only user refused, by a write
 *   user continues; `devbot-auto` skips approval.
 * - The API: approve and revise, with the same rules as cancel.
 * - Steering: a reply to the status message reaches the next model request, fenced and labelled;
 *   a plain message while the task runs asks Add / New, and each does what it says.
 * - Command approval (`approval: [commands]`, and DEVBOT_APPROVAL=commands for repositories without
 *   a setting): a risky command waits with Allow once / Allow for this task / Deny; another user's
 *   press is refused; Deny reaches the model as the tool result and the task goes on; Allow once
 *   runs it; Allow for this task (through the API) stops asking for the same command; a harmless
 *   command and `/sh` never ask. GitHub: `/devbot allow` by a read-only user is refused, `/devbot
 *   deny` by a write user answers.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSandboxProvider } from '../../src/app/modules/sandbox-module.js';
import type { TelegramModule } from '../../src/app/modules/telegram-module.js';
import type { SandboxProvider, Task } from '../../src/core/index.js';
import type { SqlClient } from '../../src/core/sql-client.js';
import { SqlSubjectAccess } from '../../src/store/sql-subject-access.js';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import { deliver, issueCommentCreated, issueLabeled } from '../fakes/github/webhook-payloads.js';
import {
  type ScriptedLlmServer,
  type ScriptedTurn,
  startScriptedLlm,
} from '../fakes/llm/scripted-llm-server.js';
import { FakeTelegramServer, type StoredMessage } from '../fakes/telegram/index.js';
import { githubAppEnv } from '../helpers/github-fixtures.js';
import { openTestPglite } from '../helpers/pglite-template.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { removeDir, taskEnded, tempDir, uniquePrefix, waitFor } from '../helpers/test-env.js';

const OWNER = 'acme';
const GREET = 'greet'; // .devbot.yml says approval: plan
const FREE = 'free'; // no approval in .devbot.yml (the deployment's: commands)
const CMDS = 'cmds'; // .devbot.yml says approval: [commands]
const SECRET = `whsec-${randomBytes(12).toString('hex')}`;
const ALICE = 1001;
const BOB = 1002;
const GROUP = -100;

let gh: FakeGithub;
let llm: ScriptedLlmServer;
let tg: FakeTelegramServer;
let sql: SqlClient;
let devbot: TestDevbot;
let dataDir: string;
let env: Record<string, string>;
/** Sandboxes open right now, across restarts (the real provider, counted). */
let openSandboxes = 0;

function countingProvider(inner: SandboxProvider): SandboxProvider {
  return {
    name: inner.name,
    check: () => inner.check(),
    close: () => inner.close(),
    ...(inner.reap ? { reap: inner.reap.bind(inner) } : {}),
    async create(options) {
      const box = await inner.create(options);
      openSandboxes += 1;
      let closed = false;
      const close = box.close.bind(box);
      box.close = async () => {
        if (!closed) {
          closed = true;
          openSandboxes -= 1;
        }
        await close();
      };
      return box;
    },
  };
}

async function start(): Promise<void> {
  devbot = await startTestDevbot({
    sql,
    dataDir,
    env,
    sandboxes: (ctx) => countingProvider(defaultSandboxProvider(ctx)),
    github: { minEditIntervalMs: 50, throttle: false },
    telegram: {
      outbox: { intervalMs: () => 20, backoffMs: 20, maxRetryAfterMs: 2000 },
      pollingTimeoutSeconds: 1,
      retryDelayMs: { initial: 50, max: 500 },
      flushMs: 2000,
    },
  });
  await (devbot.app.modules.telegram as TelegramModule).bot.ready();
}

const plannerTurn = (tag: string, contains?: string): ScriptedTurn => ({
  match: { role: 'planner', ...(contains ? { contains } : {}) },
  content: JSON.stringify({ steps: [`Write greeting.txt (${tag})`], files: ['greeting.txt'], verify: '' }),
});

/** The crew's work after planning: one file, no checks, the write-up. */
function workTurns(tag: string, firstCoder: Partial<ScriptedTurn> = {}): ScriptedTurn[] {
  return [
    {
      match: { role: 'coder' },
      toolCalls: [{ name: 'write_file', arguments: { path: 'greeting.txt', content: `hello ${tag}\n` } }],
      ...firstCoder,
    },
    { match: { role: 'coder', afterToolResult: true }, content: 'Wrote greeting.txt.' },
    {
      match: { role: 'synthesizer' },
      content: JSON.stringify({
        summary: `Added greeting.txt (${tag}).`,
        steps: ['Wrote greeting.txt'],
        prTitle: `Add a greeting (${tag})`,
        prBody: 'Adds greeting.txt.',
        chatReply: `Added the greeting (${tag}).`,
      }),
    },
  ];
}

const store = () => devbot.app.runtime.store;
const isPlan = (m: StoredMessage) => m.text.startsWith('📋 Plan');
const buttonsOf = (m: StoredMessage) =>
  (
    (m.replyMarkup as { inline_keyboard?: { text: string; callback_data?: string }[][] } | undefined)
      ?.inline_keyboard ?? []
  ).flat();

/** Presses a button; `buttons` as the message had them when it arrived (they go once decided). */
async function press(
  from: number,
  message: StoredMessage,
  label: string,
  buttons = buttonsOf(message),
): Promise<string> {
  const button = buttons.find((b) => b.text.includes(label));
  if (!button?.callback_data) throw new Error(`no ${label} button on ${message.text}`);
  return toast(
    tg.pressButton({
      from,
      chatId: message.chatId,
      messageId: message.messageId,
      data: button.callback_data,
    }),
  );
}

function toast(update: Parameters<FakeTelegramServer['callbackAnswer']>[0]): Promise<string> {
  return tg.waitFor(() => tg.callbackAnswer(update), 10_000, 'the callback answer');
}

async function waitForStatus(id: string, status: Task['status']): Promise<Task> {
  return waitFor(
    async () => {
      const task = await store().getTask(id);
      return task?.status === status ? task : undefined;
    },
    `task ${id} ${status}`,
    30_000,
  );
}

async function newestTask(): Promise<Task> {
  const [task] = await store().listTasks({ limit: 1 });
  return task as Task;
}

beforeAll(async () => {
  [gh, llm, tg] = await Promise.all([
    startFakeGithub({ appId: 12345, appSlug: 'devbot' }),
    startScriptedLlm(),
    new FakeTelegramServer().start(),
  ]);
  await gh.createRepo({
    owner: OWNER,
    name: GREET,
    files: { 'README.md': '# greet\n', '.devbot.yml': 'approval: plan\n' },
  });
  await gh.createRepo({ owner: OWNER, name: FREE, files: { 'README.md': '# free\n' } });
  await gh.createRepo({
    owner: OWNER,
    name: CMDS,
    files: {
      'README.md': '# cmds\n',
      '.devbot.yml': 'approval: [commands]\napprove_commands: ./deploy.sh\n',
    },
  });
  for (const repo of [GREET, FREE, CMDS]) {
    gh.setPermission(OWNER, repo, 'alice', 'write');
    gh.setPermission(OWNER, repo, 'bob', 'write');
    gh.setPermission(OWNER, repo, 'rita', 'read');
  }
  sql = await openTestPglite();
  dataDir = tempDir();
  env = {
    ...githubAppEnv(gh, SECRET),
    OPENAI_BASE_URL: llm.baseUrl,
    OPENAI_API_KEY: `sk-test-${randomBytes(8).toString('hex')}`,
    DEVBOT_MODEL: 'scripted',
    TELEGRAM_BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: tg.apiRoot,
    TELEGRAM_ALLOWED_USER_IDS: `${ALICE},${BOB}`,
    DEVBOT_QUEUE_PREFIX: uniquePrefix(),
    DEVBOT_SANDBOX_TIMEOUT_MS: '30000',
    DEVBOT_APPROVAL: 'commands',
  };
  await start();
  const access = new SqlSubjectAccess(devbot.app.runtime.sql);
  await access.link(`tg:${ALICE}`, 'alice');
  await access.link(`tg:${BOB}`, 'bob');
  tg.sendUserMessage({ from: ALICE, chat: 'group', mention: true, text: `/repo ${OWNER}/${GREET}` });
  await tg.waitForMessage((m) => m.text.includes(`now works on ${OWNER}/${GREET}`), { chatId: GROUP });
}, 60_000);

afterAll(async () => {
  await devbot?.stop();
  await sql?.close();
  await Promise.all([gh?.close(), llm?.close(), tg?.close()]);
  if (dataDir) removeDir(dataDir);
});

describe('plan approval in Telegram', () => {
  it('waits with three buttons and holds nothing; refuses others, forged and stale presses; Revise re-plans; survives a restart; Approve opens the PR once', async () => {
    llm.load([plannerTurn('first')]);
    tg.sendUserMessage({ from: ALICE, chat: 'group', mention: true, text: '/new_task add a greeting file' });
    const plan1 = await tg.waitForMessage(isPlan, { chatId: GROUP, timeoutMs: 30_000 });
    expect(plan1.text).toContain('Write greeting.txt (first)');
    const plan1Buttons = buttonsOf(plan1);
    expect(plan1Buttons.map((b) => b.text)).toEqual(['✅ Approve', '✏️ Revise', '🚫 Cancel']);
    const task = await newestTask();
    await waitForStatus(task.id, 'waiting');
    // No worker slot, no sandbox, no job (the job completes just after the task is stored waiting).
    await waitFor(
      async () =>
        (devbot.app.worker?.activeCount === 0 && (await devbot.app.queue.depth()).active === 0) || undefined,
      'the worker to let the task go',
    );
    expect(openSandboxes).toBe(0);
    const api = await devbot.client(`tg:${ALICE}`);
    expect((await api.getTask(task.id)).body.status).toBe('waiting');

    // Bob is allowed to use the bot, but it is not his task.
    expect(await press(BOB, plan1, 'Approve')).toMatch(/Only the person who asked/);
    // Forged: a task that does not exist, and garbage.
    const ghost = tg.pressButton({
      from: ALICE,
      chatId: GROUP,
      messageId: plan1.messageId,
      data: 'ap:a:1:00000000-0000-4000-8000-000000000000',
    });
    expect(await toast(ghost)).toMatch(/no task of this chat/);
    const junk = tg.pressButton({ from: ALICE, chatId: GROUP, messageId: plan1.messageId, data: 'ap:a:x' });
    expect(await toast(junk)).toMatch(/not valid/);
    expect((await store().getTask(task.id))?.status).toBe('waiting');

    // Revise: the bot asks, the reply re-plans with the change.
    llm.load([plannerTurn('second', 'say hello in French')]);
    expect(await press(ALICE, plan1, 'Revise')).toMatch(/Reply with what should change/);
    const prompt = await tg.waitForMessage((m) => m.text.startsWith('✏️ What should change'), {
      chatId: GROUP,
    });
    tg.sendUserMessage({
      from: ALICE,
      chat: 'group',
      replyTo: prompt.messageId,
      text: 'say hello in French',
    });
    const plan2 = await tg.waitForMessage((m) => isPlan(m) && m.messageId !== plan1.messageId, {
      chatId: GROUP,
      timeoutMs: 30_000,
    });
    expect(plan2.text).toContain('(second)');
    const plan2Buttons = buttonsOf(plan2);
    await waitForStatus(task.id, 'waiting');
    // The planner saw the revision, fenced as the requester's words.
    const planned = llm.requests.filter((r) => r.role === 'planner').at(-1);
    expect(JSON.stringify(planned?.body.messages)).toMatch(
      /untrusted-[0-9a-f]{8} source=\\"the requester's revision 1\\"/,
    );
    // The first plan's buttons are gone, and a press on it (an old message) changes nothing.
    await tg.waitFor(() => buttonsOf(plan1).length === 0, 10_000, 'the first plan closed');
    expect(await press(ALICE, plan1, 'Approve', plan2Buttons)).toMatch(/old plan/);
    expect(await press(ALICE, plan1, 'Approve', plan1Buttons)).toMatch(/old plan/);
    expect(openSandboxes).toBe(0);

    // Every devbot process stops; a new one starts on the same database and data.
    await devbot.stop();
    await start();
    expect(await store().getTask(task.id)).toMatchObject({ status: 'waiting' });

    llm.load(workTurns('approved'));
    expect(await press(ALICE, plan2, 'Approve')).toMatch(/Approved/);
    const done = await taskEnded(store(), task.id, 40_000);
    expect(done.status, done.error ?? '').toBe('succeeded');
    const pulls = gh.repo(OWNER, GREET).pulls;
    expect(pulls).toHaveLength(1);
    expect(await gh.gitShow(OWNER, GREET, `${done.branch}:greeting.txt`)).toBe('hello approved\n');
    // The continuation worked from the approved plan: no third planner request.
    expect(llm.requests.filter((r) => r.role === 'planner')).toHaveLength(2);
    // Each continuation counts its own attempts: three rounds (plan, revise, approve) are not three
    // failed attempts, so a transient failure now would still be retried.
    expect(done.attempts).toBe(1);
    expect(llm.errors).toEqual([]);
    // A double press after the approval: nothing to decide, nothing changes.
    expect(await press(ALICE, plan2, 'Approve', plan2Buttons)).toMatch(/Nothing to decide/);
    expect(gh.repo(OWNER, GREET).pulls).toHaveLength(1);
    const events = await store().listEvents(task.id);
    expect(
      events.filter((e) => e.type === 'approval').map((e) => (e.data as { decision: string }).decision),
    ).toEqual(['revised', 'approved']);
  }, 120_000);

  it('Cancel ends a waiting task; an approval after that changes nothing; an unanswered plan expires as cancelled with a message', async () => {
    llm.load([plannerTurn('cancel')]);
    tg.sendUserMessage({ from: ALICE, chat: 'group', mention: true, text: '/new_task add a farewell' });
    const plan = await tg.waitForMessage((m) => isPlan(m) && m.text.includes('(cancel)'), {
      chatId: GROUP,
      timeoutMs: 30_000,
    });
    const task = await newestTask();
    await waitForStatus(task.id, 'waiting');
    const planButtons = buttonsOf(plan);
    expect(await press(ALICE, plan, 'Cancel')).toBe('Cancelled.');
    await waitForStatus(task.id, 'cancelled');
    await tg.waitForMessage((m) => m.text.startsWith('🚫 Cancelled') && m.text.includes(task.id), {
      chatId: GROUP,
    });
    expect(await press(ALICE, plan, 'Approve', planButtons)).toMatch(
      /Nothing to decide: the task was cancelled/,
    );
    const api = await devbot.client(`tg:${ALICE}`);
    expect((await api.request('POST', `/tasks/${task.id}/approve`)).status).toBe(409);

    llm.load([plannerTurn('expire')]);
    tg.sendUserMessage({ from: ALICE, chat: 'group', mention: true, text: '/new_task add a poem' });
    await tg.waitForMessage((m) => isPlan(m) && m.text.includes('(expire)'), {
      chatId: GROUP,
      timeoutMs: 30_000,
    });
    const late = await newestTask();
    await waitForStatus(late.id, 'waiting');
    // The sweep, as the worker runs it, a day later.
    const expired = await devbot.app.worker?.expireApprovals(new Date(Date.now() + 25 * 3600_000));
    expect(expired).toContain(late.id);
    const ended = await store().getTask(late.id);
    expect(ended).toMatchObject({ status: 'cancelled' });
    expect(ended?.error).toMatch(/no one approved the plan within 24 h/);
    await tg.waitForMessage((m) => m.text.startsWith('🚫 Cancelled') && m.text.includes('no one approved'), {
      chatId: GROUP,
    });
  }, 90_000);
});

describe('plan approval on GitHub and through the API', () => {
  it('the plan in the sticky comment; /devbot go by a read-only user refused, by a write user continues; devbot-auto skips', async () => {
    const hook = `${devbot.app.url}/api/github/webhooks`;
    llm.load([plannerTurn('issue')]);
    const issue = gh.createIssue(OWNER, GREET, {
      title: 'Add a greeting',
      user: 'alice',
      labels: ['devbot'],
    });
    await deliver(hook, SECRET, issueLabeled(gh, OWNER, GREET, issue.number, 'devbot', 'alice'));
    const [task] = await store().listTasks({ source: 'github', limit: 1 });
    await waitForStatus(task!.id, 'waiting');
    const sticky = () => gh.comments(OWNER, GREET, issue.number).find((c) => c.user.login === 'devbot[bot]');
    await waitFor(
      () => (sticky()?.body.includes('/devbot go') ? true : undefined),
      'the plan in the sticky comment',
    );
    expect(sticky()?.body).toContain('Write greeting.txt (issue)');

    const read = gh.addComment(OWNER, GREET, issue.number, '/devbot go', 'rita');
    await deliver(hook, SECRET, issueCommentCreated(gh, OWNER, GREET, read));
    expect((await store().getTask(task!.id))?.status).toBe('waiting');

    llm.load(workTurns('issue'));
    const go = gh.addComment(OWNER, GREET, issue.number, '/devbot go', 'bob');
    await deliver(hook, SECRET, issueCommentCreated(gh, OWNER, GREET, go));
    const done = await taskEnded(store(), task!.id, 40_000);
    expect(done.status, done.error ?? '').toBe('succeeded');
    expect(gh.repo(OWNER, GREET).pulls.find((p) => p.head === done.branch)?.body).toContain(
      `Closes #${issue.number}`,
    );
    // One task for the issue: the command acted on it instead of starting another.
    expect(
      await store().listTasks({ githubIssue: { repo: `${OWNER}/${GREET}`, issueNumber: issue.number } }),
    ).toHaveLength(1);

    // devbot-auto: no plan to approve.
    llm.load([plannerTurn('auto'), ...workTurns('auto')]);
    const auto = gh.createIssue(OWNER, GREET, {
      title: 'Auto',
      user: 'alice',
      labels: ['devbot', 'devbot-auto'],
    });
    await deliver(hook, SECRET, issueLabeled(gh, OWNER, GREET, auto.number, 'devbot', 'alice'));
    const [autoTask] = await store().listTasks({ source: 'github', limit: 1 });
    const autoDone = await taskEnded(store(), autoTask!.id, 40_000);
    expect(autoDone.status, autoDone.error ?? '').toBe('succeeded');
    expect((await store().listEvents(autoTask!.id)).some((e) => e.type === 'task.waiting')).toBe(false);
  }, 120_000);

  it('API: approve and revise by the requester only; bad bodies and non-waiting tasks are refused', async () => {
    llm.load([plannerTurn('api')]);
    const alice = await devbot.client(`tg:${ALICE}`);
    const created = await alice.createTask({
      kind: 'dev',
      repo: `${OWNER}/${GREET}`,
      prompt: 'add a greeting',
    });
    expect(created.status).toBe(202);
    await waitForStatus(created.body.id, 'waiting');
    const mallory = await devbot.client('mallory');
    expect((await mallory.request('POST', `/tasks/${created.body.id}/approve`)).status).toBe(403);
    expect((await alice.request('POST', `/tasks/${created.body.id}/revise`, { text: '  ' })).status).toBe(
      400,
    );
    expect((await alice.request('POST', `/tasks/${created.body.id}/revise`, { words: 'x' })).status).toBe(
      400,
    );
    llm.load([plannerTurn('api2', 'in capitals')]);
    const revised = await alice.request('POST', `/tasks/${created.body.id}/revise`, { text: 'in capitals' });
    expect(revised.status).toBe(202);
    await waitFor(
      async () => {
        const events = await store().listEvents(created.body.id);
        return events.filter((e) => e.type === 'task.waiting').length === 2 ? true : undefined;
      },
      'the second plan',
      30_000,
    );
    expect((await alice.request('POST', `/tasks/${created.body.id}/cancel`)).status).toBe(202);
    expect((await alice.request('POST', `/tasks/${created.body.id}/approve`)).status).toBe(409);
    expect(llm.errors).toEqual([]);
  }, 60_000);
});

describe('steering a running task', () => {
  it('a reply to the status message and an "Add" reach the next model request; "Start a new task" starts one', async () => {
    tg.sendUserMessage({ from: ALICE, chat: 'group', mention: true, text: `/repo ${OWNER}/${FREE}` });
    await tg.waitForMessage((m) => m.text.includes(`now works on ${OWNER}/${FREE}`), { chatId: GROUP });
    let release: () => void = () => {};
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    let releaseSynth: () => void = () => {};
    const holdSynth = new Promise<void>((resolve) => {
      releaseSynth = resolve;
    });
    llm.load([
      plannerTurn('steer'),
      ...workTurns('steer', { hold }).map((turn, i) =>
        i === 1
          ? { ...turn, match: { role: 'coder', contains: 'please also say goodbye' } }
          : i === 2
            ? { ...turn, hold: holdSynth }
            : turn,
      ),
    ]);
    const update = tg.sendUserMessage({
      from: ALICE,
      chat: 'group',
      mention: true,
      text: '/new_task greet people',
    });
    const userMessageId = (update.message as { message_id: number }).message_id;
    const status = await tg.waitForMessage((m) => m.replyToMessageId === userMessageId, { chatId: GROUP });
    await waitFor(
      () => (llm.requests.at(-1)?.role === 'coder' ? true : undefined),
      'the coder at work',
      30_000,
    );
    const task = await newestTask();

    tg.sendUserMessage({
      from: ALICE,
      chat: 'group',
      replyTo: status.messageId,
      text: 'please also say goodbye',
    });
    // A plain message while it runs: the question with two buttons.
    tg.sendUserMessage({ from: ALICE, chat: 'group', mention: true, text: 'and keep it short' });
    const question = await tg.waitForMessage((m) => m.text.startsWith('A task of yours is running'), {
      chatId: GROUP,
    });
    const choices = buttonsOf(question);
    expect(choices.map((b) => b.text)).toEqual(['➕ Add to the running task', '🆕 Start a new task']);
    expect(await press(BOB, question, 'Add', choices)).toMatch(/Only the person who asked/);
    expect(await press(ALICE, question, 'Add', choices)).toBe('Added to the running task.');
    expect(await press(ALICE, question, 'Add', choices)).toBe('Already done.');
    await waitFor(async () => {
      const steers = (await store().listEvents(task.id)).filter((e) => e.type === 'steer');
      return steers.length === 2 ? true : undefined;
    }, 'two steering messages');
    release();
    // A message after the coder's last turn (the write-up is being written): it cannot reach the
    // crew any more, and the status message says so instead of "noted".
    await waitFor(
      () => (llm.requests.at(-1)?.role === 'synthesizer' ? true : undefined),
      'the synthesizer at work',
      30_000,
    );
    tg.sendUserMessage({ from: ALICE, chat: 'group', replyTo: status.messageId, text: 'one more thing' });
    await waitFor(async () => {
      const steers = (await store().listEvents(task.id)).filter((e) => e.type === 'steer');
      return steers.length === 3 ? true : undefined;
    }, 'the late message');
    releaseSynth();
    const done = await taskEnded(store(), task.id, 40_000);
    expect(done.status, done.error ?? '').toBe('succeeded');
    await tg.waitFor(
      () =>
        status.history.some((h) =>
          h.includes("arrived after the crew's last step, not used: one more thing"),
        ),
      10_000,
      'the late message acknowledged as too late',
    );
    const next = llm.requests.filter((r) => r.role === 'coder').at(-1);
    const text = JSON.stringify(next?.body.messages);
    expect(text).toContain('please also say goodbye');
    expect(text).toContain('and keep it short');
    expect(text).toMatch(/a message from the requester \(tg:1001\)/);
    // Acknowledged in the status message.
    await tg.waitFor(
      () => status.history.some((h) => h.includes('📝 noted: please also say goodbye')),
      10_000,
    );

    // "Start a new task" on a second question starts it from the original message.
    let releaseLong: () => void = () => {};
    const holdLong = new Promise<void>((resolve) => {
      releaseLong = resolve;
    });
    llm.load([plannerTurn('held'), ...workTurns('held', { hold: holdLong }).slice(0, 1)]);
    tg.sendUserMessage({ from: ALICE, chat: 'group', mention: true, text: '/new_task a long job' });
    await waitFor(
      () => (llm.requests.at(-1)?.role === 'coder' && llm.remaining() === 0 ? true : undefined),
      'the long task at work',
      30_000,
    );
    const long = await newestTask();
    llm.load([
      {
        match: { role: 'router', contains: 'print the date' },
        content: JSON.stringify({ kind: 'shell', confidence: 0.9, command: 'echo dated', repo: null }),
      },
    ]);
    const plain = tg.sendUserMessage({ from: ALICE, chat: 'group', mention: true, text: 'print the date' });
    const plainId = (plain.message as { message_id: number }).message_id;
    const ask = await tg.waitForMessage(
      (m) => m.text.startsWith('A task of yours is running') && m.replyToMessageId === plainId,
      { chatId: GROUP },
    );
    expect(await press(ALICE, ask, 'Start a new task')).toBe('Starting a new task.');
    const started = await waitFor(async () => {
      const t = await newestTask();
      return t.id !== long.id ? t : undefined;
    }, 'the new task');
    expect(started.prompt).toBe('print the date');
    expect((await taskEnded(store(), started.id, 30_000)).status).toBe('succeeded');
    await devbot.app.runtime.ingress.cancel(long.id, 'test');
    releaseLong();
    await waitForStatus(long.id, 'cancelled');
  }, 120_000);
});

describe('command approval', () => {
  const run = (command: string) => ({ name: 'run_command', arguments: { command } });
  /** The model's last message is the result of a call to run `command` (its text starts with `start`). */
  const toolResult =
    (start: string) =>
    (body: { messages: Array<{ role: string; content?: unknown }> }): boolean => {
      const last = body.messages.at(-1);
      return last?.role === 'tool' && String(last.content).startsWith(start);
    };
  const isAsk = (command: string) => (m: StoredMessage) =>
    m.text.startsWith('⏸️') && m.text.includes(command) && buttonsOf(m).length > 0;
  const synth = (tag: string): ScriptedTurn => ({
    match: { role: 'synthesizer' },
    content: JSON.stringify({
      summary: `Ran the commands (${tag}).`,
      steps: ['Ran commands'],
      prTitle: `Commands (${tag})`,
      prBody: 'Ran commands.',
      chatReply: `Done (${tag}).`,
    }),
  });

  it('Telegram: a risky command waits for the requester; Deny reaches the model and the task goes on; Allow once runs it; Allow for this task stops asking; harmless commands and /sh never ask', async () => {
    tg.sendUserMessage({ from: ALICE, chat: 'group', mention: true, text: `/repo ${OWNER}/${CMDS}` });
    await tg.waitForMessage((m) => m.text.includes(`now works on ${OWNER}/${CMDS}`), { chatId: GROUP });
    llm.load([
      plannerTurn('cmds'),
      // A harmless command runs at once; a risky one (chmod -R) waits.
      {
        match: { role: 'coder' },
        toolCalls: [run('echo harmless-ran'), run('chmod -R u+w . && touch denied.txt')],
      },
      {
        match: { role: 'coder', test: toolResult('error: the user denied running this command') },
        toolCalls: [run('chmod -R u+w . && touch once.txt')],
      },
      { match: { role: 'coder', test: toolResult('exit code 0') }, toolCalls: [run('chmod -R u+w .')] },
      // The same command (whitespace aside) after "Allow for this task": no question.
      { match: { role: 'coder', test: toolResult('exit code 0') }, toolCalls: [run('chmod  -R u+w .')] },
      { match: { role: 'coder', test: toolResult('exit code 0') }, content: 'Ran them.' },
      synth('cmds'),
    ]);
    tg.sendUserMessage({ from: ALICE, chat: 'group', mention: true, text: '/new_task run the commands' });
    const ask1 = await tg.waitForMessage(isAsk('touch denied.txt'), { chatId: GROUP, timeoutMs: 30_000 });
    const task = await newestTask();
    expect(buttonsOf(ask1).map((b) => b.text)).toEqual(['✅ Allow once', '♾️ Allow for this task', '🚫 Deny']);
    expect(ask1.text).toMatch(/changes permissions recursively/);
    // The task keeps running (and its sandbox) while the command waits.
    expect((await store().getTask(task.id))?.status).toBe('running');
    const ask1Buttons = buttonsOf(ask1);
    expect(await press(BOB, ask1, 'Deny')).toMatch(/Only the person who asked/);
    const forged = tg.pressButton({
      from: ALICE,
      chatId: GROUP,
      messageId: ask1.messageId,
      data: 'ca:o:00000000-0000-4000-8000-000000000000',
    });
    expect(await toast(forged)).toMatch(/no task of this chat/);
    expect(await press(ALICE, ask1, 'Deny')).toBe('Denied: the crew goes on without it.');
    expect(await press(ALICE, ask1, 'Allow once', ask1Buttons)).toMatch(/already decided \(denied\)/);
    await tg.waitFor(() => ask1.text.includes('Denied by tg:1001'), 10_000, 'the ask closed');

    const ask2 = await tg.waitForMessage(isAsk('touch once.txt'), { chatId: GROUP, timeoutMs: 30_000 });
    const ask2Buttons = buttonsOf(ask2);
    expect(await press(ALICE, ask2, 'Allow once')).toBe('Allowed once: the command runs.');

    // Allow for this task, through the API: another subject may not, the requester may.
    const ask3 = await tg.waitForMessage((m) => isAsk('chmod -R u+w .')(m) && !m.text.includes('touch'), {
      chatId: GROUP,
      timeoutMs: 30_000,
    });
    const open = (await store().listEvents(task.id)).filter((e) => e.type === 'command.approval_requested');
    const cid = (open.at(-1)?.data as { id: string } | undefined)?.id ?? '';
    const mallory = await devbot.client('mallory');
    expect((await mallory.request('POST', `/tasks/${task.id}/commands/${cid}/allow`)).status).toBe(403);
    const alice = await devbot.client(`tg:${ALICE}`);
    expect(
      (await alice.request('POST', `/tasks/${task.id}/commands/${cid}/allow`, { scope: 'forever' })).status,
    ).toBe(400);
    expect(
      (await alice.request('POST', `/tasks/${task.id}/commands/${cid}/allow`, { scope: 'task' })).status,
    ).toBe(202);
    await tg.waitFor(() => ask3.text.includes('Allowed for the rest of this task'), 10_000, 'ask 3 closed');

    const done = await taskEnded(store(), task.id, 40_000);
    expect(done.status, done.error ?? '').toBe('succeeded');
    expect(llm.errors).toEqual([]);
    const events = await store().listEvents(task.id);
    expect(events.filter((e) => e.type === 'command.approval_requested')).toHaveLength(3);
    expect(
      events
        .filter((e) => e.type === 'command.approval_decided')
        .map((e) => (e.data as { decision: string; by: string }).decision),
    ).toEqual(['denied', 'allowed_once', 'allowed_task']);
    const ran = events
      .filter((e) => e.type === 'command.started')
      .map((e) => (e.data as { command: string }).command);
    expect(ran).toContain('echo harmless-ran');
    expect(ran).not.toContain('chmod -R u+w . && touch denied.txt');
    expect(ran).toContain('chmod  -R u+w .');
    expect(await gh.gitShow(OWNER, CMDS, `${done.branch}:once.txt`)).toBe('');
    await expect(gh.gitShow(OWNER, CMDS, `${done.branch}:denied.txt`)).rejects.toThrow();
    // A late press, after the task ended.
    expect(await press(ALICE, ask2, 'Deny', ask2Buttons)).toMatch(
      /Nothing to decide: the task has already finished/,
    );

    // `/sh` is the user's own command: it never asks, even where commands need approval.
    tg.sendUserMessage({
      from: ALICE,
      chat: 'group',
      mention: true,
      text: '/sh mkdir -p /tmp/x && chmod -R u+w /tmp/x && echo sh-ran',
    });
    const sh = await waitFor(async () => {
      const t = await newestTask();
      return t.id !== task.id && t.kind === 'shell' ? t : undefined;
    }, 'the /sh task');
    const shDone = await taskEnded(store(), sh.id, 30_000);
    expect(shDone.status, shDone.error ?? '').toBe('succeeded');
    expect((await store().listEvents(sh.id)).some((e) => e.type === 'command.approval_requested')).toBe(
      false,
    );
  }, 120_000);

  it('GitHub: the question in the sticky comment; /devbot allow by a read-only user is refused, /devbot deny by a write user answers', async () => {
    const hook = `${devbot.app.url}/api/github/webhooks`;
    llm.load([
      plannerTurn('gh-cmds'),
      // A known secret in the command never reaches the comment or the events.
      { match: { role: 'coder' }, toolCalls: [run(`./deploy.sh --prod --key ${env.OPENAI_API_KEY}`)] },
      {
        match: { role: 'coder', test: toolResult('error: the user denied running this command') },
        toolCalls: [{ name: 'write_file', arguments: { path: 'notes.txt', content: 'not deployed\n' } }],
      },
      { match: { role: 'coder', afterToolResult: true }, content: 'Left a note instead.' },
      synth('gh-cmds'),
    ]);
    const issue = gh.createIssue(OWNER, CMDS, { title: 'Deploy it', user: 'alice', labels: ['devbot'] });
    await deliver(hook, SECRET, issueLabeled(gh, OWNER, CMDS, issue.number, 'devbot', 'alice'));
    const [task] = await store().listTasks({ source: 'github', limit: 1 });
    const sticky = () => gh.comments(OWNER, CMDS, issue.number).find((c) => c.user.login === 'devbot[bot]');
    await waitFor(
      () => (sticky()?.body.includes('/devbot allow') ? true : undefined),
      'the question in the sticky comment',
      30_000,
    );
    expect(sticky()?.body).toContain('./deploy.sh --prod');
    expect(sticky()?.body).toContain("matches the repository's approve_commands");
    expect(sticky()?.body).not.toContain(env.OPENAI_API_KEY);
    const requested = (await store().listEvents(task!.id)).filter(
      (e) => e.type === 'command.approval_requested',
    );
    expect(JSON.stringify(requested)).not.toContain(env.OPENAI_API_KEY);

    const read = gh.addComment(OWNER, CMDS, issue.number, '/devbot allow', 'rita');
    await deliver(hook, SECRET, issueCommentCreated(gh, OWNER, CMDS, read));
    const events = await store().listEvents(task!.id);
    expect(events.some((e) => e.type === 'command.approval_decided')).toBe(false);

    const deny = gh.addComment(OWNER, CMDS, issue.number, '/devbot deny', 'bob');
    await deliver(hook, SECRET, issueCommentCreated(gh, OWNER, CMDS, deny));
    const done = await taskEnded(store(), task!.id, 40_000);
    expect(done.status, done.error ?? '').toBe('succeeded');
    const decided = (await store().listEvents(task!.id)).filter((e) => e.type === 'command.approval_decided');
    expect(decided.map((e) => e.data)).toMatchObject([{ decision: 'denied', by: 'gh:bob' }]);
    expect(llm.errors).toEqual([]);
  }, 90_000);
});
