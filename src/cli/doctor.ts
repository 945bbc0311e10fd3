/**
 * `devbot doctor`: checks a configuration before it is deployed and says what to fix. Every probe
 * that touches the outside (Redis, Postgres, executables, bubblewrap, the E2B API) is injected
 * through DoctorDeps, so tests run it with fakes and no network. Output never contains a secret:
 * tokens are described by their shape, URLs by host and port, and every line is masked with the
 * configuration's secret values before it is returned.
 */
import { spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { constants, existsSync, readdirSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import {
  type AppArmorState,
  appArmorProblem,
  readAppArmorState,
  sandboxProfile,
} from '../../sandbox/local/apparmor.js';
import type { LaunchMode } from '../../sandbox/local/bwrap-args.js';
import {
  chooseLaunchMode,
  effectiveCapabilities,
  type LaunchDecision,
} from '../../sandbox/local/launch-mode.js';
import {
  type LocalSandboxHardening,
  localSandboxHardening,
} from '../../sandbox/local/local-sandbox-hardening.js';
import { type Config, ConfigError, type Env, hasLlm, loadConfig } from '../config/config.js';
import { configSecrets } from '../config/config-secrets.js';
import type { Role } from '../config/role.js';
import { errorMessage } from '../core/errors.js';
import { redactSecrets } from '../observability/redact.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface DoctorCheck {
  /** Short id, e.g. `redis`, `telegram.token`. */
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

export interface DoctorReport {
  /** false when any check failed (warnings do not fail). */
  ok: boolean;
  /** The role checked for: a check that role does not need is skipped. */
  role: Role;
  integrations: Record<'telegram' | 'github' | 'llm' | 'loki' | 'postgres' | 'redis' | 'sandbox', string>;
  checks: DoctorCheck[];
}

export type E2bKeyState = 'valid' | 'invalid' | 'unreachable';

export interface DoctorDeps {
  /** Resolves when a Redis at `url` answers PING. */
  pingRedis(url: string): Promise<void>;
  /** Resolves when a Postgres at `url` answers `SELECT 1`. */
  pingPostgres(url: string): Promise<void>;
  /** Absolute path of an executable on PATH, or null. */
  findExecutable(name: string): Promise<string | null>;
  /** null when bubblewrap can create a sandbox here; otherwise its error output. */
  tryBwrap(bwrapPath: string, mode?: LaunchMode): Promise<string | null>;
  /** How this process may start local sandboxes (root, and with which capabilities). */
  sandboxLaunch(): LaunchDecision;
  /** Whether AppArmor is on and which profiles are loaded (optional: no AppArmor check without it). */
  appArmor?(): Promise<AppArmorState>;
  /** What confinement local sandboxes get here (seccomp, cgroups, disk quotas). */
  sandboxHardening?(sandboxesDir: string, mode: LaunchMode): Promise<LocalSandboxHardening>;
  /** Asks the E2B API whether the key is accepted; `unreachable` when there is no network. */
  checkE2bKey(apiKey: string): Promise<E2bKeyState>;
  /**
   * GET `url` (an OpenAI-compatible `/models`) with the key as a bearer token: the HTTP status and,
   * when it answered with a model list, the model ids. Rejects when nothing answers.
   */
  probeLlm(url: string, apiKey: string | undefined): Promise<LlmProbe>;
  readFile(path: string): Promise<string>;
  /**
   * GET `<apiUrl>/user` with a personal token: the HTTP status, the login, and the classic
   * token's scopes (`x-oauth-scopes`; null for a fine-grained token). Rejects when nothing answers.
   */
  probeGithubToken?(apiUrl: string, token: string): Promise<GithubTokenProbe>;
}

export interface GithubTokenProbe {
  status: number;
  login?: string;
  scopes?: string | null;
}

export interface LlmProbe {
  status: number;
  models?: string[];
}

export interface DoctorOptions {
  /** Per-probe time limit. */
  timeoutMs?: number;
  /** Check only what this role needs (default: all). */
  role?: Role;
}

type Need = 'github' | 'llm' | 'sandbox' | 'git';

/**
 * What each role needs beyond the store, Redis, Telegram's settings and the gateway's secret.
 * The worker runs tasks (sandbox, git, the LLM's router and crew, GitHub pushes); the gateway
 * takes GitHub's webhooks; the bot only talks to Telegram and the store.
 */
const ROLE_NEEDS: Record<Role, readonly Need[]> = {
  all: ['github', 'llm', 'sandbox', 'git'],
  worker: ['github', 'llm', 'sandbox', 'git'],
  gateway: ['github'],
  bot: [],
};

const WHY_SKIPPED: Record<Need, string> = {
  github: 'webhooks arrive at the gateway and pushes happen in the worker',
  llm: 'the router and the crew run in the worker',
  sandbox: 'tasks run in the worker',
  git: 'repositories are checked out by the worker',
};

const STATUS_MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** Runs every check (probes in parallel) and returns the report; never throws. */
export async function runDoctor(
  config: Config,
  deps: DoctorDeps,
  options: DoctorOptions = {},
): Promise<DoctorReport> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const role = options.role ?? 'all';
  const probe = <T>(what: string, p: Promise<T>) => withTimeout(what, p, timeoutMs);
  const needed = (need: Need, check: () => Promise<DoctorCheck[]>): Promise<DoctorCheck[]> =>
    ROLE_NEEDS[role].includes(need)
      ? check()
      : Promise.resolve([
          { name: need, status: 'skip', detail: `not needed by --role ${role} (${WHY_SKIPPED[need]})` },
        ]);
  const groups = await Promise.all([
    Promise.resolve(checkTelegram(config)),
    needed('github', () => checkGithub(config, deps, probe)),
    Promise.resolve(checkLocalRepos(config)),
    needed('llm', () => checkLlm(config, deps, probe)),
    Promise.resolve(checkGateway(config)),
    checkPostgres(config, deps, probe, role),
    checkRedis(config, deps, probe),
    needed('sandbox', () => checkSandbox(config, deps, probe)),
    needed('git', () => checkGit(deps)),
  ]);
  const secrets = configSecrets(config);
  const checks = groups.flat().map((c) => redactCheck(c, secrets));
  return {
    ok: checks.every((c) => c.status !== 'fail'),
    role,
    integrations: integrations(config),
    checks,
  };
}

/**
 * Loads the configuration from an env and runs the doctor; a configuration that does not load is
 * reported as failed checks (one per problem) instead of an exception.
 */
export async function runDoctorFromEnv(
  env: Env,
  deps: DoctorDeps,
  options: DoctorOptions & { cwd?: string } = {},
): Promise<DoctorReport> {
  let config: Config;
  try {
    config = loadConfig(env, options.cwd);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const secrets = Object.values(env).filter((v): v is string => typeof v === 'string' && v.length >= 8);
    return {
      ok: false,
      role: options.role ?? 'all',
      integrations: integrationsFromEnv(env),
      checks: err.issues.map((issue) =>
        redactCheck(
          { name: 'config', status: 'fail', detail: issue, fix: 'fix the variable in .env' },
          secrets,
        ),
      ),
    };
  }
  return runDoctor(config, deps, options);
}

export interface DoctorCommandOptions {
  json?: boolean;
  role?: Role;
}

/**
 * The `devbot doctor [--json] [--role R]` command: prints the report and returns the exit code (1
 * when something must be fixed). The CLI calls it with the environment (.env under process.env).
 */
export async function doctorCommand(
  options: DoctorCommandOptions,
  env: Env,
  io: { write(text: string): void; deps?: DoctorDeps } = { write: (t) => process.stdout.write(t) },
): Promise<number> {
  const report = await runDoctorFromEnv(env, io.deps ?? defaultDoctorDeps(env), {
    ...(options.role ? { role: options.role } : {}),
  });
  io.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report));
  return report.ok ? 0 : 1;
}

