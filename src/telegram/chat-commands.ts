/**
 * The bot's answers to chat commands (/start, /help, /repo, /status, /cancel, /reset). Each runs
 * against ports only: the chat's binding, the task store (a chat's tasks, found in SQL), the
 * ingress (cancel) and the chat's sandbox (reset).
 */
import type { Message } from 'grammy/types';
import {
  type ChatBindings,
  ForbiddenError,
  type Task,
  type TaskIngress,
  type TaskStore,
} from '../core/index.js';
import { BOT_COMMANDS, type ChatCommand } from './parse-command.js';
import { escapeHtml, truncateText } from './telegram-text.js';

export type AnsweredCommand = Exclude<ChatCommand, { type: 'task' | 'shell' | 'ignore' }>;

export interface ChatCommandsDeps {
  bindings: Pick<ChatBindings, 'get' | 'setRepo'>;
  store: Pick<TaskStore, 'listTasks'>;
  ingress: Pick<TaskIngress, 'cancel'>;
  /** The chats' persistent sandboxes, for /reset. Without it /reset says it is not available. */
  chatSandbox?: { reset(chatId: number): Promise<'reset' | 'busy'> } | undefined;
  /** Refuses (ForbiddenError) binding a chat to a repository its user may not change. */
  authorize?: ((subject: string, repo: string) => Promise<void>) | undefined;
  /**
   * A one-time sign-in link with GitHub for a Telegram user (`tg:<id>`), or null when this devbot
   * has no GitHub OAuth client (then /login says how else to get linked).
   */
  loginLink?: ((subject: string) => Promise<string | null>) | undefined;
  /** The bot's @username once known (for /start). */
  username(): string | undefined;
}

/** How many finished tasks /status lists. */
const RECENT_DONE = 5;

export class ChatCommands {
  constructor(private readonly deps: ChatCommandsDeps) {}

  /** The HTML answer to a command. */
  async answer(command: AnsweredCommand, message: Message): Promise<string> {
    const from = message.from as NonNullable<Message['from']>;
    const chatId = message.chat.id;
    switch (command.type) {
      case 'start':
        return startText(from.id, from.first_name, this.deps.username());
      case 'help':
        return helpText();
      case 'usage':
        return `Usage: ${escapeHtml(command.usage)}`;
      case 'unknown':
        return `I don't know /${escapeHtml(command.command)}. /help lists what I can do.`;
      case 'repo':
        return this.#repo(chatId, from.id, message.chat.type, command.repo);
      case 'status':
        return this.#statusText(chatId);
      case 'cancel':
        return this.#cancel(chatId, from.id, command.taskId);
      case 'reset':
        return this.#reset(chatId);
      case 'login':
        return this.#login(from.id, message.chat.type);
    }
  }

