import { type Command, InvalidArgumentError } from 'commander';
import { type Config, loadConfig } from '../config/config.js';
import { findJwtSecret } from '../config/jwt-secret.js';
import type { IssuedToken } from '../core/api-tokens.js';
import { BadInputError, UnavailableError } from '../core/errors.js';
import type { TokenAdmin } from '../gateway/token-admin.js';
import type { CliContext } from './cli-context.js';
import { usageError } from './usage-error.js';

const USER = /^[\w.@:-]{1,100}$/;

interface TokenOptions {
  user?: string;
  ttl?: number | null;
  admin?: boolean;
  list?: boolean;
  revoke?: string;
  link?: boolean;
}

/**
 * `devbot token --user NAME [--ttl D] [--admin]` prints an API token signed like the running
 * devbot's and records its id (with --link, the dashboard's sign-in link carrying it); `--list`
 * shows the tokens issued, `--revoke ID` revokes one.
 */
export function registerTokenCommand(program: Command, ctx: CliContext): void {
  program
    .command('token')
    .description("print an API token (JWT) signed with the devbot's secret; list or revoke tokens")
    .option('--user <name>', 'who the token is for (letters, digits, . _ @ : -)')
    .option(
      '--ttl <duration>',
      'expire after 3600 (seconds), 90m, 12h, 30d, or never (default: 30d)',
      duration,
    )
    .option('--admin', "may see and cancel everyone's tasks, manage memories, users and tokens")
    .option('--link', 'print a sign-in link for the dashboard (<DEVBOT_PUBLIC_URL>/ui/?token=...) instead')
    .option('--list', 'list the tokens issued that have not expired (ids, never the tokens)')
    .option('--revoke <id>', 'revoke the token with this id (devbot refuses it within seconds)')
    .addHelpText(
      'after',
      `
The secret is DEVBOT_JWT_SECRET, or the one devbot generated into its data directory
(DEVBOT_DATA_DIR, default ./.devbot): run this where devbot runs, or point DEVBOT_DATA_DIR at it.
Tokens are recorded in devbot's database (through the running devbot's API on HOST:PORT when it
holds the embedded database), so they can be listed and revoked.`,
    )
    .action(async (options: TokenOptions, command: Command) => {
      const actions = [options.user !== undefined, options.list === true, options.revoke !== undefined];
      if (actions.filter(Boolean).length !== 1)
        usageError(command, 'give one of --user NAME, --list or --revoke ID');
      if (options.user !== undefined && !USER.test(options.user))
        usageError(command, '--user must be 1-100 letters, digits or . _ @ : -');
      if (options.user === undefined && (options.ttl !== undefined || options.admin || options.link))
        usageError(command, '--ttl, --admin and --link go with --user');
      const config = loadConfig(ctx.env(), ctx.cwd);
      const found = findJwtSecret(config);
      if (found.secret === null)
        throw new UnavailableError(
          found.dataDirExists
            ? `no API secret in ${found.file}: the devbot using the data directory ${config.dataDir} has never started (it generates the secret at its first start); start it first, or set DEVBOT_DATA_DIR to the data directory of the devbot that runs (or DEVBOT_JWT_SECRET to its secret)`
            : `no devbot data directory at ${config.dataDir}, so there is no secret to sign with (a new one would make a token the running devbot rejects); run this where devbot runs, or set DEVBOT_DATA_DIR to its data directory (or DEVBOT_JWT_SECRET to its secret)`,
        );
      const secret = found.secret;
      const { TokenIssuer } = await import('../gateway/token-issuer.js');
      const issuer = new TokenIssuer(secret);
      const base = (config.DEVBOT_PUBLIC_URL ?? `http://127.0.0.1:${config.PORT}`).replace(/\/$/, '');
      const print = (token: string) => ctx.out(options.link ? `${base}/ui/?token=${token}\n` : `${token}\n`);

      await withTokenAdmin(config, issuer, async (admin, where) => {
        if (options.user !== undefined) {
          const ttlSeconds = options.ttl;
          if (!admin) {
            // No database here (a bare DEVBOT_JWT_SECRET): the token works, but nothing lists it.
            const issued = await issuer.issue(options.user, { scopes: scopes(options.admin), ttlSeconds });
            print(issued.token);
            ctx.err(
              `token ${issued.id} for ${options.user}, ${expiry(issued.expiresAt)}; not recorded (${where}), so --list does not show it; devbot token --revoke ${issued.id} where devbot's database is revokes it\n`,
            );
            return;
          }
          const issued = await admin.issue(options.user, { admin: options.admin === true, ttlSeconds });
          print(issued.token);
          ctx.err(
            `token ${issued.id} for ${options.user}, ${expiry(issued.expiresAt)}; revoke it with: devbot token --revoke ${issued.id}\n`,
          );
          return;
        }
        if (!admin) throw new UnavailableError(`cannot ${options.list ? 'list' : 'revoke'} tokens: ${where}`);
        if (options.list) {
          const tokens = await admin.list();
          if (tokens.length === 0) ctx.out('no tokens issued that are still valid\n');
          else
            ctx.out(
              `${['ID', 'USER', 'SCOPES', 'EXPIRES', 'STATE'].join('\t')}\n${tokens.map(row).join('')}`,
            );
          return;
        }
        const id = options.revoke as string;
        try {
          const revoked = await admin.revoke(id);
          ctx.out(
            revoked
              ? `revoked token ${id}: devbot refuses it from now on (other processes within seconds)\n`
              : `token ${id} was revoked already\n`,
          );
        } catch (err) {
          if (err instanceof BadInputError) usageError(command, err.message);
          throw err;
        }
      });
    });
}

