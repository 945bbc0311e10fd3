/**
 * The GitHub adapter as a module: the webhook route, the progress reporter (sticky comment and
 * check run, or commit status in token mode) and GitHub as the repository host of the repo task
 * handler. Enabled when GITHUB_APP_ID is set (App mode; config validation already demands the
 * secret and key with it) or GITHUB_TOKEN (token mode: repository webhooks, a personal token).
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../../config/config.js';
import { type ShareLinks, UnavailableError } from '../../core/index.js';
import { GithubApp, type GithubAppOptions } from '../../github/github-app.js';
import { GithubRepoHost } from '../../github/github-repo-host.js';
import { GithubReporter } from '../../github/github-reporter.js';
import { createTokenClient } from '../../github/rest-client.js';
import { TokenAuth } from '../../github/token-auth.js';
import { SqlNoticeLog } from '../../store/sql-notice-log.js';
import { SqlPullRequestRecords } from '../../store/sql-pull-request-records.js';
import type { DevbotModule, Runtime } from '../runtime.js';

export interface GithubModuleOptions {
  /** Minimum ms between two edits of a sticky comment (default 2000). */
  minEditIntervalMs?: number;
  permissionTtlMs?: number;
  /** Octokit write throttling (default on; off against the tests' fake GitHub). */
  throttle?: boolean;
}

export interface GithubModule extends DevbotModule {
  /** app: a GitHub App; token: a personal access token with repository webhooks. */
  mode: 'app' | 'token';
  app: GithubApp;
  host: GithubRepoHost;
  reporter: GithubReporter;
}

export function readPrivateKey(
  config: Pick<Config, 'GITHUB_PRIVATE_KEY' | 'GITHUB_PRIVATE_KEY_PATH'>,
): string {
  // .env files often carry the PEM on one line with literal \n.
  if (config.GITHUB_PRIVATE_KEY) return config.GITHUB_PRIVATE_KEY.replace(/\\n/g, '\n');
  if (config.GITHUB_PRIVATE_KEY_PATH) {
    try {
      return readFileSync(config.GITHUB_PRIVATE_KEY_PATH, 'utf8');
    } catch (err) {
      throw new UnavailableError(
        `GITHUB_PRIVATE_KEY_PATH: cannot read ${config.GITHUB_PRIVATE_KEY_PATH}; set it to the App's .pem file`,
        { cause: err },
      );
    }
  }
  throw new UnavailableError('GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH: set the App private key');
}

/**
 * GitHub's own web and content hosts for its API URL (api.github.com -> github.com; a GitHub
 * Enterprise Server's /api/v3 host stays itself), plus devbot's own URLs.
 */
export function trustedLinkHosts(apiUrl: string, ownUrls: readonly (string | undefined)[]): string[] {
  const hosts = new Set<string>();
  const add = (url: string | undefined) => {
    if (!url) return;
    try {
      hosts.add(new URL(url).hostname.toLowerCase());
    } catch {}
  };
  add(apiUrl);
  for (const h of [...hosts]) if (h.startsWith('api.')) hosts.add(h.slice(4));
  if (hosts.has('github.com')) hosts.add('githubusercontent.com');
  for (const url of ownUrls) add(url);
  return [...hosts];
}

/** The App's credentials (App mode), or null when the config names none. */
export interface GithubAppCredentials {
  appId: string;
  privateKey: string;
  webhookSecret: string;
  /** The App's slug (its bot is `<slug>[bot]`). */
  slug: string;
}

/**
 * The page a check run or commit status links to for a task: its read-only share link on the
 * dashboard, when devbot has a public URL GitHub's users can open.
 */
export async function taskPageUrl(
  config: Pick<Config, 'DEVBOT_PUBLIC_URL'>,
  shareLinks: Pick<ShareLinks, 'urlFor'>,
  taskId: string,
): Promise<string | undefined> {
  if (!config.DEVBOT_PUBLIC_URL) return undefined;
  return shareLinks.urlFor(taskId).catch(() => undefined);
}

