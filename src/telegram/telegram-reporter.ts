/**
 * Renders telegram tasks in their chat: one status message edited in place (through the outbox,
 * never awaited, so the worker is not slowed), then a new result message with PR/preview buttons
 * and the full output as a document when it is long. State is rebuilt from the store after a
 * restart; the status and result message ids live in the task's origin.
 */
import {
  applyEvent,
  chatOf,
  isTerminalEvent,
  mergeFinalTask,
  newProgress,
  type Task,
  type TaskEvent,
  type TaskProgress,
  type TaskReporter,
  type TaskStore,
  type TelegramOrigin,
} from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import { renderCommandAsk, renderPlan, renderResult, renderStatus } from './render-progress.js';
import type { OutgoingMessage, TelegramOutbox } from './telegram-outbox.js';
import { escapeHtml } from './telegram-text.js';

export interface TelegramReporterOptions {
  outbox: TelegramOutbox;
  store: Pick<TaskStore, 'getTask' | 'listEvents' | 'patchTask'>;
  logger: Logger;
  /** Re-render running tasks this often so the elapsed time moves during quiet phases. Default 10 s. */
  tickMs?: number;
  /** The task's page (its share link), for the result message's "Open task" button. */
  taskUrl?: ((taskId: string) => Promise<string>) | undefined;
}

interface Tracked {
  progress: TaskProgress;
  chatId: number;
  origin: TelegramOrigin;
  /** Resolves with the status message id once known (sent by the bot, or by us). */
  statusMessage: Promise<number | null>;
  lastRenderAt: number;
  /** The plan round whose message no longer offers buttons (decided, or the task ended). */
  closedRound: number;
  /** Command approval requests still open, by id: their message (once sent) and what they ask. */
  commandAsks: Map<string, { message: Promise<number | null>; ask: TaskProgress['commandAsks'][number] }>;
}

const COMMAND_OUTCOME = {
  allowed_once: (by: string) => `✅ Allowed once by ${by}.`,
  allowed_task: (by: string) => `♾️ Allowed for the rest of this task by ${by}.`,
  denied: (by: string) => `🚫 Denied by ${by}: the crew goes on without it.`,
  expired: () => '⌛ No answer in time: not run (counted as Deny).',
} as const;

/** How many finished task ids to remember, so a repeated end event sends nothing twice. */
const FINISHED_MEMORY = 2000;

export class TelegramReporter implements TaskReporter {
  readonly name = 'telegram';
  readonly #tasks = new Map<string, Tracked>();
  readonly #chains = new Map<string, Promise<void>>();
  readonly #finished = new Set<string>();
  readonly #deliveries = new Set<Promise<void>>();
  readonly #log: Logger;
  #ticker: NodeJS.Timeout | null = null;

  constructor(private readonly options: TelegramReporterOptions) {
    this.#log = options.logger.child({ component: 'telegram-reporter' });
  }

  accepts(task: Task): boolean {
    return chatOf(task) !== null;
  }

