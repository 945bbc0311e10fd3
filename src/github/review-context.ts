/**
 * A pull request's review context for a follow-up: its files, its review threads (REST review
 * comments grouped by the comment they reply to; resolution state from GraphQL `reviewThreads`,
 * which REST does not carry) and the issue it closes. Everything here was written by people and is
 * fenced as untrusted where it enters a prompt.
 */

import type { PullRequestContext, ReviewThread } from '../core/index.js';
import type { RestClient } from './rest-client.js';

const THREADS_QUERY = `query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $after) {
        nodes { isResolved isOutdated comments(first: 1) { nodes { databaseId } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}`;

interface ThreadsAnswer {
  repository: {
    pullRequest: {
      reviewThreads: {
        nodes: Array<{
          isResolved: boolean;
          isOutdated: boolean;
          comments: { nodes: Array<{ databaseId: number }> };
        }>;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
    } | null;
  } | null;
}

/** At most this many threads, comments per thread and files go into a prompt. */
const MAX_THREADS = 50;
const MAX_COMMENTS = 20;
const MAX_FILES = 100;

/** `Closes #12`, `fixes #3`, `resolved #7`: the issue a PR body links. */
export function linkedIssueNumber(body: string): number | null {
  const m = /\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s+#(\d+)\b/i.exec(body);
  return m ? Number(m[1]) : null;
}

/** Resolution and outdatedness per thread (by its first comment's id); null when GraphQL fails. */
async function threadStates(
  octokit: RestClient,
  owner: string,
  name: string,
  number: number,
): Promise<Map<number, { resolved: boolean; outdated: boolean }>> {
  const states = new Map<number, { resolved: boolean; outdated: boolean }>();
  let after: string | null = null;
  for (let page = 0; page < 10; page++) {
    const answer: ThreadsAnswer = await octokit.graphql<ThreadsAnswer>(THREADS_QUERY, {
      owner,
      name,
      number,
      after,
    });
    const conn = answer.repository?.pullRequest?.reviewThreads;
    if (!conn) break;
    for (const t of conn.nodes) {
      const id = t.comments.nodes[0]?.databaseId;
      if (typeof id === 'number') states.set(id, { resolved: t.isResolved, outdated: t.isOutdated });
    }
    if (!conn.pageInfo.hasNextPage) break;
    after = conn.pageInfo.endCursor;
  }
  return states;
}

export async function fetchPullRequestContext(
  octokit: RestClient,
  owner: string,
  repo: string,
  number: number,
  onWarning: (message: string, err: unknown) => void,
): Promise<PullRequestContext> {
  const { data: pr } = await octokit.rest.pulls.get({ owner, repo, pull_number: number });
  const [files, comments] = await Promise.all([
    octokit.paginate(octokit.rest.pulls.listFiles, { owner, repo, pull_number: number, per_page: 100 }),
    octokit.paginate(octokit.rest.pulls.listReviewComments, {
      owner,
      repo,
      pull_number: number,
      per_page: 100,
    }),
  ]);
  let states: Map<number, { resolved: boolean; outdated: boolean }> | null = null;
  try {
    states = await threadStates(octokit, owner, repo, number);
  } catch (err) {
    // Without GraphQL every thread counts as open: more context, never less.
    onWarning('could not read review thread states; treating every thread as unresolved', err);
  }
  const byRoot = new Map<number, ReviewThread>();
  for (const c of [...comments].sort((a, b) => a.id - b.id)) {
    const rootId = c.in_reply_to_id ?? c.id;
    let thread = byRoot.get(rootId);
    if (!thread) {
      if (c.in_reply_to_id) continue; // a reply whose first comment is gone
      const outdated = states?.get(c.id)?.outdated ?? (c.line === null && c.original_line !== null);
      thread = {
        id: c.id,
        path: c.path,
        line: c.line ?? c.original_line ?? null,
        startLine: c.start_line ?? c.original_start_line ?? null,
        diffHunk: c.diff_hunk,
        outdated,
        comments: [],
      };
      byRoot.set(rootId, thread);
    }
    if (thread.comments.length < MAX_COMMENTS)
      thread.comments.push({ author: c.user?.login ?? 'ghost', body: c.body });
  }
  const all = [...byRoot.values()];
  const open = all.filter((t) => !states?.get(t.id)?.resolved);
  const context: PullRequestContext = {
    title: pr.title,
    body: pr.body ?? '',
    files: files.slice(0, MAX_FILES).map((f) => ({
      path: f.filename,
      additions: f.additions,
      deletions: f.deletions,
      ...(f.patch ? { patch: f.patch } : {}),
    })),
    threads: open.slice(0, MAX_THREADS),
    resolvedCount: all.length - open.length,
  };
  const issue = linkedIssueNumber(pr.body ?? '');
  if (issue !== null) {
    try {
      const { data } = await octokit.rest.issues.get({ owner, repo, issue_number: issue });
      context.linkedIssue = { number: issue, title: data.title, body: data.body ?? '' };
    } catch (err) {
      onWarning(`could not read the linked issue #${issue}`, err);
    }
  }
  return context;
}