/** Plain text for a terminal: one line per check, the fix indented under it, a verdict at the end. */
export function formatDoctorReport(report: DoctorReport): string {
  const lines = [report.role === 'all' ? 'devbot doctor' : `devbot doctor (--role ${report.role})`, ''];
  lines.push('integrations:');
  for (const [name, state] of Object.entries(report.integrations)) lines.push(`  ${name.padEnd(9)} ${state}`);
  lines.push('', 'checks:');
  const width = Math.max(...report.checks.map((c) => c.name.length), 4);
  for (const check of report.checks) {
    lines.push(`  [${STATUS_MARK[check.status]}] ${check.name.padEnd(width)}  ${check.detail}`);
    if (check.fix && (check.status === 'fail' || check.status === 'warn'))
      lines.push(`${' '.repeat(9 + width + 2)}fix: ${check.fix}`);
  }
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const warned = report.checks.filter((c) => c.status === 'warn').length;
  lines.push(
    '',
    failed > 0
      ? `${failed} problem(s) to fix before devbot can run${warned > 0 ? `, ${warned} warning(s)` : ''}.`
      : `ready${warned > 0 ? ` (${warned} warning(s))` : ''}.`,
  );
  return `${lines.join('\n')}\n`;
}

// --- checks -------------------------------------------------------------------------------------

