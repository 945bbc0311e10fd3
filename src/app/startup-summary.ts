import { type Config, hasLlm, type Role } from '../config/config.js';

export interface StartupFacts {
  role: Role;
  /** What the store turned out to be. */
  store: 'postgres' | 'pglite';
  /** Where Redis answers, and whether devbot started it. */
  redis: { url: string; private: boolean };
  /** The queue prefix (DEVBOT_QUEUE_PREFIX, or the one derived from the deployment's id). */
  prefix: string;
  /** Where the gateway listens. */
  url: string;
  /** The base URL links point at. */
  publicUrl: string;
  /** The GitHub App /setup created and stored, when that is what GitHub runs on. */
  storedGithubApp?: string;
}

export interface StartupSummary {
  /** One line for people: each part, and for what is off, why and what turns it on. */
  text: string;
  /** The same parts by name, for log queries. */
  parts: Record<'store' | 'queue' | 'sandbox' | 'llm' | 'github' | 'telegram' | 'publicUrl', string>;
}

/**
 * What a started devbot runs on, in one line: the store, the queue, the sandbox, the LLM, GitHub,
 * Telegram and the public URL. An operator reading the first screen of logs learns what is on and
 * what to set for what is off, without reading the configuration.
 */
function githubHost(config: Config): string {
  return config.GITHUB_API_URL === 'https://api.github.com' ? 'github.com' : hostPort(config.GITHUB_API_URL);
}

export function startupSummary(config: Config, facts: StartupFacts): StartupSummary {
  const runsTasks = facts.role === 'all' || facts.role === 'worker';
  const parts: StartupSummary['parts'] = {
    store:
      facts.store === 'postgres' && config.DATABASE_URL
        ? `PostgreSQL at ${hostPort(config.DATABASE_URL)}`
        : `PGlite in ${config.dataDir}/pglite`,
    queue: `${safeUrl(facts.redis.url)} (${facts.redis.private ? 'private redis-server started by devbot' : 'external'}), prefix ${facts.prefix}`,
    sandbox: runsTasks
      ? `${config.DEVBOT_SANDBOX === 'e2b' ? 'E2B' : 'local bubblewrap'}, network ${
          config.DEVBOT_SANDBOX_NETWORK === 'allowlist'
            ? `allowlist (${config.DEVBOT_SANDBOX_ALLOWED_DOMAINS.length} domains)`
            : 'off'
        }`
      : `not used by --role ${facts.role}`,
    llm: hasLlm(config)
      ? `${llmEndpoint(config)}, models ${models(config)}`
      : 'off: set OPENAI_API_KEY or OPENAI_BASE_URL',
    github: config.GITHUB_TOKEN
      ? `personal token, repository webhooks (${githubHost(config)})`
      : config.GITHUB_APP_ID
        ? `App ${config.GITHUB_APP_ID} (${githubHost(config)})`
        : facts.storedGithubApp
          ? `App ${facts.storedGithubApp}, created at /setup (${githubHost(config)})`
          : 'off: set GITHUB_TOKEN (token mode) or GITHUB_APP_ID and its key, or open /setup',
    telegram: config.TELEGRAM_BOT_TOKEN
      ? `on (${config.TELEGRAM_WEBHOOK_URL ? 'webhook' : 'long polling'}, ${config.TELEGRAM_ALLOWED_USER_IDS.length} allowed user(s))`
      : 'off: set TELEGRAM_BOT_TOKEN',
    publicUrl: config.DEVBOT_PUBLIC_URL
      ? facts.publicUrl
      : `${facts.publicUrl} (the bound address: set DEVBOT_PUBLIC_URL for links others can open)`,
  };
  const text = [
    `listening on ${facts.url} as ${facts.role}`,
    `store: ${parts.store}`,
    `queue: ${parts.queue}`,
    `sandbox: ${parts.sandbox}`,
    `LLM: ${parts.llm}`,
    `GitHub: ${parts.github}`,
    `Telegram: ${parts.telegram}`,
    `public URL: ${parts.publicUrl}`,
  ].join(' | ');
  return { text, parts };
}

function llmEndpoint(config: Config): string {
  return config.OPENAI_BASE_URL ? hostPort(config.OPENAI_BASE_URL, true) : 'OpenAI (api.openai.com)';
}

/** The default model, then any role that uses another one. */
function models(config: Config): string {
  const roles = [
    ['router', config.DEVBOT_MODEL_ROUTER],
    ['planner', config.DEVBOT_MODEL_PLANNER],
    ['coder', config.DEVBOT_MODEL_CODER],
    ['synthesizer', config.DEVBOT_MODEL_SYNTHESIZER],
  ] as const;
  const overrides = roles.filter(([, m]) => m && m !== config.DEVBOT_MODEL).map(([r, m]) => `${r} ${m}`);
  return [config.DEVBOT_MODEL, ...overrides].join(', ');
}

/** host:port (and the path when asked) of a URL: never its user or password. */
function hostPort(url: string, withPath = false): string {
  try {
    const u = new URL(url);
    const path = withPath && u.pathname !== '/' ? u.pathname.replace(/\/+$/, '') : '';
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${path}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** A URL without user and password. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${hostPort(url, true)}`;
  } catch {
    return '(unparsable URL)';
  }
}
