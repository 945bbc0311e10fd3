/**
 * One outbox per chat for everything the bot sends. Pending edits of a message coalesce to the
 * latest text; calls are paced per chat (about 1/s in private chats, 20/min in groups); 429 pauses
 * only that chat for `retry_after` (capped); "message is not modified" counts as success; markup
 * Telegram rejects is resent as plain text. A slow or rate-limited chat never delays another one.
 */
import { type Api, GrammyError, HttpError, InputFile } from 'grammy';
import type { Logger } from '../observability/logger.js';
import type { InlineButton } from './render-progress.js';
import { escapeHtml, htmlToPlain } from './telegram-text.js';
import { WakeableSleeps } from './wakeable-sleeps.js';

export interface OutgoingMessage {
  html: string;
  buttons?: InlineButton[][];
  /** Opens the reply field on the user's side (a question the bot waits an answer to). */
  forceReply?: boolean;
  replyTo?: number;
  threadId?: number;
}

export type OutboxApi = Pick<Api, 'sendMessage' | 'editMessageText' | 'sendDocument'>;

export type CallOutcome = 'ok' | 'not_modified' | 'rate_limited' | 'fallback' | 'retry' | 'dropped';

export interface TelegramOutboxOptions {
  api: OutboxApi;
  logger: Logger;
  /** Minimum time between two calls to one chat. Default: 1000 ms private, 3000 ms groups. */
  intervalMs?: (chatId: number) => number;
  /** Longest single wait on a 429, whatever `retry_after` says. Default 30 s. */
  maxRetryAfterMs?: number;
  /** Attempts for network errors and 5xx before an operation is dropped. Default 5. */
  maxAttempts?: number;
  /** First backoff for network errors and 5xx; doubles per attempt. Default 500 ms. */
  backoffMs?: number;
  onCall?: (method: string, outcome: CallOutcome) => void;
}

interface BaseOp {
  chatId: number;
  attempts: number;
  /** Markup was rejected once: send the visible text without parse_mode. */
  plain: boolean;
  /** Inline buttons were rejected once: put the links in the text instead. */
  noButtons: boolean;
}

interface SendOp extends BaseOp {
  kind: 'send';
  message: OutgoingMessage;
  waiters: ((messageId: number | null) => void)[];
}

interface EditOp extends BaseOp {
  kind: 'edit';
  messageId: number;
  message: OutgoingMessage;
  waiters: ((delivered: boolean) => void)[];
}

interface DocumentOp extends BaseOp {
  kind: 'document';
  fileName: string;
  content: string;
  message: OutgoingMessage;
  waiters: ((messageId: number | null) => void)[];
}

type Op = SendOp | EditOp | DocumentOp;

interface Lane {
  ops: Op[];
  busy: boolean;
  nextAt: number;
}

type Verdict =
  | { action: 'done'; messageId: number | null }
  | { action: 'retry'; delayMs: number; countsAsAttempt: boolean }
  | { action: 'plain' }
  | { action: 'no-buttons' }
  | { action: 'drop'; reason: string };

export class TelegramOutbox {
  readonly #api: OutboxApi;
  readonly #logger: Logger;
  readonly #intervalMs: (chatId: number) => number;
  readonly #maxRetryAfterMs: number;
  readonly #maxAttempts: number;
  readonly #backoffMs: number;
  readonly #onCall: (method: string, outcome: CallOutcome) => void;
  readonly #lanes = new Map<number, Lane>();
  readonly #sleeps = new WakeableSleeps();
  #idleWaiters: (() => void)[] = [];
  #closed = false;
  /** Aborted once close() stops waiting: a call Telegram never answers does not outlive devbot. */
  readonly #abort = new AbortController();

  constructor(options: TelegramOutboxOptions) {
    this.#api = options.api;
    this.#logger = options.logger;
    this.#intervalMs = options.intervalMs ?? ((chatId) => (chatId < 0 ? 3000 : 1000));
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#backoffMs = options.backoffMs ?? 500;
    this.#onCall = options.onCall ?? (() => {});
  }

