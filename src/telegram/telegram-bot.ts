/**
 * The grammY bot: turns updates into tasks through the same TaskIngress as every other front door,
 * and answers commands. `handleTelegramUpdate(update)` is the entry point without transport; the
 * transport (polling or webhook) lives in telegram-transport.ts, the commands in chat-commands.ts.
 */
import { autoRetry } from '@grammyjs/auto-retry';
import { sequentialize } from '@grammyjs/runner';
import { Bot, type Context } from 'grammy';
import type { Message, Update } from 'grammy/types';
import {
  type ChatBinding,
  type ChatBindings,
  type ChatRepoLinks,
  errorMessage,
  ForbiddenError,
  type Task,
  type TaskApprovals,
  type TaskIngress,
  type TaskKind,
  type TaskStore,
  type TelegramOrigin,
  type UpdateClaims,
} from '../core/index.js';
import type { RawRoute } from '../http/raw-route.js';
import type { Logger } from '../observability/logger.js';
import { addressedToBot, allowedUserIds, type BotIdentity, isAllowedUser } from './access.js';
import { ChatCommands, notAllowedText } from './chat-commands.js';
import { parseCommand } from './parse-command.js';
import { renderAck } from './render-progress.js';
import { TaskControls } from './task-controls.js';
import type { OutgoingMessage, TelegramOutbox } from './telegram-outbox.js';
import { escapeHtml, truncateText } from './telegram-text.js';
import { chatKey, TelegramTransport } from './telegram-transport.js';

export { ALLOWED_UPDATES } from './telegram-transport.js';

export interface TelegramBotOptions {
  token: string;
  /** Bot API root without a trailing slash (TELEGRAM_API_ROOT). */
  apiRoot: string;
  allowedUserIds: readonly string[];
  /** Where tasks are created and cancelled: the same ingress as GitHub and the API. */
  ingress: TaskIngress;
  /** Decisions on waiting tasks and messages to running ones (buttons and replies). */
  approvals?: TaskApprovals;
  /** Allowed users who may also decide on other people's tasks (TELEGRAM_ADMIN_USER_IDS). */
  adminUserIds?: readonly string[];
  /** /status and /cancel find this chat's tasks; the Revise prompt's id is stored on its task. */
  store: Pick<TaskStore, 'getTask' | 'listTasks' | 'patchTask'>;
  /** The chat's repository and shell state. */
  bindings: ChatBindings;
  /** Which updates were already turned into tasks (per bot). */
  claims: (botId: number) => UpdateClaims;
  outbox: TelegramOutbox;
  logger: Logger;
  /** The chats' persistent sandboxes, for /reset. Without it /reset says it is not available. */
  chatSandbox?: { reset(chatId: number): Promise<'reset' | 'busy'> };
  /**
   * Refuses (ForbiddenError) a user who may not make devbot change a repository: checked when a
   * chat is bound and when a dev task is asked for. Without it, nothing is checked here.
   */
  authorize?: (subject: string, repo: string) => Promise<void>;
  /** Chats' links to repositories, for /link and /unlink (checked with `authorize`). */
  links?: ChatRepoLinks;
  /** A one-time GitHub sign-in link for a user (`/login`); null when signing in is not set up. */
  loginLink?: (subject: string, label?: string) => Promise<string | null>;
  /** Webhook mode: Telegram posts updates to `url` with `secret` in the secret-token header. */
  webhook?: { url: string; secret: string };
  /** Long-poll timeout passed to getUpdates. Default 30 s. */
  pollingTimeoutSeconds?: number;
  /** Backoff for failing setup calls and a crashed poller. Default 1 s doubling to 60 s. */
  retryDelayMs?: { initial: number; max: number };
  /** auto-retry's cap on `retry_after` for setup and polling calls. Default 30 s. */
  maxRetryAfterSeconds?: number;
}

/** Update ids remembered in memory for the fast duplicate check. */
const RECENT_UPDATES = 10_000;

