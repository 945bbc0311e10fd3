/**
 * How updates reach the bot: long polling (supervised: restarted with backoff, 409 explained) or a
 * webhook route that checks the secret, answers 200 at once and queues the update behind earlier
 * ones of the same chat. Setup calls (getMe, setMyCommands, setWebhook) retry with backoff and
 * never stop devbot; each attempt has a deadline and stop() aborts the one under way (grammY's
 * own calls would otherwise wait minutes on a Telegram that never answers). An unreachable
 * Telegram is logged once with the fix, then once a minute.
 */
import { timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type RunnerHandle, run } from '@grammyjs/runner';
import type { Bot } from 'grammy';
import type { Update } from 'grammy/types';
import { errorMessage } from '../core/index.js';
import type { RawRoute } from '../http/raw-route.js';
import { BodyTooLargeError, readBody } from '../http/read-body.js';
import { refuseRequest } from '../http/refuse-request.js';
import type { Logger } from '../observability/logger.js';
import { OutageLog } from '../observability/outage-log.js';
import { BOT_COMMANDS } from './parse-command.js';
import { WakeableSleeps } from './wakeable-sleeps.js';

/** Update types the bot asks for (polling and webhook alike). */
export const ALLOWED_UPDATES = ['message', 'callback_query'] as const;

const WEBHOOK_BODY_LIMIT = 1_048_576;

/** grammY types its signals with the abort-controller shim; a native AbortSignal works the same. */
type GrammySignal = NonNullable<Parameters<Bot['init']>[0]>;

export interface TelegramTransportOptions {
  bot: Bot;
  /** Handles one update (the bot's entry point without transport). */
  handle(update: Update): Promise<unknown>;
  /** Runs once getMe answered (the bot learns its username). */
  onIdentity(username: string): void;
  /** Runs once setup started, in the background (pruning old claims). */
  onSetup?(): Promise<unknown>;
  logger: Logger;
  /** Webhook mode: Telegram posts updates to `url` with `secret` in the secret-token header. */
  webhook?: { url: string; secret: string } | undefined;
  /** Long-poll timeout passed to getUpdates. Default 30 s. */
  pollingTimeoutSeconds?: number | undefined;
  /** Backoff for failing setup calls and a crashed poller. Default 1 s doubling to 60 s. */
  retryDelayMs?: { initial: number; max: number } | undefined;
  /** How long one setup call may take before it counts as failed. Default 15 s. */
  callTimeoutMs?: number | undefined;
  /** Where the Bot API is (named in the outage log). */
  apiRoot?: string | undefined;
}

export class TelegramTransport {
  readonly #o: TelegramTransportOptions;
  readonly #log: Logger;
  readonly #retry: { initial: number; max: number };
  readonly #chains = new Map<string, Promise<void>>();
  readonly #sleeps = new WakeableSleeps();
  #runner: RunnerHandle | null = null;
  #setup: Promise<void> | null = null;
  #stopped = false;
  /** Aborted by stop(): cuts short the setup call under way. */
  readonly #abort = new AbortController();
  readonly #outage: OutageLog;

