/**
 * The adapter modules a normal start wires in, and the sandbox provider they share. Each module
 * returns null when its integration is not configured (no Telegram token, no GitHub App), so zero
 * configuration runs the core, the shell fast lane and previews alone.
 *
 * Order matters: handlers are merged in list order and later ones win, so the agents module's
 * `shell` (natural-language shell requests, explicit commands passed through verbatim) replaces
 * the sandbox module's, and its crew-driven `dev`/`followup` replace the GitHub module's default.
 */

import { createAgentsModule } from './agents-module.js';
import type { SandboxFactoryContext } from './app.js';
import type { SandboxProvider, TaskHandler } from './core/index.js';
import { createGithubModule, type GithubModule, type GithubModuleOptions } from './github-module.js';
import { memoryModule } from './memory-module.js';
import type { ModuleFactory } from './runtime.js';
import { sandboxWiring } from './sandbox-module.js';
import { chatShellSessions } from './telegram/chat-shell-sessions.js';
import { type TelegramModuleOptions, telegramModule } from './telegram-module.js';

/** Adapter tuning for tests (faster pacing against fakes); production uses the defaults. */
export interface WiringOptions {
  github?: GithubModuleOptions;
  telegram?: TelegramModuleOptions;
}

export interface DefaultWiring {
  sandboxes: (ctx: SandboxFactoryContext) => SandboxProvider;
  modules: ModuleFactory[];
}

export function defaultWiring(options: WiringOptions = {}): DefaultWiring {
  // A Telegram chat's shell tasks share its persistent sandbox, cwd and history, whether they run
  // verbatim (sandbox module) or through the shell agent.
  const chatShell = chatShellSessions();
  const sandbox = sandboxWiring({ sessions: chatShell });
  const memory = memoryModule();
  let verbatimShell: TaskHandler | undefined;
  let github: GithubModule | null = null;
  return {
    sandboxes: sandbox.sandboxes,
    modules: [
      async (runtime) => {
        const mod = await sandbox.module(runtime);
        verbatimShell = mod?.handlers?.shell;
        return mod;
      },
      memory.factory,
      (runtime) => {
        github = createGithubModule(runtime, options.github);
        return github;
      },
      (runtime) => {
        const gh = github;
        return createAgentsModule(runtime, {
          memory: memory.memory,
          shellSessions: chatShell(runtime),
          ...(verbatimShell ? { verbatimShell } : {}),
          ...(gh ? { repoPipeline: (runAgent) => gh.repoPipeline(runAgent) } : {}),
        });
      },
      telegramModule({ chatSandbox: chatShell, ...options.telegram }),
    ],
  };
}