export class TelegramBot {
  readonly bot: Bot;
  readonly identity: BotIdentity;
  readonly bindings: ChatBindings;
  readonly #claims: UpdateClaims;
  readonly #allowed: Set<number>;
  readonly #log: Logger;
  readonly #recent = new Set<number>();
  readonly #commands: ChatCommands;
  readonly #transport: TelegramTransport;
  readonly #controls: TaskControls | null;

  constructor(private readonly options: TelegramBotOptions) {
    this.#log = options.logger.child({ component: 'telegram' });
    this.#allowed = allowedUserIds(options.allowedUserIds);
    this.identity = { id: Number(options.token.split(':')[0]) };
    this.bindings = options.bindings;
    this.#claims = options.claims(this.identity.id);
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
    this.#commands = new ChatCommands({
      bindings: options.bindings,
      store: options.store,
      ingress: options.ingress,
      chatSandbox: options.chatSandbox,
      authorize: options.authorize,
      links: options.links,
      loginLink: options.loginLink,
      username: () => this.identity.username,
    });
    const approvals = options.approvals;
    this.#controls = approvals
      ? new TaskControls({
          store: options.store,
          approvals,
          ingress: options.ingress,
          outbox: options.outbox,
          answer: async (id, text) => {
            await this.bot.api.answerCallbackQuery(id, { text }).catch(() => {});
          },
          allowed: this.#allowed,
          admins: allowedUserIds(options.adminUserIds ?? []),
          startTask: async (message, text) => {
            await this.#createTask({
              updateId: 0,
              message,
              kind: 'auto',
              prompt: text,
              threadId: message.is_topic_message ? message.message_thread_id : undefined,
              claim: Promise.resolve(true),
              idempotencyKey: `tg:message:${message.chat.id}:${message.message_id}`,
            });
          },
          textOf: (message) => addressedToBot(message, this.identity).text,
          logger: this.#log,
        })
      : null;
    this.#transport = new TelegramTransport({
      bot: this.bot,
      handle: (update) => this.handleTelegramUpdate(update),
      onIdentity: (username) => {
        this.identity.username = username;
      },
      onSetup: () => this.#claims.prune(),
      logger: this.#log,
      apiRoot: options.apiRoot,
      webhook: options.webhook,
      pollingTimeoutSeconds: options.pollingTimeoutSeconds,
      retryDelayMs: options.retryDelayMs,
    });
    if (this.#allowed.size === 0)
      this.#log.warn(
        'TELEGRAM_ALLOWED_USER_IDS is empty: the bot answers everyone with their id and serves no one',
      );
  }

  start(mode: { polling: boolean; registerWebhook: boolean }): Promise<void> {
    return this.#transport.start(mode);
  }

  /** Resolves once setup finished (getMe, commands, webhook or polling started). For tests. */
  ready(): Promise<void> {
    return this.#transport.ready();
  }

  stop(): Promise<void> {
    return this.#transport.stop();
  }

  dispatch(update: Update): void {
    this.#transport.dispatch(update);
  }

  webhookRoute(prefix: string): RawRoute {
    return this.#transport.webhookRoute(prefix);
  }

  /**
   * Handles one update: access, addressing, dedupe, then a command reply or a new task. Returns the
   * task it created, or null (a command, a refusal, a duplicate, a message not for the bot).
   */
  async handleTelegramUpdate(update: Update): Promise<Task | null> {
    if (update.callback_query) {
      if (!this.#controls) {
        await this.bot.api.answerCallbackQuery(update.callback_query.id).catch(() => {});
        return null;
      }
      try {
        await this.#controls.handleCallback(update.callback_query);
      } catch (err) {
        this.#log.error({ err }, 'telegram: a button press failed');
        await this.bot.api
          .answerCallbackQuery(update.callback_query.id, {
            text: 'That did not work: try again in a moment.',
          })
          .catch(() => {});
      }
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
    if (this.#controls && command.type === 'task' && command.kind === 'auto') {
      // A reply revising a plan or steering a running task; a plain message while a task runs asks.
      const handled = message.reply_to_message
        ? await this.#controls.handleReply(message, text, claim)
        : await this.#controls.offerSteer(message, text, claim);
      if (handled) return null;
    }
    if (command.type === 'task' || command.type === 'shell') {
      const kind: TaskKind = command.type === 'shell' ? 'shell' : command.kind;
      const prompt = command.type === 'shell' ? command.command : command.prompt;
      // A reply to the result of a task that opened a PR is a follow-up on that PR.
      const followup = command.type === 'task' ? await this.#pullRequestRepliedTo(message) : null;
      if (followup)
        return this.#createTask({ updateId, message, kind: 'followup', prompt, threadId, claim, followup });
      return this.#createTask({ updateId, message, kind, prompt, threadId, claim });
    }
    if (!(await claim)) return null;
    await reply(await this.#commands.answer(command, message));
    return null;
  }

  /** The PR of the task whose result message this message replies to, if that task opened one. */
  async #pullRequestRepliedTo(message: Message): Promise<{ repo: string; prNumber: number } | null> {
    const repliedTo = message.reply_to_message;
    if (!repliedTo || repliedTo.from?.id !== this.identity.id) return null;
    const tasks = await this.options.store
      .listTasks({ source: 'telegram', chatId: message.chat.id, limit: 500 })
      .catch(() => []);
    const task = tasks.find((t) => t.origin.resultMessageId === repliedTo.message_id && t.prUrl && t.repo);
    const number = task?.prUrl ? /\/pull\/(\d+)$/.exec(task.prUrl)?.[1] : undefined;
    return task?.repo && number ? { repo: task.repo, prNumber: Number(number) } : null;
  }

  async #createTask(args: {
    updateId: number;
    message: Message;
    kind: TaskKind;
    prompt: string;
    threadId: number | undefined;
    claim: Promise<boolean>;
    /** Default: the update's (`tg:update:<id>`). */
    idempotencyKey?: string;
    /** A follow-up on a PR this chat's task opened (a reply to its result message). */
    followup?: { repo: string; prNumber: number };
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
    const repo = args.followup?.repo ?? binding?.repo ?? null;
    if (kind === 'dev' && !repo) {
      await fail('Bind this chat to a repository first: /repo owner/name. Then send /new_task again.');
      return null;
    }
    if ((kind === 'dev' || kind === 'followup') && repo && this.options.authorize) {
      try {
        await this.options.authorize(`tg:${from.id}`, repo);
      } catch (err) {
        if (!(err instanceof ForbiddenError)) throw err;
        await fail(`⛔ ${escapeHtml(err.message)}`);
        return null;
      }
    }
    const origin: TelegramOrigin = {
      chatId,
      chatType: message.chat.type,
      messageId: message.message_id,
      userId: from.id,
      updateId,
      ...(statusMessageId !== null ? { statusMessageId } : {}),
      ...(threadId !== undefined ? { threadId } : {}),
    };
    try {
      const { task, created } = await this.options.ingress.submit({
        source: 'telegram',
        origin,
        requester: `tg:${from.id}`,
        repo,
        kind,
        prompt,
        input:
          kind === 'shell'
            ? { command: prompt, chatSandbox: true }
            : args.followup
              ? { prNumber: args.followup.prNumber }
              : {},
        idempotencyKey: args.idempotencyKey ?? `tg:update:${updateId}`,
      });
      if (args.idempotencyKey === undefined) await this.#claims.attachTask(updateId, task.id);
      if (!created) {
        // Another delivery of this update made the task and owns its status message.
        await dropAck();
        return null;
      }
      return task;
    } catch (err) {
      this.#log.error({ err, chatId, updateId }, 'telegram: could not create the task');
      await fail(`❌ I could not start that: ${escapeHtml(truncateText(errorMessage(err), 500))}`);
      return null;
    }
  }
}