export function createGithubModule(
  runtime: Runtime,
  options: GithubModuleOptions = {},
  /** Credentials from elsewhere than the environment (the manifest flow's stored App). */
  stored?: GithubAppCredentials,
): GithubModule | null {
  const { config } = runtime;
  const logger = runtime.logger.child({ component: 'github' });
  let credentials: Pick<GithubAppOptions, 'appId' | 'privateKey' | 'token'>;
  let webhookSecret: string;
  let appSlug = config.GITHUB_APP_SLUG;
  let mode: GithubModule['mode'] = 'app';
  if (config.GITHUB_TOKEN && config.GITHUB_WEBHOOK_SECRET) {
    mode = 'token';
    runtime.secrets.add(config.GITHUB_TOKEN);
    const client = createTokenClient({
      token: config.GITHUB_TOKEN,
      baseUrl: config.GITHUB_API_URL,
      logger: logger.child({ component: 'octokit' }),
      ...(options.throttle !== undefined ? { throttle: options.throttle } : {}),
    });
    credentials = { token: new TokenAuth(config.GITHUB_TOKEN, client) };
    webhookSecret = config.GITHUB_WEBHOOK_SECRET;
  } else if (config.GITHUB_APP_ID && config.GITHUB_WEBHOOK_SECRET) {
    credentials = { appId: config.GITHUB_APP_ID, privateKey: readPrivateKey(config) };
    webhookSecret = config.GITHUB_WEBHOOK_SECRET;
  } else if (stored) {
    credentials = { appId: stored.appId, privateKey: stored.privateKey };
    webhookSecret = stored.webhookSecret;
    appSlug = stored.slug;
  } else return null;
  if (credentials.privateKey) runtime.secrets.add(credentials.privateKey);
  runtime.secrets.add(webhookSecret);
  const app = new GithubApp({
    ...credentials,
    webhookSecret,
    baseUrl: config.GITHUB_API_URL,
    appSlug,
    triggerLabel: config.GITHUB_TRIGGER_LABEL,
    ingress: runtime.ingress,
    tasks: runtime.store,
    pullRequests: new SqlPullRequestRecords(runtime.sql),
    ciFixAttempts: config.DEVBOT_CI_FIX_ATTEMPTS,
    logger,
    secrets: runtime.secrets,
    linkHosts: trustedLinkHosts(config.GITHUB_API_URL, [config.DEVBOT_PUBLIC_URL, config.GITHUB_URL]),
    notices: new SqlNoticeLog(runtime.sql),
    taskCommands: {
      approvals: runtime.approvals,
      activeTask: async (repo, issueNumber) => {
        const [task] = await runtime.store.listTasks({
          githubIssue: { repo, issueNumber },
          unfinished: true,
          limit: 1,
        });
        return task ?? null;
      },
    },
    ...(options.permissionTtlMs !== undefined ? { permissionTtlMs: options.permissionTtlMs } : {}),
    ...(options.throttle !== undefined ? { throttle: options.throttle } : {}),
  });
  const host = new GithubRepoHost(app);
  const reporter = new GithubReporter({
    octokit: (id) => app.installationOctokit(id),
    store: runtime.store,
    logger,
    headReport: mode === 'token' ? 'commit-status' : 'check-run',
    detailsUrl: (taskId) => taskPageUrl(config, runtime.shareLinks, taskId),
    ...(options.minEditIntervalMs !== undefined ? { minEditIntervalMs: options.minEditIntervalMs } : {}),
  });
  const token = credentials.token;
  return {
    name: 'github',
    mode,
    routes: [app.route()],
    reporters: [reporter],
    app,
    host,
    reporter,
    // Token mode: who the token is, asked once at start; a bad token is said at once, not at the first event.
    ...(token
      ? {
          start: async () => {
            await token.user().then(
              (u) => logger.info({ login: u.login }, "GitHub token mode: acting as the token's user"),
              (err: unknown) =>
                logger.warn(
                  { err },
                  'GITHUB_TOKEN: GitHub did not accept the token (GET /user failed); run devbot doctor',
                ),
            );
          },
        }
      : {}),
  };
}
