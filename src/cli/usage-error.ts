import type { Command } from 'commander';

/** Exit code of a command line that is wrong (as opposed to a run that failed: 1). */
export const USAGE_EXIT = 2;

/**
 * Rejects a command line the way commander rejects its own parse errors: the message, the
 * command's help after it, exit code 2.
 */
export function usageError(command: Command, message: string): never {
  return command.error(message, { exitCode: USAGE_EXIT, code: 'devbot.usage' });
}
