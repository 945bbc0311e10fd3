import type { PullRequestRef } from '../core/index.js';
import type { RestClient } from './rest-client.js';

export interface EnsurePullRequestInput {
  owner: string;
  repo: string;
  head: string;
  base: string;
  title: string;
  body: string;
  draft: boolean;
}

/** The open PR for `head`, or a new one. Never two PRs for one branch. */
export async function ensurePullRequest(
  octokit: RestClient,
  input: EnsurePullRequestInput,
): Promise<PullRequestRef> {
  const existing = await findOpenPullRequest(octokit, input.owner, input.repo, input.head);
  if (existing) return existing;
  try {
    const { data } = await octokit.rest.pulls.create({
      owner: input.owner,
      repo: input.repo,
      head: input.head,
      base: input.base,
      title: input.title,
      body: input.body,
      draft: input.draft,
    });
    return { number: data.number, url: data.html_url, created: true };
  } catch (err) {
    // Another task opened it between our look and our create: use theirs.
    if ((err as { status?: number }).status === 422) {
      const raced = await findOpenPullRequest(octokit, input.owner, input.repo, input.head);
      if (raced) return raced;
    }
    throw err;
  }
}

export async function findOpenPullRequest(
  octokit: RestClient,
  owner: string,
  repo: string,
  head: string,
): Promise<PullRequestRef | null> {
  const { data } = await octokit.rest.pulls.list({ owner, repo, head: `${owner}:${head}`, state: 'open' });
  const pr = data[0];
  return pr ? { number: pr.number, url: pr.html_url, created: false } : null;
}
