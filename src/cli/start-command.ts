import { type Command, Option } from 'commander';
import type { DevbotApp } from '../app/start-devbot.js';
import { loadConfig } from '../config/config.js';
import { ROLES, type Role } from '../config/role.js';
import { UnavailableError } from '../core/errors.js';
import type { CliContext } from './cli-context.js';

/** `devbot start [--role all|gateway|worker|bot]`: runs until SIGTERM or SIGINT. */
export function registerStartCommand(program: Command, ctx: CliContext): void {
  program
    .command('start')
    .description('run devbot (the API, the worker and the Telegram bot in one process, or one role)')
    .addOption(new Option('--role <role>', 'which part of devbot to run').choices(ROLES).default('all'))
    .addHelpText(
      'after',
      `
Roles split one deployment across processes: gateway serves the API and webhooks, worker runs
tasks (scale it out), bot polls Telegram; all runs everything. A role other than all needs
DATABASE_URL (PostgreSQL shared by the roles; the embedded database serves one process).
SIGTERM or SIGINT stops cleanly.`,
    )
    .action(async (options: { role: Role }) => {
      await runStart(options.role, ctx);
    });
}

async function runStart(role: Role, ctx: CliContext): Promise<void> {
  const config = loadConfig(ctx.env(), ctx.cwd);
  // The embedded database serves one process: a gateway and a worker on one data directory would
  // each take tasks the other never sees. Split roles need a shared PostgreSQL.
  if (role !== 'all' && !config.DATABASE_URL)
    throw new UnavailableError(
      `--role ${role} needs DATABASE_URL (a PostgreSQL the other roles share): the embedded database serves one process; set DATABASE_URL, or run devbot start (all roles in one process)`,
    );
  // Signals are handled from the start: a SIGTERM that arrives while devbot is still starting
  // (docker stop, a supervisor giving up) stops it cleanly once it is up, instead of killing it
  // with its private redis-server and PGlite files half-written.
  let app: DevbotApp | undefined;
  let stopRequested = false;
  let stopped: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const stop = () => {
    if (!app) return;
    const log = app.runtime.logger;
    void app.stop().then(stopped, (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      ctx.exitCode = 1;
      stopped();
    });
  };
  let signals = 0;
  const grace = config.DEVBOT_SHUTDOWN_GRACE_MS;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      app?.runtime.logger.warn('second signal: exiting now');
      process.exit(1);
    }
    app?.runtime.logger.info({ signal, graceMs: grace }, 'shutting down');
    stopRequested = true;
    // Every stop step has its own deadline and the whole shutdown ends within the grace period;
    // this is the last resort, also for a start that hangs (a signal arriving before devbot is up).
    setTimeout(() => {
      const message = `devbot did not stop within DEVBOT_SHUTDOWN_GRACE_MS (${grace} ms): exiting now`;
      if (app) app.runtime.logger.error(message);
      else process.stderr.write(`devbot: ${message}\n`);
      process.exit(1);
    }, grace + 2000).unref();
    stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    // Loaded here, not at the top: `devbot --help` should not load every adapter first.
    const { startDevbot } = await import('../app/start-devbot.js');
    app = await startDevbot({ config, role });
    ctx.out(`devbot (${role}) is listening on ${app.url}\n`);
    if (stopRequested) stop();
    await done;
    // Stopped. A client still retrying an unreachable service (ioredis reconnecting, a grammY call
    // under way) would keep the event loop alive: exit once the last log lines are out.
    setTimeout(() => process.exit(), 500).unref();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