function integrations(config: Config): DoctorReport['integrations'] {
  return {
    telegram: config.TELEGRAM_BOT_TOKEN
      ? `on (${config.TELEGRAM_WEBHOOK_URL ? 'webhook' : 'long polling'})`
      : 'off (TELEGRAM_BOT_TOKEN not set)',
    github: config.GITHUB_TOKEN
      ? 'on (personal access token, repository webhooks)'
      : config.GITHUB_APP_ID
        ? `on (App ${config.GITHUB_APP_ID})`
        : 'off (no GITHUB_TOKEN or GITHUB_APP_ID; an App created at /setup is loaded from the data directory)',
    llm: hasLlm(config)
      ? `on (${config.OPENAI_BASE_URL ? hostOf(config.OPENAI_BASE_URL) : 'OpenAI'}, model ${config.DEVBOT_MODEL})`
      : 'off (rules-only router; dev tasks fail until OPENAI_API_KEY or OPENAI_BASE_URL is set)',
    loki: config.LOKI_URL ? `on (${hostOf(config.LOKI_URL)})` : 'off (logs to stdout)',
    postgres: config.DATABASE_URL ? hostOf(config.DATABASE_URL) : `embedded PGlite in ${config.dataDir}`,
    redis: config.redisDefaulted ? `${hostOf(config.redisUrl)} (default)` : hostOf(config.redisUrl),
    sandbox: `${config.DEVBOT_SANDBOX} (network ${
      config.DEVBOT_SANDBOX_NETWORK === 'allowlist'
        ? `through the proxy to ${config.DEVBOT_SANDBOX_ALLOWED_DOMAINS.length} domains`
        : 'off'
    })`,
  };
}

function integrationsFromEnv(env: Env): DoctorReport['integrations'] {
  const on = (name: string) => (env[name] ? 'set' : 'not set');
  return {
    telegram: `TELEGRAM_BOT_TOKEN ${on('TELEGRAM_BOT_TOKEN')}`,
    github: `GITHUB_APP_ID ${on('GITHUB_APP_ID')}`,
    llm: `OPENAI_API_KEY ${on('OPENAI_API_KEY')}`,
    loki: `LOKI_URL ${on('LOKI_URL')}`,
    postgres: `DATABASE_URL ${on('DATABASE_URL')}`,
    redis: `REDIS_URL ${on('REDIS_URL')}`,
    sandbox: env['DEVBOT_SANDBOX'] || 'local',
  };
}

function checkTelegram(config: Config): DoctorCheck[] {
  const token = config.TELEGRAM_BOT_TOKEN;
  if (!token) return [{ name: 'telegram', status: 'skip', detail: 'off' }];
  const checks: DoctorCheck[] = [];
  // BotFather tokens are `<bot id>:<35 characters>`; the schema only checks the outline.
  const secretPart = token.slice(token.indexOf(':') + 1);
  checks.push(
    secretPart.length >= 30
      ? {
          name: 'telegram.token',
          status: 'ok',
          detail: `bot ${token.slice(0, token.indexOf(':'))}, shape ok`,
        }
      : {
          name: 'telegram.token',
          status: 'fail',
          detail: `the part after ':' has ${secretPart.length} characters; BotFather tokens have 35`,
          fix: 'copy the whole token from @BotFather into TELEGRAM_BOT_TOKEN',
        },
  );
  const ids = config.TELEGRAM_ALLOWED_USER_IDS;
  const bad = ids.filter((id) => !/^[1-9]\d*$/.test(id));
  if (ids.length === 0)
    checks.push({
      name: 'telegram.allowlist',
      status: 'warn',
      detail:
        'TELEGRAM_ALLOWED_USER_IDS is empty: the bot serves no one (it only replies with their user id)',
      fix: 'set TELEGRAM_ALLOWED_USER_IDS to numeric Telegram user ids, comma-separated',
    });
  else if (bad.length > 0)
    checks.push({
      name: 'telegram.allowlist',
      status: 'fail',
      detail: `${bad.length} entr${bad.length === 1 ? 'y is' : 'ies are'} not numeric user ids`,
      fix: 'use numeric ids (ask @userinfobot), not @usernames',
    });
  else checks.push({ name: 'telegram.allowlist', status: 'ok', detail: `${ids.length} user(s) allowed` });
  if (config.TELEGRAM_WEBHOOK_URL && !config.TELEGRAM_WEBHOOK_URL.startsWith('https://'))
    checks.push({
      name: 'telegram.webhook',
      status: 'fail',
      detail: 'TELEGRAM_WEBHOOK_URL is not https:// (Telegram only calls https webhooks)',
      fix: 'put the gateway behind TLS and use its https:// URL, or unset it to use long polling',
    });
  return checks;
}

/** Local repositories (DEVBOT_REPOS_DIR): the mode that needs nothing on GitHub. */
function checkLocalRepos(config: Config): DoctorCheck[] {
  const dir = config.DEVBOT_REPOS_DIR;
  if (!dir)
    return [
      {
        name: 'repos.local',
        status: 'skip',
        detail: 'off (set DEVBOT_REPOS_DIR to a directory of git repositories to work on local/<name>)',
      },
    ];
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, '.git')))
      .map((e) => e.name);
  } catch (err) {
    return [
      {
        name: 'repos.local',
        status: 'fail',
        detail: `DEVBOT_REPOS_DIR cannot be read: ${errorMessage(err)}`,
        fix: 'point DEVBOT_REPOS_DIR at an existing directory that holds git repositories',
      },
    ];
  }
  return [
    names.length > 0
      ? {
          name: 'repos.local',
          status: 'ok',
          detail: `mode local repositories: ${names.length} in ${dir} (local/${names.slice(0, 3).join(', local/')}${names.length > 3 ? ', ...' : ''})`,
        }
      : {
          name: 'repos.local',
          status: 'warn',
          detail: `mode local repositories: no git repository in ${dir}`,
          fix: 'clone or move repositories into it (each a directory with .git)',
        },
  ];
}

