/**
 * The only reader of the environment. One zod schema over an injected env (process.env in main.ts,
 * a plain object in tests). A missing or malformed setting fails at start with a message that names
 * the variable and says what to put there.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

export { ROLES, type Role } from './role.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (def: number, min = 0) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .default(def);

const csv = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

/** Each entry: variable name -> [schema, one line of documentation used in error messages]. */
/** Package registries and source hosts: what `npm ci`, `pip install`, `go mod download` need. */
export const DEFAULT_ALLOWED_DOMAINS =
  'registry.npmjs.org,registry.yarnpkg.com,pypi.org,files.pythonhosted.org,codeload.github.com,objects.githubusercontent.com,proxy.golang.org,sum.golang.org,crates.io,static.crates.io,index.crates.io';

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** pretty: readable lines (pino-pretty); json: one JSON object a line. Unset: pretty on a terminal. */
  LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  LOKI_URL: z.url().optional(),
  PORT: z.coerce
    .number({ error: 'must be a port number (0-65535)' })
    .int('must be a port number (0-65535)')
    .min(0, 'must be a port number (0-65535)')
    .max(65_535, 'must be a port number (0-65535)')
    .default(3000),
  /** Loopback unless told otherwise: a zero-config devbot is not reachable from the network. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Public base URL of the gateway, used in preview links and Telegram/GitHub messages. */
  DEVBOT_PUBLIC_URL: z.url().optional(),
  /** Where the gateway reaches this worker process (split roles: local previews), when split. */
  DEVBOT_INTERNAL_URL: z
    .url()
    .transform((v) => v.replace(/\/+$/, ''))
    .optional(),
  DEVBOT_DATA_DIR: z.string().min(1).default('./.devbot'),
  /** A directory of git repositories: `local/<name>` is `<DEVBOT_REPOS_DIR>/<name>`. Unset: none. */
  DEVBOT_REPOS_DIR: z.string().min(1).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .optional(),
  DEVBOT_JWT_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters (try: openssl rand -hex 32)')
    .optional(),
  /** Bearer token /metrics asks for; unset, /metrics is open (keep it on an internal network). */
  DEVBOT_METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters (try: openssl rand -hex 32)')
    .optional(),
  /**
   * Redis key prefix for the queue and live events; keep the braces so Redis Cluster uses one slot.
   * Unset: `{devbot-<deployment id>}`, from the id stored in the database at the first start.
   */
  DEVBOT_QUEUE_PREFIX: z
    .string()
    .regex(/^\{[\w-]+\}$/, 'must look like {devbot}: a name in braces (a Redis Cluster hash tag)')
    .optional(),
  DEVBOT_RATE_LIMIT: int(120, 1),
  /** Task streams (WebSocket) one user may hold open at once on a gateway process. */
  DEVBOT_STREAMS_PER_USER: int(20, 1),
  DEVBOT_BODY_LIMIT: int(1_048_576, 1024),
  DEVBOT_CONCURRENCY: int(2, 1),
  DEVBOT_TASK_ATTEMPTS: int(3, 1),
  /** First retry delay; later retries double it. */
  DEVBOT_RETRY_BACKOFF_MS: int(2000, 0),
  DEVBOT_TASK_TIMEOUT_MS: int(30 * 60_000, 1000),
  /**
   * What waits for a person (a repository's `.devbot.yml` may override it): `none`, `plan` (dev tasks
   * stop after planning), `commands` (risky commands the crew wants to run ask first), or both as
   * `plan,commands`. The two are independent.
   */
  DEVBOT_APPROVAL: z
    .string()
    .default('none')
    .transform((v) =>
      v
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(
          z.enum(['none', 'plan', 'commands'], { error: 'must be none, plan, commands or plan,commands' }),
        )
        .transform((modes) => modes.filter((m) => m !== 'none')),
    ),
  /** Seconds a task waits for a person before it is cancelled (24 h). */
  DEVBOT_APPROVAL_TIMEOUT: int(24 * 3600, 1),
  /**
   * Seconds a risky command waits for a person before it counts as denied (15 min). The task keeps
   * running meanwhile, so the wait counts in DEVBOT_TASK_TIMEOUT_MS (not in the budget's wall time).
   */
  DEVBOT_COMMAND_APPROVAL_TIMEOUT: int(15 * 60, 1),
  /**
   * BullMQ lock and stall detection: a worker that dies holding a task (kill -9, a lost host) loses
   * it after the lock runs out, and the next stall check hands it to another worker, within about
   * lock + interval (20 s). The lock is renewed every third of its duration. Tests shorten both.
   */
  DEVBOT_STALLED_INTERVAL_MS: int(5000, 500),
  DEVBOT_LOCK_DURATION_MS: int(15_000, 500),
  /**
   * The whole shutdown (SIGTERM) ends within this, whatever is unreachable; below Kubernetes' 30 s
   * and docker-compose.yml's stop_grace_period (Docker's own default is 10 s).
   */
  DEVBOT_SHUTDOWN_GRACE_MS: int(25_000, 500),
  // Sandbox
  DEVBOT_SANDBOX: z.enum(['local', 'e2b']).default('local'),
  DEVBOT_PREVIEW_TTL: int(30 * 60, 1),
  /**
   * Previews on origins of their own: a URL whose host starts with `{token}.` (a wildcard DNS name
   * pointing at the gateway). Unset: under the gateway's origin at /preview/<token>/, sandboxed by CSP.
   */
  DEVBOT_PREVIEW_URL: z
    .string()
    .regex(
      /^https?:\/\/\{token\}\.[a-z0-9.-]+(:\d{1,5})?\/?$/i,
      'must look like https://{token}.preview.example.com (a wildcard host pointing at the gateway)',
    )
    .optional(),
  /** Previews running at once per worker; the least recently used stops first (and comes back when opened). */
  DEVBOT_PREVIEW_MAX: int(8, 1),
  DEVBOT_SANDBOX_TIMEOUT_MS: int(10 * 60_000, 1000),
  DEVBOT_SANDBOX_OUTPUT_LIMIT: int(1_000_000, 1024),
  DEVBOT_SANDBOX_MEMORY_MB: int(2048, 64),
  DEVBOT_SANDBOX_MAX_PROCS: int(256, 8),
  /** CPUs a local sandbox may use (a cgroup quota), its /workspace and /tmp sizes in MB. */
  DEVBOT_SANDBOX_CPUS: z.coerce
    .number({ error: 'must be a number' })
    .min(0.1, 'must be at least 0.1')
    .default(2),
  DEVBOT_SANDBOX_DISK_MB: int(4096, 16),
  DEVBOT_SANDBOX_TMP_MB: int(512, 16),
  /**
   * An AppArmor profile local sandboxes start under (infra/apparmor/devbot-sandbox, loaded by the
   * operator); unset: none. The `-net` variant is used when DEVBOT_SANDBOX_NETWORK=allowlist.
   */
  DEVBOT_APPARMOR_PROFILE: z
    .string()
    .regex(/^[\w.-]{1,100}$/, 'must be an AppArmor profile name (letters, digits, . _ -)')
    .optional(),
  /** `allowlist`: dev and shell sandboxes reach DEVBOT_SANDBOX_ALLOWED_DOMAINS through a proxy. */
  DEVBOT_SANDBOX_NETWORK: z.enum(['off', 'allowlist']).default('off'),
  DEVBOT_SANDBOX_ALLOWED_DOMAINS: z
    .string()
    .default(DEFAULT_ALLOWED_DOMAINS)
    .transform((v) =>
      v
        .split(',')
        .map((d) => d.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z
          .string()
          .regex(/^(\*\.|\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'must be a comma-separated list of domain names'),
      ),
    ),
  DEVBOT_CHAT_SANDBOX_RETENTION_DAYS: int(7, 1),
  E2B_API_KEY: z.string().min(1).optional(),
  E2B_TEMPLATE: z.string().min(1).optional(),
  // GitHub
  GITHUB_APP_ID: z.string().regex(/^\d+$/, 'must be the numeric App ID').optional(),
  GITHUB_PRIVATE_KEY: z.string().min(1).optional(),
  GITHUB_PRIVATE_KEY_PATH: z.string().min(1).optional(),
  GITHUB_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** A personal access token (classic or fine-grained): token mode, instead of an App. */
  GITHUB_TOKEN: z.string().min(1).optional(),
  /** GitHub's web address (GitHub Enterprise Server: its own); the App manifest form is posted there. */
  GITHUB_URL: z
    .url()
    .transform((v) => v.replace(/\/+$/, ''))
    .default('https://github.com'),
  /** The REST API; unset: derived from GITHUB_URL (api.github.com, or <GITHUB_URL>/api/v3). */
  GITHUB_API_URL: z
    .url()
    .transform((v) => v.replace(/\/+$/, ''))
    .optional(),
  GITHUB_APP_SLUG: z.string().min(1).default('devbot'),
  /**
   * The GitHub App's OAuth client (its settings page: Client ID, a client secret): Telegram users
   * link their GitHub login with /login. Unset: the App /setup created, if any.
   */
  GITHUB_CLIENT_ID: z.string().min(1).optional(),
  GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
  GITHUB_TRIGGER_LABEL: z.string().min(1).default('devbot'),
  GITHUB_PR_DRAFT: bool.default(false),
  DEVBOT_CI_FIX_ATTEMPTS: int(2, 0),
  // Telegram
  TELEGRAM_BOT_TOKEN: z
    .string()
    .regex(/^\d+:[\w-]+$/, 'must look like 123456:ABC-DEF... (from @BotFather)')
    .optional(),
  TELEGRAM_ALLOWED_USER_IDS: csv,
  /** Allowed users who may also approve, revise or cancel other people's tasks. */
  TELEGRAM_ADMIN_USER_IDS: csv,
  TELEGRAM_WEBHOOK_URL: z.url().optional(),
  TELEGRAM_WEBHOOK_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,256}$/, 'may contain only A-Z, a-z, 0-9, _ and -')
    .optional(),
  TELEGRAM_API_ROOT: z
    .url()
    .refine((v) => !v.endsWith('/'), 'must not end with /')
    .default('https://api.telegram.org'),
  // LLM
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url().optional(),
  DEVBOT_MODEL: z.string().min(1).default('gpt-4o-mini'),
  DEVBOT_MODEL_ROUTER: z.string().min(1).optional(),
  DEVBOT_MODEL_PLANNER: z.string().min(1).optional(),
  DEVBOT_MODEL_CODER: z.string().min(1).optional(),
  DEVBOT_MODEL_SYNTHESIZER: z.string().min(1).optional(),
  DEVBOT_EMBEDDING_MODEL: z.string().min(1).optional(),
  DEVBOT_BUDGET_TOKENS: int(400_000, 1),
  DEVBOT_BUDGET_COST_USD: z.coerce.number().positive().default(2),
  DEVBOT_BUDGET_TOOL_CALLS: int(60, 1),
  DEVBOT_BUDGET_WALL_MS: int(20 * 60_000, 1000),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends Omit<RawConfig, 'GITHUB_API_URL'> {
  /** GITHUB_API_URL, or the API of GITHUB_URL. */
  GITHUB_API_URL: string;
  /** Absolute data directory. */
  dataDir: string;
  /** true when REDIS_URL was not set (devbot may start a private redis-server). */
  redisDefaulted: boolean;
  redisUrl: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

/** Parses the environment once. Empty strings count as unset, so `FOO=` in .env means "default". */
export function loadConfig(env: Env, cwd: string = process.cwd()): Config {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const got = cleaned[name];
        return `${name}: ${issue.message}${got === undefined ? ' (it is not set)' : ''}; see .env.example`;
      }),
    );
  }
  const raw = parsed.data;
  const problems: string[] = [];
  const appAny = raw.GITHUB_APP_ID || raw.GITHUB_PRIVATE_KEY || raw.GITHUB_PRIVATE_KEY_PATH;
  if (raw.GITHUB_TOKEN) {
    // Token mode: repository webhooks signed with GITHUB_WEBHOOK_SECRET, no App.
    if (appAny)
      problems.push(
        'GITHUB_TOKEN: set either a personal token (GITHUB_TOKEN) or a GitHub App (GITHUB_APP_ID and its key), not both',
      );
    if (!raw.GITHUB_WEBHOOK_SECRET)
      problems.push(
        'GITHUB_WEBHOOK_SECRET: required with GITHUB_TOKEN: the secret the repository webhooks sign with (try: openssl rand -hex 32)',
      );
  } else if (appAny || raw.GITHUB_WEBHOOK_SECRET) {
    if (!raw.GITHUB_APP_ID)
      problems.push(
        'GITHUB_APP_ID: set the numeric App ID to enable the GitHub App (or GITHUB_TOKEN for token mode)',
      );
    if (!raw.GITHUB_WEBHOOK_SECRET)
      problems.push('GITHUB_WEBHOOK_SECRET: set the webhook secret you gave the GitHub App');
    if (!raw.GITHUB_PRIVATE_KEY && !raw.GITHUB_PRIVATE_KEY_PATH)
      problems.push(
        'GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH: set the App private key (PEM) or its path',
      );
  }
  if (Boolean(raw.GITHUB_CLIENT_ID) !== Boolean(raw.GITHUB_CLIENT_SECRET))
    problems.push(
      "GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET: set both (the GitHub App's OAuth client, for /login) or neither",
    );
  if (raw.DEVBOT_SANDBOX === 'e2b' && !raw.E2B_API_KEY)
    problems.push('E2B_API_KEY: required when DEVBOT_SANDBOX=e2b (get one at e2b.dev)');
  if (raw.TELEGRAM_WEBHOOK_URL && !raw.TELEGRAM_WEBHOOK_SECRET)
    problems.push(
      'TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL so forged updates are rejected',
    );
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = isAbsolute(raw.DEVBOT_DATA_DIR) ? raw.DEVBOT_DATA_DIR : resolve(cwd, raw.DEVBOT_DATA_DIR);
  return {
    ...raw,
    GITHUB_API_URL: raw.GITHUB_API_URL ?? githubApiUrl(raw.GITHUB_URL),
    dataDir,
    redisDefaulted: raw.REDIS_URL === undefined,
    redisUrl: raw.REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
}

/** The REST API of a GitHub web address: api.github.com for github.com, /api/v3 on GitHub Enterprise Server. */
export function githubApiUrl(webUrl: string): string {
  const url = new URL(webUrl);
  if (url.hostname === 'github.com' || url.hostname === 'www.github.com') return 'https://api.github.com';
  return `${webUrl.replace(/\/+$/, '')}/api/v3`;
}

/** Whether an LLM is configured (router beyond rules, crew). */
export function hasLlm(config: Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL'>): boolean {
  return Boolean(config.OPENAI_API_KEY || config.OPENAI_BASE_URL);
}
