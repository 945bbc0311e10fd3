import pino, { type Logger, type LoggerOptions } from 'pino';
import type { LokiOptions } from 'pino-loki';
import pretty from 'pino-pretty';
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
  'config.GITHUB_TOKEN',
  'config.TELEGRAM_BOT_TOKEN',
  'config.OPENAI_API_KEY',
  'config.E2B_API_KEY',
];

/** `pretty`: one readable line per entry (people); `json`: one JSON object per line (machines). */
export type LogFormat = 'pretty' | 'json';

export interface LoggerSettings {
  level?: string;
  /** Default: pretty when stdout is a terminal and no destination is given, JSON otherwise. */
  format?: LogFormat | undefined;
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
  const format = settings.format ?? (!settings.destination && process.stdout.isTTY ? 'pretty' : 'json');
  if (format === 'pretty' && !settings.lokiUrl)
    // In-process and synchronous: a line is on the terminal before the next statement runs, and
    // the secret masking above (streamWrite) has already run on the JSON it formats.
    return pino(
      options,
      pretty({
        ...PRETTY,
        colorize: !settings.destination && Boolean(process.stdout.isTTY),
        sync: true,
        destination: settings.destination ?? 1,
      }),
    );
  if (settings.destination) return pino(options, settings.destination);
  if (settings.lokiUrl) {
    const targets: pino.TransportTargetOptions[] = [
      format === 'pretty'
        ? {
            target: 'pino-pretty',
            options: { ...PRETTY, colorize: Boolean(process.stdout.isTTY), destination: 1 },
            level: options.level as string,
          }
        : { target: 'pino/file', options: { destination: 1 }, level: options.level as string },
      { target: 'pino-loki', options: lokiOptions(settings.lokiUrl), level: options.level as string },
    ];
    const transport = pino.transport({ targets });
    return pino(options, transport);
  }
  return pino(options);
}

/**
 * How logs reach Loki (pino-loki 3). Each stream is labelled `app=devbot`, `role` (gateway, worker,
 * bot) and `level` with the level's NAME (`error`, not pino's number 50), so the dashboard selects
 * errors with the stream selector `{app="devbot", level=~"error|critical"}`. The map is spelled out
 * rather than left to pino-loki's default so a dependency update cannot change the label values.
 * The interval sits inside `batching` (a top-level `interval` is ignored).
 */
export function lokiOptions(host: string): LokiOptions {
  return {
    host,
    batching: { interval: 2 },
    labels: { app: 'devbot' },
    propsToLabels: ['role'],
    levelMap: { 10: 'debug', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'critical' },
  };
}

/**
 * Time and level, the message, then the other fields on the same line. pid, hostname and the
 * constant service name are noise to a person; the startup summary's fields repeat its message.
 */
const PRETTY = {
  translateTime: 'SYS:HH:MM:ss.l',
  ignore: 'pid,hostname,service,summary',
  singleLine: true,
} as const;