/** Which GitHub mode is active (token, App from the environment, App stored by /setup, none), checked. */
async function checkGithub(config: Config, deps: DoctorDeps, probe: Probe): Promise<DoctorCheck[]> {
  if (config.GITHUB_TOKEN) return checkGithubToken(config, deps, probe);
  if (!config.GITHUB_APP_ID) return checkStoredApp(config, deps);
  const checks: DoctorCheck[] = [
    { name: 'github.mode', status: 'ok', detail: 'GitHub App (from the environment)' },
    { name: 'github.app_id', status: 'ok', detail: `App ${config.GITHUB_APP_ID}` },
  ];
  checks.push(await checkPrivateKey(config, deps));
  checks.push(webhookSecretCheck(config.GITHUB_WEBHOOK_SECRET ?? '', 'here and in the App settings'));
  return checks;
}

function webhookSecretCheck(secret: string, where: string): DoctorCheck {
  return secret.length >= 20
    ? { name: 'github.webhook_secret', status: 'ok', detail: 'set' }
    : {
        name: 'github.webhook_secret',
        status: 'warn',
        detail: `only ${secret.length} characters: easy to guess`,
        fix: `use a random secret (openssl rand -hex 32) ${where}`,
      };
}

async function checkGithubToken(config: Config, deps: DoctorDeps, probe: Probe): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [
    {
      name: 'github.mode',
      status: 'ok',
      detail: 'personal access token (GITHUB_TOKEN), repository webhooks',
    },
    webhookSecretCheck(
      config.GITHUB_WEBHOOK_SECRET ?? '',
      'here and in every repository webhook (devbot github add-repo)',
    ),
  ];
  if (!deps.probeGithubToken) return checks;
  try {
    const answer = await probe(
      'GitHub',
      deps.probeGithubToken(config.GITHUB_API_URL, config.GITHUB_TOKEN ?? ''),
    );
    if (answer.status === 401)
      checks.push({
        name: 'github.token',
        status: 'fail',
        detail: 'GitHub does not accept GITHUB_TOKEN (401 Bad credentials): revoked, expired or mistyped',
        fix: 'create a new token (fine-grained, or classic with the repo scope) and set GITHUB_TOKEN',
      });
    else if (answer.status !== 200)
      checks.push({
        name: 'github.token',
        status: 'warn',
        detail: `GET /user answered ${answer.status}`,
        fix: `check that GITHUB_API_URL (${config.GITHUB_API_URL}) is GitHub's REST API`,
      });
    else {
      const kind =
        answer.scopes === null || answer.scopes === undefined
          ? 'fine-grained'
          : `classic, scopes: ${answer.scopes || 'none'}`;
      const classicWithoutRepo =
        typeof answer.scopes === 'string' &&
        !answer.scopes.split(',').some((s) => ['repo', 'public_repo'].includes(s.trim()));
      checks.push(
        classicWithoutRepo
          ? {
              name: 'github.token',
              status: 'fail',
              detail: `token of ${answer.login} (${kind}): cannot push or open pull requests`,
              fix: 'give the token the repo scope (or public_repo for public repositories only)',
            }
          : {
              name: 'github.token',
              status: 'ok',
              detail: `token of ${answer.login} (${kind}); devbot github add-repo owner/name checks a repository's permissions`,
            },
      );
    }
  } catch (err) {
    checks.push({
      name: 'github.token',
      status: 'warn',
      detail: `GitHub did not answer: ${errorMessage(err)}`,
      fix: `check the network and GITHUB_API_URL (${config.GITHUB_API_URL})`,
    });
  }
  return checks;
}

/** An App the manifest flow at /setup stored in the data directory, loaded when no env names one. */
async function checkStoredApp(config: Config, deps: DoctorDeps): Promise<DoctorCheck[]> {
  const file = join(config.dataDir, 'github-app.json');
  let text: string;
  try {
    text = await deps.readFile(file);
  } catch {
    return [
      {
        name: 'github',
        status: 'skip',
        detail:
          'off: set GITHUB_TOKEN + GITHUB_WEBHOOK_SECRET (token mode) or a GitHub App, or open /setup on the gateway (devbot setup github)',
      },
    ];
  }
  let app: { appId?: unknown; slug?: unknown; privateKey?: unknown; webhookSecret?: unknown };
  try {
    app = JSON.parse(text) as typeof app;
  } catch {
    app = {};
  }
  if (
    typeof app.appId !== 'string' ||
    typeof app.privateKey !== 'string' ||
    typeof app.webhookSecret !== 'string'
  )
    return [
      {
        name: 'github.mode',
        status: 'fail',
        detail: `${file} is not a GitHub App devbot stored (id, key or webhook secret missing)`,
        fix: 'remove the file and run /setup again, or set GITHUB_APP_ID and its key',
      },
    ];
  const checks: DoctorCheck[] = [
    {
      name: 'github.mode',
      status: 'ok',
      detail: `GitHub App ${String(app.slug)} (id ${app.appId}), created at /setup, stored in ${file}`,
    },
  ];
  checks.push(keyCheck(app.privateKey, `the key in ${file}`));
  checks.push(webhookSecretCheck(app.webhookSecret, 'in the App settings'));
  return checks;
}

