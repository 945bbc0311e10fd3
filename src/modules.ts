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
import { createGithubModule, type GithubModule } from './github-module.js';
import { memoryModule } from './memory-module.js';
import type { ModuleFactory } from './runtime.js';
import { sandboxWiring } from './sandbox-module.js';
import { telegramModule } from './telegram-module.js';

export interface DefaultWiring {
  sandboxes: (ctx: SandboxFactoryContext) => SandboxProvider;
  modules: ModuleFactory[];
}

export function defaultWiring(): DefaultWiring {
  const sandbox = sandboxWiring();
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
        github = createGithubModule(runtime);
        return github;
      },
      (runtime) => {
        const gh = github;
        return createAgentsModule(runtime, {
          memory: memory.memory,
          ...(verbatimShell ? { verbatimShell } : {}),
          ...(gh ? { repoPipeline: (runAgent) => gh.repoPipeline(runAgent) } : {}),
        });
      },
      telegramModule(),
    ],
  };
}
