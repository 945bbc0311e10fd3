/**
 * A fake Telegram Bot API server for tests: `/bot<token>/<method>` over node:http on 127.0.0.1.
 * It behaves like Telegram where devbot depends on it — long polling with offset and timeout (409 for
 * a second poller), webhook delivery with the secret header, 429 with `retry_after` past a per-chat
 * rate, "message is not modified", the 4096 UTF-16 limit after entity parsing, "can't parse
 * entities" for bad HTML — and gives tests a user's side: send messages, read what the bot sent.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EntityParseError, type MessageEntity, parseTelegramHtml } from './parse-telegram-html.js';

export interface FakeUser {
  id: number;
  is_bot?: boolean;
  first_name: string;
  username?: string;
}

export interface FakeChat {
  id: number;
  type: 'private' | 'group' | 'supergroup';
  title?: string;
  first_name?: string;
  username?: string;
}

/** Everything the fake stores about a message (the bot's or a user's). */
export interface StoredMessage {
  chatId: number;
  messageId: number;
  fromBot: boolean;
  from: FakeUser;
  /** Plain text after entity parsing (or the document caption). */
  text: string;
  /** The raw text as the bot sent it, before parsing. */
  rawText: string;
  parseMode: string | undefined;
  entities: MessageEntity[];
  replyMarkup: unknown;
  document?: { fileName: string; content: string; mimeType: string | undefined };
  /** Every text the message has had, oldest first. */
  history: string[];
  edits: number;
  deleted: boolean;
  threadId: number | undefined;
  replyToMessageId: number | undefined;
  sentAt: number;
  editedAt: number | undefined;
}

export interface ApiCall {
  method: string;
  chatId: number | undefined;
  at: number;
  ok: boolean;
  errorCode?: number;
  description?: string;
  payload: Record<string, unknown>;
}

export interface RateLimit {
  /** Calls allowed per window per chat (sendMessage, editMessageText, sendDocument, deleteMessage). */
  max: number;
  windowMs: number;
  /** Seconds to announce in `retry_after`; by default the time until the window frees a slot. */
  retryAfter?: number;
}

export interface InjectedFailure {
  method?: string;
  chatId?: number;
  /** How many matching calls fail; default 1. */
  times?: number;
  error_code: number;
  description: string;
  retry_after?: number;
}

export interface SendUserMessageOptions {
  text: string;
  /** A user id or user; defaults to user 1001 "alice". */
  from?: number | FakeUser;
  /** 'private' (default: the user's private chat), 'group' (chat -100), or a chat. */
  chat?: 'private' | 'group' | FakeChat;
  /** Prefix the text with `@<bot username> ` and a mention entity. */
  mention?: boolean;
  /** Reply to this message id in the same chat. */
  replyTo?: number;
  threadId?: number;
}

export interface FakeTelegramOptions {
  token?: string;
  botUsername?: string;
  /** Delay before re-delivering an update the webhook did not accept. */
  webhookRetryMs?: number;
}

type Update = Record<string, unknown> & { update_id: number };

const SENDING_METHODS = new Set(['sendMessage', 'editMessageText', 'sendDocument', 'deleteMessage']);
const MAX_TEXT = 4096;
const MAX_CAPTION = 1024;

class ApiFailure extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly parameters?: Record<string, unknown>,
  ) {
    super(description);
  }
}

const badRequest = (what: string) => new ApiFailure(400, `Bad Request: ${what}`);

interface Poller {
  res: ServerResponse;
  offset: number;
  limit: number;
  timer: NodeJS.Timeout;
  allowed: string[] | undefined;
}

export class FakeTelegramServer {
  readonly token: string;
  readonly bot: FakeUser;
  readonly calls: ApiCall[] = [];
  readonly webhookDeliveries: { updateId: number; status: number; secretHeader: string | undefined }[] = [];
  commands: unknown[] = [];
  webhook: { url: string; secretToken: string | undefined; allowedUpdates: string[] | undefined } | null =
    null;