async function checkPrivateKey(config: Config, deps: DoctorDeps): Promise<DoctorCheck> {
  let pem = config.GITHUB_PRIVATE_KEY;
  const from = pem ? 'GITHUB_PRIVATE_KEY' : 'GITHUB_PRIVATE_KEY_PATH';
  if (!pem && config.GITHUB_PRIVATE_KEY_PATH) {
    try {
      pem = await deps.readFile(config.GITHUB_PRIVATE_KEY_PATH);
    } catch (err) {
      return {
        name: 'github.private_key',
        status: 'fail',
        detail: `cannot read GITHUB_PRIVATE_KEY_PATH: ${errorMessage(err)}`,
        fix: 'point GITHUB_PRIVATE_KEY_PATH at the .pem file downloaded from the App settings',
      };
    }
  }
  return keyCheck(pem ?? '', from);
}

function keyCheck(pem: string, from: string): DoctorCheck {
  // One-line env files often carry the PEM with literal "\n"; Probot accepts that form too.
  const normalized = pem.replace(/\\n/g, '\n').trim();
  try {
    const key = createPrivateKey(normalized);
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`a ${key.asymmetricKeyType} key, not RSA`);
    return { name: 'github.private_key', status: 'ok', detail: `RSA private key (${from})` };
  } catch (err) {
    return {
      name: 'github.private_key',
      status: 'fail',
      // The parser's message never quotes the key, but it is masked below all the same.
      detail: `${from} is not a usable RSA private key: ${errorMessage(err)}`,
      fix: 'paste the whole PEM (-----BEGIN RSA PRIVATE KEY----- ...) from the App settings',
    };
  }
}

async function checkLlm(config: Config, deps: DoctorDeps, probe: Probe): Promise<DoctorCheck[]> {
  if (!hasLlm(config))
    return [
      {
        name: 'llm',
        status: 'warn',
        detail: 'no LLM configured: only /sh and rule-routed tasks work',
        fix: 'set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL (Ollama, vLLM, OpenRouter...)',
      },
    ];
  const checks: DoctorCheck[] = [];
  const key = config.OPENAI_API_KEY;
  if (!config.OPENAI_BASE_URL && key && !key.startsWith('sk-'))
    checks.push({
      name: 'llm.api_key',
      status: 'warn',
      detail: "OPENAI_API_KEY does not start with 'sk-' as OpenAI keys do",
      fix: 'check the key, or set OPENAI_BASE_URL if it belongs to another OpenAI-compatible server',
    });
  // The same base URL the openai SDK uses; /models is the cheapest call every compatible server has.
  const url = `${withoutCredentials(config.OPENAI_BASE_URL ?? 'https://api.openai.com/v1').replace(/\/+$/, '')}/models`;
  let answer: LlmProbe;
  try {
    answer = await probe('the LLM endpoint', deps.probeLlm(url, key));
  } catch (err) {
    checks.push({
      name: 'llm',
      status: 'fail',
      detail: `nothing answers at ${url}: ${errorMessage(err)}`,
      fix: config.OPENAI_BASE_URL
        ? 'start the LLM server or fix OPENAI_BASE_URL (most servers want the URL ending in /v1)'
        : 'check the network to api.openai.com, or set OPENAI_BASE_URL to another server',
    });
    return checks;
  }
  if (answer.status === 401 || answer.status === 403)
    checks.push({
      name: 'llm',
      status: 'fail',
      detail: `${url} refused the key (HTTP ${answer.status})`,
      fix: 'set OPENAI_API_KEY to a key this server accepts',
    });
  else if (answer.status < 200 || answer.status >= 300)
    checks.push({
      name: 'llm',
      status: 'fail',
      detail: `${url} answered HTTP ${answer.status}`,
      fix: 'check OPENAI_BASE_URL: it should be the OpenAI-compatible API root (most servers end it in /v1)',
    });
  else {
    checks.push({ name: 'llm', status: 'ok', detail: `${url} answers; model ${config.DEVBOT_MODEL}` });
    const models = answer.models ?? [];
    const wanted = [
      config.DEVBOT_MODEL,
      config.DEVBOT_MODEL_ROUTER,
      config.DEVBOT_MODEL_PLANNER,
      config.DEVBOT_MODEL_CODER,
      config.DEVBOT_MODEL_SYNTHESIZER,
    ].filter((m): m is string => Boolean(m));
    const missing = [...new Set(wanted)].filter((m) => !models.includes(m));
    if (models.length > 0 && missing.length > 0)
      checks.push({
        name: 'llm.model',
        status: 'warn',
        detail: `the server does not list ${missing.join(', ')}`,
        fix: `set DEVBOT_MODEL (and DEVBOT_MODEL_<ROLE>) to models it serves, e.g. ${models.slice(0, 3).join(', ')}`,
      });
  }
  return checks;
}

