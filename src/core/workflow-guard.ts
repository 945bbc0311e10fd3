import { BadInputError } from './errors.js';
import type { RepoConfig } from './repo-config.js';

/** Everything under it configures GitHub for the repository: workflows, actions, CODEOWNERS… */
const GITHUB_DIR = '.github/';

/** Paths among `changed` under `.github/` (case-insensitive, as on case-folding hosts). */
export function workflowPaths(changed: readonly string[]): string[] {
  return changed.filter((p) => p.replace(/^\.\//, '').toLowerCase().startsWith(GITHUB_DIR));
}

/**
 * Workflows run with the repository's secrets (and `.github/` holds actions, CODEOWNERS and the
 * like), so a change there is a way out of the sandbox: refused unless the repository's
 * `.devbot.yml` says `allow_workflow_changes: true`.
 */
export function assertWorkflowChangesAllowed(
  changed: readonly string[],
  config: Pick<RepoConfig, 'allow_workflow_changes'>,
): void {
  const touched = workflowPaths(changed);
  if (touched.length === 0 || config.allow_workflow_changes) return;
  throw new BadInputError(
    `devbot may not change CI workflows or anything under .github/ (${touched.join(', ')}); a maintainer can allow it with ` +
      '`allow_workflow_changes: true` in .devbot.yml',
  );
}
