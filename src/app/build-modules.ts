/**
 * Builds every adapter module in one fixed order, each from what the ones before it provide, and
 * the one handler table from them. The only place that knows every adapter.
 */
import { join, resolve } from 'node:path';
import {
  ForbiddenError,
  type PreviewAnswer,
  type PreviewRevivalRequests,
  type TaskHandler,
} from '../core/index.js';
import type { PreviewDirectory } from '../gateway/preview-directory.js';
import type { PreviewRegistry } from '../gateway/preview-registry.js';
import type { TokenIssuer } from '../gateway/token-issuer.js';
import { LocalRepoHost } from '../git/local-repo-host.js';
import { RepoWorkspaces } from '../git/repo-workspaces.js';
import { readStoredGithubApp } from '../github/stored-app.js';
import { SqlChatRepoLinks } from '../store/sql-chat-repo-links.js';
import { SqlPullRequestRecords } from '../store/sql-pull-request-records.js';
import { SqlSubjectAccess } from '../store/sql-subject-access.js';
import { escapeHtml } from '../telegram/telegram-text.js';
import { createRepoTaskHandler } from '../worker/handlers/repo-task-handler.js';
import { PreviewRevival } from '../worker/preview-revival.js';
import { RepoAuthorizer } from '../worker/repo-authorizer.js';
import { RepoHosts } from '../worker/repo-hosts.js';
import {
  buildHandlerTable,
  type HandlerOverrides,
  type HandlerTable,
  repoTaskEntries,
} from './handler-table.js';
import { type AgentsModule, type AgentsModuleOptions, createAgentsModule } from './modules/agents-module.js';
import { createGithubLoginModule, type GithubLoginModule } from './modules/github-login-module.js';
import { createGithubModule, type GithubModule, type GithubModuleOptions } from './modules/github-module.js';
import { createGithubSetupModule, type GithubSetupModule } from './modules/github-setup-module.js';
import { createMemoryModule, type MemoryModule, type MemoryModuleOptions } from './modules/memory-module.js';
import {
  createSandboxModule,
  type SandboxModule,
  type SandboxModuleOptions,
} from './modules/sandbox-module.js';
import {
  createTelegramModule,
  type TelegramModule,
  type TelegramModuleOptions,
} from './modules/telegram-module.js';
import type { DevbotModule, Runtime } from './runtime.js';

/** Adapter tuning and test seams, per module; production uses the defaults. */
export interface ModuleOptions {
  sandbox?: SandboxModuleOptions;
  memory?: MemoryModuleOptions;
  github?: GithubModuleOptions;
  agents?: AgentsModuleOptions;
  telegram?: TelegramModuleOptions;
  /**
   * Replaces whole handler-table entries (tests and benchmarks that script a kind): a bare handler
   * accepts its kind's documented input, `{ handle, input }` the input schema it brings.
   */
  handlers?: HandlerOverrides;
}

export interface AppModules {
  sandbox: SandboxModule;
  memory: MemoryModule;
  /** null when GitHub is not configured (no App, no token, nothing set up through /setup yet). */
  github: GithubModule | null;
  /** `/setup` (GitHub in one click), and the seams a GitHub module set up while running plugs into. */
  githubSetup: GithubSetupModule;
  agents: AgentsModule;
  /** Signing in with GitHub (`/login`): the states and the pages at /auth/github/. */
  githubLogin: GithubLoginModule;
  /** null when no bot token is configured. */
  telegram: TelegramModule | null;
  /** Who may make devbot change which repository (front doors refuse early; the handler enforces). */
  authorizer: RepoAuthorizer;
  /** The repository hosts (null when none is configured): front doors check names with it. */
  hosts: RepoHosts | null;
  /** Revives an ended preview here and resolves once it is served (null) or with why not. */
  reviveNow(token: string): Promise<PreviewAnswer | null>;
  /** In start order; stopped in reverse. */
  all: DevbotModule[];
  handlers: HandlerTable;
}