function checkGateway(config: Config): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  checks.push(
    config.DEVBOT_JWT_SECRET
      ? { name: 'jwt_secret', status: 'ok', detail: 'DEVBOT_JWT_SECRET set' }
      : {
          name: 'jwt_secret',
          status: 'ok',
          detail: `generated on first start into ${join(config.dataDir, 'jwt-secret')}`,
        },
  );
  if (!config.DEVBOT_PUBLIC_URL && config.NODE_ENV === 'production')
    checks.push({
      name: 'public_url',
      status: 'warn',
      detail: 'DEVBOT_PUBLIC_URL is not set: preview links will point at the bound address',
      fix: 'set DEVBOT_PUBLIC_URL to the https:// URL users reach the gateway at',
    });
  return checks;
}

type Probe = <T>(what: string, p: Promise<T>) => Promise<T>;

async function checkPostgres(
  config: Config,
  deps: DoctorDeps,
  probe: Probe,
  role: Role,
): Promise<DoctorCheck[]> {
  // `devbot start --role R` refuses the embedded database (it serves one process): say so here too.
  if (!config.DATABASE_URL && role !== 'all')
    return [
      {
        name: 'postgres',
        status: 'fail',
        detail: `--role ${role} needs DATABASE_URL: the embedded PGlite serves one process, and split roles share one PostgreSQL`,
        fix: 'set DATABASE_URL on every role, or run devbot start (all roles in one process)',
      },
    ];
  if (!config.DATABASE_URL)
    return [{ name: 'postgres', status: 'ok', detail: `embedded PGlite in ${config.dataDir}` }];
  const where = hostOf(config.DATABASE_URL);
  try {
    await probe('Postgres', deps.pingPostgres(config.DATABASE_URL));
    return [{ name: 'postgres', status: 'ok', detail: `reachable at ${where}` }];
  } catch (err) {
    return [
      {
        name: 'postgres',
        status: 'fail',
        detail: `cannot reach Postgres at ${where}: ${errorMessage(err)}`,
        fix: 'start PostgreSQL (with pgvector) or fix DATABASE_URL; unset it to use embedded PGlite',
      },
    ];
  }
}

async function checkRedis(config: Config, deps: DoctorDeps, probe: Probe): Promise<DoctorCheck[]> {
  const where = hostOf(config.redisUrl);
  try {
    await probe('Redis', deps.pingRedis(config.redisUrl));
    return [{ name: 'redis', status: 'ok', detail: `reachable at ${where}` }];
  } catch (err) {
    if (config.redisDefaulted && (await deps.findExecutable('redis-server')))
      return [
        {
          name: 'redis',
          status: 'warn',
          detail: `nothing answers at ${where}; devbot will start its own redis-server`,
          fix: 'set REDIS_URL for a shared Redis (needed with more than one process)',
        },
      ];
    return [
      {
        name: 'redis',
        status: 'fail',
        detail: `cannot reach Redis at ${where}: ${errorMessage(err)}`,
        fix: config.redisDefaulted
          ? 'set REDIS_URL=redis://host:6379 or install redis-server'
          : 'start Redis or fix REDIS_URL',
      },
    ];
  }
}

async function checkSandbox(config: Config, deps: DoctorDeps, probe: Probe): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  if (config.DEVBOT_SANDBOX === 'local') {
    const launch = deps.sandboxLaunch();
    checks.push(
      'unavailable' in launch
        ? {
            name: 'sandbox.privileges',
            status: 'fail',
            detail: launch.unavailable,
            fix: 'run the worker as root with the capabilities named (docs/operations.md, "Worker sandbox"), or set DEVBOT_SANDBOX=e2b',
          }
        : {
            name: 'sandbox.privileges',
            status: 'ok',
            detail:
              launch.mode === 'privileged'
                ? 'root with CAP_SYS_ADMIN: bubblewrap builds each sandbox as root, then drops to its uid'
                : 'root without CAP_SYS_ADMIN: each sandbox starts as its own uid, in a user namespace',
          },
    );
    const mode = 'mode' in launch ? launch.mode : 'privileged';
    const bwrap = await deps.findExecutable('bwrap');
    if (!bwrap)
      checks.push({
        name: 'sandbox.bwrap',
        status: 'fail',
        detail: 'bubblewrap (bwrap) is not installed',
        fix: 'apt-get install bubblewrap (dnf install bubblewrap), or set DEVBOT_SANDBOX=e2b',
      });
    else {
      const problem = await probe('bubblewrap', deps.tryBwrap(bwrap, mode)).catch((err: unknown) =>
        errorMessage(err),
      );
      checks.push(
        problem === null
          ? { name: 'sandbox.bwrap', status: 'ok', detail: `${bwrap} can create a sandbox` }
          : {
              name: 'sandbox.bwrap',
              status: 'fail',
              detail: `${bwrap} cannot create a sandbox: ${firstLine(problem)}`,
              fix: 'allow unprivileged user namespaces (in Docker: see docs/operations.md "Worker sandbox"), or set DEVBOT_SANDBOX=e2b',
            },
      );
      if (problem === null && deps.sandboxHardening)
        checks.push(...hardeningChecks(await deps.sandboxHardening(join(config.dataDir, 'sandboxes'), mode)));
    }
    if (deps.appArmor)
      checks.push(appArmorCheck(config, await deps.appArmor(), await deps.findExecutable('aa-exec')));
  }
  if (config.E2B_API_KEY) checks.push(await checkE2b(config.E2B_API_KEY, config.DEVBOT_SANDBOX, deps, probe));
  return checks;
}

