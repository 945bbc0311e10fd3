/**
 * End to end through the fake Bot API: a whole devbot (real Redis, PGlite) with the Telegram module
 * polling the fake, the gateway API creating tasks, the worker running the real sandbox module
 * (bubblewrap, each chat's persistent sandbox, previews through the gateway), and the reporter
 * editing the status message and sending the result.
 */
import type { Update } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelegramModule, type TelegramModule } from '../../src/app/modules/telegram-module.js';
import type { Task } from '../../src/core/index.js';
import type { SqlClient } from '../../src/core/sql-client.js';
import { createPgliteClient } from '../../src/store/pglite-client.js';
import { SqlSubjectAccess } from '../../src/store/sql-subject-access.js';
import { FakeTelegramServer, type StoredMessage } from '../fakes/telegram/index.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { waitFor } from '../helpers/test-env.js';

const ALICE = 1001;
const BOB = 1002;
const CAROL = 1003;
const MALLORY = 6666;

/** Sandbox limits small enough for a test machine shared by several suites. */
const SANDBOX_ENV = {
  DEVBOT_PREVIEW_TTL: '60',
  DEVBOT_SANDBOX_TIMEOUT_MS: '20000',
  DEVBOT_SANDBOX_MAX_PROCS: '64',
  DEVBOT_SANDBOX_MEMORY_MB: '512',
};

const isResult = (m: StoredMessage) => /^(✅|❌|🚫) (Done|Failed|Cancelled) ·/.test(m.text);

async function tasksOf(devbot: TestDevbot, requester: string): Promise<Task[]> {
  return devbot.app.runtime.store.listTasks({ source: 'telegram', requester, limit: 500 });
}

