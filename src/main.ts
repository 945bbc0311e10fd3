/**
 * The `devbot` CLI: start [--role all|gateway|worker|bot], migrate, token --user NAME, doctor,
 * memory. One error boundary: a bad setting or a missing service prints what to fix and exits 1.
 */
import { parseArgs } from 'node:util';
import { startDevbot } from './app/start-devbot.js';
import { doctorCommand } from './cli/doctor.js';
import { memoryCli } from './cli/memory-command.js';
import { usersCli } from './cli/users-command.js';
import { ConfigError, loadConfig } from './config/config.js';
import { resolveJwtSecret } from './config/jwt-secret.js';
import { ROLES, type Role } from './config/role.js';
import { DevbotError } from './core/index.js';
import { type Scope, TokenIssuer } from './gateway/token-issuer.js';
import { createLogger } from './observability/logger.js';
import { createPgClient } from './store/pg-client.js';
import { createPgliteClient } from './store/pglite-client.js';

const USAGE = `usage: devbot <command> [options]

commands:
  start [--role all|gateway|worker|bot]   run devbot (default role: all)
  migrate                                 apply database migrations and exit
  token --user NAME [--ttl SECONDS] [--admin]
                                          print an API token (JWT) for NAME
  doctor [--json]                         check configuration, tokens and services; print what to fix
  memory list|search|forget [options]     what devbot remembers (devbot memory --help)
  users link|unlink|grant|revoke|list     who may make devbot change which repository
  help                                    show this text

configuration comes from the environment (see .env.example)`;

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case 'migrate':
      return migrateCommand();
    case 'token':
      return tokenCommand(rest);
    case 'doctor':
      return doctorCommand(rest, process.env);
    case 'memory':
      return memoryCli(rest, loadConfig(process.env), (line) => process.stdout.write(`${line}\n`));
    case 'users':
      return usersCli(rest, loadConfig(process.env), (line) => process.stdout.write(`${line}\n`));
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      process.stderr.write(`devbot: unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { role: { type: 'string', default: 'all' } } });
  const role = values.role as Role;
  if (!ROLES.includes(role)) {
    process.stderr.write(`devbot: --role must be one of ${ROLES.join(', ')}\n`);
    return 2;
  }
  const config = loadConfig(process.env);
  const app = await startDevbot({ config, role });
  const log = app.runtime.logger;
  process.stdout.write(`devbot (${role}) is listening on ${app.url}\n`);
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        log.warn('second signal: exiting now');
        process.exit(1);
      }
      log.info({ signal }, 'shutting down');
      void app.stop().then(resolve, (err) => {
        log.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  return 0;
}

async function migrateCommand(): Promise<number> {
  const config = loadConfig(process.env);
  const sql = config.DATABASE_URL
    ? await createPgClient({ connectionString: config.DATABASE_URL })
    : await createPgliteClient({ dataDir: `${config.dataDir}/pglite` });
  try {
    const { migrate } = await import('./store/migrate.js');
    const result = await migrate(sql);
    process.stdout.write(
      `migrations: ${result.applied.length} applied${result.applied.length ? ` (${result.applied.join(', ')})` : ''}, ${result.skipped.length} already done\n`,
    );
    // The vector part of memory needs pgvector; without it memory is off and the rest works.
    const { ensureVectorSchema } = await import('./memory/vector-schema.js');
    await ensureVectorSchema(sql).then(
      () => process.stdout.write('memory: pgvector ready\n'),
      (err: Error) => process.stdout.write(`memory: disabled: ${err.message}\n`),
    );
    return 0;
  } finally {
    await sql.close();
  }
}

async function tokenCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      user: { type: 'string' },
      ttl: { type: 'string' },
      admin: { type: 'boolean', default: false },
    },
  });
  if (!values.user || !/^[\w.@:-]{1,100}$/.test(values.user)) {
    process.stderr.write('devbot token: give --user NAME (letters, digits, . _ @ : -)\n');
    return 2;
  }
  const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) {
    process.stderr.write('devbot token: --ttl must be a whole number of seconds\n');
    return 2;
  }
  const config = loadConfig(process.env);
  const issuer = new TokenIssuer(resolveJwtSecret(config));
  const scopes: Scope[] = values.admin
    ? ['tasks:read', 'tasks:write', 'admin']
    : ['tasks:read', 'tasks:write'];
  process.stdout.write(
    `${await issuer.sign(values.user, { scopes, ...(ttl ? { ttlSeconds: ttl } : {}) })}\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof DevbotError) {
      process.stderr.write(`devbot: ${err.message}\n`);
    } else {
      createLogger({ level: 'error' }).error({ err }, 'devbot failed');
    }
    process.exitCode = 1;
  },
);