/**
 * AppArmor is optional: asked for (DEVBOT_APPARMOR_PROFILE) and not applicable is a failure (the
 * sandbox refuses to start unconfined); loaded but not asked for is worth a warning.
 */
export function appArmorCheck(config: Config, state: AppArmorState, aaExec: string | null): DoctorCheck {
  const name = 'sandbox.apparmor';
  const base = config.DEVBOT_APPARMOR_PROFILE;
  if (base) {
    const profile = sandboxProfile(base, config.DEVBOT_SANDBOX_NETWORK === 'allowlist');
    const problem = appArmorProblem(state, [profile], aaExec);
    return problem
      ? {
          name,
          status: 'fail',
          detail: problem,
          fix: 'load the profile (docs/operations.md, "AppArmor") or unset DEVBOT_APPARMOR_PROFILE',
        }
      : {
          name,
          status: 'ok',
          detail: `sandboxes start under the AppArmor profile ${profile}${state.profiles === null ? ' (the loaded profiles could not be listed; the first sandbox proves it)' : ''}`,
        };
  }
  if (state.enabled === null) return { name, status: 'ok', detail: 'this kernel has no AppArmor (optional)' };
  if (!state.enabled) return { name, status: 'ok', detail: 'AppArmor is disabled on this host (optional)' };
  if (state.profiles?.includes('devbot-sandbox'))
    return {
      name,
      status: 'warn',
      detail: 'AppArmor is enabled and the devbot-sandbox profile is loaded, but sandboxes do not use it',
      fix: 'set DEVBOT_APPARMOR_PROFILE=devbot-sandbox',
    };
  return {
    name,
    status: 'ok',
    detail:
      'AppArmor is enabled; devbot\'s sandbox profile is not loaded (optional: docs/operations.md, "AppArmor")',
  };
}

/** seccomp is part of the boundary (fail without it); cgroups and quotas are limits (warn). */
function hardeningChecks(h: LocalSandboxHardening): DoctorCheck[] {
  const part = (name: string, ok: boolean, detail: string, fix: string, missing: CheckStatus): DoctorCheck =>
    ok ? { name, status: 'ok', detail } : { name, status: missing, detail, fix };
  return [
    part('sandbox.seccomp', h.seccomp.ok, h.seccomp.reason, 'apt-get install python3-seccomp', 'fail'),
    part(
      'sandbox.cgroup',
      h.cgroup.version !== null,
      h.cgroup.version ? `cgroup ${h.cgroup.version}: ${h.cgroup.reason}` : h.cgroup.reason,
      'give devbot a writable cgroup (v2 with memory and pids delegated, or v1) to limit whole sandboxes',
      'warn',
    ),
    part(
      'sandbox.disk_quota',
      h.diskQuota.workspace.ok && h.diskQuota.tmp.ok,
      `/workspace: ${h.diskQuota.workspace.reason}; /tmp: ${h.diskQuota.tmp.reason}`,
      'run the worker with CAP_SYS_ADMIN and e2fsprogs installed for the /workspace quota',
      'warn',
    ),
  ];
}

async function checkE2b(
  key: string,
  provider: Config['DEVBOT_SANDBOX'],
  deps: DoctorDeps,
  probe: Probe,
): Promise<DoctorCheck> {
  const needed = provider === 'e2b';
  if (!key.startsWith('e2b_'))
    return {
      name: 'sandbox.e2b_key',
      status: needed ? 'fail' : 'warn',
      detail: "E2B_API_KEY does not start with 'e2b_' as E2B keys do",
      fix: 'copy the API key from the E2B dashboard',
    };
  const state = await probe('E2B', deps.checkE2bKey(key)).catch((): E2bKeyState => 'unreachable');
  if (state === 'valid') return { name: 'sandbox.e2b_key', status: 'ok', detail: 'accepted by the E2B API' };
  if (state === 'invalid')
    return {
      name: 'sandbox.e2b_key',
      status: needed ? 'fail' : 'warn',
      detail: 'rejected by the E2B API (401/403)',
      fix: 'create a new key in the E2B dashboard',
    };
  return { name: 'sandbox.e2b_key', status: 'skip', detail: 'E2B API unreachable from here; key shape ok' };
}

