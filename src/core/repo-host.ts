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
