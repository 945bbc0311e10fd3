/**
 * The Telegram adapter as a module: the bot (polling or webhook), the reporter that renders
 * telegram tasks, and the webhook route. Enabled when TELEGRAM_BOT_TOKEN is set.
 */
import { Api } from 'grammy';
import type { Update } from 'grammy/types';
import type { ChatRepoLinks, Task } from '../../core/index.js';
import { SqlChatBindings } from '../../store/sql-chat-bindings.js';
import { SqlUpdateClaims } from '../../store/sql-update-claims.js';
import { TelegramBot } from '../../telegram/telegram-bot.js';
import { TelegramOutbox, type TelegramOutboxOptions } from '../../telegram/telegram-outbox.js';
import { TelegramReporter } from '../../telegram/telegram-reporter.js';
import type { DevbotModule, Runtime } from '../runtime.js';

export interface TelegramModuleOptions {
  /** Outbox pacing and retry settings (tests shorten them). */
  outbox?: Pick<TelegramOutboxOptions, 'intervalMs' | 'maxRetryAfterMs' | 'maxAttempts' | 'backoffMs'>;
  pollingTimeoutSeconds?: number;
  retryDelayMs?: { initial: number; max: number };
  /** Status re-render period for the elapsed time. */
  tickMs?: number;
  /** Time stop() gives pending messages (final results) to go out. Default 5 s. */
  flushMs?: number;
}

export interface TelegramModuleDeps {
  /** The chats' sandboxes (the same sessions the shell handlers use), for /reset. */
  chatSandbox?: { reset(chatId: number): Promise<'reset' | 'busy'> };
  /** Refuses (ForbiddenError) a user who may not make devbot change a repository. */
  authorize?: (subject: string, repo: string) => Promise<void>;
  /** Chats' links to repositories (/link, /unlink). */
  links?: ChatRepoLinks;
  /** A one-time GitHub sign-in link for a user (`/login`); null when signing in is not set up. */
  loginLink?: (subject: string, label?: string) => Promise<string | null>;
}

export interface TelegramModule extends DevbotModule {
  bot: TelegramBot;
  reporter: TelegramReporter;
  outbox: TelegramOutbox;
  /** The entry point without transport: returns the task the update created, or null. */
  handleTelegramUpdate(update: Update): Promise<Task | null>;
}

/** Default path of the webhook route when TELEGRAM_WEBHOOK_URL has none. */
export const DEFAULT_WEBHOOK_PATH = '/telegram/webhook';

export function createTelegramModule(
  runtime: Runtime,
  deps: TelegramModuleDeps = {},
  options: TelegramModuleOptions = {},
): TelegramModule | null {
  const { config, logger, metrics } = runtime;
  const token = config.TELEGRAM_BOT_TOKEN;
  if (!token) return null;
  runtime.secrets.add(token);
  runtime.secrets.add(config.TELEGRAM_WEBHOOK_SECRET);

  // The outbox talks to Telegram without auto-retry: it handles 429 itself, per chat, so pending
  // edits coalesce while it waits instead of going out stale.
  const outbox = new TelegramOutbox({
    api: new Api(token, { apiRoot: config.TELEGRAM_API_ROOT }),
    logger: logger.child({ component: 'telegram-outbox' }),
    onCall: (method, outcome) => metrics.telegramEdits.inc({ method, outcome }),
    ...options.outbox,
  });
  const webhook =
    config.TELEGRAM_WEBHOOK_URL && config.TELEGRAM_WEBHOOK_SECRET
      ? { url: config.TELEGRAM_WEBHOOK_URL, secret: config.TELEGRAM_WEBHOOK_SECRET }
      : undefined;
  const bot = new TelegramBot({
    token,
    apiRoot: config.TELEGRAM_API_ROOT,
    allowedUserIds: config.TELEGRAM_ALLOWED_USER_IDS,
    adminUserIds: config.TELEGRAM_ADMIN_USER_IDS,
    approvals: runtime.approvals,
    ingress: runtime.ingress,
    store: runtime.store,
    bindings: new SqlChatBindings(runtime.sql),
    claims: (botId) => new SqlUpdateClaims(runtime.sql, botId),
    outbox,
    logger,
    ...(deps.chatSandbox ? { chatSandbox: deps.chatSandbox } : {}),
    ...(deps.authorize ? { authorize: deps.authorize } : {}),
    ...(deps.links ? { links: deps.links } : {}),
    ...(deps.loginLink ? { loginLink: deps.loginLink } : {}),
    ...(webhook ? { webhook } : {}),
    ...(options.pollingTimeoutSeconds !== undefined
      ? { pollingTimeoutSeconds: options.pollingTimeoutSeconds }
      : {}),
    ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
  });
  const reporter = new TelegramReporter({
    outbox,
    store: runtime.store,
    logger,
    ...(options.tickMs !== undefined ? { tickMs: options.tickMs } : {}),
    // Telegram refuses buttons to addresses it cannot reach: the task page only with a public URL.
    ...(runtime.config.DEVBOT_PUBLIC_URL ? { taskUrl: (id: string) => runtime.shareLinks.urlFor(id) } : {}),
  });
  const webhookPath = webhook
    ? new URL(webhook.url).pathname.replace(/\/+$/, '') || DEFAULT_WEBHOOK_PATH
    : DEFAULT_WEBHOOK_PATH;
  const transport = runtime.role === 'all' || runtime.role === 'bot';
  let stopping: Promise<void> | null = null;

  return {
    name: 'telegram',
    bot,
    reporter,
    outbox,
    handleTelegramUpdate: (update) => bot.handleTelegramUpdate(update),
    routes: webhook ? [bot.webhookRoute(webhookPath)] : [],
    reporters: [reporter],
    async start() {
      // Polling and webhook registration belong to the bot role; the route is served wherever
      // the gateway runs. Setup runs in the background and retries: it never blocks devbot.
      if (transport) await bot.start({ polling: !webhook, registerWebhook: Boolean(webhook) });
    },
    stop() {
      stopping ??= (async () => {
        await bot.stop();
        // Final messages still queued get up to flushMs; the outbox then drops the rest, which
        // also settles any delivery still waiting on it.
        await Promise.all([reporter.flush(), outbox.close(options.flushMs ?? 5000)]);
        reporter.stop();
      })();
      return stopping;
    },
  };
}
