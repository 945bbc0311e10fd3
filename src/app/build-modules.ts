/**
 * Builds every adapter module in one fixed order, each from what the ones before it provide, and
 * the one handler table from them. The only place that knows every adapter.
 */
import { join, resolve } from 'node:path';
import type { PreviewDirectory } from '../gateway/preview-directory.js';
import type { PreviewRegistry } from '../gateway/preview-registry.js';
import { LocalRepoHost } from '../git/local-repo-host.js';
import { RepoWorkspaces } from '../git/repo-workspaces.js';
import { SqlSubjectAccess } from '../store/sql-subject-access.js';
import { createRepoTaskHandler } from '../worker/handlers/repo-task-handler.js';
import { RepoAuthorizer } from '../worker/repo-authorizer.js';
import { RepoHosts } from '../worker/repo-hosts.js';
import { buildHandlerTable, type HandlerTable } from './handler-table.js';
import { type AgentsModule, type AgentsModuleOptions, createAgentsModule } from './modules/agents-module.js';
import { createGithubModule, type GithubModule, type GithubModuleOptions } from './modules/github-module.js';
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
  /** Replaces whole handler-table entries (tests and benchmarks that script a kind). */
  handlers?: HandlerTable;
}

export interface AppModules {
  sandbox: SandboxModule;
  memory: MemoryModule;
  /** null when no GitHub App is configured. */
  github: GithubModule | null;
  agents: AgentsModule;
  /** null when no bot token is configured. */
  telegram: TelegramModule | null;
  /** Who may make devbot change which repository (front doors refuse early; the handler enforces). */
  authorizer: RepoAuthorizer;
  /** The repository hosts (null when none is configured): front doors check names with it. */
  hosts: RepoHosts | null;
  /** In start order; stopped in reverse. */
  all: DevbotModule[];
  handlers: HandlerTable;
}

export async function buildModules(
  runtime: Runtime,
  previews: { registry: PreviewRegistry; directory: PreviewDirectory },
  options: ModuleOptions = {},
): Promise<AppModules> {
  const { config } = runtime;
  const sandbox = createSandboxModule(runtime, previews, options.sandbox);
  const memory = await createMemoryModule(runtime, options.memory);
  const github = createGithubModule(runtime, options.github);
  const local = config.DEVBOT_REPOS_DIR ? new LocalRepoHost(resolve(config.DEVBOT_REPOS_DIR)) : null;
  const hosts = github || local ? new RepoHosts({ github: github?.host ?? null, local }) : null;
  const authorizer = new RepoAuthorizer({ access: new SqlSubjectAccess(runtime.sql), host: hosts });
  const agents = createAgentsModule(
    runtime,
    { memory: memory.memory, shellSessions: sandbox.chatShell, verbatimShell: sandbox.shell.handle },
    options.agents,
  );
  const telegram = createTelegramModule(
    runtime,
    {
      chatSandbox: sandbox.chatShell,
      authorize: (subject, repo) => authorizer.assertMayChange(subject, repo),
    },
    options.telegram,
  );
  // A PR a chat started is announced there when it is merged or closed.
  if (github && telegram)
    github.app.announce = async (chat, html) => {
      await telegram.outbox.send(chat.chatId, {
        html,
        ...(chat.replyTo !== undefined ? { replyTo: chat.replyTo } : {}),
        ...(chat.threadId !== undefined ? { threadId: chat.threadId } : {}),
      });
    };

  const repoTask = hosts
    ? createRepoTaskHandler({
        host: hosts,
        authorizer,
        workspaces: new RepoWorkspaces({ root: join(config.dataDir, 'git'), logger: runtime.logger }),
        sandboxes: runtime.sandboxes,
        runAgent: agents.runAgent,
        previews: sandbox.previews,
        logger: runtime.logger.child({ component: 'repo-task' }),
        draft: config.GITHUB_PR_DRAFT,
        sandboxTimeoutMs: config.DEVBOT_SANDBOX_TIMEOUT_MS,
        network: config.DEVBOT_SANDBOX_NETWORK === 'allowlist',
      })
    : null;
  const handlers = buildHandlerTable(
    { shell: agents.shell, question: agents.question, repoTask },
    options.handlers,
  );
  const all: DevbotModule[] = [
    sandbox,
    memory,
    ...(github ? [github] : []),
    agents,
    ...(telegram ? [telegram] : []),
  ];
  return { sandbox, memory, github, agents, telegram, authorizer, hosts, all, handlers };
}
