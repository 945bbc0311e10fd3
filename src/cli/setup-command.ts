/**
 * `devbot setup github`: the way to /setup on a host without a browser. Prints the setup page's
 * address for this machine (an SSH tunnel reaches it), and, when DEVBOT_PUBLIC_URL is set, a link
 * with a short-lived admin token for opening it from elsewhere.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/config.js';
import { findJwtSecret } from '../config/jwt-secret.js';
import type { CliContext } from './cli-context.js';

const ORG = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

export function registerSetupCommand(program: Command, ctx: CliContext): void {
  const setup = program.command('setup').description('set up integrations');
  setup
    .command('github')
    .description("print the link that creates devbot's GitHub App in one click (for headless hosts)")
    .option('--org <organization>', 'create the App in this organization (default: your account)', org)
    .option('--name <name>', "the App name (unique on GitHub; default: app.yml's)")
    .option('--ttl <minutes>', 'how long the admin link works', minutes, 15)
    .action(async (options: { org?: string; name?: string; ttl: number }) => {
      const config = loadConfig(ctx.env(), ctx.cwd);
      if (
        config.GITHUB_TOKEN ||
        config.GITHUB_APP_ID ||
        existsSync(join(config.dataDir, 'github-app.json'))
      ) {
        ctx.out(
          `GitHub is configured already (${
            config.GITHUB_TOKEN
              ? 'GITHUB_TOKEN'
              : config.GITHUB_APP_ID
                ? 'GITHUB_APP_ID'
                : `the App stored in ${config.dataDir}`
          }); devbot doctor checks it.\n`,
        );
        return;
      }
      const query = new URLSearchParams();
      if (options.org) query.set('org', options.org);
      if (options.name) query.set('name', options.name);
      const local = `http://127.0.0.1:${config.PORT}/setup${query.size > 0 ? `?${query}` : ''}`;
      const lines = [
        'Open the setup page in a browser and press "Create the GitHub App":',
        '',
        `  on this machine:  ${local}`,
        `  from your laptop: ssh -L ${config.PORT}:127.0.0.1:${config.PORT} <this host>, then open the same address`,
      ];
      const publicUrl = config.DEVBOT_PUBLIC_URL?.replace(/\/+$/, '');
      const found = findJwtSecret(config);
      if (publicUrl && found.secret !== null) {
        const { TokenIssuer } = await import('../gateway/token-issuer.js');
        const token = await new TokenIssuer(found.secret).sign('setup', {
          scopes: ['admin'],
          ttlSeconds: options.ttl * 60,
        });
        query.set('token', token);
        lines.push(
          `  from anywhere:    ${publicUrl}/setup?${query}`,
          `                    (an admin link, valid ${options.ttl} minutes: do not share it)`,
        );
      }
      lines.push('');
      if (!publicUrl)
        lines.push(
          'DEVBOT_PUBLIC_URL is not set: the App would get http://127.0.0.1 as its webhook address, which',
          'GitHub cannot reach. Set DEVBOT_PUBLIC_URL to the address GitHub reaches devbot at, restart, then open /setup.',
        );
      else
        lines.push(
          `GitHub will deliver events to ${publicUrl}/api/github/webhooks and send you back to ${publicUrl}/setup/github/callback.`,
        );
      ctx.out(`${lines.join('\n')}\n`);
    });
}

function org(value: string): string {
  if (!ORG.test(value)) throw new InvalidArgumentError('not a GitHub organization name');
  return value;
}

function minutes(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 24 * 60) throw new InvalidArgumentError('must be 1-1440 minutes');
  return n;
}