describe('Telegram bot end to end (polling)', () => {
  let fake: FakeTelegramServer;
  let devbot: TestDevbot;
  let sql: SqlClient;
  let telegram: TelegramModule;

  beforeAll(async () => {
    fake = await new FakeTelegramServer().start();
    sql = await createPgliteClient();
    devbot = await startTestDevbot({
      sql,
      env: {
        TELEGRAM_BOT_TOKEN: fake.token,
        TELEGRAM_API_ROOT: fake.apiRoot,
        TELEGRAM_ALLOWED_USER_IDS: `${ALICE},${BOB},${CAROL}`,
        DEVBOT_RATE_LIMIT: '10000',
        ...SANDBOX_ENV,
      },
      telegram: {
        outbox: { intervalMs: () => 50, backoffMs: 20, maxRetryAfterMs: 2000 },
        pollingTimeoutSeconds: 1,
        retryDelayMs: { initial: 50, max: 500 },
        flushMs: 2000,
      },
    });
    telegram = devbot.app.modules.telegram as TelegramModule;
    // Alice and Bob may make devbot change octo's repositories; Carol has no link and no grant.
    const access = new SqlSubjectAccess(devbot.app.runtime.sql);
    await access.grant(`tg:${ALICE}`, 'octo/*');
    await access.grant(`tg:${BOB}`, 'octo/*');
    await telegram.bot.ready();
  });

  afterAll(async () => {
    await devbot?.stop();
    await sql?.close();
    await fake?.close();
  });

  it('registers its commands and polls', async () => {
    expect(fake.commands.map((c) => (c as { command: string }).command)).toEqual(
      expect.arrayContaining(['start', 'new_task', 'sh', 'repo', 'status', 'cancel', 'reset', 'help']),
    );
    expect(fake.callsOf('getMe').length).toBeGreaterThan(0);
  });

  it('/sh echo hi: status message, edits, then a result message with the output', async () => {
    const update = fake.sendUserMessage({ from: ALICE, text: '/sh echo hi' });
    const userMessageId = (update.message as { message_id: number }).message_id;
    const result = await fake.waitForMessage((m) => isResult(m) && m.text.includes('hi'), { chatId: ALICE });
    const [status] = fake.botMessages(ALICE);
    expect(status).toBeDefined();
    expect(status?.messageId).toBeLessThan(result.messageId);
    expect(status?.replyToMessageId).toBe(userMessageId);
    expect(status?.history[0]).toContain('Queued');
    // Finalized in place: edited at least once, ending with the outcome.
    await fake.waitFor(() => status?.text.includes('Done'), 5000, 'the finalized status message');
    expect(status?.edits).toBeGreaterThanOrEqual(1);
    expect(result.text).toContain('$ echo hi\nhi');
    expect(result.text).toContain('exit code 0');
    expect(result.replyToMessageId).toBe(userMessageId);
    // The task remembers where its messages are (survives a restart).
    const [task] = await tasksOf(devbot, `tg:${ALICE}`);
    expect(task?.kind).toBe('shell');
    expect(task?.input).toMatchObject({ command: 'echo hi', chatSandbox: true });
    await waitFor(
      async () =>
        (await devbot.app.runtime.store.getTask(task?.id ?? ''))?.origin.resultMessageId === result.messageId,
      'the result message id stored with the task',
    );
    const stored = await devbot.app.runtime.store.getTask(task?.id ?? '');
    expect(stored?.origin).toMatchObject({
      chatId: ALICE,
      messageId: userMessageId,
      statusMessageId: status?.messageId,
    });
  });

  it('/sh with a preview: the result message has a working preview button', async () => {
    fake.sendUserMessage({
      from: ALICE,
      text: '/sh echo "Hello from devbot" > index.html && python3 -m http.server 8000',
    });
    const result = await fake.waitForMessage(
      (m) =>
        isResult(m) && Boolean((m.replyMarkup as { inline_keyboard?: unknown } | undefined)?.inline_keyboard),
      { chatId: ALICE, timeoutMs: 20_000 },
    );
    const buttons = (
      result.replyMarkup as { inline_keyboard: { text: string; url: string }[][] }
    ).inline_keyboard.flat();
    const preview = buttons.find((b) => b.text.includes('Preview'));
    expect(preview).toBeDefined();
    // Served by the sandbox's server through the gateway's preview proxy.
    expect(preview?.url).toMatch(new RegExp(`^${devbot.app.url}/preview/[A-Za-z0-9_-]+/$`));
    const page = await fetch(preview?.url ?? '');
    expect(page.status).toBe(200);
    expect(await page.text()).toBe('Hello from devbot\n');
    const [task] = (await tasksOf(devbot, `tg:${ALICE}`)).filter((t) => t.prompt.includes('http.server'));
    expect(task?.previewUrl).toBe(preview?.url);
  });

  it('/sh keeps the chat’s working directory and files across commands', async () => {
    const chat = ALICE;
    const before = fake.botMessages(chat).filter(isResult).length;
    const results = () => fake.botMessages(chat).filter(isResult).slice(before);
    fake.sendUserMessage({ from: ALICE, text: '/sh mkdir -p /workspace/sub && cd /workspace/sub' });
    await fake.waitFor(() => results().length === 1, 15_000, 'the cd result');
    fake.sendUserMessage({ from: ALICE, text: '/sh pwd && ls /workspace' });
    await fake.waitFor(() => results().length === 2, 15_000, 'the pwd result');
    const pwd = results()[1];
    expect(pwd?.text).toContain('$ pwd && ls /workspace\n/workspace/sub\n');
    // The same sandbox as the preview test's: its index.html is still there.
    expect(pwd?.text).toContain('index.html');
    const binding = await telegram.bot.bindings.get(chat);
    expect(binding?.shellCwd).toBe('/workspace/sub');
    expect(binding?.shellHistory.slice(-2)).toEqual([
      'mkdir -p /workspace/sub && cd /workspace/sub',
      'pwd && ls /workspace',
    ]);
    expect(binding?.sandboxId).toMatch(/^sb-/);
  });

  it('/reset: refused while a task runs; then an empty workspace, the repository kept', async () => {
    const chat = ALICE;
    const results = () => fake.botMessages(chat).filter(isResult);
    fake.sendUserMessage({ from: ALICE, text: '/repo octo/alice' });
    await fake.waitForMessage((m) => m.text.includes('now works on octo/alice'), { chatId: chat });
    fake.sendUserMessage({ from: ALICE, text: '/sh touch /workspace/x && echo touched' });
    await fake.waitForMessage((m) => isResult(m) && m.text.includes('touched'), {
      chatId: chat,
    });
    const oldId = (await telegram.bot.bindings.get(chat))?.sandboxId;
    fake.sendUserMessage({ from: ALICE, text: '/sh sleep 30' });
    await waitFor(
      async () =>
        (await tasksOf(devbot, `tg:${ALICE}`)).some((t) => t.prompt === 'sleep 30' && t.status === 'running'),
      'the sleep task running',
    );
    fake.sendUserMessage({ from: ALICE, text: '/reset' });
    await fake.waitForMessage((m) => m.text.includes('A task is using the sandbox'), { chatId: chat });
    fake.sendUserMessage({ from: ALICE, text: '/cancel' });
    await fake.waitForMessage((m) => /^🚫 Cancelled/.test(m.text), {
      chatId: chat,
      timeoutMs: 15_000,
    });
    // The cancelled task may still be letting go of the sandbox: /reset again until it is free.
    const fresh = (m: StoredMessage) => m.text.includes('Fresh sandbox');
    for (let i = 0; i < 50 && !fake.botMessages(chat).some(fresh); i++) {
      const replies = fake.botMessages(chat).length;
      fake.sendUserMessage({ from: ALICE, text: '/reset' });
      await fake.waitFor(() => fake.botMessages(chat).length > replies, 10_000, 'the /reset reply');
      if (!fake.botMessages(chat).some(fresh)) await new Promise((r) => setTimeout(r, 100));
    }
    expect(fake.botMessages(chat).some(fresh)).toBe(true);
    const before = results().length;
    fake.sendUserMessage({ from: ALICE, text: '/sh pwd; ls -A /workspace; echo end' });
    await fake.waitFor(() => results().length > before, 15_000, 'the ls result');
    expect(results().at(-1)?.text).toContain('$ pwd; ls -A /workspace; echo end\n/workspace\nend\n');
    const binding = await telegram.bot.bindings.get(chat);
    expect(binding?.repo).toBe('octo/alice');
    expect(binding?.sandboxId).toMatch(/^sb-/);
    expect(binding?.sandboxId).not.toBe(oldId);
  });

  it('a user not on the allowlist gets one reply with their id, and no task', async () => {
    fake.sendUserMessage({ from: MALLORY, text: '/sh cat /etc/passwd' });
    const reply = await fake.waitForMessage((m) => m.text.includes(String(MALLORY)), { chatId: MALLORY });
    expect(reply.text).toMatch(/allowlist/);
    // Let the chat's lane settle, then check nothing else happened.
    await telegram.outbox.idle();
    expect(fake.botMessages(MALLORY)).toHaveLength(1);
    expect(await tasksOf(devbot, `tg:${MALLORY}`)).toHaveLength(0);
  });

  it('the same update twice is one task', async () => {
    const update = {
      update_id: 9_000_001,
      message: {
        message_id: 500,
        date: Math.floor(Date.now() / 1000),
        chat: { id: BOB, type: 'private', first_name: 'bob' },
        from: { id: BOB, is_bot: false, first_name: 'bob' },
        text: '/sh echo once',
        entities: [{ type: 'bot_command', offset: 0, length: 3 }],
      },
    } as unknown as Update;
    fake.sendUserMessage({ from: BOB, text: 'hello' }); // the fake learns the chat
    const [first, second] = await Promise.all([
      telegram.handleTelegramUpdate(update),
      telegram.handleTelegramUpdate(update),
    ]);
    const third = await telegram.handleTelegramUpdate(update);
    expect([first, second].filter((t) => t !== null)).toHaveLength(1);
    expect(third).toBeNull();
    const created = (await tasksOf(devbot, `tg:${BOB}`)).filter((t) => t.origin.updateId === 9_000_001);
    expect(created).toHaveLength(1);
    expect(created[0]?.idempotencyKey).toBe('tg:update:9000001');

    // A redelivery after a restart: a new bot instance (empty memory) on the same database.
    const restarted = createTelegramModule(devbot.app.runtime, {}, { outbox: { intervalMs: () => 10 } });
    expect(await restarted?.handleTelegramUpdate(update)).toBeNull();
    const acks = () =>
      fake.botMessages(BOB).filter((m) => m.replyToMessageId === 500 && m.history[0]?.includes('Queued'));
    // Its acknowledgement went out before the database said "seen", and was taken back.
    await fake.waitFor(
      () => acks().length === 2 && acks().filter((m) => m.deleted).length === 1,
      5000,
      'the extra ack deleted',
    );
    await restarted?.stop?.();
    expect((await tasksOf(devbot, `tg:${BOB}`)).filter((t) => t.origin.updateId === 9_000_001)).toHaveLength(
      1,
    );
  });

  it('an update claimed by a delivery that died before creating its task is not lost on redelivery', async () => {
    const update = {
      update_id: 9_000_002,
      message: {
        message_id: 501,
        date: Math.floor(Date.now() / 1000),
        chat: { id: BOB, type: 'private', first_name: 'bob' },
        from: { id: BOB, is_bot: false, first_name: 'bob' },
        text: '/sh echo survived',
        entities: [{ type: 'bot_command', offset: 0, length: 3 }],
      },
    } as unknown as Update;
    // What a crash between "seen" and "task created" leaves behind.
    await devbot.app.runtime.sql.query(
      'INSERT INTO telegram_updates (bot_id, update_id, chat_id) VALUES ($1, $2, $3)',
      [telegram.bot.identity.id, 9_000_002, BOB],
    );
    const task = await telegram.handleTelegramUpdate(update);
    expect(task).not.toBeNull();
    expect(task?.idempotencyKey).toBe('tg:update:9000002');
    // And the next redelivery is a duplicate again.
    expect(await telegram.handleTelegramUpdate(update)).toBeNull();
    expect((await tasksOf(devbot, `tg:${BOB}`)).filter((t) => t.origin.updateId === 9_000_002)).toHaveLength(
      1,
    );
  });

  it('in a group, answers only when mentioned or replied to', async () => {
    const group = { id: -4242, type: 'group' as const, title: 'team' };
    fake.sendUserMessage({ from: ALICE, chat: group, text: 'just chatting, /sh echo ignored' });
    fake.sendUserMessage({ from: MALLORY, chat: group, text: 'not for the bot either' });
    fake.sendUserMessage({ from: ALICE, chat: group, text: '/status', mention: true });
    const status = await fake.waitForMessage((m) => m.text.includes('No tasks yet'), { chatId: group.id });
    // Updates of a chat are handled in order, so the first two were seen and ignored.
    expect(fake.botMessages(group.id)).toEqual([status]);
    fake.sendUserMessage({ from: ALICE, chat: group, text: 'echo via reply', replyTo: status.messageId });
    await fake.waitForMessage((m) => isResult(m), { chatId: group.id, timeoutMs: 15_000 });
    const tasks = (await tasksOf(devbot, `tg:${ALICE}`)).filter((t) => t.origin.chatId === group.id);
    expect(tasks.map((t) => t.prompt)).toEqual(['echo via reply']);
  });

  it('/repo binds the chat and /status shows it; /start tells the user their id', async () => {
    fake.sendUserMessage({ from: BOB, text: '/repo https://github.com/octo/hello.git' });
    await fake.waitForMessage((m) => m.text.includes('now works on octo/hello'), { chatId: BOB });
    fake.sendUserMessage({ from: BOB, text: '/status' });
    const status = await fake.waitForMessage((m) => m.text.startsWith('Repository: octo/hello'), {
      chatId: BOB,
    });
    expect(status.text).toContain('echo once');
    fake.sendUserMessage({ from: BOB, text: '/start' });
    const start = await fake.waitForMessage((m) => m.text.includes('user id is'), { chatId: BOB });
    expect(start.text).toContain(String(BOB));
  });

  it('/repo is refused to a user who may not change the repository, and says how to get access', async () => {
    fake.sendUserMessage({ from: CAROL, text: '/repo octo/secret' });
    const refused = await fake.waitForMessage((m) => m.text.startsWith('⛔'), { chatId: CAROL });
    expect(refused.text).toContain(`tg:${CAROL} may not make devbot change octo/secret`);
    expect(refused.text).toContain(`devbot users link tg:${CAROL}`);
    expect(
      (await devbot.app.runtime.sql.query('SELECT repo FROM chat_bindings WHERE chat_id = $1', [CAROL])).rows,
    ).toEqual([]);
  });

  it("/status and /cancel find a chat's running task with 300 newer tasks in other chats", async () => {
    const store = devbot.app.runtime.store;
    // A running task in this chat, then 300 newer ones elsewhere (written to the store only: no
    // job is enqueued, nothing runs them).
    const { task: mine } = await store.createTask({
      source: 'telegram',
      origin: { chatId: CAROL },
      requester: `tg:${CAROL}`,
      kind: 'shell',
      prompt: 'sleep 1000 # carol',
      input: { command: 'sleep 1000' },
    });
    await store.markRunning(mine.id);
    for (let i = 0; i < 300; i++)
      await store.createTask({
        source: 'telegram',
        origin: { chatId: 500_000 + i },
        requester: `tg:${500_000 + i}`,
        kind: 'shell',
        prompt: `elsewhere ${i}`,
      });
    const visible = await store.listTasks({ source: 'telegram', limit: 200 });
    expect(visible.some((t) => t.id === mine.id)).toBe(false); // what the old in-memory filter saw
    fake.sendUserMessage({ from: CAROL, text: '/status' });
    const status = await fake.waitForMessage((m) => m.text.includes('Running'), { chatId: CAROL });
    expect(status.text).toContain(mine.id.slice(0, 8));
    expect(status.text).not.toContain('elsewhere');
    fake.sendUserMessage({ from: CAROL, text: '/cancel' });
    const cancelled = await fake.waitForMessage((m) => m.text.startsWith('🚫 Cancelled'), { chatId: CAROL });
    expect(cancelled.text).toContain(mine.id.slice(0, 8));
    expect((await store.getTask(mine.id))?.status).toBe('cancelled');
  });

  it('a 429 storm: every task still ends with its final message, edits coalesced', async () => {
    const chat = BOB;
    fake.setRateLimit(chat, { max: 3, windowMs: 1000 });
    const before = fake.botMessages(chat).length;
    const callsBefore = fake.callsOf('editMessageText', chat).length;
    const count = 4;
    for (let i = 0; i < count; i++)
      fake.sendUserMessage({ from: BOB, text: `/sh for j in 1 2 3 4 5; do echo storm${i}-$j; done` });
    await fake.waitFor(
      () => fake.botMessages(chat).slice(before).filter(isResult).length === count,
      30_000,
      'every task’s result message',
    );
    const results = fake.botMessages(chat).slice(before).filter(isResult);
    for (let i = 0; i < count; i++) expect(results.some((m) => m.text.includes(`storm${i}-5`))).toBe(true);
    const rejected = fake.calls.filter((c) => c.chatId === chat && c.errorCode === 429);
    expect(rejected.length).toBeGreaterThan(0);
    // Each task emits ~9 events (started, command, 5 outputs at most, finished, end); coalescing
    // keeps the edits well below one per event.
    const tasks = (await tasksOf(devbot, `tg:${BOB}`)).filter((t) => t.prompt.includes('storm'));
    let events = 0;
    for (const t of tasks) events += (await devbot.app.runtime.store.listEvents(t.id)).length;
    const edits = fake.callsOf('editMessageText', chat).length - callsBefore;
    expect(edits).toBeLessThan(events);
    fake.setRateLimit(chat, null);
  }, 40_000);
});

