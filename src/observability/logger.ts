import pino, { type Logger, type LoggerOptions } from 'pino';
import { redactSecrets } from './redact.js';

export type { Logger } from 'pino';

/** Keys whose values are never logged, wherever they appear in a log object. */
export const REDACT_PATHS = [
  'token',
  'secret',
  'password',
  'authorization',
  'apiKey',
  'privateKey',
  '*.token',
  '*.secret',
  '*.password',
  '*.authorization',
  '*.apiKey',
  '*.privateKey',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-telegram-bot-api-secret-token"]',
  'config.DEVBOT_JWT_SECRET',
  'config.GITHUB_PRIVATE_KEY',
  'config.GITHUB_WEBHOOK_SECRET',
  'config.TELEGRAM_BOT_TOKEN',
  'config.OPENAI_API_KEY',
  'config.E2B_API_KEY',
];

export interface LoggerSettings {
  level?: string;
  lokiUrl?: string | undefined;
  /** Secret values (tokens, keys) masked in every message, wherever they appear. */
  secrets?: () => readonly string[];
  destination?: pino.DestinationStream;
  base?: Record<string, unknown>;
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const secrets = settings.secrets ?? (() => []);
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { service: 'devbot', ...settings.base },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    hooks: {
      // Masks known secret values inside messages and string fields, where key-based redaction
      // cannot see them (a token inside a URL or an error message).
      streamWrite: (line) => redactSecrets(line, secrets()),
    },
  };
  if (settings.destination) return pino(options, settings.destination);
  if (settings.lokiUrl) {
    const transport = pino.transport({
      targets: [
        { target: 'pino/file', options: { destination: 1 }, level: options.level as string },
        {
          target: 'pino-loki',
          // pino-loki 3 takes the interval inside `batching` (a top-level `interval` is ignored);
          // `role` becomes a label so Grafana can filter gateway/worker/bot.
          options: {
            host: settings.lokiUrl,
            batching: { interval: 2 },
            labels: { app: 'devbot' },
            propsToLabels: ['role'],
          },
          level: options.level as string,
        },
      ],
    });
    return pino(options, transport);
  }
  return pino(options);
}