/**
 * Runs `fn` with the token log of this devbot: PostgreSQL (DATABASE_URL), the embedded database
 * when no devbot holds it, or the running devbot's API when one does. Null (with why) when there is
 * no database to record in.
 */
async function withTokenAdmin(
  config: Config,
  issuer: import('../gateway/token-issuer.js').TokenIssuer,
  fn: (admin: TokenAdmin | null, where: string) => Promise<void>,
): Promise<void> {
  const [{ existsSync }, { join }] = await Promise.all([import('node:fs'), import('node:path')]);
  if (!config.DATABASE_URL && !existsSync(join(config.dataDir, 'pglite')))
    return fn(null, `no devbot database at ${join(config.dataDir, 'pglite')} or DATABASE_URL`);
  const [{ withDatabaseOrRunningDevbot }, { SqlApiTokenLog }, { LocalTokenAdmin }, { HttpTokenAdmin }] =
    await Promise.all([
      import('./running-devbot.js'),
      import('../store/sql-api-tokens.js'),
      import('../gateway/token-admin.js'),
      import('./http-token-admin.js'),
    ]);
  // A running devbot that holds the embedded database is asked through its API instead.
  await withDatabaseOrRunningDevbot(
    config,
    (sql) => fn(new LocalTokenAdmin({ issuer, log: new SqlApiTokenLog(sql) }), 'the database'),
    (api) => fn(new HttpTokenAdmin(api), api.baseUrl),
  );
}

function scopes(admin: boolean | undefined): ('tasks:read' | 'tasks:write' | 'admin')[] {
  return admin ? ['tasks:read', 'tasks:write', 'admin'] : ['tasks:read', 'tasks:write'];
}

function expiry(at: Date | null): string {
  return at === null ? 'never expires' : `expires ${at.toISOString()}`;
}

function row(t: IssuedToken): string {
  const state = t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : 'valid';
  return `${[t.id, t.subject ?? '?', t.scopes.join(','), t.expiresAt?.toISOString() ?? 'never', state].join('\t')}\n`;
}

function duration(value: string): number | null {
  if (value === 'never') return null;
  const m = /^(\d+)([smhd]?)$/.exec(value);
  const n = m
    ? Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd']
    : NaN;
  if (!Number.isSafeInteger(n) || n <= 0 || n > 10 * 365 * 86_400)
    throw new InvalidArgumentError('must be seconds (3600), 90m, 12h, 30d (at most 10 years), or never');
  return n;
}
