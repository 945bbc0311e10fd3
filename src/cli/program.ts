/**
 * The `devbot` command line, built on commander. Why commander rather than node:util parseArgs
 * (what we had): parseArgs only splits arguments, so per-command help, `--version`, "did you
 * mean" suggestions, required options, choices and consistent usage errors were ours to write and
 * to keep in step with each command. commander does all of it from one declaration per command,
 * has no dependencies, is the most used Node CLI library (maintained since 2011, typed), and its
 * 14.x line still supports Node 20 (15 needs 22).
 */
import { Command } from 'commander';
import type { CliContext } from './cli-context.js';
import { registerDoctorCommand } from './doctor-command.js';
import { registerEvalCommand } from './eval-command.js';
import { registerGithubCommand } from './github-command.js';
import { registerMemoryCommand } from './memory-command.js';
import { registerMigrateCommand } from './migrate-command.js';
import { packageVersion } from './package-version.js';
import { registerSetupCommand } from './setup-command.js';
import { registerStartCommand } from './start-command.js';
import { registerTokenCommand } from './token-command.js';
import { registerUsersCommand } from './users-command.js';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('devbot')
    .description('turns Telegram messages, GitHub events and API calls into tasks an AI agent crew runs')
    .version(packageVersion(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    // Throw instead of process.exit(), so run-cli decides the exit code (usage errors: 2).
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.out(text),
      writeErr: (text) => ctx.err(text),
      outputError: (text, write) => write(`devbot: ${text.replace(/^error: /, '')}`),
    })
    // A wrong command line is answered with the usage of the command it was meant for.
    .showHelpAfterError()
    .addHelpText(
      'after',
      `
Configuration comes from the environment and from .env in the working directory (the environment
wins; DEVBOT_ENV_FILE names another file). .env.example lists every variable.`,
    );
  // Settings above (exitOverride, output, help after error) are inherited by commands added below.
  registerStartCommand(program, ctx);
  registerMigrateCommand(program, ctx);
  registerTokenCommand(program, ctx);
  registerDoctorCommand(program, ctx);
  registerMemoryCommand(program, ctx);
  registerUsersCommand(program, ctx);
  registerEvalCommand(program, ctx);
  registerGithubCommand(program, ctx);
  registerSetupCommand(program, ctx);
  return program;
}