  /** Events of one task are handled in order; different tasks do not wait for each other. */
  onEvent(task: Task, event: TaskEvent): Promise<void> {
    const previous = this.#chains.get(task.id) ?? Promise.resolve();
    const next = previous
      .then(() => this.#handle(task, event))
      .finally(() => {
        if (this.#chains.get(task.id) === next) this.#chains.delete(task.id);
      });
    this.#chains.set(
      task.id,
      next.catch(() => {}),
    );
    return next;
  }

  /** Waits for queued deliveries (final messages) to be handed to the outbox and settled. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#chains.values()]);
    await Promise.allSettled([...this.#deliveries]);
  }

  stop(): void {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = null;
  }

  async #handle(task: Task, event: TaskEvent): Promise<void> {
    if (this.#finished.has(task.id)) return;
    const tracked = this.#tasks.get(task.id) ?? (await this.#track(task, event));
    if (!applyEvent(tracked.progress, event)) return;
    if (event.type === 'command.approval_requested') this.#sendCommandAsk(tracked, event.data);
    else if (event.type === 'command.approval_decided')
      this.#closeCommandAsk(tracked, event.data.id, COMMAND_OUTCOME[event.data.decision](event.data.by));
    if (isTerminalEvent(event) || event.type === 'task.started')
      for (const id of [...tracked.commandAsks.keys()])
        this.#closeCommandAsk(tracked, id, isTerminalEvent(event) ? 'The task ended.' : 'The attempt ended.');
    if (event.type === 'task.waiting') await this.#sendPlan(task, tracked);
    else if (event.type === 'task.started' || isTerminalEvent(event)) this.#closePlan(task, tracked);
    if (isTerminalEvent(event)) {
      this.#tasks.delete(task.id);
      this.#remember(task.id);
      await this.#finish(tracked, task);
      return;
    }
    this.#render(task.id, tracked);
  }

  /** A plan waits for approval: a new message (so the requester is notified) with the buttons. */
  async #sendPlan(task: Task, tracked: Tracked): Promise<void> {
    const id = await this.options.outbox.send(tracked.chatId, {
      ...renderPlan(tracked.progress),
      ...this.#replyTo(tracked),
    });
    if (id === null) {
      this.#log.warn({ taskId: task.id }, 'telegram: the plan message was not delivered');
      return;
    }
    tracked.origin.planMessageId = id;
    // Read the stored origin first: the bot may have written to it (the Revise prompt's id).
    const stored = await this.options.store.getTask(task.id).catch(() => null);
    await this.options.store
      .patchTask(task.id, { origin: { ...(stored?.origin ?? {}), ...tracked.origin, planMessageId: id } })
      .catch((err) =>
        this.#log.warn({ err, taskId: task.id }, 'telegram: could not store the plan message id'),
      );
  }

