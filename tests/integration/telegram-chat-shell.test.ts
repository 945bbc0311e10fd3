/**
 * A chat's shell fast lane in its persistent sandbox: the real shell handler and ChatShellSessions
 * over a real local (bubblewrap) provider and chat_bindings on PGlite. cwd and history carry over
 * between tasks, the sandbox is reused and never closed by a task, it closes when idle and is
 * reattached with its files, and a preview in it keeps the sandbox usable.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlmClient } from '../../agents/llm/llm-client.js';
import { createAgentsModule } from '../../src/app/modules/agents-module.js';
import type { Runtime } from '../../src/app/runtime.js';
import type { Task, TaskContext, TaskEvent } from '../../src/core/index.js';
import type { SqlClient } from '../../src/core/sql-client.js';
import { Metrics } from '../../src/observability/metrics.js';
import { SecretRegistry } from '../../src/observability/redact.js';
import { SqlChatBindings } from '../../src/store/sql-chat-bindings.js';
import { ChatShellSessions, chatOf, wrapCommand } from '../../src/worker/handlers/chat-shell-sessions.js';
import { CommandFailedError, ShellHandler } from '../../src/worker/handlers/shell-handler.js';
import { PreviewLeases } from '../../src/worker/preview-leases.js';
import { createRecordingContext, makeTask } from '../fakes/llm/recording-context.js';
import { startScriptedLlm } from '../fakes/llm/scripted-llm-server.js';
import { openTestPglite } from '../helpers/pglite-template.js';
import { type LocalHarness, startLocalHarness } from '../helpers/sandbox-harness.js';
import { testConfig } from '../helpers/test-env.js';

let taskSeq = 0;

function chatTask(chatId: number, command: string, over: Partial<Task> = {}): Task {
  taskSeq += 1;
  return {
    id: `task-${taskSeq}`,
    source: 'telegram',
    origin: { chatId },
    requester: `tg:${chatId}`,
    kind: 'shell',
    prompt: command,
    input: { command, chatSandbox: true },
    ...over,
  } as Task;
}

function context(task: Task) {
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const ctx: TaskContext = {
    task,
    signal: new AbortController().signal,
    attempt: 1,
    emit: async (type, data) => {
      events.push({ type, data: data as Record<string, unknown> });
      return { taskId: task.id, seq: events.length, at: new Date(), type, data } as TaskEvent;
    },
    patch: async () => {},
  };
  return { ctx, events };
}

const stdoutOf = (events: { type: string; data: Record<string, unknown> }[]) =>
  events
    .filter((e) => e.type === 'output' && e.data['stream'] === 'stdout')
    .map((e) => String(e.data['text']))
    .join('');

describe('chat shell sessions (local sandbox, PGlite)', () => {
  let harness: LocalHarness;
  let sql: SqlClient;
  let bindings: SqlChatBindings;
  let sessions: ChatShellSessions;
  let handler: ShellHandler;
  let handlerPreviews: PreviewLeases;

  beforeAll(async () => {
    [harness, sql] = await Promise.all([startLocalHarness(), openTestPglite()]);
    bindings = new SqlChatBindings(sql);
    sessions = new ChatShellSessions({ sandboxes: harness.provider, bindings, idleMs: 60_000 });
    handlerPreviews = new PreviewLeases({ ttlMs: 60_000 });
    handler = new ShellHandler({
      sandboxes: harness.provider,
      previews: handlerPreviews,
      commandTimeoutMs: 10_000,
      sessions,
    });
  }, 30_000);

  afterAll(async () => {
    await handlerPreviews?.stop();
    await sessions?.stop();
    await harness?.close();
    await sql?.close();
  });

  async function run(chatId: number, command: string) {
    const { ctx, events } = context(chatTask(chatId, command));
    const outcome = await handler.handle(ctx);
    return { outcome, events, stdout: stdoutOf(events) };
  }

  it('keeps the cwd and the history across tasks, in one sandbox that stays open', async () => {
    const chat = 101;
    await run(chat, 'mkdir -p sub/deeper && echo kept > sub/note.txt && cd sub');
    const first = await bindings.get(chat);
    expect(first?.sandboxId).toMatch(/^sb-/);
    expect(first?.shellCwd).toBe('/workspace/sub');
    expect((await run(chat, 'pwd')).stdout).toBe('/workspace/sub\n');
    expect((await run(chat, 'cat note.txt && cd deeper')).stdout).toBe('kept\n');
    expect((await run(chat, 'pwd; cd ..; cd ..')).stdout).toBe('/workspace/sub/deeper\n');
    expect((await run(chat, 'pwd')).stdout).toBe('/workspace\n');
    const binding = await bindings.get(chat);
    expect(binding?.sandboxId).toBe(first?.sandboxId);
    expect(binding?.shellHistory).toEqual([
      'mkdir -p sub/deeper && echo kept > sub/note.txt && cd sub',
      'pwd',
      'cat note.txt && cd deeper',
      'pwd; cd ..; cd ..',
      'pwd',
    ]);
    // Tasks release the sandbox; they never close it.
    expect(sessions.openChats).toContain(chat);
    expect(await harness.provider.listIds()).toEqual([first?.sandboxId]);
  });

  it('two chats have two sandboxes; another chat cannot see this one’s files', async () => {
    await run(201, 'echo mine > secret.txt');
    await expect(run(202, 'cat secret.txt')).rejects.toBeInstanceOf(CommandFailedError);
    const [a, b] = await Promise.all([bindings.get(201), bindings.get(202)]);
    expect(a?.sandboxId).toBeTruthy();
    expect(a?.sandboxId).not.toBe(b?.sandboxId);
  });

  it('a failing command still records its cwd; a directory that is gone falls back to /workspace', async () => {
    const chat = 301;
    await expect(run(chat, 'mkdir -p gone && cd gone && false')).rejects.toBeInstanceOf(CommandFailedError);
    expect((await bindings.get(chat))?.shellCwd).toBe('/workspace/gone');
    await run(chat, 'rmdir /workspace/gone');
    const after = await run(chat, 'pwd');
    expect(after.stdout).toBe('/workspace\n');
    expect(after.events.some((e) => String(e.data['text']).includes('/workspace/gone is gone'))).toBe(true);
  });

  it('quotes the stored cwd: a directory name with quotes and $ is only a name', async () => {
    const chat = 401;
    const name = `it's $(touch /workspace/pwned) "x"`;
    await run(
      chat,
      `mkdir -p ${JSON.stringify(name).replace(/\$/g, '\\$')} && cd ${JSON.stringify(name).replace(/\$/g, '\\$')}`,
    );
    expect((await bindings.get(chat))?.shellCwd).toBe(`/workspace/${name}`);
    expect((await run(chat, 'pwd')).stdout).toBe(`/workspace/${name}\n`);
    await expect(run(chat, 'test -e /workspace/pwned')).rejects.toBeInstanceOf(CommandFailedError);
  });

  it('concurrent tasks of one chat share one new sandbox', async () => {
    const chat = 501;
    const results = await Promise.all([run(chat, 'echo a'), run(chat, 'echo b'), run(chat, 'echo c')]);
    expect(results.map((r) => r.stdout).sort()).toEqual(['a\n', 'b\n', 'c\n']);
    const ids = (await harness.provider.listIds()).length;
    await run(chat, 'true');
    expect((await harness.provider.listIds()).length).toBe(ids);
    expect((await bindings.get(chat))?.shellHistory).toHaveLength(4);
  });

  it('closes an idle sandbox, keeps its workspace, and reattaches it for the next command', async () => {
    const quick = new ChatShellSessions({ sandboxes: harness.provider, bindings, idleMs: 50 });
    const quickPreviews = new PreviewLeases({ ttlMs: 60_000 });
    const quickHandler = new ShellHandler({
      sandboxes: harness.provider,
      previews: quickPreviews,
      sessions: quick,
    });
    const chat = 601;
    const { ctx } = context(chatTask(chat, 'mkdir -p w && echo persisted > w/f && cd w'));
    await quickHandler.handle(ctx);
    const id = (await bindings.get(chat))?.sandboxId as string;
    await expect.poll(() => quick.openChats.includes(chat), { timeout: 5000 }).toBe(false);
    // Closed: its processes are gone, its files are not.
    expect(existsSync(join(harness.baseDir, id, 'workspace', 'w', 'f'))).toBe(true);
    const again = context(chatTask(chat, 'pwd && cat f'));
    await quickHandler.handle(again.ctx);
    expect(stdoutOf(again.events)).toBe('/workspace/w\npersisted\n');
    expect((await bindings.get(chat))?.sandboxId).toBe(id);
    await quickPreviews.stop();
    await quick.stop();
  });

  it('a command that ran is not failed (and so not rerun) when its history cannot be saved', async () => {
    const flaky = new ChatShellSessions({
      sandboxes: harness.provider,
      bindings: {
        get: (chatId) => bindings.get(chatId),
        setSandbox: (chatId, id) => bindings.setSandbox(chatId, id),
        clearShell: (chatId, onlyIf) => bindings.clearShell(chatId, onlyIf),
        listIdleSandboxes: (before) => bindings.listIdleSandboxes(before),
        recordShell: async () => {
          throw new Error('database unreachable');
        },
      },
    });
    const flakyHandler = new ShellHandler({
      sandboxes: harness.provider,
      previews: new PreviewLeases({ ttlMs: 60_000 }),
      sessions: flaky,
    });
    const { ctx, events } = context(chatTask(651, 'echo ran once'));
    await expect(flakyHandler.handle(ctx)).resolves.toMatchObject({ summary: 'exit code 0' });
    expect(stdoutOf(events)).toBe('ran once\n');
    expect((await bindings.get(651))?.shellHistory).toEqual([]);
    await flaky.stop();
  });

  it('a sandbox that died under the chat is replaced: one failed task, then a working one', async () => {
    const chat = 701;
    await run(chat, 'echo first');
    const id = (await bindings.get(chat))?.sandboxId as string;
    const sandbox = await harness.provider.connect(id);
    await sandbox?.close(); // as if its supervisor had been killed
    const failed = await run(chat, 'echo second').catch((err: unknown) => err);
    expect(failed).toMatchObject({ code: 'sandbox_closed' });
    // The retry (the queue retries a sandbox error) reattaches the same workspace.
    expect((await run(chat, 'echo third')).stdout).toBe('third\n');
    expect((await bindings.get(chat))?.sandboxId).toBe(id);
  });

  it('a preview in the chat sandbox: served, replaced by the next one on the port, sandbox kept', async () => {
    const chat = 801;
    const first = await run(chat, 'mkdir -p site && cd site && echo one > index.html');
    expect(first.outcome.summary).toContain('exit code 0');
    const served = await run(chat, 'python3 -m http.server 8000');
    const url = String(served.outcome.preview?.url);
    expect(url).toMatch(/\/preview\/[A-Za-z0-9_-]+\/$/);
    expect(await harness.fetchPreview(url)).toEqual({ status: 200, body: 'one\n' });
    expect(handler.activePreviews).toBe(1);
    // The server runs in the chat's cwd, and the chat keeps working while it serves.
    expect((await run(chat, 'echo two > index.html && pwd')).stdout).toBe('/workspace/site\n');
    expect((await harness.fetchPreview(url)).body).toBe('two\n');
    // The same port again: the first server gives way instead of failing with "address in use".
    const second = await run(chat, 'echo three > index.html && python3 -m http.server 8000');
    const url2 = String(second.outcome.preview?.url);
    expect((await harness.fetchPreview(url2)).body).toBe('three\n');
    expect(handler.activePreviews).toBe(1);
    expect(sessions.openChats).toContain(chat);
    expect((await run(chat, 'echo still here')).stdout).toBe('still here\n');
  });
  it('/reset deletes the workspace, forgets cwd and history, keeps the repository', async () => {
    const chat = 1001;
    await bindings.setRepo(chat, 'private', 'octo/hello');
    await run(chat, 'touch x && mkdir -p d && cd d');
    const before = await bindings.get(chat);
    const oldId = before?.sandboxId as string;
    expect(existsSync(join(harness.baseDir, oldId, 'workspace', 'x'))).toBe(true);
    expect(await sessions.reset(chat)).toBe('reset');
    expect(existsSync(join(harness.baseDir, oldId))).toBe(false);
    expect(sessions.openChats).not.toContain(chat);
    expect(await bindings.get(chat)).toMatchObject({
      repo: 'octo/hello',
      sandboxId: null,
      shellCwd: null,
      shellHistory: [],
    });
    const after = await run(chat, 'pwd && ls -A');
    expect(after.stdout).toBe('/workspace\n');
    expect((await bindings.get(chat))?.sandboxId).not.toBe(oldId);
    // A chat without a sandbox resets fine too.
    expect(await sessions.reset(1002)).toBe('reset');
  });

  it('/reset ends a live preview in the chat sandbox (only a running command refuses it)', async () => {
    const chat = 1051;
    await run(chat, 'echo page > index.html && python3 -m http.server 8000');
    const previews = handler.activePreviews;
    expect(previews).toBeGreaterThan(0);
    expect(await sessions.reset(chat)).toBe('reset');
    await expect.poll(() => handler.activePreviews).toBe(previews - 1);
    expect((await run(chat, 'ls -A')).stdout).toBe('');
  });

  it('/reset is refused while a task holds the chat sandbox, and works once it ended', async () => {
    const chat = 1101;
    const abort = new AbortController();
    const { ctx } = context(chatTask(chat, 'touch started && sleep 30'));
    const running = handler.handle({ ...ctx, signal: abort.signal }).catch((err: unknown) => err);
    await expect
      .poll(
        async () => {
          const id = (await bindings.get(chat))?.sandboxId;
          return id ? existsSync(join(harness.baseDir, id, 'workspace', 'started')) : false;
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    const id = (await bindings.get(chat))?.sandboxId as string;
    expect(await sessions.reset(chat)).toBe('busy');
    expect(existsSync(join(harness.baseDir, id, 'workspace', 'started'))).toBe(true);
    abort.abort();
    await running;
    expect(await sessions.reset(chat)).toBe('reset');
    expect(existsSync(join(harness.baseDir, id))).toBe(false);
  });

  it('the retention sweep deletes a chat sandbox unused for too long and keeps a recent one', async () => {
    // A second sessions object, as in another process: the handler's `sessions` holds both open.
    const sweeper = new ChatShellSessions({
      sandboxes: harness.provider,
      bindings,
      retentionMs: 7 * 24 * 60 * 60_000,
    });
    const [old, recent] = [1201, 1202];
    await run(old, 'echo old > f');
    await run(recent, 'echo recent > f');
    await bindings.setRepo(old, 'private', 'octo/kept');
    const oldId = (await bindings.get(old))?.sandboxId as string;
    const recentId = (await bindings.get(recent))?.sandboxId as string;
    await sql.query(`UPDATE chat_bindings SET updated_at = now() - interval '8 days' WHERE chat_id = $1`, [
      old,
    ]);
    expect(await sweeper.sweep()).toEqual([oldId]);
    expect(existsSync(join(harness.baseDir, oldId))).toBe(false);
    expect(existsSync(join(harness.baseDir, recentId, 'workspace', 'f'))).toBe(true);
    expect(await bindings.get(old)).toMatchObject({ repo: 'octo/kept', sandboxId: null, shellHistory: [] });
    expect((await bindings.get(recent))?.sandboxId).toBe(recentId);
    // The process still holding the deleted sandbox notices and starts the chat over.
    expect((await run(old, 'ls -A')).stdout).toBe('');
    expect((await run(recent, 'cat f')).stdout).toBe('recent\n');
    expect(await sweeper.sweep()).toEqual([]);
    await sweeper.stop();
  });

  it('the agents module’s shell agent works in the chat’s sandbox and sees its history', async () => {
    const chat = 901;
    await run(chat, 'mkdir -p notes && echo "buy milk" > notes/todo.txt');
    const llm = await startScriptedLlm();
    try {
      llm.load([
        {
          match: { role: 'shell', contains: 'mkdir -p notes' },
          toolCalls: [{ name: 'run_command', arguments: { command: 'cat notes/todo.txt' } }],
        },
        { match: { contains: 'buy milk' }, content: 'Your todo says: buy milk.' },
      ]);
      const runtime = {
        config: testConfig({}, harness.baseDir),
        metrics: new Metrics(),
        secrets: new SecretRegistry(),
        sandboxes: harness.provider,
      } as unknown as Runtime;
      const agents = createAgentsModule(
        runtime,
        { memory: null, shellSessions: sessions, verbatimShell: handler.handle },
        { llm: createLlmClient({ OPENAI_BASE_URL: llm.baseUrl, DEVBOT_MODEL: 'm' }, { maxRetries: 0 }) },
      );
      const ids = await harness.provider.listIds();
      const ctx = createRecordingContext(
        makeTask({
          source: 'telegram',
          origin: { chatId: chat },
          kind: 'shell',
          prompt: 'what is on my todo?',
        }),
      );
      const outcome = await agents.shell(ctx);
      expect(llm.errors).toEqual([]);
      expect(outcome?.summary).toBe('Your todo says: buy milk.');
      // No new sandbox: the chat's own, still open for its next command.
      expect(await harness.provider.listIds()).toEqual(ids);
      expect(sessions.openChats).toContain(chat);
      expect((await run(chat, 'cat notes/todo.txt')).stdout).toBe('buy milk\n');
    } finally {
      await llm.close();
    }
  });
});

describe('chat shell sessions: which tasks', () => {
  it('only Telegram tasks with a chat id, unless they opt out', () => {
    expect(chatOf(chatTask(5, 'ls'))).toBe(5);
    expect(chatOf(chatTask(-1001, 'ls', { input: { command: 'ls' } }))).toBe(-1001);
    expect(chatOf(chatTask(5, 'ls', { source: 'api' }))).toBeNull();
    expect(chatOf(chatTask(5, 'ls', { input: { command: 'ls', chatSandbox: false } }))).toBeNull();
    expect(chatOf(chatTask(5, 'ls', { origin: { chatId: '5' } as unknown as Task['origin'] }))).toBeNull();
  });

  it('wraps the command on its own line after the cwd handling', () => {
    expect(wrapCommand('ls', '/workspace', '/workspace', 'background')).toBe("cd -- '/workspace'\nls");
    const fg = wrapCommand("echo 'x'", '/workspace/a', '/workspace', 'foreground');
    expect(fg.split('\n').at(-1)).toBe("echo 'x'");
    expect(fg).toContain("trap 'pwd > /tmp/.devbot-shell-cwd 2>/dev/null' EXIT");
  });
});
