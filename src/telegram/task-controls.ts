/**
 * People in control of their tasks from the chat (issue 18): the plan's Approve / Revise / Cancel
 * buttons, a reply to the plan that revises it, a reply to a running task's status message that
 * steers it, and the question a plain message gets while a task runs (add it, or start a new one).
 * Every press is answered at once with a toast that says what happened or why nothing did; only the
 * requester or an admin may decide, and a stale or forged button changes nothing.
 */
import type { CallbackQuery, Message } from 'grammy/types';
import {
  type Task,
  type TaskApprovals,
  type TaskIngress,
  type TaskStore,
  type TelegramOrigin,
  telegramOrigin,
} from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import { isAllowedUser } from './access.js';
import type { TelegramOutbox } from './telegram-outbox.js';
import { escapeHtml, truncateText } from './telegram-text.js';

export interface TaskControlsDeps {
  store: Pick<TaskStore, 'getTask' | 'listTasks' | 'patchTask'>;
  approvals: TaskApprovals;
  ingress: Pick<TaskIngress, 'cancel'>;
  outbox: TelegramOutbox;
  answer(callbackQueryId: string, text: string): Promise<void>;
  allowed: ReadonlySet<number>;
  /** Allowed users who may also decide on other people's tasks. */
  admins: ReadonlySet<number>;
  /** Starts a task from a user's message (the "Start a new task" button). */
  startTask(message: Message, text: string): Promise<void>;
  /** A message's text as the bot reads it (its mention of the bot removed). */
  textOf(message: Message): string;
  logger: Logger;
}

/** Kinds a running crew can take a message in. */
const STEERABLE = new Set<Task['kind']>(['dev', 'followup']);

const CALLBACK = /^(ap|st):([arcn]):(\d+):([0-9a-f-]{36})$/;
/** A command approval button: Allow once, Allow for this task, Deny, and the request's id. */
const COMMAND_CALLBACK = /^ca:([otd]):([0-9a-f-]{36})$/;
const COMMAND_ACTIONS = { o: 'allowed_once', t: 'allowed_task', d: 'denied' } as const;
const COMMAND_TOASTS = {
  allowed_once: 'Allowed once: the command runs.',
  allowed_task: 'Allowed for the rest of this task.',
  denied: 'Denied: the crew goes on without it.',
} as const;

export class TaskControls {
  /** Questions already answered here (a double press of Add / New does it once). */
  readonly #answered = new Set<string>();

  constructor(private readonly deps: TaskControlsDeps) {}