  readonly #server: Server;
  readonly #events = new EventEmitter();
  readonly #messages = new Map<number, StoredMessage[]>();
  readonly #chats = new Map<number, FakeChat>();
  readonly #nextMessageId = new Map<number, number>();
  readonly #rateHits = new Map<number, number[]>();
  readonly #rateLimits = new Map<number | 'private' | 'group', RateLimit>();
  readonly #failures: (InjectedFailure & { left: number })[] = [];
  readonly #webhookRetryMs: number;
  #pending: Update[] = [];
  #nextUpdateId = 100_000;
  #callbackCounter = 0;
  readonly #openCallbacks = new Map<string, boolean>();
  #poller: Poller | null = null;
  #delivering = false;
  #closed = false;
  #baseUrl = '';

  constructor(options: FakeTelegramOptions = {}) {
    this.token = options.token ?? '424242:FAKE-token_for-tests';
    const botId = Number(this.token.split(':')[0]);
    this.bot = {
      id: botId,
      is_bot: true,
      first_name: 'devbot',
      username: options.botUsername ?? 'devbot_test_bot',
    };
    this.#webhookRetryMs = options.webhookRetryMs ?? 100;
    this.#events.setMaxListeners(0);
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(err));
      });
    });
    this.#server.keepAliveTimeout = 1000;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.#baseUrl = `http://127.0.0.1:${port}`;
    return this;
  }

  /** The API root to give the bot (no trailing slash). */
  get apiRoot(): string {
    return this.#baseUrl;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#poller) this.#answerPoller([]);
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ---------------------------------------------------------------- the user's side

  /** A user writes to the bot; returns the update (queued for polling or the webhook). */
  sendUserMessage(options: SendUserMessageOptions): Update {
    const from = this.#user(options.from);
    const chat = this.#chat(options.chat ?? 'private', from);
    let text = options.text;
    const entities: MessageEntity[] = [];
    if (options.mention) {
      const mention = `@${this.bot.username}`;
      text = `${mention} ${text}`;
      entities.push({ type: 'mention', offset: 0, length: mention.length });
    }
    const command = /^\/[a-zA-Z0-9_]+(@[a-zA-Z0-9_]+)?/.exec(text);
    if (command) entities.push({ type: 'bot_command', offset: 0, length: command[0].length });
    const stored = this.#store({
      chatId: chat.id,
      fromBot: false,
      from,
      text,
      rawText: text,
      parseMode: undefined,
      entities,
      replyMarkup: undefined,
      threadId: options.threadId,
      replyToMessageId: options.replyTo,
    });
    const message: Record<string, unknown> = {
      message_id: stored.messageId,
      date: Math.floor(stored.sentAt / 1000),
      chat,
      from,
      text,
    };
    if (entities.length > 0) message.entities = entities;
    if (options.threadId !== undefined) message.message_thread_id = options.threadId;
    if (options.replyTo !== undefined) {
      const original = this.#find(chat.id, options.replyTo);
      if (original) message.reply_to_message = this.#toApiMessage(original);
    }
    return this.pushUpdate({ message });
  }

  /**
   * A user presses an inline button of a bot message: queues the callback query Telegram would send
   * (the message as it is now, with the message it replies to). `data` may be forged.
   */
  pressButton(options: { from: number; chatId: number; messageId: number; data: string }): Update {
    const message = this.#find(options.chatId, options.messageId);
    if (!message) throw new Error(`no message ${options.messageId} in chat ${options.chatId}`);
    const api = this.#toApiMessage(message);
    if (message.replyToMessageId !== undefined) {
      const original = this.#find(options.chatId, message.replyToMessageId);
      if (original) api.reply_to_message = this.#toApiMessage(original);
    }
    const id = String(++this.#callbackCounter);
    this.#openCallbacks.set(id, true);
    return this.pushUpdate({
      callback_query: {
        id,
        from: this.#user(options.from),
        message: api,
        chat_instance: `ci${options.chatId}`,
        data: options.data,
      },
    });
  }

  /** The toast shown for a callback query (its answerCallbackQuery text), once answered. */
  callbackAnswer(update: Update): string | undefined {
    const id = (update as { callback_query?: { id: string } }).callback_query?.id;
    const call = this.callsOf('answerCallbackQuery').find(
      (c) => c.ok && String(c.payload.callback_query_id) === id,
    );
    return call ? String(call.payload.text ?? '') : undefined;
  }

  /** Queues a raw update; without update_id one is assigned. A known update_id is a re-delivery. */
  pushUpdate(update: Record<string, unknown>): Update {
    const full = { update_id: this.#nextUpdateId++, ...update } as Update;
    this.#pending.push(full);
    this.#wake();
    this.#events.emit('change');
    return full;
  }

  /** Messages the bot sent to a chat (including deleted ones, flagged), oldest first. */
  botMessages(chatId: number): StoredMessage[] {
    return (this.#messages.get(chatId) ?? []).filter((m) => m.fromBot);
  }

  allBotMessages(): StoredMessage[] {
    return [...this.#messages.values()].flat().filter((m) => m.fromBot);
  }

  callsOf(method: string, chatId?: number): ApiCall[] {
    return this.calls.filter((c) => c.method === method && (chatId === undefined || c.chatId === chatId));
  }

  /** Resolves with the first bot message (present or future) matching the predicate. */
  waitForMessage(
    predicate: (message: StoredMessage) => boolean,
    options: { timeoutMs?: number; chatId?: number } = {},
  ): Promise<StoredMessage> {
    const pick = () =>
      (options.chatId === undefined ? this.allBotMessages() : this.botMessages(options.chatId)).find(
        (m) => !m.deleted && predicate(m),
      );
    return this.#waitUntil(pick, options.timeoutMs ?? 10_000, 'a bot message matching the predicate');
  }

  /** Resolves when the predicate over the fake's state holds (checked after every change). */
  waitFor<T>(check: () => T | undefined | false, timeoutMs = 10_000, what = 'the condition'): Promise<T> {
    return this.#waitUntil(() => check() || undefined, timeoutMs, what);
  }

  /** Calls `listener` for every API call as it is answered (cheap hook for benchmarks). */
  onCall(listener: (call: ApiCall) => void): () => void {
    this.#events.on('call', listener);
    return () => this.#events.off('call', listener);
  }

  /** Rate limit for one chat id, or for every private chat / group chat. null removes it. */
  setRateLimit(target: number | 'private' | 'group', limit: RateLimit | null): void {
    if (limit) this.#rateLimits.set(target, limit);
    else this.#rateLimits.delete(target);
  }

  /** The next matching call(s) fail with this error. */
  failNext(failure: InjectedFailure): void {
    this.#failures.push({ ...failure, left: failure.times ?? 1 });
  }

  /** Updates not yet confirmed (polling) or accepted (webhook). */
  pendingUpdates(): readonly Update[] {
    return this.#pending;
  }

  // ---------------------------------------------------------------- HTTP

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) return this.#reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    const [, token, method] = match as unknown as [string, string, string];
    if (token !== this.token)
      return this.#reply(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    let params: Record<string, unknown>;
    try {
      params = await readParams(req, url);
    } catch {
      return this.#reply(res, 400, { ok: false, error_code: 400, description: 'Bad Request: invalid body' });
    }
    if (method === 'getUpdates') return this.#getUpdates(res, params);
    const chatId = params.chat_id === undefined ? undefined : Number(params.chat_id);
    const call: ApiCall = { method, chatId, at: Date.now(), ok: true, payload: params };
    this.calls.push(call);
    try {
      this.#injectedFailure(method, chatId);
      if (SENDING_METHODS.has(method) && chatId !== undefined) this.#checkRate(chatId);
      const result = this.#call(method, params, chatId);
      this.#reply(res, 200, { ok: true, result });
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      call.ok = false;
      call.errorCode = err.errorCode;
      call.description = err.description;
      const body: Record<string, unknown> = {
        ok: false,
        error_code: err.errorCode,
        description: err.description,
      };
      if (err.parameters) body.parameters = err.parameters;
      this.#reply(res, err.errorCode, body);
    }
    this.#events.emit('call', call);
    this.#events.emit('change');
  }

  #reply(res: ServerResponse, status: number, body: unknown): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  #call(method: string, p: Record<string, unknown>, chatId: number | undefined): unknown {
    switch (method) {
      case 'getMe':
        return {
          ...this.bot,
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
        };
      case 'setMyCommands':
        this.commands = asArray(p.commands);
        return true;
      case 'getMyCommands':
        return this.commands;
      case 'setWebhook':
        return this.#setWebhook(p);
      case 'deleteWebhook':
        this.webhook = null;
        if (truthy(p.drop_pending_updates)) this.#pending = [];
        return true;
      case 'getWebhookInfo':
        return {
          url: this.webhook?.url ?? '',
          has_custom_certificate: false,
          pending_update_count: this.#pending.length,
        };
      case 'sendMessage':
        return this.#sendMessage(p, this.#requireChat(chatId));
      case 'editMessageText':
        return this.#editMessageText(p, this.#requireChat(chatId));
      case 'deleteMessage': {
        const message = this.#find(this.#requireChat(chatId), Number(p.message_id));
        if (!message || message.deleted) throw badRequest('message to delete not found');
        message.deleted = true;
        return true;
      }
      case 'sendDocument':
        return this.#sendDocument(p, this.#requireChat(chatId));
      case 'sendChatAction':
        this.#requireChat(chatId);
        return true;
      case 'answerCallbackQuery': {
        // Like Telegram: each query is answered once, and only a query that was sent.
        const id = String(p.callback_query_id ?? '');
        if (this.#openCallbacks.get(id) !== true)
          throw badRequest('query is too old and response timeout expired or query ID is invalid');
        this.#openCallbacks.set(id, false);
        return true;
      }
      default:
        throw new ApiFailure(404, 'Not Found: method not found');
    }
  }

  #setWebhook(p: Record<string, unknown>): true {
    const url = String(p.url ?? '');
    if (url === '') {
      this.webhook = null;
      return true;
    }
    if (!/^https?:\/\//.test(url)) throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
    const secret = p.secret_token === undefined ? undefined : String(p.secret_token);
    if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secret))
      throw badRequest('bad webhook: secret token contains unallowed characters');
    this.webhook = {
      url,
      secretToken: secret,
      allowedUpdates: p.allowed_updates === undefined ? undefined : (asArray(p.allowed_updates) as string[]),
    };
    if (truthy(p.drop_pending_updates)) this.#pending = [];
    if (this.#poller) this.#answerPoller([]);
    this.#wake();
    return true;
  }

  #sendMessage(p: Record<string, unknown>, chatId: number): unknown {
    const parsed = parseText(String(p.text ?? ''), p.parse_mode, MAX_TEXT, 'message is too long');
    validateMarkup(p.reply_markup);
    const replyTo = replyToId(p);
    const stored = this.#store({
      chatId,
      fromBot: true,
      from: this.bot,
      text: parsed.text,
      rawText: String(p.text),
      parseMode: p.parse_mode === undefined ? undefined : String(p.parse_mode),
      entities: parsed.entities,
      replyMarkup: parseJson(p.reply_markup),
      threadId: p.message_thread_id === undefined ? undefined : Number(p.message_thread_id),
      replyToMessageId: replyTo,
    });
    return this.#toApiMessage(stored);
  }

  #editMessageText(p: Record<string, unknown>, chatId: number): unknown {
    const message = this.#find(chatId, Number(p.message_id));
    if (!message || message.deleted || message.document) throw badRequest('message to edit not found');
    if (!message.fromBot) throw badRequest("message can't be edited");
    const parsed = parseText(String(p.text ?? ''), p.parse_mode, MAX_TEXT, 'MESSAGE_TOO_LONG');
    validateMarkup(p.reply_markup);
    const markup = parseJson(p.reply_markup);
    if (
      parsed.text === message.text &&
      JSON.stringify(parsed.entities) === JSON.stringify(message.entities) &&
      JSON.stringify(markup) === JSON.stringify(message.replyMarkup)
    )
      throw badRequest(
        'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      );
    message.text = parsed.text;
    message.rawText = String(p.text);
    message.parseMode = p.parse_mode === undefined ? undefined : String(p.parse_mode);
    message.entities = parsed.entities;
    message.replyMarkup = markup;
    message.history.push(parsed.text);
    message.edits += 1;
    message.editedAt = Date.now();
    return this.#toApiMessage(message);
  }

  #sendDocument(p: Record<string, unknown>, chatId: number): unknown {
    const doc = p.document;
    if (!(doc instanceof UploadedFile)) throw badRequest('there is no document in the request');
    const caption = parseText(
      String(p.caption ?? ''),
      p.parse_mode,
      MAX_CAPTION,
      'message caption is too long',
      true,
    );
    validateMarkup(p.reply_markup);
    const stored = this.#store({
      chatId,
      fromBot: true,
      from: this.bot,
      text: caption.text,
      rawText: String(p.caption ?? ''),
      parseMode: p.parse_mode === undefined ? undefined : String(p.parse_mode),
      entities: caption.entities,
      replyMarkup: parseJson(p.reply_markup),
      threadId: undefined,
      replyToMessageId: replyToId(p),
      document: { fileName: doc.name, content: doc.content, mimeType: doc.type || undefined },
    });
    return this.#toApiMessage(stored);
  }

  // ---------------------------------------------------------------- updates

  #getUpdates(res: ServerResponse, p: Record<string, unknown>): void {
    const call: ApiCall = { method: 'getUpdates', chatId: undefined, at: Date.now(), ok: true, payload: p };
    this.calls.push(call);
    this.#events.emit('change');
    const conflict = (description: string, target: ServerResponse) => {
      call.ok = false;
      call.errorCode = 409;
      this.#reply(target, 409, { ok: false, error_code: 409, description });
    };
    if (this.webhook) {
      conflict(
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        res,
      );
      return;
    }
    if (this.#poller) {
      // Telegram ends the older long poll: that is how two bot instances on one token notice.
      const old = this.#poller;
      this.#poller = null;
      clearTimeout(old.timer);
      this.#reply(old.res, 409, {
        ok: false,
        error_code: 409,
        description:
          'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
      });
    }
    const offset = Number(p.offset ?? 0);
    if (offset > 0) this.#pending = this.#pending.filter((u) => u.update_id >= offset);
    const limit = Math.min(100, Math.max(1, Number(p.limit ?? 100)));
    const allowed = p.allowed_updates === undefined ? undefined : (asArray(p.allowed_updates) as string[]);
    const ready = this.#deliverable(offset, limit, allowed);
    const timeout = Number(p.timeout ?? 0);
    if (ready.length > 0 || timeout <= 0 || this.#closed) {
      this.#reply(res, 200, { ok: true, result: ready });
      return;
    }
    const poller: Poller = {
      res,
      offset,
      limit,
      allowed,
      timer: setTimeout(() => this.#answerPoller([]), timeout * 1000),
    };
    this.#poller = poller;
    res.on('close', () => {
      if (this.#poller === poller) {
        clearTimeout(poller.timer);
        this.#poller = null;
      }
    });
  }

  #deliverable(offset: number, limit: number, allowed: string[] | undefined): Update[] {
    return this.#pending.filter((u) => u.update_id >= offset && isAllowedUpdate(u, allowed)).slice(0, limit);
  }

  #answerPoller(updates: Update[]): void {
    const poller = this.#poller;
    if (!poller) return;
    this.#poller = null;
    clearTimeout(poller.timer);
    this.#reply(poller.res, 200, { ok: true, result: updates });
  }

  #wake(): void {
    if (this.#poller) {
      const ready = this.#deliverable(this.#poller.offset, this.#poller.limit, this.#poller.allowed);
      if (ready.length > 0) this.#answerPoller(ready);
    }
    if (this.webhook && !this.#delivering) void this.#deliverWebhook();
  }

  /** Delivers pending updates one at a time; an update leaves the queue only on a 2xx answer. */
  async #deliverWebhook(): Promise<void> {
    this.#delivering = true;
    try {
      while (this.webhook && !this.#closed) {
        const hook = this.webhook;
        const update = this.#pending.find((u) => isAllowedUpdate(u, hook.allowedUpdates));
        if (!update) break;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (hook.secretToken !== undefined) headers['x-telegram-bot-api-secret-token'] = hook.secretToken;
        let status = 0;
        try {
          const response = await fetch(hook.url, { method: 'POST', headers, body: JSON.stringify(update) });
          status = response.status;
          await response.arrayBuffer();
        } catch {
          status = 0;
        }
        this.webhookDeliveries.push({
          updateId: update.update_id,
          status,
          secretHeader: headers['x-telegram-bot-api-secret-token'],
        });
        this.#events.emit('change');
        if (status >= 200 && status < 300) {
          this.#pending = this.#pending.filter((u) => u !== update);
        } else {
          await new Promise((r) => setTimeout(r, this.#webhookRetryMs));
        }
      }
    } finally {
      this.#delivering = false;
    }
  }

  // ---------------------------------------------------------------- state

  #user(from: SendUserMessageOptions['from']): FakeUser {
    if (typeof from === 'object') return from;
    const id = from ?? 1001;
    return { id, is_bot: false, first_name: `user${id}`, username: `user${id}` };
  }

  #chat(chat: NonNullable<SendUserMessageOptions['chat']>, from: FakeUser): FakeChat {
    const resolved: FakeChat =
      chat === 'private'
        ? { id: from.id, type: 'private', first_name: from.first_name }
        : chat === 'group'
          ? { id: -100, type: 'group', title: 'devbot group' }
          : chat;
    this.#chats.set(resolved.id, resolved);
    return resolved;
  }

  #requireChat(chatId: number | undefined): number {
    if (chatId === undefined || Number.isNaN(chatId)) throw badRequest('chat_id is empty');
    if (!this.#chats.has(chatId)) throw badRequest('chat not found');
    return chatId;
  }

  #find(chatId: number, messageId: number): StoredMessage | undefined {
    return this.#messages.get(chatId)?.find((m) => m.messageId === messageId);
  }

  #store(
    fields: Omit<StoredMessage, 'messageId' | 'history' | 'edits' | 'deleted' | 'sentAt' | 'editedAt'>,
  ): StoredMessage {
    const messageId = this.#nextMessageId.get(fields.chatId) ?? 1;
    this.#nextMessageId.set(fields.chatId, messageId + 1);
    const stored: StoredMessage = {
      ...fields,
      messageId,
      history: [fields.text],
      edits: 0,
      deleted: false,
      sentAt: Date.now(),
      editedAt: undefined,
    };
    const list = this.#messages.get(fields.chatId) ?? [];
    list.push(stored);
    this.#messages.set(fields.chatId, list);
    return stored;
  }

  #toApiMessage(m: StoredMessage): Record<string, unknown> {
    const out: Record<string, unknown> = {
      message_id: m.messageId,
      date: Math.floor(m.sentAt / 1000),
      chat: this.#chats.get(m.chatId),
      from: m.from,
    };
    if (m.document) {
      out.document = {
        file_id: `doc-${m.chatId}-${m.messageId}`,
        file_unique_id: `u${m.messageId}`,
        file_name: m.document.fileName,
        file_size: Buffer.byteLength(m.document.content),
      };
      if (m.text) out.caption = m.text;
    } else {
      out.text = m.text;
    }
    if (m.entities.length > 0) out[m.document ? 'caption_entities' : 'entities'] = m.entities;
    if (m.replyMarkup) out.reply_markup = m.replyMarkup;
    if (m.editedAt) out.edit_date = Math.floor(m.editedAt / 1000);
    return out;
  }

  #injectedFailure(method: string, chatId: number | undefined): void {
    const failure = this.#failures.find(
      (f) =>
        f.left > 0 &&
        (f.method === undefined || f.method === method) &&
        (f.chatId === undefined || f.chatId === chatId),
    );
    if (!failure) return;
    failure.left -= 1;
    throw new ApiFailure(
      failure.error_code,
      failure.description,
      failure.retry_after === undefined ? undefined : { retry_after: failure.retry_after },
    );
  }

  #checkRate(chatId: number): void {
    const chat = this.#chats.get(chatId);
    const limit =
      this.#rateLimits.get(chatId) ?? this.#rateLimits.get(chat?.type === 'private' ? 'private' : 'group');
    if (!limit) return;
    const now = Date.now();
    const hits = (this.#rateHits.get(chatId) ?? []).filter((t) => t > now - limit.windowMs);
    if (hits.length >= limit.max) {
      this.#rateHits.set(chatId, hits);
      const oldest = hits[0] ?? now;
      const retryAfter = limit.retryAfter ?? Math.max(1, Math.ceil((oldest + limit.windowMs - now) / 1000));
      throw new ApiFailure(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
    }
    hits.push(now);
    this.#rateHits.set(chatId, hits);
  }

  #waitUntil<T>(pick: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const found = pick();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const onChange = () => {
        const value = pick();
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake Telegram: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#events.off('change', onChange);
      };
      this.#events.on('change', onChange);
    });
  }
}

