import type { StagedChange } from './change-guard.js';

/**
 * The host-side git port for repo tasks: a checkout per task (src/git implements it with a mirror
 * cache and a worktree), whose changes come back from the sandbox as a diff and leave as a commit.
 */

export interface PrepareWorkspace {
  owner: string;
  repo: string;
  /** Clone URL without credentials. */
  cloneUrl: string;
  taskId: string;
  /** Credential for fetching; used for this process only, never stored. Unset: none needed. */
  token?: string;
  /** Branch to start from (the default branch, or the PR branch for a follow-up). */
  baseBranch: string;
  /** Prefer this branch when it exists on the remote (a re-run of the same issue continues it). */
  preferBranch?: string;
  /** Check out this commit (which must exist in the mirror) instead of the branch's tip. */
  commit?: string;
}

export interface CommitIdentity {
  name: string;
  email: string;
}

export interface CommitOptions {
  message: string;
  author: CommitIdentity;
  /** Trailer lines appended to the message (e.g. `Co-authored-by: ...`). */
  trailers?: string[];
}

/** One task's checkout. */
export interface TaskWorkspace {
  /** The commit the task started from. */
  readonly baseSha: string;
  /** The remote branch the checkout was based on. */
  readonly baseBranch: string;
  /**
   * Writes the checkout's tracked files (no .git) into a new directory beside it and returns its
   * path: what the sandbox gets. The caller removes it.
   */
  exportSeed(): Promise<string>;
  /**
   * A regular file's content at the tip of a remote branch, read from git objects (never from a
   * working tree a sandbox could have planted a symlink in); null when absent or not a regular
   * file. Over `maxBytes` is an error.
   */
  readTrustedFile(branch: string, path: string, maxBytes: number): Promise<string | null>;
  /** Applies a binary diff to the index and tree; returns the changed paths. */
  applyPatch(patch: string): Promise<string[]>;
  /** What is staged, with modes and symlink targets (what the change guard checks). */
  stagedChanges(): Promise<StagedChange[]>;
  /** Commits what is staged; returns the sha, or null when nothing is staged. */
  commit(options: CommitOptions): Promise<string | null>;
  /** Pushes HEAD to `branch` on the remote. */
  push(branch: string, token: string | undefined): Promise<void>;
}

export interface Workspaces {
  prepare(options: PrepareWorkspace): Promise<TaskWorkspace>;
  dispose(workspace: TaskWorkspace): Promise<void>;
}
