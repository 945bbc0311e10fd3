/**
 * GitHub in one click: the `/setup` page and, while no GitHub credentials are configured, the
 * places a GitHub module set up later plugs into — the webhook route and the progress reporter
 * (the gateway and the worker took their lists at start). When the manifest flow completes, the
 * new App is stored, its module built and started, and `attach` hands it to the composition root
 * (repository host, authorizer, repo task handler): the next webhook is handled without a restart.
 *
 * In split roles only the process that served the callback attaches at once; the others load the
 * stored App at their next start.
 */
import { BadInputError, type Task, type TaskEvent, type TaskReporter } from '../../core/index.js';
import { createSetupRoutes, SETUP_CALLBACK, type SetupStatus } from '../../gateway/setup-routes.js';
import type { TokenIssuer } from '../../gateway/token-issuer.js';
import { buildAppManifest, convertManifestCode, loadAppYml } from '../../github/app-manifest.js';
import { GITHUB_WEBHOOK_PATH } from '../../github/github-app.js';
import { LOGIN_CALLBACK_PATH } from '../../github/github-login.js';
import { type StoredGithubApp, writeStoredGithubApp } from '../../github/stored-app.js';
import type { RawRoute } from '../../http/raw-route.js';
import { refuseRequest } from '../../http/refuse-request.js';
import type { DevbotModule, Runtime } from '../runtime.js';
import { createGithubModule, type GithubModule, type GithubModuleOptions } from './github-module.js';

export interface GithubSetupDeps {
  /** The GitHub module configured at start, or null (the setup page then offers the App). */
  initial: GithubModule | null;
  /** The App loaded from the data directory at start, if that is where `initial` came from. */
  stored: StoredGithubApp | null;
  tokens?: TokenIssuer;
  githubOptions?: GithubModuleOptions;
  /** Hands a module set up while running to the composition root. */
  attach(mod: GithubModule): void;
}

export interface GithubSetupModule extends DevbotModule {
  /** The GitHub module in use: configured at start, or set up since. */
  current(): GithubModule | null;
}

export function createGithubSetupModule(runtime: Runtime, deps: GithubSetupDeps): GithubSetupModule {
  const { config } = runtime;
  const logger = runtime.logger.child({ component: 'github-setup' });
  let current = deps.initial;
  let stored = deps.stored;
  let completing = false;

  const installUrl = (slug: string, htmlUrl?: string) =>
    `${htmlUrl ?? `${config.GITHUB_URL}/apps/${slug}`}/installations/new`;
  const status = (): SetupStatus | null => {
    if (!current) return null;
    if (current.mode === 'token')
      return { description: 'devbot uses a personal access token (GITHUB_TOKEN): nothing to set up here.' };
    const slug = current.app.appSlug;
    return {
      description: stored
        ? `devbot uses the GitHub App ${stored.name || slug}, created here on ${stored.createdAt.slice(0, 10)}.`
        : `devbot uses the GitHub App ${slug} configured in its environment (GITHUB_APP_ID).`,
      installUrl: installUrl(slug, stored?.htmlUrl),
    };
  };

  const complete = async (code: string) => {
    if (completing) throw new BadInputError('a setup is completing already: reload /setup in a moment');
    completing = true;
    try {
      const app = await convertManifestCode(config.GITHUB_API_URL, code);
      for (const secret of [app.privateKey, app.webhookSecret, app.clientSecret]) runtime.secrets.add(secret);
      const path = writeStoredGithubApp(config.dataDir, app);
      const mod = createGithubModule(runtime, deps.githubOptions, {
        appId: app.appId,
        privateKey: app.privateKey,
        webhookSecret: app.webhookSecret,
        slug: app.slug,
      });
      if (!mod) throw new Error('the stored App did not make a GitHub module');
      await mod.start?.();
      deps.attach(mod);
      current = mod;
      stored = app;
      logger.info({ appId: app.appId, slug: app.slug, file: path }, 'GitHub App created and in use');
      return { name: app.name || app.slug, installUrl: installUrl(app.slug, app.htmlUrl) };
    } finally {
      completing = false;
    }
  };

  const setup = createSetupRoutes({
    githubUrl: config.GITHUB_URL,
    configured: status,
    manifest: ({ name }) => {
      const base = runtime.publicUrl();
      return buildAppManifest(
        loadAppYml(),
        {
          webhookUrl: `${base}${GITHUB_WEBHOOK_PATH}`,
          callbackUrl: `${base}${SETUP_CALLBACK}`,
          loginCallbackUrl: `${base}${LOGIN_CALLBACK_PATH}`,
        },
        name,
      );
    },
    complete,
    warning: () =>
      config.DEVBOT_PUBLIC_URL
        ? null
        : `DEVBOT_PUBLIC_URL is not set, so the App's webhook would point at ${runtime.publicUrl()}, which GitHub cannot reach from the internet. Set DEVBOT_PUBLIC_URL and restart first, unless GitHub runs on this network.`,
    isAdmin: async (token) => {
      if (!deps.tokens) return false;
      return (await deps.tokens.verify(token)).scopes.includes('admin');
    },
    logger,
  });

  const routes: RawRoute[] = [setup];
  const reporters: TaskReporter[] = [];
  if (!deps.initial) {
    // The seams a module set up later plugs into.
    routes.push({
      prefix: GITHUB_WEBHOOK_PATH,
      handle: (req, res) => {
        const route = current?.routes?.find((r) => (req.url ?? '').startsWith(r.prefix));
        if (route) return route.handle(req, res);
        refuseRequest(res, 404, 'not_found', 'GitHub is not set up on this devbot yet: open /setup');
      },
    });
    reporters.push({
      name: 'github',
      accepts: (task: Task) => current?.reporters?.some((r) => r.accepts(task)) ?? false,
      onEvent: async (task: Task, event: TaskEvent) => {
        for (const r of current?.reporters ?? []) if (r.accepts(task)) await r.onEvent(task, event);
      },
    });
  }

  return {
    name: 'github-setup',
    routes,
    reporters,
    current: () => current,
    // A module attached while running is stopped with this one (the initial one stops itself).
    stop: async () => {
      if (current && current !== deps.initial) await current.stop?.();
    },
  };
}