// ---------------------------------------------------------------- helpers

class UploadedFile {
  constructor(
    readonly name: string,
    readonly type: string,
    readonly content: string,
  ) {}
}

async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  if (body.length === 0) return params;
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('application/json'))
    return { ...params, ...(JSON.parse(body.toString('utf8')) as object) };
  if (type.startsWith('application/x-www-form-urlencoded'))
    return { ...params, ...Object.fromEntries(new URLSearchParams(body.toString('utf8'))) };
  if (type.startsWith('multipart/form-data')) {
    const boundary = /boundary=("?)([^";]+)\1/.exec(type)?.[2];
    if (!boundary) throw new Error('multipart body without a boundary');
    Object.assign(params, parseMultipart(body, boundary));
    // grammY sends an attached file as `attach://<id>` plus a part named <id>: resolve it.
    for (const [key, value] of Object.entries(params)) {
      if (typeof value === 'string' && value.startsWith('attach://')) params[key] = params[value.slice(9)];
    }
    return params;
  }
  throw new Error(`unsupported content-type ${type}`);
}

/**
 * A small multipart/form-data reader. grammY writes headers tersely
 * (`content-disposition:form-data;name="x";filename=a.txt`), which stricter parsers reject.
 */
function parseMultipart(body: Buffer, boundary: string): Record<string, string | UploadedFile> {
  const out: Record<string, string | UploadedFile> = {};
  const delimiter = Buffer.from(`--${boundary}`);
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const partStart = start + delimiter.length;
    if (body.subarray(partStart, partStart + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, partStart);
    if (next < 0) break;
    const part = body.subarray(partStart + 2, next - 2); // skip CRLF after the delimiter and before the next
    const split = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, split).toString('utf8');
    const content = part.subarray(split + 4);
    const name = /name="([^"]*)"/i.exec(headers)?.[1];
    const filename = /filename="?([^";\r\n]*)"?/i.exec(headers)?.[1];
    const contentType = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? '';
    if (name !== undefined)
      out[name] =
        filename === undefined
          ? content.toString('utf8')
          : new UploadedFile(filename, contentType, content.toString('utf8'));
    start = next;
  }
  return out;
}