  /** Handles one button press; always answers the callback query. */
  async handleCallback(query: CallbackQuery): Promise<void> {
    const toast = (text: string) => this.deps.answer(query.id, text);
    if (query.data?.startsWith('ca:')) return this.#commandChoice(query, toast);
    const match = CALLBACK.exec(query.data ?? '');
    const chatId = query.message?.chat.id;
    if (!match || chatId === undefined || !query.message) return toast('This button is not valid.');
    if (!isAllowedUser(query.from.id, this.deps.allowed))
      return toast('You are not allowed to use this bot.');
    const [, family, action, roundText, taskId] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    const task = await this.deps.store.getTask(taskId);
    const origin = task ? telegramOrigin(task) : null;
    if (!task || !origin || origin.chatId !== chatId)
      return toast('This button belongs to no task of this chat.');
    if (!this.#mayDecide(task, query.from.id))
      return toast('Only the person who asked for this task (or an admin) can decide on it.');
    const by = `tg:${query.from.id}`;
    const messageId = query.message.message_id;
    if (family === 'st') return this.#steerChoice(query, task, action, toast);

    // A plan button: only the newest plan message of the task counts.
    if (origin.planMessageId !== messageId) return toast('This is an old plan: use the newest one.');
    const round = Number(roundText);
    if (action === 'a') {
      const outcome = await this.deps.approvals.approve(taskId, by, { round });
      if (!outcome.ok) return toast(capitalize(outcome.message));
      await toast('Approved: the work starts.');
      return;
    }
    if (action === 'r') {
      const pending = await this.deps.approvals.pending(taskId);
      if (!pending) return toast(capitalize(`nothing to revise: the task ${describe(task)}`));
      if (pending.round !== round) return toast('This is an old plan: use the newest one.');
      await toast('Reply with what should change.');
      const promptId = await this.deps.outbox.send(chatId, {
        html: '✏️ What should change in the plan? Reply to this message.',
        forceReply: true,
        replyTo: messageId,
        ...(origin.threadId !== undefined ? { threadId: origin.threadId } : {}),
      });
      if (promptId !== null) {
        const fresh = (await this.deps.store.getTask(taskId)) ?? task;
        await this.deps.store.patchTask(taskId, { origin: { ...fresh.origin, reviseMessageId: promptId } });
      }
      return;
    }
    if (action === 'c') {
      if (task.status !== 'waiting')
        return toast(capitalize(`nothing to cancel here: the task ${describe(task)}`));
      const cancelled = await this.deps.ingress.cancel(taskId, by);
      await toast(cancelled?.status === 'cancelled' ? 'Cancelled.' : 'The task had already ended.');
      return;
    }
    return toast('This button is not valid.');
  }

  /**
   * A reply in the chat: to the plan (or the Revise prompt) of a waiting task, it revises the plan;
   * to the status message of a running task, it goes to the crew. Returns whether it was handled.
   */
  async handleReply(message: Message, text: string, claimed: Promise<boolean>): Promise<boolean> {
    const replyTo = message.reply_to_message?.message_id;
    const from = message.from;
    if (replyTo === undefined || !from || text.trim() === '' || text.startsWith('/')) return false;
    const tasks = await this.deps.store.listTasks({ chatId: message.chat.id, unfinished: true, limit: 20 });
    const plan = tasks.find((t) => {
      const o = t.origin as TelegramOrigin;
      return o.planMessageId === replyTo || o.reviseMessageId === replyTo;
    });
    const reply = (html: string) => this.#reply(message, html);
    // A redelivered update (claimed before a restart) was handled the first time.
    if ((plan || tasks.length > 0) && !(await claimed)) return Boolean(plan) || isStatusReply(tasks, replyTo);
    if (plan) {
      if (!this.#mayDecide(plan, from.id)) {
        await reply('⛔ Only the person who asked for this task (or an admin) can change its plan.');
        return true;
      }
      const outcome = await this.deps.approvals.revise(plan.id, `tg:${from.id}`, text);
      await reply(
        outcome.ok ? '✏️ Planning again with your change.' : `⚠️ ${escapeHtml(capitalize(outcome.message))}.`,
      );
      return true;
    }
    const running = tasks.find(
      (t) => (t.origin as TelegramOrigin).statusMessageId === replyTo && t.requester === `tg:${from.id}`,
    );
    if (!running) return false;
    const outcome = await this.deps.approvals.steer(running.id, `tg:${from.id}`, text);
    if (!outcome.ok) await reply(`⚠️ ${escapeHtml(capitalize(outcome.message))}.`);
    return true;
  }

  /**
   * A plain message while one of the sender's tasks runs in this chat: ask whether it is for that
   * task or a new one. Returns whether the question was asked.
   */
  async offerSteer(message: Message, text: string, claimed: Promise<boolean>): Promise<boolean> {
    const from = message.from;
    if (!from || text.trim() === '') return false;
    const tasks = await this.deps.store.listTasks({
      chatId: message.chat.id,
      requester: `tg:${from.id}`,
      status: 'running',
      limit: 5,
    });
    const running = tasks.find((t) => STEERABLE.has(t.kind));
    if (!running) return false;
    if (!(await claimed)) return true;
    await this.deps.outbox.send(message.chat.id, {
      html: `A task of yours is running: <i>${escapeHtml(truncateText(running.prompt, 200))}</i>\nIs this message for it, or a new task?`,
      replyTo: message.message_id,
      ...(message.is_topic_message && message.message_thread_id !== undefined
        ? { threadId: message.message_thread_id }
        : {}),
      buttons: [
        [
          { text: '➕ Add to the running task', callbackData: `st:a:0:${running.id}` },
          { text: '🆕 Start a new task', callbackData: `st:n:0:${running.id}` },
        ],
      ],
    });
    return true;
  }

  /** Allow once / Allow for this task / Deny on a command the running task waits on. */
  async #commandChoice(query: CallbackQuery, toast: (text: string) => Promise<void>): Promise<void> {
    const match = COMMAND_CALLBACK.exec(query.data ?? '');
    const chatId = query.message?.chat.id;
    if (!match || chatId === undefined) return toast('This button is not valid.');
    if (!isAllowedUser(query.from.id, this.deps.allowed))
      return toast('You are not allowed to use this bot.');
    const decision = COMMAND_ACTIONS[match[1] as keyof typeof COMMAND_ACTIONS];
    const request = await this.deps.approvals.command(match[2] as string);
    const task = request ? await this.deps.store.getTask(request.taskId) : null;
    const origin = task ? telegramOrigin(task) : null;
    if (!request || !task || !origin || origin.chatId !== chatId)
      return toast('This button belongs to no task of this chat.');
    if (!this.#mayDecide(task, query.from.id))
      return toast('Only the person who asked for this task (or an admin) can decide on it.');
    const outcome = await this.deps.approvals.decideCommand(
      task.id,
      request.id,
      `tg:${query.from.id}`,
      decision,
    );
    return toast(outcome.ok ? COMMAND_TOASTS[decision] : capitalize(outcome.message));
  }

  async #steerChoice(
    query: CallbackQuery,
    task: Task,
    action: string,
    toast: (text: string) => Promise<void>,
  ): Promise<void> {
    const question = query.message as Message;
    const original = question.reply_to_message;
    const text = original ? this.deps.textOf(original) : '';
    if (!original || original.from?.id !== query.from.id || text.trim() === '')
      return toast('This question is not about a message of yours.');
    const key = `${question.chat.id}:${question.message_id}`;
    if (this.#answered.has(key)) return toast('Already done.');
    if (action === 'a') {
      const outcome = await this.deps.approvals.steer(task.id, `tg:${query.from.id}`, text);
      if (!outcome.ok) return toast(capitalize(outcome.message));
      this.#answered.add(key);
      await toast('Added to the running task.');
      void this.deps.outbox.edit(question.chat.id, question.message_id, {
        html: '➕ Added to the running task: the crew reads it before its next step.',
      });
      return;
    }
    if (action === 'n') {
      this.#answered.add(key);
      await toast('Starting a new task.');
      void this.deps.outbox.edit(question.chat.id, question.message_id, {
        html: '🆕 Started as a new task.',
      });
      await this.deps.startTask(original, text);
      return;
    }
    return toast('This button is not valid.');
  }

  #mayDecide(task: Task, userId: number): boolean {
    return task.requester === `tg:${userId}` || this.deps.admins.has(userId);
  }

  async #reply(message: Message, html: string): Promise<void> {
    await this.deps.outbox.send(message.chat.id, {
      html,
      replyTo: message.message_id,
      ...(message.is_topic_message && message.message_thread_id !== undefined
        ? { threadId: message.message_thread_id }
        : {}),
    });
  }
}

function isStatusReply(tasks: readonly Task[], replyTo: number): boolean {
  return tasks.some((t) => (t.origin as TelegramOrigin).statusMessageId === replyTo);
}

function describe(task: Task): string {
  switch (task.status) {
    case 'queued':
      return 'is already going on';
    case 'running':
      return 'is already running';
    case 'waiting':
      return 'is waiting';
    case 'succeeded':
      return 'has already finished';
    case 'failed':
      return 'has already failed';
    case 'cancelled':
      return 'was cancelled';
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