export async function buildModules(
  runtime: Runtime,
  previews: {
    registry: PreviewRegistry;
    directory: PreviewDirectory;
    tokens?: TokenIssuer;
    /** A gateway without a worker in its process: revivals are asked of the workers. */
    remoteRevivals?: PreviewRevivalRequests;
    /** A worker without the gateway in its process: a revived link is shared through Redis. */
    shareAlias?: (oldToken: string, newToken: string) => Promise<void>;
    /** The deployment's Redis key prefix (sign-in states). */
    prefix: string;
  },
  options: ModuleOptions = {},
): Promise<AppModules> {
  const { config } = runtime;
  let revival: PreviewRevival | null = null;
  const sandbox = createSandboxModule(
    runtime,
    { ...previews, revive: async (token) => (revival ? revival.revive(token) : { state: 'unknown' }) },
    options.sandbox,
  );
  const memory = await createMemoryModule(runtime, options.memory);
  // Environment variables win; without them, the App /setup created and stored (if any).
  const githubEnv = Boolean(config.GITHUB_TOKEN || config.GITHUB_APP_ID);
  const stored = githubEnv ? null : readStoredGithubApp(config.dataDir);
  const github = createGithubModule(
    runtime,
    options.github,
    stored
      ? {
          appId: stored.appId,
          privateKey: stored.privateKey,
          webhookSecret: stored.webhookSecret,
          slug: stored.slug,
        }
      : undefined,
  );
  const local = config.DEVBOT_REPOS_DIR ? new LocalRepoHost(resolve(config.DEVBOT_REPOS_DIR)) : null;
  let hosts = github || local ? new RepoHosts({ github: github?.host ?? null, local }) : null;
  const access = new SqlSubjectAccess(runtime.sql);
  const authorizer = new RepoAuthorizer({ access, host: hosts });
  // Signing in with GitHub links a Telegram user as `devbot users link` does; the chat is told.
  let chat: TelegramModule | null = null;
  const githubLogin = createGithubLoginModule(runtime, {
    prefix: previews.prefix,
    links: access,
    onLinked: async (subject, login) => {
      const id = /^tg:(\d+)$/.exec(subject)?.[1];
      if (id && chat)
        await chat.outbox.send(Number(id), {
          html: `✅ Signed in with GitHub: I act as <b>${escapeHtml(login)}</b> for you now.`,
        });
    },
  });
  const agents = createAgentsModule(
    runtime,
    { memory: memory.memory, shellSessions: sandbox.chatShell, verbatimShell: sandbox.shell.handle },
    options.agents,
  );
  const chatLinks = new SqlChatRepoLinks(runtime.sql);
  const telegram = createTelegramModule(
    runtime,
    {
      chatSandbox: sandbox.chatShell,
      authorize: (subject, repo) => authorizer.assertMayChange(subject, repo),
      links: chatLinks,
      loginLink: (subject, label) => githubLogin.loginLink(subject, label),
    },
    options.telegram,
  );
  chat = telegram;
  if (github && telegram) connectChats(github, telegram, chatLinks, authorizer, runtime);

  const pullRequests = new SqlPullRequestRecords(runtime.sql);
  const workspaces = new RepoWorkspaces({ root: join(config.dataDir, 'git'), logger: runtime.logger });
  const revivalFor = (repoHosts: RepoHosts | null) =>
    new PreviewRevival({
      records: sandbox.previewRecords,
      host: repoHosts,
      workspaces: repoHosts ? workspaces : null,
      sandboxes: runtime.sandboxes,
      leases: sandbox.previews,
      alias: (oldToken, newToken) =>
        previews.shareAlias
          ? previews.shareAlias(oldToken, newToken)
          : previews.registry.alias(oldToken, newToken),
      pullRequests,
      remote: previews.remoteRevivals,
      logger: runtime.logger.child({ component: 'preview-revival' }),
    });
  revival = revivalFor(hosts);
  const repoTaskFor = (repoHosts: RepoHosts) =>
    createRepoTaskHandler({
      host: repoHosts,
      authorizer,
      workspaces,
      previewRecords: sandbox.previewRecords,
      sandboxes: runtime.sandboxes,
      runAgent: agents.runAgent,
      previews: sandbox.previews,
      logger: runtime.logger.child({ component: 'repo-task' }),
      draft: config.GITHUB_PR_DRAFT,
      sandboxTimeoutMs: config.DEVBOT_SANDBOX_TIMEOUT_MS,
      network: config.DEVBOT_SANDBOX_NETWORK === 'allowlist',
      approval: config.DEVBOT_APPROVAL,
    });
  const repoTask = hosts ? repoTaskFor(hosts) : null;
  // A stand-in agent (tests) that reads input keys of its own registers them with the handler.
  const repoInput = options.agents?.agentInput;
  const repoEntry = (handle: TaskHandler) => ({ handle, ...(repoInput ? { input: repoInput } : {}) });
  const handlers = buildHandlerTable(
    { shell: agents.shell, question: agents.question, repoTask: repoTask ? repoEntry(repoTask) : null },
    options.handlers,
  );
  /**
   * A GitHub module set up while devbot runs (/setup): it becomes the GitHub repository host, and
   * the repo task kinds get their handler if they had none. The objects the gateway and the worker
   * hold (this table, the authorizer, the hosts) change in place; routes and reporters reach the
   * module through the setup module's seams.
   */
  const attachGithub = (mod: GithubModule): void => {
    if (modules.github) throw new Error('a GitHub module is attached already');
    modules.github = mod;
    if (telegram) connectChats(mod, telegram, chatLinks, authorizer, runtime);
    if (hosts) hosts.attachGithub(mod.host);
    else {
      hosts = new RepoHosts({ github: mod.host, local: null });
      modules.hosts = hosts;
      authorizer.useHost(hosts);
      revival = revivalFor(hosts);
      const entries = repoTaskEntries(repoEntry(repoTaskFor(hosts)));
      handlers.dev ??= entries.dev;
      handlers.followup ??= entries.followup;
    }
  };
  const githubSetup = createGithubSetupModule(runtime, {
    initial: github,
    stored,
    ...(previews.tokens ? { tokens: previews.tokens } : {}),
    ...(options.github ? { githubOptions: options.github } : {}),
    attach: attachGithub,
  });
  const all: DevbotModule[] = [
    sandbox,
    memory,
    ...(github ? [github] : []),
    githubSetup,
    githubLogin,
    agents,
    ...(telegram ? [telegram] : []),
  ];
  const modules: AppModules = {
    sandbox,
    memory,
    github,
    githubSetup,
    githubLogin,
    agents,
    telegram,
    authorizer,
    hosts,
    reviveNow: (token) => (revival ? revival.reviveNow(token) : Promise.resolve({ state: 'unknown' })),
    all,
    handlers,
  };
  return modules;
}

