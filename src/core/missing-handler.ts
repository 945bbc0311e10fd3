import type { TaskKind } from './task.js';

/** What to configure so this deployment can run a kind of task it has no handler for. */
export function missingHandlerReason(kind: TaskKind): string {
  const why = (() => {
    switch (kind) {
      case 'dev':
      case 'followup':
        return 'they need a repository host (DEVBOT_REPOS_DIR for local repositories, a personal token: GITHUB_TOKEN and GITHUB_WEBHOOK_SECRET, or a GitHub App: GITHUB_APP_ID, GITHUB_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET) and an LLM (set OPENAI_API_KEY or OPENAI_BASE_URL)';
      case 'question':
        return 'questions need an LLM (set OPENAI_API_KEY or OPENAI_BASE_URL)';
      default:
        return 'no handler is configured for this kind';
    }
  })();
  return `devbot cannot run ${kind} tasks here: ${why}`;
}
