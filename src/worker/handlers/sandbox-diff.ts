/**
 * The sandbox side of a repo task. The repository arrives as plain files (no .git, no
 * credentials); devbot records a baseline commit inside the sandbox, lets the agent work, then
 * reads every change back as one `git diff --binary` that the host applies and commits.
 */

import { DevbotError } from '../../core/index.js';
import type { Sandbox } from '../../core/sandbox.js';

/** The sandbox's changes could not be read back. */
class SandboxDiffError extends DevbotError {
  constructor(message: string) {
    super('git', message);
  }
}

const GIT =
  'git -c core.quotepath=off -c user.name=devbot -c user.email=devbot@localhost -c commit.gpgsign=false';

/**
 * What installing dependencies and running tests leave behind, never part of a change unless the
 * repository tracks it (git's exclude file only hides untracked files): a repository without a
 * .gitignore does not get its node_modules committed.
 */
const BUILD_LEFTOVERS = ['node_modules/', '.venv/', '__pycache__/', '.pytest_cache/', '.npm/', '.cache/'];

/** Records the baseline; returns its sha (the agent may commit on top; the diff is from here). */
export async function recordSandboxBaseline(sandbox: Sandbox): Promise<string> {
  const exclude = BUILD_LEFTOVERS.join('\\n');
  const result = await sandbox.exec(
    `git init -q . && printf '${exclude}\\n' >> .git/info/exclude && ${GIT} add -A && ${GIT} commit -q --allow-empty --no-verify -m "devbot baseline" && git rev-parse HEAD`,
    { cwd: sandbox.workdir, timeoutMs: 120_000 },
  );
  if (result.exitCode !== 0)
    throw new SandboxDiffError(
      `could not record the sandbox baseline (is git installed in the sandbox?): ${result.stderr}`,
    );
  return result.stdout.trim().split('\n').pop() ?? '';
}

/** Everything the agent changed since the baseline, as a binary-safe patch ('' when nothing). */
export async function collectSandboxDiff(sandbox: Sandbox, baselineSha: string): Promise<string> {
  if (!/^[0-9a-f]{40,64}$/.test(baselineSha)) throw new SandboxDiffError(`bad baseline sha: ${baselineSha}`);
  const result = await sandbox.exec(
    `${GIT} add -A && ${GIT} diff --cached --binary --no-color ${baselineSha}`,
    {
      cwd: sandbox.workdir,
      timeoutMs: 120_000,
    },
  );
  if (result.exitCode !== 0)
    throw new SandboxDiffError(`could not read the sandbox's changes: ${result.stderr}`);
  if (result.truncated)
    throw new SandboxDiffError(
      'the change is larger than the sandbox output limit (DEVBOT_SANDBOX_OUTPUT_LIMIT)',
    );
  return result.stdout;
}