  /** Sends a new message; resolves with its id, or null if it could not be delivered. */
  send(chatId: number, message: OutgoingMessage): Promise<number | null> {
    return new Promise((resolve) => {
      if (this.#closed) return resolve(null);
      this.#enqueue({ kind: 'send', chatId, message, waiters: [resolve], ...fresh() });
    });
  }

  /**
   * Edits a message. A pending (not yet sent) edit of the same message takes the new text instead,
   * so a burst of progress becomes one call. Resolves true once Telegram shows this text (or newer).
   */
  edit(chatId: number, messageId: number, message: OutgoingMessage): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.#closed) return resolve(false);
      const lane = this.#lane(chatId);
      const pending = lane.ops.find((op): op is EditOp => op.kind === 'edit' && op.messageId === messageId);
      if (pending) {
        pending.message = message;
        pending.waiters.push(resolve);
        return;
      }
      this.#enqueue({ kind: 'edit', chatId, messageId, message, waiters: [resolve], ...fresh() });
    });
  }

  /** Sends text as a file (long output), with an optional caption. */
  sendDocument(
    chatId: number,
    fileName: string,
    content: string,
    caption: OutgoingMessage,
  ): Promise<number | null> {
    return new Promise((resolve) => {
      if (this.#closed) return resolve(null);
      this.#enqueue({
        kind: 'document',
        chatId,
        fileName,
        content,
        message: caption,
        waiters: [resolve],
        ...fresh(),
      });
    });
  }

  /** Operations not yet delivered, over all chats. */
  pending(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.ops.length + (lane.busy ? 1 : 0);
    return n;
  }

  /** Resolves when every queued operation was delivered or dropped. */
  idle(): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Waits up to `flushMs` for pending operations, then drops the rest. Safe to call twice. */
  async close(flushMs = 5000): Promise<void> {
    if (!this.#closed && this.pending() > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.idle(), new Promise((r) => (timer = setTimeout(r, flushMs)))]);
      clearTimeout(timer);
    }
    this.#closed = true;
    this.#abort.abort();
    this.#sleeps.wakeAll();
    for (const lane of this.#lanes.values()) {
      for (const op of lane.ops.splice(0)) settle(op, null);
    }
    this.#checkIdle();
  }

  #lane(chatId: number): Lane {
    let lane = this.#lanes.get(chatId);
    if (!lane) {
      lane = { ops: [], busy: false, nextAt: 0 };
      this.#lanes.set(chatId, lane);
    }
    return lane;
  }

  #enqueue(op: Op): void {
    if (this.#lanes.size > 1000) this.#sweep();
    const lane = this.#lane(op.chatId);
    lane.ops.push(op);
    if (!lane.busy) void this.#drain(op.chatId, lane);
  }

  /** Forgets idle lanes whose pacing window has passed. */
  #sweep(): void {
    const now = Date.now();
    for (const [chatId, lane] of this.#lanes) {
      if (!lane.busy && lane.ops.length === 0 && lane.nextAt <= now) this.#lanes.delete(chatId);
    }
  }

  async #drain(chatId: number, lane: Lane): Promise<void> {
    lane.busy = true;
    try {
      while (lane.ops.length > 0 && !this.#closed) {
        // Wait with the operation still queued, so edits arriving meanwhile coalesce into it.
        const wait = lane.nextAt - Date.now();
        if (wait > 0) {
          await this.#sleeps.sleep(wait);
          continue;
        }
        const op = lane.ops.shift() as Op;
        const verdict = await this.#attempt(op);
        lane.nextAt = Date.now() + this.#intervalMs(chatId);
        this.#apply(lane, op, verdict);
      }
    } finally {
      lane.busy = false;
      // The lane stays (with its nextAt) so the next message to this chat is paced too.
      if (lane.ops.length > 0 && !this.#closed) void this.#drain(chatId, lane);
      this.#checkIdle();
    }
  }

  #apply(lane: Lane, op: Op, verdict: Verdict): void {
    // Closed while the call was under way (and aborted): nothing more goes out.
    if (this.#closed && verdict.action !== 'done') {
      settle(op, null);
      return;
    }
    switch (verdict.action) {
      case 'done':
        settle(op, verdict.messageId);
        return;
      case 'drop':
        this.#logger.warn(
          { chatId: op.chatId, kind: op.kind, reason: verdict.reason },
          'telegram: dropped a message',
        );
        settle(op, null);
        return;
      case 'plain':
        op.plain = true;
        break;
      case 'no-buttons':
        op.noButtons = true;
        break;
      case 'retry':
        if (verdict.countsAsAttempt) op.attempts += 1;
        if (op.attempts >= this.#maxAttempts) {
          this.#logger.warn(
            { chatId: op.chatId, kind: op.kind },
            'telegram: giving up after repeated errors',
          );
          settle(op, null);
          return;
        }
        lane.nextAt = Date.now() + verdict.delayMs;
        break;
    }
    // Retry at the head of the lane, unless a newer edit of the same message is already queued:
    // then that one carries the waiters (its text is the newer one).
    if (op.kind === 'edit') {
      const newer = lane.ops.find((o): o is EditOp => o.kind === 'edit' && o.messageId === op.messageId);
      if (newer) {
        newer.waiters.unshift(...op.waiters);
        newer.plain ||= op.plain;
        newer.noButtons ||= op.noButtons;
        return;
      }
    }
    lane.ops.unshift(op);
  }

  async #attempt(op: Op): Promise<Verdict> {
    const method =
      op.kind === 'send' ? 'sendMessage' : op.kind === 'edit' ? 'editMessageText' : 'sendDocument';
    const { text, other } = payload(op);
    // grammY types its signals with the abort-controller shim; a native AbortSignal works the same.
    const signal = this.#abort.signal as Parameters<OutboxApi['sendMessage']>[3];
    try {
      let messageId: number | null = null;
      if (op.kind === 'send') {
        messageId = (await this.#api.sendMessage(op.chatId, text, other, signal)).message_id;
      } else if (op.kind === 'edit') {
        await this.#api.editMessageText(op.chatId, op.messageId, text, other, signal);
        messageId = op.messageId;
      } else {
        const file = new InputFile(Buffer.from(op.content, 'utf8'), op.fileName);
        messageId = (await this.#api.sendDocument(op.chatId, file, { ...other, caption: text }, signal))
          .message_id;
      }
      this.#onCall(method, 'ok');
      return { action: 'done', messageId };
    } catch (err) {
      const verdict = this.#classify(op, err);
      this.#onCall(method, outcomeOf(verdict, err));
      return verdict;
    }
  }

  #classify(op: Op, err: unknown): Verdict {
    if (err instanceof GrammyError) {
      const description = err.description;
      if (err.error_code === 400 && /message is not modified/i.test(description))
        return { action: 'done', messageId: op.kind === 'edit' ? op.messageId : null };
      if (err.error_code === 429) {
        const seconds = err.parameters.retry_after ?? 1;
        return {
          action: 'retry',
          delayMs: Math.min(seconds * 1000, this.#maxRetryAfterMs),
          countsAsAttempt: false,
        };
      }
      if (
        err.error_code === 400 &&
        /can't parse entities|unsupported start tag|can't find end tag/i.test(description) &&
        !op.plain
      )
        return { action: 'plain' };
      if (err.error_code === 400 && /button|url/i.test(description) && hasButtons(op) && !op.noButtons)
        return { action: 'no-buttons' };
      if (err.error_code >= 500)
        return { action: 'retry', delayMs: this.#backoff(op), countsAsAttempt: true };
      return { action: 'drop', reason: `${err.error_code} ${description}` };
    }
    if (err instanceof HttpError)
      return { action: 'retry', delayMs: this.#backoff(op), countsAsAttempt: true };
    return { action: 'drop', reason: err instanceof Error ? err.message : String(err) };
  }

  #backoff(op: Op): number {
    return this.#backoffMs * 2 ** op.attempts;
  }

  #checkIdle(): void {
    if (this.pending() > 0 || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}

function fresh(): Omit<BaseOp, 'chatId'> {
  return { attempts: 0, plain: false, noButtons: false };
}

function hasButtons(op: Op): boolean {
  return (op.message.buttons?.length ?? 0) > 0;
}

function settle(op: Op, messageId: number | null): void {
  if (op.kind === 'edit') for (const w of op.waiters) w(messageId !== null);
  else for (const w of op.waiters) w(messageId);
}

function outcomeOf(verdict: Verdict, err: unknown): CallOutcome {
  if (verdict.action === 'done') return 'not_modified';
  if (verdict.action === 'plain' || verdict.action === 'no-buttons') return 'fallback';
  if (verdict.action === 'drop') return 'dropped';
  return err instanceof GrammyError && err.error_code === 429 ? 'rate_limited' : 'retry';
}

/** The Bot API parameters for an operation, after any fallbacks it has gone through. */
function payload(op: Op): { text: string; other: Record<string, unknown> } {
  const m = op.message;
  let html = m.html;
  const other: Record<string, unknown> = {};
  const buttons = m.buttons ?? [];
  if (buttons.length > 0 && op.noButtons) {
    // Links go in the text; a callback button cannot work without its keyboard.
    html += `\n${buttons
      .flat()
      .flatMap((b) => ('url' in b ? [`${escapeHtml(b.text)}: ${escapeHtml(b.url)}`] : []))
      .join('\n')}`;
  } else if (buttons.length > 0) {
    other.reply_markup = {
      inline_keyboard: buttons.map((row) =>
        row.map((b) =>
          'url' in b ? { text: b.text, url: b.url } : { text: b.text, callback_data: b.callbackData },
        ),
      ),
    };
  } else if (m.forceReply && op.kind === 'send') {
    other.reply_markup = { force_reply: true, selective: true };
  }
  if (op.plain) {
    html = htmlToPlain(html);
  } else {
    other.parse_mode = 'HTML';
  }
  if (op.kind !== 'edit') {
    if (m.replyTo !== undefined)
      other.reply_parameters = { message_id: m.replyTo, allow_sending_without_reply: true };
    if (m.threadId !== undefined) other.message_thread_id = m.threadId;
  }
  if (op.kind === 'send' || op.kind === 'edit') other.link_preview_options = { is_disabled: true };
  return { text: html, other };
}
