/**
 * Where repositories live (DESIGN.md §1.9): the RepoHost port. The repo task handler only talks to
 * this; src/github implements it for the GitHub App. No Octokit type crosses it.
 */
import type { CommitIdentity } from './workspaces.js';

/** A repository as a task names it, with the host's hint for reaching it (a GitHub installation). */
export interface RepoRef {
  owner: string;
  name: string;
  installationId?: number;
}

export interface PullRequestInfo {
  number: number;
  url: string;
  headRef: string;
  baseRef: string;
  /** The head branch lives in the same repository (not a fork). */
  sameRepo: boolean;
  /** devbot opened it (its bot is the author and the branch is one of devbot's). */
  openedByDevbot: boolean;
}

export interface PullRequestRef {
  number: number;
  url: string;
  /** false when an open PR for the branch already existed and was reused. */
  created: boolean;
}

export interface OpenPullRequest {
  head: string;
  base: string;
  title: string;
  body: string;
  draft: boolean;
}

/** One review thread on a pull request: where it sits and what was said in it. */
export interface ReviewThread {
  /** The thread's first comment (replies go to it). */
  id: number;
  path: string;
  /** The line the thread is on (the original line when the thread is outdated); null: file-level. */
  line: number | null;
  startLine: number | null;
  diffHunk: string;
  /** The code under it changed since the thread was started. */
  outdated: boolean;
  comments: Array<{ author: string; body: string }>;
}

/** What a follow-up on a pull request knows about it (all of it written by people: untrusted). */
export interface PullRequestContext {
  title: string;
  body: string;
  /** The PR's files with their line counts (the diff summary) and, where the host gives it, the patch. */
  files: Array<{ path: string; additions: number; deletions: number; patch?: string }>;
  /** Unresolved review threads only. */
  threads: ReviewThread[];
  /** How many threads were left out because they are resolved. */
  resolvedCount: number;
  /** The issue the PR closes (`Closes #N` in its body). */
  linkedIssue?: { number: number; title: string; body: string };
}

export interface PullRequestReview {
  commit: string;
  body: string;
  comments: Array<{ path: string; line: number; body: string }>;
}

export interface PermissionVerdict {
  allowed: boolean;
  /** The host's role name (admin, maintain, write, triage, read, none). */
  role: string;
}

/** One repository on its host, opened for one task. */
export interface HostedRepo {
  /** `owner/name`. */
  readonly fullName: string;
  /** Who commits: the App's bot, or devbot on a local repository. */
  readonly commitAuthor: CommitIdentity;
  /** Where a person sees a branch devbot pushed, when the host has no pull requests (local). */
  branchHint?(branch: string, base: string): string;
  readonly defaultBranch: string;
  /** Clone URL without credentials. */
  readonly cloneUrl: string;
  /** A short-lived credential for fetch and push (registered as a secret by the host). */
  pushToken(): Promise<string | undefined>;
  /** Absent on hosts without pull requests (local repositories: devbot's work is a branch). */
  pullRequest?(number: number): Promise<PullRequestInfo>;
  /** The open PR for `head`, or a new one: never two PRs for one branch. Absent: no PRs. */
  ensurePullRequest?(input: OpenPullRequest): Promise<PullRequestRef>;
  /** The PR's review context for a follow-up (hosts with review threads). */
  pullRequestContext?(number: number): Promise<PullRequestContext>;
  /** Posts one review (state: comment) with inline comments on the PR's lines at `commit`. */
  postReview?(prNumber: number, review: PullRequestReview): Promise<void>;
  /** Posts a comment on an issue or pull request's conversation. */
  comment?(issueNumber: number, body: string): Promise<void>;
  /** Answers in a review comment's thread. */
  replyInThread(prNumber: number, commentId: number, body: string): Promise<void>;
  /** Whether a host user may make devbot change this repository. */
  permissionOf(login: string): Promise<PermissionVerdict>;
}

export interface RepoHost {
  readonly name: string;
  open(ref: RepoRef): Promise<HostedRepo>;
  /** Checks a repository name without remote calls (before a task is accepted); throws BadInputError. */
  check?(ref: RepoRef): Promise<void>;
}
