/**
 * `devbot github add-repo owner/name`: token mode's setup for one repository. Checks that
 * GITHUB_TOKEN may do everything devbot does there (naming each missing permission), then creates
 * (or updates) the repository webhook that delivers devbot's events to this deployment, signed
 * with GITHUB_WEBHOOK_SECRET.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { UnavailableError } from '../core/errors.js';
import type { CliContext } from './cli-context.js';
import { usageError } from './usage-error.js';

const REPO = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/;
const WEBHOOK_PATH = '/api/github/webhooks';

export function registerGithubCommand(program: Command, ctx: CliContext): void {
  const github = program.command('github').description('GitHub in token mode (GITHUB_TOKEN)');
  github
    .command('add-repo')
    .description("check the token's permissions on a repository and add devbot's webhook to it")
    .argument('<repository>', 'owner/name')
    .option('--webhook-url <url>', `where GitHub delivers events (default: DEVBOT_PUBLIC_URL${WEBHOOK_PATH})`)
    .option('--check-only', 'check the permissions, add no webhook')
    .addHelpText(
      'after',
      `
Needs GITHUB_TOKEN and GITHUB_WEBHOOK_SECRET. A fine-grained token needs, on the repository:
Metadata (read), Contents, Issues, Pull requests, Commit statuses and Webhooks (read and write),
and Actions (read) for CI follow-ups; a classic token needs the "repo" scope. The token's user
needs the admin role on the repository to add the webhook.`,
    )
    .action(
      async (repository: string, options: { webhookUrl?: string; checkOnly?: boolean }, command: Command) => {
        const match = REPO.exec(repository);
        if (!match) usageError(command, `${repository}: expected owner/name`);
        const [, owner = '', repo = ''] = match;
        ctx.exitCode = await addRepo(ctx, owner, repo, options);
      },
    );
}

async function addRepo(
  ctx: CliContext,
  owner: string,
  repo: string,
  options: { webhookUrl?: string; checkOnly?: boolean },
): Promise<number> {
  const config = loadConfig(ctx.env(), ctx.cwd);
  if (!config.GITHUB_TOKEN)
    throw new UnavailableError(
      'GITHUB_TOKEN is not set: create a personal access token and set it (see README, "Personal access token")',
    );
  const secret = config.GITHUB_WEBHOOK_SECRET;
  if (!secret) throw new UnavailableError('GITHUB_WEBHOOK_SECRET is not set (try: openssl rand -hex 32)');
  const base = config.DEVBOT_PUBLIC_URL?.replace(/\/+$/, '');
  const url = options.webhookUrl ?? (base ? `${base}${WEBHOOK_PATH}` : undefined);
  if (!url && !options.checkOnly)
    throw new UnavailableError(
      `no webhook URL: set DEVBOT_PUBLIC_URL to where GitHub reaches devbot, or pass --webhook-url`,
    );
  const { createTokenClient } = await import('../github/rest-client.js');
  const { checkTokenAccess } = await import('../github/token-access.js');
  const { createLogger } = await import('../observability/logger.js');
  const client = createTokenClient({
    token: config.GITHUB_TOKEN,
    baseUrl: config.GITHUB_API_URL,
    logger: createLogger({ level: 'silent' }),
    // A handful of calls, once: GitHub's one-write-a-second advice is for sustained traffic.
    throttle: false,
  });
  const access = await checkTokenAccess(client, config.GITHUB_TOKEN, owner, repo, {
    hooks: !options.checkOnly,
  });
  ctx.out(`token: ${access.kind}, user ${access.login}\n`);
  for (const name of access.optional) ctx.out(`optional, missing: ${name}\n`);
  if (access.missing.length > 0) {
    ctx.err(`devbot: the token lacks what devbot needs on ${owner}/${repo}:\n`);
    for (const name of access.missing) ctx.err(`  missing: ${name}\n`);
    ctx.err(
      access.kind === 'fine-grained'
        ? 'Edit the token (GitHub: Settings > Developer settings > Fine-grained tokens) and grant these, then run this again.\n'
        : 'Edit the token (GitHub: Settings > Developer settings > Tokens (classic)) and add these scopes, then run this again.\n',
    );
    return 1;
  }
  ctx.out(`permissions on ${owner}/${repo}: all there\n`);
  if (options.checkOnly || !url) return 0;
  const { ensureRepoWebhook, REPO_WEBHOOK_EVENTS } = await import('../github/repo-webhook.js');
  const hook = await ensureRepoWebhook(client, { owner, repo, url, secret });
  ctx.out(
    `webhook ${hook.action} on ${owner}/${repo} (id ${hook.id}): ${url}\n  events: ${REPO_WEBHOOK_EVENTS.join(', ')}\n` +
      `Label an issue "${config.GITHUB_TRIGGER_LABEL}" or comment "/devbot <what to do>" to start a task.\n`,
  );
  return 0;
}