  /** A risky command waits: a new message (so the requester is notified) with three buttons. */
  #sendCommandAsk(tracked: Tracked, ask: TaskProgress['commandAsks'][number]): void {
    const message = this.options.outbox.send(tracked.chatId, {
      ...renderCommandAsk(tracked.progress, ask),
      ...this.#replyTo(tracked),
    });
    tracked.commandAsks.set(ask.id, { message, ask });
  }

  /** The command was decided on (from any front door), or the task ended: its buttons go. */
  #closeCommandAsk(tracked: Tracked, id: string, outcome: string): void {
    const open = tracked.commandAsks.get(id);
    if (!open) return;
    tracked.commandAsks.delete(id);
    void open.message.then((messageId) => {
      if (messageId !== null)
        void this.options.outbox.edit(
          tracked.chatId,
          messageId,
          renderCommandAsk(tracked.progress, open.ask, outcome),
        );
    });
  }

  /** The plan was decided on (from any front door) or the task ended: its buttons go. */
  #closePlan(task: Task, tracked: Tracked): void {
    const p = tracked.progress;
    const id = tracked.origin.planMessageId;
    if (id === undefined || p.plan === null || tracked.closedRound === p.planRound) return;
    tracked.closedRound = p.planRound;
    const outcome =
      p.status === 'cancelled'
        ? '🚫 Cancelled.'
        : p.status === 'failed' || p.status === 'succeeded'
          ? 'The task ended.'
          : task.input.approvedPlan
            ? '✅ Approved: working on it.'
            : '✏️ Revising the plan.';
    void this.options.outbox.edit(tracked.chatId, id, renderPlan(p, outcome));
  }

  /** First event of a task in this process: fold in what happened before (after a restart, too). */
  async #track(task: Task, event: TaskEvent): Promise<Tracked> {
    const progress = newProgress(task);
    const earlier = await this.options.store.listEvents(task.id).catch(() => []);
    for (const e of earlier) if (e.seq < event.seq) applyEvent(progress, e);
    const origin = chatOf(task) as TelegramOrigin;
    const known = origin.statusMessageId ?? null;
    const tracked: Tracked = {
      progress,
      chatId: origin.chatId,
      origin: { ...origin },
      statusMessage: Promise.resolve(known),
      lastRenderAt: 0,
      closedRound: 0,
      commandAsks: new Map(),
    };
    if (known === null) tracked.statusMessage = this.#sendStatusMessage(task.id, tracked);
    this.#tasks.set(task.id, tracked);
    this.#startTicker();
    return tracked;
  }

  /** No acknowledgement was delivered: send the status message now and store its id with the task. */
  /** Adds to the stored origin (a GitHub reporter may write its own keys there too). */
  async #patchOrigin(taskId: string, add: Partial<TelegramOrigin>): Promise<void> {
    const current = await this.options.store.getTask(taskId);
    await this.options.store.patchTask(taskId, { origin: { ...(current?.origin ?? {}), ...add } });
  }

  async #sendStatusMessage(taskId: string, tracked: Tracked): Promise<number | null> {
    const id = await this.options.outbox.send(tracked.chatId, {
      ...renderStatus(tracked.progress),
      ...this.#replyTo(tracked),
    });
    if (id !== null) {
      tracked.origin.statusMessageId = id;
      await this.#patchOrigin(taskId, { statusMessageId: id }).catch((err) =>
        this.#log.warn({ err, taskId }, 'telegram: could not store the status message id'),
      );
    }
    return id;
  }

  #render(taskId: string, tracked: Tracked): void {
    tracked.lastRenderAt = Date.now();
    void tracked.statusMessage.then((id) => {
      // Render when the edit is queued, not earlier: the elapsed time is then current.
      if (id !== null && this.#tasks.get(taskId) === tracked)
        void this.options.outbox.edit(tracked.chatId, id, renderStatus(tracked.progress));
    });
  }

  async #finish(tracked: Tracked, task: Task): Promise<void> {
    const stored = (await this.options.store.getTask(task.id).catch(() => null)) ?? task;
    mergeFinalTask(tracked.progress, stored);
    const origin: TelegramOrigin = { ...stored.origin, ...tracked.origin };
    if (origin.resultMessageId !== undefined) return; // already reported (before a restart)
    const delivery = (async () => {
      const statusId = await tracked.statusMessage;
      if (statusId !== null)
        void this.options.outbox.edit(tracked.chatId, statusId, renderStatus(tracked.progress));
      const taskUrl = await this.options.taskUrl?.(task.id).catch((err: unknown) => {
        this.#log.warn({ err, taskId: task.id }, 'no share link for the result message');
        return undefined;
      });
      const result = renderResult(tracked.progress, taskUrl);
      const message: OutgoingMessage = { html: result.html, ...this.#replyTo(tracked) };
      if (result.buttons) message.buttons = result.buttons;
      const resultId = await this.options.outbox.send(tracked.chatId, message);
      if (result.document) {
        await this.options.outbox.sendDocument(
          tracked.chatId,
          result.document.fileName,
          result.document.content,
          {
            html: `📄 Full output of <code>${escapeHtml(task.id)}</code>`,
            ...(resultId === null ? {} : { replyTo: resultId }),
          },
        );
      }
      if (resultId !== null) {
        await this.#patchOrigin(task.id, { resultMessageId: resultId }).catch((err) =>
          this.#log.warn({ err, taskId: task.id }, 'telegram: could not store the result message id'),
        );
      } else {
        this.#log.warn(
          { taskId: task.id, chatId: tracked.chatId },
          'telegram: the result message was not delivered',
        );
      }
    })().catch((err) => this.#log.error({ err, taskId: task.id }, 'telegram: reporting the end failed'));
    this.#deliveries.add(delivery);
    void delivery.finally(() => this.#deliveries.delete(delivery));
    if (this.#tasks.size === 0) this.stop();
  }

  #replyTo(tracked: Tracked): Pick<OutgoingMessage, 'replyTo' | 'threadId'> {
    const out: Pick<OutgoingMessage, 'replyTo' | 'threadId'> = {};
    if (tracked.origin.messageId !== undefined) out.replyTo = tracked.origin.messageId;
    if (tracked.origin.threadId !== undefined) out.threadId = tracked.origin.threadId;
    return out;
  }

  #remember(taskId: string): void {
    this.#finished.add(taskId);
    if (this.#finished.size > FINISHED_MEMORY) {
      const oldest = this.#finished.values().next().value;
      if (oldest !== undefined) this.#finished.delete(oldest);
    }
  }

  #startTicker(): void {
    if (this.#ticker) return;
    const tickMs = this.options.tickMs ?? 10_000;
    this.#ticker = setInterval(() => {
      const now = Date.now();
      for (const [taskId, tracked] of this.#tasks) {
        if (tracked.progress.status === 'running' && now - tracked.lastRenderAt >= tickMs)
          this.#render(taskId, tracked);
      }
    }, tickMs);
    this.#ticker.unref();
  }
}
