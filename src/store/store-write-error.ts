import { BadInputError } from '../core/index.js';

/**
 * SQLSTATE classes that blame the data itself: 22 (data exception: a NUL in text, a lone surrogate
 * in jsonb) and 54 (program limit exceeded: jsonb nested too deep, a key too long for its index).
 */
const DATA_PROBLEM = /^(22|54)[0-9A-Z]{3}$/;

/**
 * The error to report for a failed write. A value the database refuses, and would refuse on every
 * try, becomes a BadInputError: retrying cannot help, so the queue must not retry the task over it.
 * A value JSON cannot encode (JSON.stringify's RangeError on a cycle-free but too-deep value) is
 * the same. Anything else (a lost connection) is returned as it is, to be retried.
 */
export function storeWriteError(err: unknown, what: string): Error {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof RangeError || (typeof code === 'string' && DATA_PROBLEM.test(code)))
    return new BadInputError(`${what} cannot be stored: ${(err as Error).message}`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}