  constructor(options: TelegramTransportOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#retry = options.retryDelayMs ?? { initial: 1000, max: 60_000 };
    this.#outage = new OutageLog(options.logger, {
      what: 'Telegram',
      fix: `check that this host reaches ${options.apiRoot ?? 'the Bot API'} (TELEGRAM_API_ROOT; a proxy or firewall?) and that TELEGRAM_BOT_TOKEN is the token @BotFather gave; the bot starts once it answers`,
    });
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
    this.#abort.abort();
    this.#sleeps.wakeAll();
    const runner = this.#runner;
    this.#runner = null;
    if (runner?.isRunning()) await runner.stop().catch(() => {});
    await this.#setup;
    await Promise.allSettled([...this.#chains.values()]);
  }

  /** Webhook mode: queue an update behind earlier ones of the same chat; returns at once. */
  dispatch(update: Update): void {
    const key = chatKey(update) ?? `update:${update.update_id}`;
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.#o.handle(update))
      .then(
        () => {},
        (err) => this.#log.error({ err, updateId: update.update_id }, 'telegram: update failed'),
      )
      .finally(() => {
        if (this.#chains.get(key) === next) this.#chains.delete(key);
      });
    this.#chains.set(key, next);
  }

  /**
   * The gateway route for webhook mode: a wrong or missing secret is 401 and nothing else, answered
   * before any of the body is read; a body over the cap is 413. Refusals close the connection, so
   * the rest of a large body is never read.
   */
  webhookRoute(prefix: string): RawRoute {
    const secret = this.#o.webhook?.secret;
    return {
      prefix,
      handle: async (req, res) => {
        if (req.method !== 'POST')
          return refuseRequest(res, 405, 'method_not_allowed', 'Telegram posts updates');
        if (!secret || !secretMatches(req.headers['x-telegram-bot-api-secret-token'], secret))
          return refuseRequest(res, 401, 'unauthorized', 'a wrong or missing secret token');
        let update: Update;
        try {
          update = JSON.parse((await readBody(req, WEBHOOK_BODY_LIMIT)).toString('utf8')) as Update;
        } catch (err) {
          if (err instanceof BodyTooLargeError)
            return refuseRequest(res, 413, 'payload_too_large', err.message);
          return sendJson(res, 400, { ok: false, error: 'bad update' });
        }
        if (typeof update?.update_id !== 'number')
          return sendJson(res, 400, { ok: false, error: 'bad update' });
        // Answer first: Telegram re-sends updates that take long, so the work happens after.
        sendJson(res, 200, { ok: true });
        this.dispatch(update);
      },
    };
  }

  async #runSetup(mode: { polling: boolean; registerWebhook: boolean }): Promise<void> {
    const { bot } = this.#o;
    const api = bot.api;
    if (!(await this.#retrying('getMe', (signal) => bot.init(signal)))) return;
    this.#o.onIdentity(bot.botInfo.username);
    // Commands are a convenience: they retry on their own and never hold up updates.
    void this.#retrying('setMyCommands', (signal) => api.setMyCommands([...BOT_COMMANDS], {}, signal));
    void this.#o.onSetup?.().catch((err) => this.#log.debug({ err }, 'telegram: setup housekeeping failed'));
    const webhook = this.#o.webhook;
    if (webhook && mode.registerWebhook) {
      await this.#retrying('setWebhook', (signal) =>
        api.setWebhook(
          webhook.url,
          { secret_token: webhook.secret, allowed_updates: [...ALLOWED_UPDATES] },
          signal,
        ),
      );
      this.#log.info({ url: webhook.url }, 'telegram: webhook registered');
    } else if (!webhook && mode.polling) {
      // A webhook left over from an earlier run makes getUpdates fail with 409.
      if (!(await this.#retrying('deleteWebhook', (signal) => api.deleteWebhook({}, signal)))) return;
      this.#startPolling();
    }
  }

  #startPolling(attempt = 0): void {
    if (this.#stopped) return;
    const runner = run(this.#o.bot, {
      runner: {
        fetch: { timeout: this.#o.pollingTimeoutSeconds ?? 30, allowed_updates: [...ALLOWED_UPDATES] },
        silent: true,
        maxRetryTime: 60 * 60_000,
      },
    });
    this.#runner = runner;
    this.#log.info({ username: this.#o.bot.botInfo.username }, 'telegram: polling for updates');
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

  /**
   * Runs fn until it succeeds or the transport stops, backing off between failures. Each attempt
   * gets a signal that aborts at its deadline or at stop().
   */
  async #retrying(what: string, fn: (signal: GrammySignal) => Promise<unknown>): Promise<boolean> {
    let delay = this.#retry.initial;
    while (!this.#stopped) {
      try {
        const signal = AbortSignal.any([
          this.#abort.signal,
          AbortSignal.timeout(this.#o.callTimeoutMs ?? 15_000),
        ]);
        await fn(signal as GrammySignal);
        this.#outage.recovered();
        return true;
      } catch (err) {
        if (this.#stopped) break;
        this.#outage.failed(new Error(`${what}: ${errorMessage(err)}`));
        this.#log.debug({ err: errorMessage(err), retryInMs: delay }, `telegram: ${what} failed; retrying`);
        await this.#sleeps.sleep(delay);
        delay = Math.min(delay * 2, this.#retry.max);
      }
    }
    return false;
  }
}

/** Updates of one chat are handled in order (polling and webhook alike). */
export function chatKey(update: Update): string | undefined {
  const chat = update.message?.chat ?? update.callback_query?.message?.chat;
  if (chat) return `chat:${chat.id}`;
  const from = update.callback_query?.from;
  return from ? `user:${from.id}` : undefined;
}

function secretMatches(header: string | string[] | undefined, secret: string): boolean {
  if (typeof header !== 'string') return false;
  const a = Buffer.from(header);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
