/**
 * Few error classes, named after what happened. The error decides what the queue does:
 * BadInputError and its kin never retry; anything else retries with backoff.
 */

export class DevbotError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The request itself is wrong: retrying cannot help. */
export class BadInputError extends DevbotError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('bad_input', message, options);
  }
}

/** Something needed to run this kind of task is not configured or installed. */
export class UnavailableError extends DevbotError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

/** A configured limit (time, tokens, cost, output) was reached. */
export class LimitExceededError extends DevbotError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('limit_exceeded', message, options);
  }
}

/** The task was cancelled by a user. */
export class CancelledError extends DevbotError {
  constructor(message = 'the task was cancelled', options?: { cause?: unknown }) {
    super('cancelled', message, options);
  }
}

/** Not found (task, repo, file...). */
export class NotFoundError extends DevbotError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not_found', message, options);
  }
}

/** Errors for which a retry cannot help. */
export function isPermanent(err: unknown): boolean {
  return (
    err instanceof BadInputError ||
    err instanceof UnavailableError ||
    err instanceof LimitExceededError ||
    err instanceof CancelledError ||
    err instanceof NotFoundError ||
    err instanceof ForbiddenError
  );
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The requester may not make devbot do this (no link, no grant, no write access). */
export class ForbiddenError extends DevbotError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('forbidden', message, options);
  }
}
