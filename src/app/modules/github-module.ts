/**
 * The GitHub adapter as a module: the webhook route, the progress reporter (sticky comment and
 * check run) and the GitHub App as the repository host of the repo task handler. Enabled when
 * GITHUB_APP_ID is set (config validation already demands the secret and key with it).
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../../config/config.js';
import { UnavailableError } from '../../core/index.js';
import { GithubApp } from '../../github/github-app.js';
import { GithubRepoHost } from '../../github/github-repo-host.js';
import { GithubReporter } from '../../github/github-reporter.js';
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

/**
 * The page a check run, sticky comment or chat links to for a task. For now the task's API URL;
 * the dashboard's read-only share link replaces it here (one function to swap).
 */
export function taskPageUrl(config: Pick<Config, 'DEVBOT_PUBLIC_URL'>, taskId: string): string | undefined {
  const base = config.DEVBOT_PUBLIC_URL?.replace(/\/+$/, '');
  return base ? `${base}/tasks/${encodeURIComponent(taskId)}` : undefined;
}

export function createGithubModule(runtime: Runtime, options: GithubModuleOptions = {}): GithubModule | null {
  const { config } = runtime;
  if (!config.GITHUB_APP_ID || !config.GITHUB_WEBHOOK_SECRET) return null;
  const privateKey = readPrivateKey(config);
  runtime.secrets.add(privateKey);
  runtime.secrets.add(config.GITHUB_WEBHOOK_SECRET);
  const logger = runtime.logger.child({ component: 'github' });
  const app = new GithubApp({
    appId: config.GITHUB_APP_ID,
    privateKey,
    webhookSecret: config.GITHUB_WEBHOOK_SECRET,
    baseUrl: config.GITHUB_API_URL,
    appSlug: config.GITHUB_APP_SLUG,
    triggerLabel: config.GITHUB_TRIGGER_LABEL,
    ingress: runtime.ingress,
    tasks: runtime.store,
    pullRequests: new SqlPullRequestRecords(runtime.sql),
    ciFixAttempts: config.DEVBOT_CI_FIX_ATTEMPTS,
    logger,
    secrets: runtime.secrets,
    linkHosts: trustedLinkHosts(config.GITHUB_API_URL, [config.DEVBOT_PUBLIC_URL]),
    notices: new SqlNoticeLog(runtime.sql),
    ...(options.permissionTtlMs !== undefined ? { permissionTtlMs: options.permissionTtlMs } : {}),
    ...(options.throttle !== undefined ? { throttle: options.throttle } : {}),
  });
  const host = new GithubRepoHost(app);
  const reporter = new GithubReporter({
    octokit: (id) => app.installationOctokit(id),
    store: runtime.store,
    logger,
    detailsUrl: (taskId) => taskPageUrl(config, taskId),
    ...(options.minEditIntervalMs !== undefined ? { minEditIntervalMs: options.minEditIntervalMs } : {}),
  });
  return { name: 'github', routes: [app.route()], reporters: [reporter], app, host, reporter };
}