  async #repo(chatId: number, userId: number, chatType: string, repo: string | null): Promise<string> {
    if (repo === null) {
      const binding = await this.deps.bindings.get(chatId);
      return binding?.repo
        ? `This chat works on <b>${escapeHtml(binding.repo)}</b>. Change it with /repo owner/name.`
        : 'This chat is not bound to a repository yet. Bind it with /repo owner/name.';
    }
    try {
      await this.deps.authorize?.(`tg:${userId}`, repo);
    } catch (err) {
      if (err instanceof ForbiddenError) return `⛔ ${escapeHtml(err.message)}`;
      throw err;
    }
    await this.deps.bindings.setRepo(chatId, chatType, repo);
    return `✅ This chat now works on <b>${escapeHtml(repo)}</b>.`;
  }

  async #login(userId: number, chatType: string): Promise<string> {
    const subject = `tg:${userId}`;
    const manual = `an operator can link you instead: <code>devbot users link ${subject} YOUR-GITHUB-LOGIN</code>`;
    // Whoever opens the link signs in for the person who asked: never post one where others see it.
    if (chatType !== 'private') return 'Send /login to me in a private chat: the link is for you alone.';
    const link = await this.deps.loginLink?.(subject);
    if (!link) return `Signing in with GitHub is not set up on this devbot; ${manual}.`;
    return [
      `Sign in with GitHub: <a href="${escapeHtml(link)}">link your GitHub account</a>.`,
      'The link works once, for 10 minutes, and only for you: do not share it.',
    ].join('\n');
  }

  /** The chat's running tasks and its last few finished ones, each found in SQL by chat. */
  async #chatTasks(chatId: number): Promise<{ active: Task[]; done: Task[] }> {
    const [active, recent] = await Promise.all([
      this.deps.store.listTasks({ chatId, unfinished: true, limit: 50 }),
      this.deps.store.listTasks({ chatId, limit: 50 }),
    ]);
    const done = recent.filter((t) => t.status !== 'queued' && t.status !== 'running').slice(0, RECENT_DONE);
    return { active, done };
  }

  async #statusText(chatId: number): Promise<string> {
    const [{ active, done }, binding] = await Promise.all([
      this.#chatTasks(chatId),
      this.deps.bindings.get(chatId),
    ]);
    const lines = [
      binding?.repo
        ? `Repository: <b>${escapeHtml(binding.repo)}</b>`
        : 'No repository bound (/repo owner/name).',
    ];
    if (active.length === 0 && done.length === 0) lines.push('No tasks yet in this chat.');
    if (active.length > 0) lines.push('', '<b>Running</b>', ...active.map(taskLine));
    if (done.length > 0) lines.push('', '<b>Recent</b>', ...done.map(taskLine));
    return lines.join('\n');
  }

  async #cancel(chatId: number, userId: number, given: string | null): Promise<string> {
    const tasks = given
      ? await this.deps.store.listTasks({ chatId, limit: 200 })
      : await this.deps.store.listTasks({ chatId, unfinished: true, limit: 1 });
    const target = given
      ? tasks.find((t) => t.id === given || (given.length >= 4 && t.id.startsWith(given)))
      : tasks[0];
    if (!target)
      return given
        ? `No task <code>${escapeHtml(given)}</code> in this chat.`
        : 'Nothing is running in this chat.';
    if (target.status !== 'queued' && target.status !== 'running')
      return `<code>${escapeHtml(shortId(target.id))}</code> already ended.`;
    const after = await this.deps.ingress.cancel(target.id, `tg:${userId}`);
    if (after && after.status !== 'cancelled')
      return `<code>${escapeHtml(shortId(target.id))}</code> already ended.`;
    return `🚫 Cancelled <code>${escapeHtml(shortId(target.id))}</code> (${escapeHtml(after?.status ?? 'cancelled')}).`;
  }

  /**
   * /reset: refused while any task of this chat is queued or running (it may be using the sandbox,
   * possibly in another worker process); the sessions also refuse while they lend it out here.
   */
  async #reset(chatId: number): Promise<string> {
    const sandbox = this.deps.chatSandbox;
    if (!sandbox) return 'Resetting the sandbox is not available here.';
    const [active] = await this.deps.store.listTasks({ chatId, unfinished: true, limit: 1 });
    const busy = (id: string) =>
      `⏳ A task is using the sandbox${id ? ` (<code>${escapeHtml(shortId(id))}</code>)` : ''}: /cancel it first, or wait for it to end.`;
    if (active) return busy(active.id);
    if ((await sandbox.reset(chatId)) === 'busy') return busy('');
    return '🧹 Fresh sandbox: the next /sh starts in an empty /workspace. (The repository binding is kept.)';
  }
}

function shortId(id: string): string {
  return id.slice(0, 8);
}

const STATUS_ICON: Record<Task['status'], string> = {
  queued: '🕐',
  running: '⏳',
  waiting: '⏸️',
  succeeded: '✅',
  failed: '❌',
  cancelled: '🚫',
};

function taskLine(t: Task): string {
  const what = truncateText(t.prompt.replace(/\s+/g, ' ').trim(), 60);
  return `${STATUS_ICON[t.status]} <code>${shortId(t.id)}</code> ${t.kind} · ${escapeHtml(what)}`;
}

export function notAllowedText(userId: number): string {
  return [
    '⛔ Sorry, I only work for people on my allowlist.',
    `Your Telegram user id is <code>${userId}</code>: ask whoever runs this devbot to add it to TELEGRAM_ALLOWED_USER_IDS.`,
  ].join('\n');
}

function startText(userId: number, firstName: string, username: string | undefined): string {
  return [
    `👋 Hi ${escapeHtml(firstName)}! I am <b>devbot</b>${username ? ` (@${escapeHtml(username)})` : ''}: I turn messages into work done in a sandbox — shell commands in seconds, code changes as pull requests with a live preview.`,
    `Your Telegram user id is <code>${userId}</code>.`,
    '',
    'To start: bind this chat to a repository with /repo owner/name, then tell me what to build (or use /new_task). Run a command right away with /sh ls -la or <code>$ ls -la</code>.',
  ].join('\n');
}

function helpText(): string {
  return [
    '<b>What I can do</b>',
    ...BOT_COMMANDS.map((c) => `/${c.command} — ${escapeHtml(c.description)}`),
    '<code>$ command</code> — the same as /sh',
    'Anything else you write becomes a task: I decide whether it is a command, a question or a code change.',
  ].join('\n');
}