function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function asArray(value: unknown): unknown[] {
  const parsed = parseJson(value);
  return Array.isArray(parsed) ? parsed : [];
}

function truthy(value: unknown): boolean {
  return value === true || value === 'true';
}

function replyToId(p: Record<string, unknown>): number | undefined {
  const params = parseJson(p.reply_parameters) as { message_id?: number } | undefined;
  if (params?.message_id !== undefined) return params.message_id;
  return p.reply_to_message_id === undefined ? undefined : Number(p.reply_to_message_id);
}

function parseText(
  raw: string,
  parseMode: unknown,
  max: number,
  tooLong: string,
  allowEmpty = false,
): { text: string; entities: MessageEntity[] } {
  let parsed: { text: string; entities: MessageEntity[] };
  if (parseMode === 'HTML') {
    try {
      parsed = parseTelegramHtml(raw);
    } catch (err) {
      if (err instanceof EntityParseError) throw new ApiFailure(400, err.message);
      throw err;
    }
  } else if (parseMode === undefined || parseMode === '') {
    parsed = { text: raw, entities: [] };
  } else {
    throw badRequest(`unsupported parse_mode ${String(parseMode)} in the fake`);
  }
  if (!allowEmpty && parsed.text.trim() === '') throw badRequest('message text is empty');
  // Telegram counts after entity parsing, in UTF-16 code units: a JS string's length.
  if (parsed.text.length > max) throw badRequest(tooLong);
  return parsed;
}

function validateMarkup(markup: unknown): void {
  const parsed = parseJson(markup) as { inline_keyboard?: { text?: string; url?: string }[][] } | undefined;
  for (const row of parsed?.inline_keyboard ?? []) {
    for (const button of row) {
      if (!button.text) throw badRequest('text buttons are unallowed in the inline keyboard');
      if (button.url !== undefined && !/^(https?|tg):\/\/[^\s]+$/.test(button.url))
        throw badRequest(`inline keyboard button URL '${button.url}' is invalid`);
    }
  }
}

function isAllowedUpdate(update: Update, allowed: string[] | undefined): boolean {
  if (!allowed || allowed.length === 0) return true;
  return Object.keys(update).some((key) => key !== 'update_id' && allowed.includes(key));
}