async function checkGit(deps: DoctorDeps): Promise<DoctorCheck[]> {
  const git = await deps.findExecutable('git');
  return [
    git
      ? { name: 'git', status: 'ok', detail: git }
      : { name: 'git', status: 'fail', detail: 'git is not installed', fix: 'apt-get install git' },
  ];
}

// --- helpers ------------------------------------------------------------------------------------

/** A URL without user:password, for messages. */
function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/** host:port of a URL, never its credentials. */
function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return u.port ? `${u.hostname}:${u.port}` : u.hostname;
  } catch {
    return '(unparsable URL)';
  }
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

function withTimeout<T>(what: string, p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function redactCheck(check: DoctorCheck, secrets: readonly string[]): DoctorCheck {
  const out: DoctorCheck = { ...check, detail: redactSecrets(check.detail, secrets) };
  if (check.fix) out.fix = redactSecrets(check.fix, secrets);
  return out;
}

// --- real probes --------------------------------------------------------------------------------

/** The probes `devbot doctor` uses outside tests. */
export function defaultDoctorDeps(env: Env = process.env): DoctorDeps {
  return {
    async pingRedis(url) {
      const { Redis } = await import('ioredis');
      const client = new Redis(url, {
        lazyConnect: true,
        connectTimeout: 3000,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        enableOfflineQueue: false,
      });
      // connect() rejects with a bare "Connection is closed."; the error event says why.
      let cause: unknown;
      client.on('error', (err) => {
        cause ??= err;
      });
      try {
        await client.connect();
        await client.ping();
      } catch (err) {
        throw cause ?? err;
      } finally {
        client.disconnect();
      }
    },
    async pingPostgres(url) {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('SELECT 1');
      } finally {
        await client.end().catch(() => {});
      }
    },
    async findExecutable(name) {
      for (const dir of (env['PATH'] ?? '').split(delimiter)) {
        if (!dir) continue;
        const candidate = join(dir, name);
        try {
          await access(candidate, constants.X_OK);
          return candidate;
        } catch {}
      }
      return null;
    },
    sandboxLaunch() {
      return chooseLaunchMode(process.getuid?.(), effectiveCapabilities());
    },
    sandboxHardening: (baseDir, launchMode) => localSandboxHardening({ baseDir, launchMode }),
    appArmor: () => readAppArmorState(),
    tryBwrap(bwrapPath, mode = 'privileged') {
      // The same namespaces the local sandbox asks for, including a fresh /proc (the step Docker's
      // default profile breaks); in `userns` mode as an unprivileged uid, as sandboxes start there.
      const bwrapArgs = [
        '--unshare-all',
        '--die-with-parent',
        '--ro-bind',
        '/',
        '/',
        '--proc',
        '/proc',
        '--dev',
        '/dev',
        'true',
      ];
      const [command, args] =
        mode === 'userns'
          ? [
              '/usr/bin/setpriv',
              ['--reuid=65534', '--regid=65534', '--clear-groups', '--', bwrapPath, ...bwrapArgs],
            ]
          : [bwrapPath, bwrapArgs];
      return new Promise((resolvePromise) => {
        const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        child.on('error', (err) => resolvePromise(errorMessage(err)));
        child.on('close', (code) => resolvePromise(code === 0 ? null : stderr || `exit code ${code}`));
      });
    },
    async checkE2bKey(apiKey) {
      const base = env['E2B_API_URL'] ?? `https://api.${env['E2B_DOMAIN'] ?? 'e2b.app'}`;
      try {
        const res = await fetch(`${base}/sandboxes`, {
          headers: { 'X-API-KEY': apiKey },
          signal: AbortSignal.timeout(5000),
        });
        if (res.status === 401 || res.status === 403) return 'invalid';
        return res.ok ? 'valid' : 'unreachable';
      } catch {
        return 'unreachable';
      }
    },
    async probeLlm(url, apiKey) {
      const res = await fetch(url, {
        headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) {
        await res.body?.cancel();
        return { status: res.status };
      }
      // OpenAI's shape: { data: [{ id }] }; anything else still counts as an answer.
      const body = (await res.json().catch(() => null)) as { data?: { id?: unknown }[] } | null;
      const models = (body?.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
      return { status: res.status, models };
    },
    readFile: (path) => readFile(path, 'utf8'),
    async probeGithubToken(apiUrl, token) {
      const res = await fetch(`${apiUrl.replace(/\/+$/, '')}/user`, {
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/vnd.github+json',
          'user-agent': 'devbot',
        },
        signal: AbortSignal.timeout(5000),
      });
      const body = (await res.json().catch(() => null)) as { login?: unknown } | null;
      return {
        status: res.status,
        ...(typeof body?.login === 'string' ? { login: body.login } : {}),
        scopes: res.headers.get('x-oauth-scopes'),
      };
    },
  };
}
