/**
 * The bot's answers to chat commands (/start, /help, /repo, /link, /unlink, /status, /cancel,
 * /reset). Each runs against ports only: the chat's binding and repository links, the task store
 * (a chat's tasks, found in SQL), the ingress (cancel) and the chat's sandbox (reset).
 */
import type { Message } from 'grammy/types';
import {
  BadInputError,
  type ChatBindings,
  type ChatRepoLinks,
  ForbiddenError,
  NotFoundError,
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
  /** Chats' links to repositories (/link, /unlink). Without it both say they are not available. */
  links?: ChatRepoLinks | undefined;
  /** Most links per chat (default 20). */
  maxLinks?: number | undefined;
  /**
   * A one-time sign-in link with GitHub for a Telegram user (`tg:<id>`), or null when this devbot
   * has no GitHub OAuth client (then /login says how else to get linked).
   */
  loginLink?: ((subject: string, label?: string) => Promise<string | null>) | undefined;
  /** The bot's @username once known (for /start). */
  username(): string | undefined;
}

/** How many repositories one chat may be linked to. */
export const MAX_LINKS = 20;

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
        return `${command.error ? `❌ ${escapeHtml(command.error)}\n` : ''}Usage: ${escapeHtml(command.usage)}`;
      case 'unknown':
        return `I don't know /${escapeHtml(command.command)}. /help lists what I can do.`;
      case 'repo':
        return this.#repo(chatId, from.id, message.chat.type, command.repo);
      case 'link':
        return this.#link(message, from.id, command.repo);
      case 'unlink':
        return this.#unlink(chatId, command.repo);
      case 'status':
        return this.#statusText(chatId);
      case 'cancel':
        return this.#cancel(chatId, from.id, command.taskId);
      case 'reset':
        return this.#reset(chatId);
      case 'login':
        return this.#login(from, message.chat.type);
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

  /**
   * /link owner/name: only someone who may make devbot act on the repository (the same check as
   * /repo and a dev task) links it, since everyone in the chat then reads its PR activity.
   */
  async #link(message: Message, userId: number, repo: string | null): Promise<string> {
    const links = this.deps.links;
    if (!links) return 'Linking repositories is not available here.';
    const chatId = message.chat.id;
    if (repo === null) {
      const linked = await links.list(chatId);
      if (linked.length === 0)
        return 'This chat is linked to no repository. /link owner/name to hear about devbot’s pull requests there.';
      return [
        '<b>This chat hears about devbot’s pull requests in</b>',
        ...linked.map((l) => `• ${escapeHtml(l.repo)}`),
        '/unlink owner/name stops one, /unlink alone stops them all.',
      ].join('\n');
    }
    if (repo.split('/')[0] === 'local')
      return '❌ Local repositories have no pull requests to hear about: /link a GitHub repository.';
    // Nothing to check with means nobody may link (the notices would reach people unchecked).
    const authorize = this.deps.authorize;
    if (!authorize) return 'Linking repositories is not available here.';
    try {
      await authorize(`tg:${userId}`, repo);
    } catch (err) {
      if (err instanceof ForbiddenError) return `⛔ ${escapeHtml(err.message)}`;
      if (err instanceof BadInputError || err instanceof NotFoundError)
        return `❌ ${escapeHtml(err.message)}`;
      if ((err as { status?: unknown }).status === 404)
        return `❌ devbot cannot see ${escapeHtml(repo)}: it does not exist, or devbot is not installed on it.`;
      throw err;
    }
    const max = this.deps.maxLinks ?? MAX_LINKS;
    const threadId = message.is_topic_message ? (message.message_thread_id ?? null) : null;
    const outcome = await links.link({ chatId, threadId, repo, linkedBy: `tg:${userId}` }, max);
    if (typeof outcome === 'object')
      return `❌ This chat is linked to ${outcome.full} repositories already, the most it can be. /unlink one first (/link lists them).`;
    const shared =
      message.chat.type === 'private'
        ? ''
        : '\n⚠️ Everyone in this chat will see its pull-request activity, review and comment text included.';
    return `🔗 ${outcome === 'updated' ? 'Still linked' : 'Linked'}: this chat hears about devbot’s pull requests in <b>${escapeHtml(repo.toLowerCase())}</b> (opened, reviews, comments, CI failures, merged or closed).${shared}`;
  }

  /** /unlink owner/name removes one link; /unlink alone removes them all (it only ever tells less). */
  async #unlink(chatId: number, repo: string | null): Promise<string> {
    const links = this.deps.links;
    if (!links) return 'Linking repositories is not available here.';
    const removed = await links.unlink(chatId, repo ?? undefined);
    if (repo !== null)
      return removed.length > 0
        ? `Unlinked <b>${escapeHtml(removed[0] as string)}</b>: no more notices about it here.`
        : `This chat is not linked to ${escapeHtml(repo)}. /link lists its links.`;
    return removed.length > 0
      ? `Unlinked ${removed.map((r) => `<b>${escapeHtml(r)}</b>`).join(', ')}: no more pull-request notices here.`
      : 'This chat is linked to no repository.';
  }

  async #login(from: NonNullable<Message['from']>, chatType: string): Promise<string> {
    const subject = `tg:${from.id}`;
    const manual = `an operator can link you instead: <code>devbot users link ${subject} YOUR-GITHUB-LOGIN</code>`;
    // Whoever opens the link signs in for the person who asked: never post one where others see it.
    if (chatType !== 'private') return 'Send /login to me in a private chat: the link is for you alone.';
    // The confirmation page names this account to whoever signs in (the username is unique; the
    // name is the user's own choice, so it only follows).
    const name = [from.first_name, from.last_name].filter(Boolean).join(' ').slice(0, 64);
    const label = `${from.username ? `@${from.username}, ` : ''}Telegram user ${from.id}${name ? ` ("${name}")` : ''}`;
    const link = await this.deps.loginLink?.(subject, label);
    if (!link) return `Signing in with GitHub is not set up on this devbot; ${manual}.`;
    return [
      `Sign in with GitHub: <a href="${escapeHtml(link)}">link your GitHub account</a>.`,
      'The link works once, for 10 minutes, and only for you: do not share it. After signing in, confirm on the page that names this Telegram account.',
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
