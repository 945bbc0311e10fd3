/**
 * GitHub as a RepoHost. App mode: repositories reached through the App's installations, pushed to
 * with short-lived installation tokens, commits authored by the App's bot. Token mode: one personal
 * token for every repository, commits and pull requests by the token's user.
 */
import type {
  HostedRepo,
  OpenPullRequest,
  PermissionVerdict,
  PullRequestInfo,
  PullRequestRef,
  RepoHost,
  RepoRef,
} from '../core/index.js';
import type { GithubApp } from './github-app.js';
import { DEVBOT_MARKER } from './github-trigger.js';
import { ensurePullRequest } from './pull-requests.js';
import type { RestClient } from './rest-client.js';
import { fetchPullRequestContext } from './review-context.js';

export interface GithubRepoHostOptions {
  /** Commit e-mail of the bot; default `<slug>[bot]@users.noreply.github.com`. */
  botEmail?: string;
}

export class GithubRepoHost implements RepoHost {
  readonly name = 'github';
  readonly commitAuthor: { name: string; email: string };

  constructor(
    private readonly app: GithubApp,
    options: GithubRepoHostOptions = {},
  ) {
    this.commitAuthor = {
      name: `${app.appSlug}[bot]`,
      email: options.botEmail ?? `${app.appSlug}[bot]@users.noreply.github.com`,
    };
  }

  async open(ref: RepoRef): Promise<HostedRepo> {
    const { owner, name: repo } = ref;
    const access = await this.app.repoAccess(owner, repo, ref.installationId);
    const { octokit, installationId } = access;
    const { data } = await octokit.rest.repos.get({ owner, repo });
    const token = this.app.token;
    const commitAuthor = token ? await token.commitAuthor() : this.commitAuthor;
    // Who opens devbot's pull requests: the App's bot, or the token's user.
    const prAuthor = token ? (await token.user()).login : this.commitAuthor.name;
    // The App's own cache: the webhook gate asked GitHub about this user moments ago.
    const gate = this.app.permissions;
    const app = this.app;
    return {
      fullName: data.full_name,
      commitAuthor,
      defaultBranch: data.default_branch,
      cloneUrl: data.clone_url,
      pushToken: () => app.installationToken(installationId),
      pullRequest: (number) => pullRequestInfo(octokit, owner, repo, number, data.full_name, prAuthor),
      ensurePullRequest: (input: OpenPullRequest): Promise<PullRequestRef> =>
        ensurePullRequest(octokit, { owner, repo, ...input }),
      pullRequestContext: (number) =>
        fetchPullRequestContext(octokit, owner, repo, number, (message, err) =>
          app.options.logger.warn({ err, repo: data.full_name, pr: number }, message),
        ),
      async postReview(prNumber, review) {
        const base = {
          owner,
          repo,
          pull_number: prNumber,
          commit_id: review.commit,
          event: 'COMMENT' as const,
        };
        try {
          await octokit.rest.pulls.createReview({
            ...base,
            body: review.body,
            comments: review.comments.map((c) => ({
              path: c.path,
              line: c.line,
              side: 'RIGHT' as const,
              body: c.body,
            })),
          });
        } catch (err) {
          // A finding on a line outside the diff fails the whole review: post them in its body.
          if ((err as { status?: number }).status !== 422 || review.comments.length === 0) throw err;
          const listed = review.comments.map((c) => `- \`${c.path}:${c.line}\`: ${c.body}`).join('\n');
          await octokit.rest.pulls.createReview({ ...base, body: `${review.body}\n\n${listed}`.trim() });
        }
      },
      async comment(issueNumber, body) {
        await octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body });
      },
      async replyInThread(prNumber, commentId, body) {
        await octokit.rest.pulls.createReplyForReviewComment({
          owner,
          repo,
          pull_number: prNumber,
          comment_id: commentId,
          // Marked as devbot's: in token mode its author is a person's account, so the marker is
          // what keeps a reply that quotes `/devbot` from starting another follow-up.
          body: `${DEVBOT_MARKER}reply -->\n${body}`,
        });
      },
      permissionOf: (login: string): Promise<PermissionVerdict> => gate.check(octokit, owner, repo, login),
    };
  }
}

async function pullRequestInfo(
  octokit: RestClient,
  owner: string,
  repo: string,
  number: number,
  fullName: string,
  botLogin: string,
): Promise<PullRequestInfo> {
  const { data: pr } = await octokit.rest.pulls.get({ owner, repo, pull_number: number });
  return {
    number: pr.number,
    url: pr.html_url,
    headRef: pr.head.ref,
    baseRef: pr.base.ref,
    sameRepo: pr.head.repo?.full_name === fullName,
    openedByDevbot: pr.user?.login === botLogin && pr.head.ref.startsWith('devbot/'),
  };
}
