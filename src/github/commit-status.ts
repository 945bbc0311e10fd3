/**
 * Token mode's stand-in for the check run: a personal token cannot create check runs (GitHub
 * keeps the Checks API for Apps), so the branch head gets a commit status with the context
 * `devbot` instead, carrying what the check run would: the state (pending while the task works,
 * then success or failure), a one-line description and the link to the task.
 */
import type { ProgressStatus, TaskProgress } from '../core/index.js';
import { renderCheckSummary } from './progress-comment.js';
import type { RestClient } from './rest-client.js';

export const COMMIT_STATUS_CONTEXT = 'devbot';

/** GitHub refuses longer descriptions. */
const DESCRIPTION_LIMIT = 140;

export type CommitState = 'pending' | 'success' | 'failure';

export function commitStateOf(status: ProgressStatus): CommitState {
  if (status === 'succeeded') return 'success';
  // A cancelled task did not deliver: failure, as its check run's `cancelled` conclusion blocks merges too.
  if (status === 'failed' || status === 'cancelled') return 'failure';
  return 'pending';
}

/** What the check run's title and summary say, in the one line a status has. */
export function commitStatusDescription(state: TaskProgress): string {
  const title =
    state.status === 'succeeded'
      ? 'devbot finished'
      : state.status === 'failed'
        ? 'devbot failed'
        : state.status === 'cancelled'
          ? 'devbot was cancelled'
          : 'devbot is working';
  const first = renderCheckSummary(state)
    .split('\n')
    .map((l) => l.replace(/[*_`#>]/g, '').trim())
    .find((l) => l.length > 0 && l !== 'Working…');
  const text = first && commitStateOf(state.status) !== 'pending' ? `${title}: ${first}` : title;
  return text.length > DESCRIPTION_LIMIT ? `${text.slice(0, DESCRIPTION_LIMIT - 1)}…` : text;
}

/** Posts a status on the branch head when its state or commit changed (statuses are append-only). */
export class CommitStatusWriter {
  /** taskId -> the `sha state` last posted. */
  readonly #posted = new Map<string, string>();

  async write(
    octokit: RestClient,
    where: { owner: string; repo: string },
    state: TaskProgress,
    targetUrl: string | undefined,
  ): Promise<void> {
    const sha = state.headSha;
    if (!sha) return;
    const commitState = commitStateOf(state.status);
    const key = `${sha} ${commitState}`;
    if (this.#posted.get(state.taskId) === key) return;
    await octokit.rest.repos.createCommitStatus({
      owner: where.owner,
      repo: where.repo,
      sha,
      state: commitState,
      context: COMMIT_STATUS_CONTEXT,
      description: commitStatusDescription(state),
      ...(targetUrl ? { target_url: targetUrl } : {}),
    });
    if (commitState === 'pending') this.#posted.set(state.taskId, key);
    else this.#posted.delete(state.taskId);
  }
}
