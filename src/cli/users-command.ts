/**
 * `devbot users`: who may make devbot change which repository, for people who do not come in
 * through GitHub (Telegram users `tg:<id>`, API token subjects). A link makes a subject act as a
 * GitHub login (that login's write access is checked on every task); a grant names repositories
 * outright (`owner/name`, `owner/*`, `*`).
 */
import type { Command } from 'commander';
import { type Config, loadConfig } from '../config/config.js';
import {
  BadInputError,
  isGrantPattern,
  isHostLogin,
  isSubjectName,
  type SubjectAccess,
} from '../core/index.js';
import type { CliContext } from './cli-context.js';
import { usageError } from './usage-error.js';

export const USERS_USAGE = `usage: devbot users <command>

  link SUBJECT LOGIN      SUBJECT acts as GitHub LOGIN (its write access is checked per repository)
  unlink SUBJECT          remove the link
  grant SUBJECT PATTERN   let SUBJECT make devbot change PATTERN (owner/name, owner/*, or *)
  revoke SUBJECT PATTERN  remove a grant
  list                    every subject with its link and grants

SUBJECT is a Telegram user (tg:<user id>) or an API token's subject (devbot token --user NAME).`;

/** Runs one `devbot users` command against the store; returns the exit code. */
export async function runUsersCommand(
  argv: readonly string[],
  access: Omit<SubjectAccess, 'get'>,
  write: (line: string) => void,
): Promise<number> {
  const [action, subject, value, ...extra] = argv;
  const need = (count: number) => {
    if (
      [subject, value].slice(0, count).some((v) => v === undefined) ||
      extra.length > 0 ||
      argv.length !== count + 1
    )
      throw new BadInputError(`devbot users ${action}: wrong arguments\n\n${USERS_USAGE}`);
    if (!isSubjectName(subject ?? ''))
      throw new BadInputError(`"${subject}" is not a subject: use tg:<user id> or an API token's user name`);
  };
  switch (action) {
    case 'link': {
      need(2);
      if (!isHostLogin(value ?? '')) throw new BadInputError(`"${value}" is not a GitHub login`);
      await access.link(subject as string, value as string);
      write(`${subject} now acts as @${value}: devbot checks @${value}'s write access per repository`);
      return 0;
    }
    case 'unlink':
      need(1);
      write(
        (await access.unlink(subject as string))
          ? `${subject} is no longer linked`
          : `${subject} was not linked`,
      );
      return 0;
    case 'grant': {
      need(2);
      if (!isGrantPattern(value ?? ''))
        throw new BadInputError(`"${value}" is not a repository pattern: use owner/name, owner/* or *`);
      await access.grant(subject as string, value as string);
      write(`${subject} may now make devbot change ${value}`);
      return 0;
    }
    case 'revoke':
      need(2);
      write(
        (await access.revoke(subject as string, value as string))
          ? `${subject} may no longer make devbot change ${value}`
          : `${subject} had no grant ${value}`,
      );
      return 0;
    case 'list': {
      if (argv.length !== 1) throw new BadInputError(USERS_USAGE);
      const records = await access.list();
      if (records.length === 0) write('no links or grants yet');
      for (const r of records)
        write(
          `${r.subject}\t${r.login ? `@${r.login}` : '-'}\t${r.grants.length > 0 ? r.grants.join(',') : '-'}`,
        );
      return 0;
    }
    default:
      throw new BadInputError(`unknown users command "${action ?? ''}"\n\n${USERS_USAGE}`);
  }
}

/**
 * `devbot users ...` on the configured database, or through the running devbot's `/users` API
 * when it holds the embedded database (PGlite serves one process).
 */
export async function usersCli(
  argv: readonly string[],
  config: Config,
  write: (line: string) => void,
): Promise<number> {
  const [{ withDatabaseOrRunningDevbot }, { SqlSubjectAccess }, { HttpSubjectAccess }] = await Promise.all([
    import('./running-devbot.js'),
    import('../store/sql-subject-access.js'),
    import('./http-subject-access.js'),
  ]);
  return withDatabaseOrRunningDevbot(
    config,
    (sql) => runUsersCommand(argv, new SqlSubjectAccess(sql), write),
    (api) => runUsersCommand(argv, new HttpSubjectAccess(api), write),
  );
}

/** `devbot users link|unlink|grant|revoke|list`, on commander. */
export function registerUsersCommand(program: Command, ctx: CliContext): void {
  const users = program
    .command('users')
    .description('who may make devbot change which repository')
    .addHelpText(
      'after',
      `
On PostgreSQL (DATABASE_URL) or a stopped embedded devbot this opens the database; while devbot
runs on the embedded database it goes through that devbot's admin API on HOST:PORT.`,
    );
  const run =
    (action: string) =>
    async (...params: unknown[]): Promise<void> => {
      // commander passes the declared arguments, then the options, then the command.
      const command = params.at(-1) as Command;
      const words = params.slice(0, -2).filter((p): p is string => typeof p === 'string');
      const config = loadConfig(ctx.env(), ctx.cwd);
      try {
        ctx.exitCode = await usersCli([action, ...words], config, (line) => ctx.out(`${line}\n`));
      } catch (err) {
        if (err instanceof BadInputError) usageError(command, err.message.split('\n')[0] ?? err.message);
        throw err;
      }
    };
  users
    .command('link')
    .description("SUBJECT acts as GitHub LOGIN: LOGIN's write access is checked per repository")
    .argument('<subject>', 'tg:<telegram user id>, or an API token subject')
    .argument('<login>', 'a GitHub login')
    .action(run('link'));
  users.command('unlink').description('remove the link').argument('<subject>').action(run('unlink'));
  users
    .command('grant')
    .description('let SUBJECT make devbot change PATTERN')
    .argument('<subject>')
    .argument('<pattern>', 'owner/name, owner/* or *')
    .action(run('grant'));
  users
    .command('revoke')
    .description('remove a grant')
    .argument('<subject>')
    .argument('<pattern>')
    .action(run('revoke'));
  users.command('list').description('every subject with its link and grants').action(run('list'));
}