/**
 * GitHub tells chats about pull requests: the chat that started one (its merge or close), and the
 * chats linked to its repository with /link. A link counts while whoever made it still may make
 * devbot act on the repository; when they no longer may, it is removed and the chat is told.
 */
function connectChats(
  github: GithubModule,
  telegram: TelegramModule,
  links: SqlChatRepoLinks,
  authorizer: RepoAuthorizer,
  runtime: Runtime,
): void {
  const log = runtime.logger.child({ component: 'chat-links' });
  const send = (chat: { chatId: number; threadId?: number; replyTo?: number }, html: string) =>
    telegram.outbox.send(chat.chatId, {
      html,
      ...(chat.replyTo !== undefined ? { replyTo: chat.replyTo } : {}),
      ...(chat.threadId !== undefined ? { threadId: chat.threadId } : {}),
    });
  github.app.announce = async (chat, html) => {
    await send(chat, html);
  };
  github.app.linkedChats = async (repo) => {
    const chats: Array<{ chatId: number; threadId?: number }> = [];
    for (const link of await links.chatsFor(repo)) {
      const chat = { chatId: link.chatId, ...(link.threadId !== null ? { threadId: link.threadId } : {}) };
      try {
        await authorizer.assertMayChange(link.linkedBy, repo);
        chats.push(chat);
      } catch (err) {
        if (!(err instanceof ForbiddenError)) {
          log.warn({ err, chatId: link.chatId, repo }, 'could not check a chat link; its notice is skipped');
          continue;
        }
        if ((await links.unlink(link.chatId, repo)).length === 0) continue;
        log.info({ chatId: link.chatId, repo, linkedBy: link.linkedBy }, 'chat link removed: access lost');
        void send(
          chat,
          `🔗 Unlinked <b>${escapeHtml(link.repo)}</b>: whoever linked it may no longer make devbot act on it. Someone with write access can /link it again.`,
        );
      }
    }
    return chats;
  };
}
