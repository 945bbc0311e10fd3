/**
 * The grammY bot: turns updates into tasks (through the gateway API) and answers commands. Long
 * polling with @grammyjs/runner, ordered per chat with `sequentialize`; or webhook mode, where the
 * gateway route only checks the secret, answers 200 and queues the update. Setup calls (getMe,
 * setMyCommands, setWebhook) retry with backoff and never stop devbot.
 * `handleTelegramUpdate(update)` is the entry point without transport.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { autoRetry } from '@grammyjs/auto-retry';
import { type RunnerHandle, run, sequentialize } from '@grammyjs/runner';
import { Bot, type Context } from 'grammy';
import type { Message, Update } from 'grammy/types';
import type { Task, TaskKind, TaskStore } from '../core/index.js';
import { errorMessage } from '../core/index.js';
import type { RawRoute } from '../gateway/raw-route.js';
import type { Logger } from '../observability/logger.js';
import type { SqlClient } from '../store/sql-client.js';
import { addressedToBot, allowedUserIds, type BotIdentity, isAllowedUser } from './access.js';
import { type ChatBinding, ChatBindings } from './chat-bindings.js';
import { BOT_COMMANDS, type ChatCommand, parseCommand } from './parse-command.js';
import { renderAck } from './render-progress.js';
import { type TaskApiClient, TaskApiError } from './task-api-client.js';
import type { OutgoingMessage, TelegramOutbox } from './telegram-outbox.js';
import { escapeHtml, truncateText } from './telegram-text.js';
import { UpdateClaims } from './update-claims.js';
import { WakeableSleeps } from './wakeable-sleeps.js';

/** Update types the bot asks for (polling and webhook alike). */
export const ALLOWED_UPDATES = ['message', 'callback_query'] as const;

export interface TelegramBotOptions {
  token: string;
  /** Bot API root without a trailing slash (TELEGRAM_API_ROOT). */
  apiRoot: string;
  allowedUserIds: readonly string[];
  sql: Pick<SqlClient, 'query'>;
  /** Read-only use: /status lists this chat's tasks. */
  store: Pick<TaskStore, 'getTask' | 'listTasks'>;
  tasks: TaskApiClient;
  outbox: TelegramOutbox;
  logger: Logger;
  /** The chats' persistent sandboxes, for /reset. Without it /reset says it is not available. */
  chatSandbox?: { reset(chatId: number): Promise<'reset' | 'busy'> };
  /** Webhook mode: Telegram posts updates to `url` with `secret` in the secret-token header. */
  webhook?: { url: string; secret: string };
  /** Long-poll timeout passed to getUpdates. Default 30 s. */
  pollingTimeoutSeconds?: number;
  /** Backoff for failing setup calls and a crashed poller. Default 1 s doubling to 60 s. */
  retryDelayMs?: { initial: number; max: number };
  /** auto-retry's cap on `retry_after` for setup and polling calls. Default 30 s. */
  maxRetryAfterSeconds?: number;
}

const WEBHOOK_BODY_LIMIT = 1_048_576;
/** Update ids remembered in memory for the fast duplicate check. */
const RECENT_UPDATES = 10_000;

export class TelegramBot {
  readonly bot: Bot;
  readonly identity: BotIdentity;
  readonly bindings: ChatBindings;
  readonly #claims: UpdateClaims;
  readonly #allowed: Set<number>;
  readonly #log: Logger;
  readonly #retry: { initial: number; max: number };
  readonly #chains = new Map<string, Promise<void>>();
  readonly #recent = new Set<number>();
  readonly #sleeps = new WakeableSleeps();
  #runner: RunnerHandle | null = null;
  #setup: Promise<void> | null = null;
  #stopped = false;

  constructor(private readonly options: TelegramBotOptions) {
    this.#log = options.logger.child({ component: 'telegram' });
    this.#allowed = allowedUserIds(options.allowedUserIds);
    this.#retry = options.retryDelayMs ?? { initial: 1000, max: 60_000 };
    this.identity = { id: Number(options.token.split(':')[0]) };
    this.bindings = new ChatBindings(options.sql);
    this.#claims = new UpdateClaims(options.sql, this.identity.id);
    this.bot = new Bot(options.token, { client: { apiRoot: options.apiRoot } });
    this.bot.api.config.use(
      autoRetry({
        maxDelaySeconds: options.maxRetryAfterSeconds ?? 30,
        maxRetryAttempts: 3,
        // The runner and the setup loop retry network errors themselves, with their own backoff.
        rethrowHttpErrors: true,
      }),
    );
    this.bot.use(sequentialize<Context>((ctx) => chatKey(ctx.update)));
    this.bot.use(async (ctx) => {
      await this.handleTelegramUpdate(ctx.update);
    });
    this.bot.catch((err) => {
      this.#log.error({ err: err.error, updateId: err.ctx.update.update_id }, 'telegram: update failed');
    });
    if (this.#allowed.size === 0)
      this.#log.warn(
        'TELEGRAM_ALLOWED_USER_IDS is empty: the bot answers everyone with their id and serves no one',
      );
  }

