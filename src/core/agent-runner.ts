/**
 * The contract between the repo task handler and whatever does the work inside the sandbox: the
 * agent crew, or a scripted agent in tests. The agent changes files in `sandbox.workdir` and
 * nothing else: it never commits, pushes or talks to the repository host (it has no token).
 */
import type { ApprovalInfo } from './approval.js';
import type { TaskContext } from './ports.js';
import type { RepoConfig } from './repo-config.js';
import type { Sandbox } from './sandbox.js';
import type { TaskCheck } from './task-result.js';

/** What the handler tells the agent about the repository it works on. */
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
  /**
   * `change` (default): change files, devbot commits and pushes. `answer`: read-only, the result's
   * reply is the answer (files changed are thrown away). `review`: read-only, `result.review` is
   * posted as one pull-request review.
   */
  mode?: 'change' | 'answer' | 'review';
  /** The repository's `.devbot.yml`, read once on the host from the default branch. */
  config: RepoConfig;
  issueNumber?: number;
  prNumber?: number;
  /** Plan approval: whether to stop after planning, or the plan already approved. */
  approval?: ApprovalInfo;
}

/** What the agent returns after working in the sandbox. */
export interface AgentResult {
  /** A few sentences on what was done: the task's result summary. */
  summary: string;
  /** Pull request title. Default: the commit subject, else the first line of the task prompt. */
  prTitle?: string;
  /** Pull request body in Markdown. Default: the summary. devbot appends `Closes #N` and a footer. */
  prBody?: string;
  /** Commit message (first line = subject). Default: the PR title. */
  commitMessage?: string;
  /** What to say to the requester (chat reply, review-thread answer). Default: the summary. */
  reply?: string;
  /** A preview the agent exposed (it emitted `preview_ready`); the handler keeps its sandbox. */
  preview?: { url: string; port: number; command?: string };
  /** The crew's working notes, kept on the task's result. */
  plan?: string[];
  checks?: TaskCheck[];
  tests?: { passed: number; failed: number };
  rounds?: number;
  /**
   * followup: what became of each review thread it was shown (by thread id): addressed or not, and
   * a note (what changed, or why not). Threads it does not name count as addressed when their file
   * changed.
   */
  threads?: Array<{ id: number; addressed: boolean; note?: string }>;
  /** review mode: the review's summary and its inline comments (lines of the PR's new side). */
  review?: { body: string; comments: Array<{ path: string; line: number; body: string }> };
}

/** Does the work inside the sandbox. Throw to fail the task (BadInputError: no retry). */
export type RunAgent = (ctx: TaskContext, sandbox: Sandbox, repo: RepoInfo) => Promise<AgentResult>;