describe('Telegram bot end to end (webhook)', () => {
  let fake: FakeTelegramServer;
  let devbot: TestDevbot;
  let port: number;
  const secret = 'wh-secret_0123456789';

  beforeAll(async () => {
    fake = await new FakeTelegramServer().start();
    port = await freePort();
    devbot = await startTestDevbot({
      env: {
        PORT: String(port),
        TELEGRAM_BOT_TOKEN: fake.token,
        TELEGRAM_API_ROOT: fake.apiRoot,
        TELEGRAM_ALLOWED_USER_IDS: String(ALICE),
        TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}/hooks/telegram`,
        TELEGRAM_WEBHOOK_SECRET: secret,
        ...SANDBOX_ENV,
      },
      telegram: {
        outbox: { intervalMs: () => 50 },
        retryDelayMs: { initial: 50, max: 500 },
        flushMs: 2000,
      },
    });
    const telegram = devbot.app.modules.telegram as TelegramModule;
    await telegram.bot.ready();
  });

  afterAll(async () => {
    await devbot?.stop();
    await fake?.close();
  });

  it('registers the webhook with the secret and the update types', () => {
    expect(fake.webhook).toEqual({
      url: `http://127.0.0.1:${port}/hooks/telegram`,
      secretToken: secret,
      allowedUpdates: ['message', 'callback_query'],
    });
  });

  it('a wrong or missing secret is 401 and nothing happens', async () => {
    const update = {
      update_id: 77,
      message: {
        message_id: 1,
        date: 0,
        chat: { id: ALICE, type: 'private' },
        from: { id: ALICE, is_bot: false, first_name: 'alice' },
        text: '/sh echo forged',
      },
    };
    const post = (headers: Record<string, string>) =>
      fetch(`${devbot.app.url}/hooks/telegram`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(update),
      });
    expect((await post({})).status).toBe(401);
    expect((await post({ 'x-telegram-bot-api-secret-token': 'wrong' })).status).toBe(401);
    expect((await post({ 'x-telegram-bot-api-secret-token': `${secret}x` })).status).toBe(401);
    expect(await devbot.app.runtime.store.listTasks({ source: 'telegram' })).toHaveLength(0);
    expect(fake.allBotMessages()).toHaveLength(0);
  });

  it('delivers updates through the webhook with the secret and runs the task', async () => {
    fake.sendUserMessage({ from: ALICE, text: '$ echo through the hook' });
    const result = await fake.waitForMessage((m) => isResult(m), { chatId: ALICE, timeoutMs: 15_000 });
    expect(result.text).toContain('through the hook');
    expect(fake.webhookDeliveries.every((d) => d.secretHeader === secret)).toBe(true);
    expect(fake.webhookDeliveries.at(-1)?.status).toBe(200);
  });
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
