/**
 * The contract between the repo pipeline (createRepoTaskHandler) and whatever does the work
 * inside the sandbox: the agent crew, a scripted handler in tests, or a plain shell command.
 */
import type { TaskContext } from '../core/ports.js';
import type { Sandbox } from '../core/sandbox.js';
import type { RepoConfig } from '../git/repo-config.js';

/** What the pipeline tells the agent about the repository it works on. */
export interface RepoInfo {
  owner: string;
  repo: string;
  /** `owner/repo`. */
  fullName: string;
  defaultBranch: string;
  /** The branch the sandbox's files come from (default branch, or the PR branch for follow-ups). */
  baseBranch: string;
  /** The branch devbot will push to. */
  branch: string;
  /** The commit the sandbox's files are at. */
  baseSha: string;
  kind: 'dev' | 'followup';
  /** The repository's `.devbot.yml` (defaults when absent): setup/test/lint commands, preview. */
  config: RepoConfig;
  issueNumber?: number;
  prNumber?: number;
}

/**
 * What the agent returns after working in `sandbox.workdir`. It changes files there and nothing
 * else: it never commits, pushes or talks to GitHub (it has no token). The pipeline reads the
 * changes back as a diff, commits them on the host and opens or updates the PR.
 */
export interface AgentResult {
  /** A few sentences on what was done: the task's result summary (sticky comment, check run, chat). */
  summary: string;
  /** Pull request title. Default: the commit subject, else the first line of the task prompt. */
  prTitle?: string;
  /** Pull request body in Markdown. Default: the summary. devbot appends `Closes #N` and a footer. */
  prBody?: string;
  /** Commit message (first line = subject). Default: the PR title. */
  commitMessage?: string;
  /** Answer posted in the review thread for follow-ups triggered by a review comment. Default: summary. */
  reply?: string;
  /** A preview URL from `sandbox.exposePort`; the sandbox is then kept for DEVBOT_PREVIEW_TTL seconds. */
  previewUrl?: string;
  /** Anything else worth keeping; stored under `task.result.agent`. */
  data?: Record<string, unknown>;
}

/** Does the work inside the sandbox. Throw to fail the task (BadInputError: no retry). */
export type RunAgent = (ctx: TaskContext, sandbox: Sandbox, repo: RepoInfo) => Promise<AgentResult>;
