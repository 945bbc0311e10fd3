import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/config.js';
import { findJwtSecret } from '../config/jwt-secret.js';
import { UnavailableError } from '../core/errors.js';
import type { Scope } from '../gateway/token-issuer.js';
import type { CliContext } from './cli-context.js';
import { usageError } from './usage-error.js';

const USER = /^[\w.@:-]{1,100}$/;

/**
 * `devbot token --user NAME [--ttl S] [--admin] [--link]`: prints an API token signed like the
 * running devbot's, or with --link the dashboard's sign-in link carrying it.
 */
export function registerTokenCommand(program: Command, ctx: CliContext): void {
  program
    .command('token')
    .description("print an API token (JWT) signed with the devbot's secret")
    .requiredOption('--user <name>', 'who the token is for (letters, digits, . _ @ : -)')
    .option('--ttl <seconds>', 'expire after this many seconds (default: never)', wholeSeconds)
    .option('--admin', "may see and cancel everyone's tasks and read memories")
    .option('--link', 'print a sign-in link for the dashboard (<DEVBOT_PUBLIC_URL>/ui/?token=...) instead')
    .addHelpText(
      'after',
      `
The secret is DEVBOT_JWT_SECRET, or the one devbot generated into its data directory
(DEVBOT_DATA_DIR, default ./.devbot): run this where devbot runs, or point DEVBOT_DATA_DIR at it.`,
    )
    .action(
      async (options: { user: string; ttl?: number; admin?: boolean; link?: boolean }, command: Command) => {
        if (!USER.test(options.user))
          usageError(command, '--user must be 1-100 letters, digits or . _ @ : -');
        const config = loadConfig(ctx.env(), ctx.cwd);
        const found = findJwtSecret(config);
        if (found.secret === null)
          throw new UnavailableError(
            found.dataDirExists
              ? `no API secret in ${found.file}: the devbot using the data directory ${config.dataDir} has never started (it generates the secret at its first start); start it first, or set DEVBOT_DATA_DIR to the data directory of the devbot that runs (or DEVBOT_JWT_SECRET to its secret)`
              : `no devbot data directory at ${config.dataDir}, so there is no secret to sign with (a new one would make a token the running devbot rejects); run this where devbot runs, or set DEVBOT_DATA_DIR to its data directory (or DEVBOT_JWT_SECRET to its secret)`,
          );
        const scopes: Scope[] = options.admin
          ? ['tasks:read', 'tasks:write', 'admin']
          : ['tasks:read', 'tasks:write'];
        const { TokenIssuer } = await import('../gateway/token-issuer.js');
        const token = await new TokenIssuer(found.secret).sign(options.user, {
          scopes,
          ...(options.ttl ? { ttlSeconds: options.ttl } : {}),
        });
        if (!options.link) {
          ctx.out(`${token}\n`);
          return;
        }
        const base = (config.DEVBOT_PUBLIC_URL ?? `http://127.0.0.1:${config.PORT}`).replace(/\/$/, '');
        ctx.out(`${base}/ui/?token=${token}\n`);
      },
    );
}

function wholeSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0)
    throw new InvalidArgumentError('must be a whole number of seconds above 0');
  return n;
}
