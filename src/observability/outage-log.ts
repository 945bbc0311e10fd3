import type { Logger } from './logger.js';

export interface OutageLogOptions {
  /** What is unreachable, as people name it: "Redis", "Telegram". */
  what: string;
  /** What to check or change, one sentence. */
  fix: string;
  /** How often a continuing outage is logged again. Default one minute. */
  repeatMs?: number;
  now?: () => number;
}

/**
 * One log line when a dependency goes away (its cause and the fix), then one at a slow interval
 * while it stays away, and one when it is back: never a line, let alone a stack trace, per retry.
 * Clients that retry on their own (ioredis, BullMQ, grammY) report every failure here.
 */
export class OutageLog {
  readonly #o: Required<Omit<OutageLogOptions, 'now'>> & { now: () => number };
  #since: number | null = null;
  #lastLogged = 0;
  #failures = 0;

  constructor(
    private readonly logger: Pick<Logger, 'error' | 'warn' | 'info'>,
    options: OutageLogOptions,
  ) {
    this.#o = { repeatMs: 60_000, now: Date.now, ...options };
  }

  /** Whether the dependency is down right now (a failure with no recovery since). */
  get down(): boolean {
    return this.#since !== null;
  }

  failed(err: unknown): void {
    const now = this.#o.now();
    const cause = causeOf(err);
    this.#failures += 1;
    if (this.#since === null) {
      this.#since = now;
      this.#lastLogged = now;
      this.#failures = 1;
      this.logger.error(
        { outage: this.#o.what, cause, fix: this.#o.fix },
        `${this.#o.what} is unreachable (${cause}): ${this.#o.fix}. Retrying quietly; logged again every ${Math.round(this.#o.repeatMs / 1000)} s while it lasts`,
      );
      return;
    }
    if (now - this.#lastLogged < this.#o.repeatMs) return;
    this.#lastLogged = now;
    const seconds = Math.round((now - this.#since) / 1000);
    this.logger.warn(
      { outage: this.#o.what, cause, fix: this.#o.fix, downForS: seconds, failures: this.#failures },
      `${this.#o.what} is still unreachable after ${seconds} s (${cause}): ${this.#o.fix}`,
    );
  }

  recovered(): void {
    if (this.#since === null) return;
    const seconds = Math.round((this.#o.now() - this.#since) / 1000);
    this.#since = null;
    this.logger.info({ outage: this.#o.what, downForS: seconds }, `${this.#o.what} is reachable again`);
  }
}

/** The error's message and code, without its stack (aggregate errors: the first inner one). */
function causeOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const inner = (err as { errors?: unknown[] }).errors?.[0];
  const message = err.message || (inner instanceof Error ? inner.message : '') || err.name;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** Whether an error says the other side cannot be reached (rather than that a request was wrong). */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  const inner = (err as { errors?: unknown[] }).errors?.[0];
  if (inner !== undefined && isConnectionError(inner)) return true;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|connect E[A-Z]+|Stream isn't writeable|enableOfflineQueue|socket hang up/i.test(
      err.message,
    )
  );
}
