/**
 * The GitHub adapter as a DevbotModule: the webhook route, the `dev`/`followup` repo pipeline
 * and the progress reporter. Enabled when GITHUB_APP_ID is set (config validation already
 * demands the secret and key with it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config/config.js';
import { UnavailableError } from './core/errors.js';
import type { TaskHandler } from './core/ports.js';
import { RepoWorkspaces } from './git/repo-workspaces.js';
import type { RunAgent } from './github/agent-result.js';
import { GithubApp } from './github/github-app.js';
import { GithubReporter } from './github/github-reporter.js';
import { createRepoTaskHandler } from './github/repo-task-handler.js';
import { shellCommandAgent } from './github/shell-command-agent.js';
import type { DevbotModule, ModuleFactory, Runtime } from './runtime.js';

export interface GithubModuleOptions {
  /** Does the work in the sandbox; default: run `task.input.command` (the crew plugs in here). */
  runAgent?: RunAgent;
  /** Minimum ms between two edits of a sticky comment (default 2000). */
  minEditIntervalMs?: number;
  permissionTtlMs?: number;
  /** Octokit write throttling (default on; off against the tests' fake GitHub). */
  throttle?: boolean;
}

export interface GithubModule extends DevbotModule {
  /** The same pipeline around another agent (for the agents module's `repoPipeline` option). */
  repoPipeline(runAgent: RunAgent): { dev: TaskHandler; followup: TaskHandler };
  github: GithubApp;
  reporter: GithubReporter;
  workspaces: RepoWorkspaces;
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

export function createGithubModule(runtime: Runtime, options: GithubModuleOptions = {}): GithubModule | null {
  const { config } = runtime;
  if (!config.GITHUB_APP_ID || !config.GITHUB_WEBHOOK_SECRET) return null;
  const privateKey = readPrivateKey(config);
  runtime.secrets.add(privateKey);
  runtime.secrets.add(config.GITHUB_WEBHOOK_SECRET);
  const logger = runtime.logger.child({ component: 'github' });
  const github = new GithubApp({
    appId: config.GITHUB_APP_ID,
    privateKey,
    webhookSecret: config.GITHUB_WEBHOOK_SECRET,
    baseUrl: config.GITHUB_API_URL,
    appSlug: config.GITHUB_APP_SLUG,
    triggerLabel: config.GITHUB_TRIGGER_LABEL,
    ingress: runtime.ingress,
    logger,
    secrets: runtime.secrets,
    ...(options.permissionTtlMs !== undefined ? { permissionTtlMs: options.permissionTtlMs } : {}),
    ...(options.throttle !== undefined ? { throttle: options.throttle } : {}),
  });
  const workspaces = new RepoWorkspaces({ root: join(config.dataDir, 'git'), logger });
  const pipeline = (runAgent: RunAgent): TaskHandler =>
    createRepoTaskHandler({
      github,
      workspaces,
      sandboxes: runtime.sandboxes,
      runAgent,
      logger,
      draft: config.GITHUB_PR_DRAFT,
      sandboxTimeoutMs: config.DEVBOT_SANDBOX_TIMEOUT_MS,
      previewTtlMs: config.DEVBOT_PREVIEW_TTL * 1000,
      network: config.DEVBOT_SANDBOX_NETWORK === 'allowlist',
    });
  const handler = pipeline(options.runAgent ?? shellCommandAgent());
  const reporter = new GithubReporter({
    octokit: (id) => github.installationOctokit(id),
    store: runtime.store,
    logger,
    ...(options.minEditIntervalMs !== undefined ? { minEditIntervalMs: options.minEditIntervalMs } : {}),
  });
  return {
    name: 'github',
    routes: [github.route()],
    handlers: { dev: handler, followup: handler },
    repoPipeline: (runAgent) => {
      const h = pipeline(runAgent);
      return { dev: h, followup: h };
    },
    reporters: [reporter],
    github,
    reporter,
    workspaces,
  };
}

/** The module factory main.ts wires: `modules: [..., githubModule()]`. */
export function githubModule(options: GithubModuleOptions = {}): ModuleFactory {
  return (runtime) => createGithubModule(runtime, options);
}