  /**
   * Handles one update: access, addressing, dedupe, then a command reply or a new task. Returns the
   * task it created, or null (a command, a refusal, a duplicate, a message not for the bot).
   */
  async handleTelegramUpdate(update: Update): Promise<Task | null> {
    if (update.callback_query) {
      await this.bot.api.answerCallbackQuery(update.callback_query.id).catch(() => {});
      return null;
    }
    const message = update.message;
    if (!message?.from || message.from.is_bot) return null;
    const { addressed, text } = addressedToBot(message, this.identity);
    if (!addressed) return null;
    // Duplicates are caught twice: here in memory (synchronously, so even two concurrent copies
    // of one update cannot both pass), and by a row in telegram_updates (across restarts). The
    // row is written while the acknowledgement goes out, so the database never delays it.
    if (!this.#remember(update.update_id)) return null;
    const claim = this.#claims.claim(update.update_id, message.chat.id);
    claim.catch(() => {}); // awaited below; this only keeps a failure from being "unhandled"
    try {
      return await this.#handleMessage(update.update_id, message, text, claim);
    } catch (err) {
      // Nothing usable happened: give the update back so a redelivery can try again.
      this.#recent.delete(update.update_id);
      await this.#claims.release(update.update_id).catch(() => {});
      throw err;
    }
  }

  /** Records an update id in memory; false when it was seen recently. */
  #remember(updateId: number): boolean {
    if (this.#recent.has(updateId)) {
      this.#log.debug({ updateId }, 'telegram: duplicate update ignored');
      return false;
    }
    this.#recent.add(updateId);
    if (this.#recent.size > RECENT_UPDATES) {
      const oldest = this.#recent.values().next().value;
      if (oldest !== undefined) this.#recent.delete(oldest);
    }
    return true;
  }

  /** Webhook mode: queue an update behind earlier ones of the same chat; returns at once. */
  dispatch(update: Update): void {
    const key = chatKey(update) ?? `update:${update.update_id}`;
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.handleTelegramUpdate(update))
      .then(
        () => {},
        (err) => this.#log.error({ err, updateId: update.update_id }, 'telegram: update failed'),
      )
      .finally(() => {
        if (this.#chains.get(key) === next) this.#chains.delete(key);
      });
    this.#chains.set(key, next);
  }

