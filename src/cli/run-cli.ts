import { CommanderError } from 'commander';
import { ConfigError, type Env } from '../config/config.js';
import { DevbotError } from '../core/errors.js';
import { redactSecrets } from '../observability/redact.js';
import { type CliIo, createCliContext } from './cli-context.js';
import { buildProgram } from './program.js';
import { USAGE_EXIT } from './usage-error.js';

export interface RunCliOptions {
  env: Env;
  cwd: string;
  io?: CliIo;
}

/**
 * Runs one `devbot` command line and returns the exit code: 0 done, 1 the run failed, 2 the
 * command line is wrong. The one error boundary of the CLI: a failure is one line on stderr that
 * says what to fix; the stack trace only with LOG_LEVEL=debug (or trace).
 */
export async function runCli(argv: readonly string[], options: RunCliOptions): Promise<number> {
  const io = options.io ?? {
    out: (text: string) => void process.stdout.write(text),
    err: (text: string) => void process.stderr.write(text),
  };
  const ctx = createCliContext(options.env, options.cwd, io);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return commanderExitCode(err);
    const env = ctx.envIfLoadable();
    ctx.err(`devbot: ${redactSecrets(describe(err), secretsIn(env))}\n`);
    if (['debug', 'trace'].includes(env['LOG_LEVEL'] ?? '') && err instanceof Error && err.stack)
      ctx.err(`${redactSecrets(err.stack, secretsIn(env))}\n`);
    return 1;
  }
}

/** commander has already printed its message (and the usage); only the code is left to pick. */
function commanderExitCode(err: CommanderError): number {
  switch (err.code) {
    case 'commander.helpDisplayed':
    case 'commander.version':
      return 0;
    case 'commander.help':
      // `devbot help` is 0; `devbot` alone (help printed because no command was given) is a usage error.
      return err.exitCode === 0 ? 0 : USAGE_EXIT;
    default:
      return USAGE_EXIT;
  }
}

/** One line: what went wrong and, for errors of ours, what to do about it. */
function describe(err: unknown): string {
  if (err instanceof ConfigError) return `invalid configuration: ${err.issues.join('; ')}`;
  const message = err instanceof Error ? err.message || err.name : String(err);
  const line = message.split('\n').filter(Boolean).join(' ');
  if (err instanceof DevbotError) return line;
  return `${line} (LOG_LEVEL=debug prints the stack trace)`;
}

/**
 * Secret-looking values of the environment, masked in what the boundary prints: a driver's error
 * may quote a connection URL with its password. (The configuration may not even have loaded.)
 */
function secretsIn(env: Env): string[] {
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (/(TOKEN|SECRET|KEY|PASSWORD)/.test(name) && value.length >= 8) secrets.push(value);
    if (/_URL$/.test(name)) {
      try {
        const password = decodeURIComponent(new URL(value).password);
        if (password) secrets.push(password);
      } catch {
        // Not a URL: nothing to mask in it.
      }
    }
  }
  return secrets;
}
