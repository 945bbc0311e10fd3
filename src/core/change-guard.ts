/**
 * What the host refuses to commit from a sandbox, whatever the agent was told: the change comes from
 * code that read untrusted text, so it is checked as an attacker's would be.
 */
import { BadInputError } from './errors.js';
import { REPO_CONFIG_FILE, type RepoConfig } from './repo-config.js';
import { assertWorkflowChangesAllowed } from './workflow-guard.js';

/** One path in the staged change, as git records it. */
export interface StagedChange {
  path: string;
  /** The new mode: 100644/100755 file, 120000 symlink, 160000 submodule, 000000 deleted. */
  mode: string;
  /** A symlink's target. */
  linkTarget?: string;
}

/**
 * Refuses a change that edits devbot's own settings, edits `.github/` without the repository's
 * consent, adds a submodule, or adds a symlink that points outside the repository.
 */
export function assertChangeAllowed(
  changes: readonly StagedChange[],
  config: Pick<RepoConfig, 'allow_workflow_changes'>,
): void {
  const settings = changes.filter((c) => c.path.toLowerCase() === REPO_CONFIG_FILE);
  if (settings.length > 0)
    throw new BadInputError(
      `devbot may not change its own settings (${REPO_CONFIG_FILE}); a maintainer edits them on the default branch`,
    );
  assertWorkflowChangesAllowed(
    changes.map((c) => c.path),
    config,
  );
  const submodules = changes.filter((c) => c.mode === '160000').map((c) => c.path);
  if (submodules.length > 0)
    throw new BadInputError(`devbot may not add submodules (${submodules.join(', ')})`);
  for (const c of changes) {
    if (c.mode !== '120000') continue;
    if (c.linkTarget === undefined || leavesRepository(c.path, c.linkTarget))
      throw new BadInputError(
        `devbot may not add a symlink that points outside the repository (${c.path} -> ${c.linkTarget ?? '?'})`,
      );
  }
}

/** Whether a link at `path` to `target` resolves outside the repository root. */
export function leavesRepository(path: string, target: string): boolean {
  if (target.startsWith('/') || target.includes('\0') || target.includes('\\')) return true;
  const parts = path.split('/').slice(0, -1);
  for (const segment of target.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (parts.length === 0) return true;
      parts.pop();
    } else parts.push(segment);
  }
  return false;
}
