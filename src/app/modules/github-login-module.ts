/**
 * Signing in with GitHub (`/login` in Telegram, issue 13): one-time states in Redis, the pages at
 * /auth/github/, and the link they store — the same `subject_links` row `devbot users link` writes.
 * Available when the GitHub App's OAuth client is known: GITHUB_CLIENT_ID/SECRET, or the client of
 * the App /setup stored (read when needed, so an App set up while devbot runs works at once).
 */
import type { LoginStates, SubjectAccess } from '../../core/index.js';
import { createGithubLoginRoute, type GithubOAuthClient, loginStartUrl } from '../../github/github-login.js';
import { readStoredGithubApp } from '../../github/stored-app.js';
import { RedisLoginStates } from '../../queue/redis-login-states.js';
import type { DevbotModule, Runtime } from '../runtime.js';

export interface GithubLoginModule extends DevbotModule {
  states: LoginStates;
  /**
   * A one-time start link for a subject, or null when there is no OAuth client; `label` names the
   * account on the confirmation page.
   */
  loginLink(subject: string, label?: string): Promise<string | null>;
}

export interface GithubLoginDeps {
  prefix: string;
  links: Pick<SubjectAccess, 'link'>;
  /** Told who was linked (the Telegram chat of the user). */
  onLinked?: (subject: string, login: string) => Promise<void>;
}

export function createGithubLoginModule(
  runtime: Pick<Runtime, 'config' | 'redis' | 'publicUrl' | 'logger' | 'secrets'>,
  deps: GithubLoginDeps,
): GithubLoginModule {
  const { config } = runtime;
  const client = (): GithubOAuthClient | null => {
    if (config.GITHUB_CLIENT_ID && config.GITHUB_CLIENT_SECRET)
      return { clientId: config.GITHUB_CLIENT_ID, clientSecret: config.GITHUB_CLIENT_SECRET };
    if (config.GITHUB_APP_ID || config.GITHUB_TOKEN) return null;
    const stored = readStoredGithubApp(config.dataDir);
    if (!stored?.clientId || !stored.clientSecret) return null;
    runtime.secrets.add(stored.clientSecret);
    return { clientId: stored.clientId, clientSecret: stored.clientSecret };
  };
  const states = new RedisLoginStates(runtime.redis, deps.prefix);
  const route = createGithubLoginRoute({
    client,
    githubUrl: config.GITHUB_URL,
    apiUrl: config.GITHUB_API_URL,
    publicUrl: runtime.publicUrl,
    states,
    links: deps.links,
    ...(deps.onLinked ? { onLinked: deps.onLinked } : {}),
    log: runtime.logger.child({ component: 'github-login' }),
  });
  return {
    name: 'github-login',
    routes: [route],
    states,
    loginLink: async (subject, label) =>
      client() ? loginStartUrl(runtime.publicUrl(), await states.create(subject, label)) : null,
  };
}