  /** The gateway route for webhook mode: a wrong or missing secret is 401 and nothing else. */
  webhookRoute(prefix: string): RawRoute {
    const secret = this.options.webhook?.secret;
    return {
      prefix,
      handle: async (req, res) => {
        if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: 'method not allowed' });
        if (!secret || !secretMatches(req.headers['x-telegram-bot-api-secret-token'], secret)) {
          req.resume();
          return sendJson(res, 401, { ok: false, error: 'unauthorized' });
        }
        let update: Update;
        try {
          update = JSON.parse((await readBody(req, WEBHOOK_BODY_LIMIT)).toString('utf8')) as Update;
        } catch (err) {
          return sendJson(res, err instanceof BodyTooLargeError ? 413 : 400, {
            ok: false,
            error: 'bad update',
          });
        }
        if (typeof update?.update_id !== 'number')
          return sendJson(res, 400, { ok: false, error: 'bad update' });
        // Answer first: Telegram re-sends updates that take long, so the work happens after.
        sendJson(res, 200, { ok: true });
        this.dispatch(update);
      },
    };
  }

  /** Starts setup and the transport in the background; never throws. Safe to call twice. */
  start(mode: { polling: boolean; registerWebhook: boolean }): Promise<void> {
    this.#setup ??= this.#runSetup(mode).catch((err) => {
      this.#log.error({ err }, 'telegram: setup stopped');
    });
    return Promise.resolve();
  }

  /** Resolves once setup finished (getMe, commands, webhook or polling started). For tests. */
  ready(): Promise<void> {
    return this.#setup ?? Promise.resolve();
  }

  /** Stops polling and waits for queued webhook updates. Safe to call twice. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#sleeps.wakeAll();
    const runner = this.#runner;
    this.#runner = null;
    if (runner?.isRunning()) await runner.stop().catch(() => {});
    await this.#setup;
    await Promise.allSettled([...this.#chains.values()]);
  }

  // ---------------------------------------------------------------- messages

  async #handleMessage(
    updateId: number,
    message: Message,
    text: string,
    claim: Promise<boolean>,
  ): Promise<Task | null> {
    const from = message.from as NonNullable<Message['from']>;
    const chatId = message.chat.id;
    const threadId = message.is_topic_message ? message.message_thread_id : undefined;
    const reply = (html: string) =>
      this.options.outbox.send(chatId, {
        html,
        replyTo: message.message_id,
        ...(threadId === undefined ? {} : { threadId }),
      });
    if (!isAllowedUser(from.id, this.#allowed)) {
      if (!(await claim)) return null;
      this.#log.info({ userId: from.id, chatId }, 'telegram: refused a user not on the allowlist');
      await reply(notAllowedText(from.id));
      return null;
    }
    const command = parseCommand(text, this.identity.username);
    if (!command || command.type === 'ignore') return null;
    if (command.type === 'task' || command.type === 'shell') {
      const kind: TaskKind = command.type === 'shell' ? 'shell' : command.kind;
      const prompt = command.type === 'shell' ? command.command : command.prompt;
      return this.#createTask({ updateId, message, kind, prompt, threadId, claim });
    }
    if (!(await claim)) return null;
    await reply(await this.#answer(command, message));
    return null;
  }

  async #answer(
    command: Exclude<ChatCommand, { type: 'task' | 'shell' | 'ignore' }>,
    message: Message,
  ): Promise<string> {
    const from = message.from as NonNullable<Message['from']>;
    const chatId = message.chat.id;
    switch (command.type) {
      case 'start':
        return startText(from.id, from.first_name, this.identity.username);
      case 'help':
        return helpText();
      case 'usage':
        return `Usage: ${escapeHtml(command.usage)}`;
      case 'unknown':
        return `I don't know /${escapeHtml(command.command)}. /help lists what I can do.`;
      case 'repo': {
        if (command.repo === null) {
          const binding = await this.bindings.get(chatId);
          return binding?.repo
            ? `This chat works on <b>${escapeHtml(binding.repo)}</b>. Change it with /repo owner/name.`
            : 'This chat is not bound to a repository yet. Bind it with /repo owner/name.';
        }
        await this.bindings.setRepo(chatId, message.chat.type, command.repo);
        return `✅ This chat now works on <b>${escapeHtml(command.repo)}</b>.`;
      }
      case 'status':
        return this.#statusText(chatId);
      case 'cancel':
        return this.#cancel(chatId, from.id, command.taskId);
      case 'reset':
        return this.#reset(chatId);
    }
  }

  async #createTask(args: {
    updateId: number;
    message: Message;
    kind: TaskKind;
    prompt: string;
    threadId: number | undefined;
    claim: Promise<boolean>;
  }): Promise<Task | null> {
    const { updateId, message, kind, prompt, threadId } = args;
    const from = message.from as NonNullable<Message['from']>;
    const chatId = message.chat.id;
    const base: Pick<OutgoingMessage, 'replyTo' | 'threadId'> = {
      replyTo: message.message_id,
      ...(threadId === undefined ? {} : { threadId }),
    };
    // The acknowledgement goes out first: it is what the user waits for, and its id travels in
    // the task's origin so whichever worker runs the task edits this same message.
    const ack = this.options.outbox.send(chatId, { ...base, ...renderAck(kind, prompt) });
    let claimed: boolean;
    let binding: ChatBinding | null;
    try {
      [claimed, binding] = await Promise.all([args.claim, this.bindings.get(chatId)]);
    } catch (err) {
      const id = await ack;
      const html = '❌ I could not start that: my database is unreachable. Try again in a moment.';
      if (id !== null) await this.options.outbox.edit(chatId, id, { html });
      throw err;
    }
    const statusMessageId = await ack;
    const fail = async (html: string) => {
      if (statusMessageId !== null) await this.options.outbox.edit(chatId, statusMessageId, { html });
      else await this.options.outbox.send(chatId, { ...base, html });
    };
    const dropAck = async () => {
      if (statusMessageId !== null) await this.bot.api.deleteMessage(chatId, statusMessageId).catch(() => {});
    };
    if (!claimed) {
      if ((await this.#claims.taskOf(updateId).catch(() => null)) !== null) {
        // A redelivery from before a restart: the first delivery has its task and its message.
        this.#log.debug({ updateId }, 'telegram: duplicate update ignored');
        await dropAck();
        return null;
      }
      // Seen but no task recorded: the first delivery died before creating it (or is creating it
      // right now). Carry on: the task's idempotency key keeps this to one task, and losing the
      // request would be worse than a second acknowledgement.
      this.#log.info({ updateId }, 'telegram: update seen before without a task; creating it');
    }
    if (kind === 'dev' && !binding?.repo) {
      await fail('Bind this chat to a repository first: /repo owner/name. Then send /new_task again.');
      return null;
    }
    const origin: Record<string, unknown> = {
      chatId,
      chatType: message.chat.type,
      messageId: message.message_id,
      userId: from.id,
      updateId,
    };
    if (statusMessageId !== null) origin.statusMessageId = statusMessageId;
    if (threadId !== undefined) origin.threadId = threadId;
    const subject = `tg:${from.id}`;
    try {
      const { task, created } = await this.options.tasks.createTask(subject, {
        kind,
        prompt,
        ...(kind === 'shell' ? { command: prompt, input: { command: prompt, chatSandbox: true } } : {}),
        ...(binding?.repo ? { repo: binding.repo } : {}),
        origin,
        idempotencyKey: `tg:update:${updateId}`,
      });
      await this.#claims.attachTask(updateId, task.id);
      if (!created) {
        // Another delivery of this update made the task and owns its status message.
        await dropAck();
        return null;
      }
      return await this.options.store.getTask(task.id);
    } catch (err) {
      this.#log.error({ err, chatId, updateId }, 'telegram: could not create the task');
      await fail(`❌ I could not start that: ${escapeHtml(truncateText(errorMessage(err), 500))}`);
      return null;
    }
  }

  async #chatTasks(chatId: number): Promise<Task[]> {
    const recent = await this.options.store.listTasks({ source: 'telegram', limit: 200 });
    return recent.filter((t) => t.origin.chatId === chatId);
  }

  async #statusText(chatId: number): Promise<string> {
    const [tasks, binding] = await Promise.all([this.#chatTasks(chatId), this.bindings.get(chatId)]);
    const lines = [
      binding?.repo
        ? `Repository: <b>${escapeHtml(binding.repo)}</b>`
        : 'No repository bound (/repo owner/name).',
    ];
    const active = tasks.filter((t) => t.status === 'queued' || t.status === 'running');
    const done = tasks.filter((t) => t.status !== 'queued' && t.status !== 'running').slice(0, 5);
    if (active.length === 0 && done.length === 0) lines.push('No tasks yet in this chat.');
    if (active.length > 0) lines.push('', '<b>Running</b>', ...active.map(taskLine));
    if (done.length > 0) lines.push('', '<b>Recent</b>', ...done.map(taskLine));
    return lines.join('\n');
  }

  async #cancel(chatId: number, userId: number, given: string | null): Promise<string> {
    const tasks = await this.#chatTasks(chatId);
    const target = given
      ? tasks.find((t) => t.id === given || (given.length >= 4 && t.id.startsWith(given)))
      : tasks.find((t) => t.status === 'queued' || t.status === 'running');
    if (!target)
      return given
        ? `No task <code>${escapeHtml(given)}</code> in this chat.`
        : 'Nothing is running in this chat.';
    try {
      const after = await this.options.tasks.cancelTask(`tg:${userId}`, target.id);
      return `🚫 Cancelled <code>${escapeHtml(shortId(target.id))}</code> (${escapeHtml(after.status)}).`;
    } catch (err) {
      if (err instanceof TaskApiError && err.status === 409)
        return `<code>${escapeHtml(shortId(target.id))}</code> already ended.`;
      throw err;
    }
  }

  /**
   * /reset: refused while any task of this chat is queued or running (it may be using the sandbox,
   * possibly in another worker process); the sessions also refuse while they lend it out here.
   */
  async #reset(chatId: number): Promise<string> {
    const sandbox = this.options.chatSandbox;
    if (!sandbox) return 'Resetting the sandbox is not available here.';
    const active = (await this.#chatTasks(chatId)).find(
      (t) => t.status === 'queued' || t.status === 'running',
    );
    const busy = (id: string) =>
      `⏳ A task is using the sandbox${id ? ` (<code>${escapeHtml(shortId(id))}</code>)` : ''}: /cancel it first, or wait for it to end.`;
    if (active) return busy(active.id);
    if ((await sandbox.reset(chatId)) === 'busy') return busy('');
    return '🧹 Fresh sandbox: the next /sh starts in an empty /workspace. (The repository binding is kept.)';
  }

  // ---------------------------------------------------------------- setup and transport

  async #runSetup(mode: { polling: boolean; registerWebhook: boolean }): Promise<void> {
    const api = this.bot.api;
    if (!(await this.#retrying('getMe', () => this.bot.init()))) return;
    this.identity.username = this.bot.botInfo.username;
    // Commands are a convenience: they retry on their own and never hold up updates.
    void this.#retrying('setMyCommands', () => api.setMyCommands([...BOT_COMMANDS]));
    void this.#claims.prune().catch((err) => this.#log.debug({ err }, 'telegram: pruning claims failed'));
    const webhook = this.options.webhook;
    if (webhook && mode.registerWebhook) {
      await this.#retrying('setWebhook', () =>
        api.setWebhook(webhook.url, { secret_token: webhook.secret, allowed_updates: [...ALLOWED_UPDATES] }),
      );
      this.#log.info({ url: webhook.url }, 'telegram: webhook registered');
    } else if (!webhook && mode.polling) {
      // A webhook left over from an earlier run makes getUpdates fail with 409.
      if (!(await this.#retrying('deleteWebhook', () => api.deleteWebhook()))) return;
      this.#startPolling();
    }
  }

  #startPolling(attempt = 0): void {
    if (this.#stopped) return;
    const runner = run(this.bot, {
      runner: {
        fetch: { timeout: this.options.pollingTimeoutSeconds ?? 30, allowed_updates: [...ALLOWED_UPDATES] },
        silent: true,
        maxRetryTime: 60 * 60_000,
      },
    });
    this.#runner = runner;
    this.#log.info({ username: this.identity.username }, 'telegram: polling for updates');
    const healthy = setTimeout(() => {
      attempt = 0;
    }, 60_000);
    healthy.unref();
    runner.task()?.then(
      () => clearTimeout(healthy),
      async (err: unknown) => {
        clearTimeout(healthy);
        if (this.#stopped) return;
        const delay = Math.min(this.#retry.initial * 2 ** attempt, this.#retry.max);
        const conflict = (err as { error_code?: number }).error_code === 409;
        this.#log.error(
          { err: errorMessage(err), retryInMs: delay },
          conflict
            ? 'telegram: another process polls this bot token (409); only one may. Retrying'
            : 'telegram: polling stopped; restarting',
        );
        await this.#sleeps.sleep(delay);
        if (this.#runner === runner) this.#startPolling(attempt + 1);
      },
    );
  }

  /** Runs fn until it succeeds or the bot stops, backing off between failures. */
  async #retrying(what: string, fn: () => Promise<unknown>): Promise<boolean> {
    let delay = this.#retry.initial;
    while (!this.#stopped) {
      try {
        await fn();
        return true;
      } catch (err) {
        this.#log.warn({ err: errorMessage(err), retryInMs: delay }, `telegram: ${what} failed; retrying`);
        await this.#sleeps.sleep(delay);
        delay = Math.min(delay * 2, this.#retry.max);
      }
    }
    return false;
  }
}

// ---------------------------------------------------------------- helpers

function chatKey(update: Update): string | undefined {
  const chat = update.message?.chat ?? update.callback_query?.message?.chat;
  if (chat) return `chat:${chat.id}`;
  const from = update.callback_query?.from;
  return from ? `user:${from.id}` : undefined;
}

function shortId(id: string): string {
  return id.slice(0, 8);
}

const STATUS_ICON: Record<Task['status'], string> = {
  queued: '🕐',
  running: '⏳',
  succeeded: '✅',
  failed: '❌',
  cancelled: '🚫',
};

function taskLine(t: Task): string {
  const what = truncateText(t.prompt.replace(/\s+/g, ' ').trim(), 60);
  return `${STATUS_ICON[t.status]} <code>${shortId(t.id)}</code> ${t.kind} · ${escapeHtml(what)}`;
}

function notAllowedText(userId: number): string {
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

function secretMatches(header: string | string[] | undefined, secret: string): boolean {
  if (typeof header !== 'string') return false;
  const a = Buffer.from(header);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

class BodyTooLargeError extends Error {}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
