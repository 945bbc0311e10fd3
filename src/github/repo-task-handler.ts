/**
 * The repo pipeline for `dev` and `followup` tasks (GitHub and Telegram alike): mirror + worktree
 * on the host, the repository copied into a sandbox with no credentials, the agent works there,
 * the changes come back as a diff, devbot commits them as the App's bot (co-authored by the
 * requester), pushes with a short-lived installation token, and opens or reuses the PR.
 */
import { rm } from 'node:fs/promises';
import type { ProbotOctokit } from 'probot';
import { BadInputError } from '../core/errors.js';
import type { TaskContext, TaskHandler, TaskOutcome } from '../core/ports.js';
import type { Sandbox, SandboxProvider } from '../core/sandbox.js';
import type { Task } from '../core/task.js';
import { branchName } from '../git/branch-name.js';
import { readRepoConfig } from '../git/repo-config.js';
import type { RepoWorkspaces, Workspace } from '../git/repo-workspaces.js';
import { collectSandboxDiff, recordSandboxBaseline } from '../git/sandbox-diff.js';
import { assertWorkflowChangesAllowed } from '../git/workflow-guard.js';
import type { Logger } from '../observability/logger.js';
import type { AgentResult, RepoInfo, RunAgent } from './agent-result.js';
import type { RepoAccess } from './github-app.js';
import { ensurePullRequest, pullRequestText } from './pull-requests.js';

/** The GitHub side the pipeline needs (GithubApp implements it). */
export interface RepoHost {
  readonly appSlug: string;
  repoAccess(owner: string, repo: string, installationId?: number): Promise<RepoAccess>;
  installationToken(installationId: number): Promise<string>;
}

export interface RepoTaskHandlerDeps {
  github: RepoHost;
  workspaces: RepoWorkspaces;
  sandboxes: SandboxProvider;
  runAgent: RunAgent;
  logger: Logger;
  /** Open PRs as drafts (GITHUB_PR_DRAFT). */
  draft: boolean;
  sandboxTimeoutMs?: number;
  /** How long a sandbox with a preview stays up after the task (ms). */
  previewTtlMs?: number;
  /** Commit e-mail of the bot; default `<slug>[bot]@users.noreply.github.com`. */
  botEmail?: string;
  /** Give the task's sandbox network access through the provider's policy (DEVBOT_SANDBOX_NETWORK). */
  network?: boolean;
}

interface Target {
  owner: string;
  repo: string;
  installationId: number | undefined;
}

function targetOf(task: Task): Target {
  const o = task.origin;
  const full = task.repo ?? (o['owner'] && o['repo'] ? `${String(o['owner'])}/${String(o['repo'])}` : null);
  const match = full ? /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(full) : null;
  if (!match)
    throw new BadInputError('a repo task needs a repository (owner/name); bind the chat to one first');
  const installationId = typeof o['installationId'] === 'number' ? o['installationId'] : undefined;
  return { owner: match[1]!, repo: match[2]!, installationId };
}

function numberFrom(...values: unknown[]): number | undefined {
  for (const v of values) if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  return undefined;
}

export function createRepoTaskHandler(deps: RepoTaskHandlerDeps): TaskHandler {
  return async (ctx) => {
    const { task } = ctx;
    const target = targetOf(task);
    const { owner, repo } = target;
    const access = await deps.github.repoAccess(owner, repo, target.installationId);
    const { octokit } = access;
    const { data: repoData } = await octokit.rest.repos.get({ owner, repo });
    const kind: RepoInfo['kind'] = task.kind === 'followup' ? 'followup' : 'dev';
    const prNumber = numberFrom(task.origin['prNumber'], task.input['prNumber']);
    const issueNumber =
      kind === 'dev' && task.source === 'github'
        ? numberFrom(task.origin['issueNumber'], task.input['issueNumber'])
        : undefined;
    const title = String(task.input['issueTitle'] ?? task.prompt.split('\n')[0] ?? '').trim();

    let branch: string;
    let baseBranch: string;
    let prBase = repoData.default_branch;
    if (kind === 'followup') {
      if (!prNumber) throw new BadInputError('a follow-up needs the pull request it follows up on');
      const { data: pr } = await octokit.rest.pulls.get({ owner, repo, pull_number: prNumber });
      if (pr.head.repo?.full_name !== repoData.full_name)
        throw new BadInputError(
          'devbot only follows up on pull requests from branches of the same repository',
        );
      branch = pr.head.ref;
      baseBranch = pr.head.ref;
      prBase = pr.base.ref;
    } else {
      branch = branchName(issueNumber ?? task.id.replace(/-/g, '').slice(0, 8), title);
      baseBranch = repoData.default_branch;
    }

    await ctx.emit('step', { phase: 'checkout', message: `Fetching ${owner}/${repo}` });
    const token = await deps.github.installationToken(access.installationId);
    const started = performance.now();
    const ws = await deps.workspaces.prepare({
      owner,
      repo,
      cloneUrl: repoData.clone_url,
      token,
      taskId: task.id,
      baseBranch,
      ...(kind === 'dev' ? { preferBranch: branch } : {}),
    });
    await ctx.emit('git', {
      action: 'checkout',
      base: ws.baseBranch,
      sha: ws.baseSha,
      ms: Math.round(performance.now() - started),
    });
    try {
      const config = await readRepoConfig(ws.dir);
      const info: RepoInfo = {
        owner,
        repo,
        fullName: `${owner}/${repo}`,
        defaultBranch: repoData.default_branch,
        baseBranch: ws.baseBranch,
        branch,
        baseSha: ws.baseSha,
        kind,
        config,
        ...(issueNumber !== undefined ? { issueNumber } : {}),
        ...(prNumber !== undefined ? { prNumber } : {}),
      };
      const { result, diff } = await runInSandbox(deps, ctx, ws, info);
      const changed = await ws.applyPatch(diff);
      if (changed.length === 0) {
        await replyInThread(
          octokit,
          task,
          owner,
          repo,
          prNumber,
          result.reply ?? result.summary,
          deps.logger,
        );
        return {
          summary: result.summary || 'No changes were needed.',
          result: { changed: [], agent: result.data ?? {} },
          ...(result.previewUrl ? { patch: { previewUrl: result.previewUrl } } : {}),
        };
      }
      assertWorkflowChangesAllowed(changed, config);
      return await commitPushAndOpen(deps, ctx, {
        ws,
        octokit,
        info,
        result,
        changed,
        token,
        title,
        prBase,
        issueNumber,
        prNumber,
      });
    } finally {
      await deps.workspaces.dispose(ws).catch((err) => deps.logger.warn({ err }, 'worktree cleanup failed'));
    }
  };
}

async function runInSandbox(
  deps: RepoTaskHandlerDeps,
  ctx: TaskContext,
  ws: Workspace,
  info: RepoInfo,
): Promise<{ result: AgentResult; diff: string }> {
  const seed = `${ws.dir}.seed`;
  await ws.exportTo(seed);
  await ctx.emit('step', { phase: 'sandbox', message: 'Copying the repository into a sandbox' });
  let sandbox: Sandbox;
  try {
    sandbox = await deps.sandboxes.create({
      taskId: ctx.task.id,
      seedDir: seed,
      ...(deps.sandboxTimeoutMs ? { timeoutMs: deps.sandboxTimeoutMs } : {}),
      ...(deps.network ? { network: true } : {}),
    });
  } finally {
    await rm(seed, { recursive: true, force: true });
  }
  let keepForPreview = false;
  try {
    const baseline = await recordSandboxBaseline(sandbox);
    await ctx.emit('step', { phase: 'agent', message: 'Working on the change in the sandbox' });
    const result = await deps.runAgent(ctx, sandbox, info);
    const diff = await collectSandboxDiff(sandbox, baseline);
    if (result.previewUrl) {
      keepForPreview = true;
      await ctx.emit('preview_ready', { url: result.previewUrl });
      const timer = setTimeout(() => void sandbox.close().catch(() => {}), deps.previewTtlMs ?? 30 * 60_000);
      timer.unref();
    }
    return { result, diff };
  } finally {
    if (!keepForPreview) await sandbox.close();
  }
}

interface Finish {
  ws: Workspace;
  octokit: ProbotOctokit;
  info: RepoInfo;
  result: AgentResult;
  changed: string[];
  token: string;
  title: string;
  prBase: string;
  issueNumber: number | undefined;
  prNumber: number | undefined;
}

async function commitPushAndOpen(
  deps: RepoTaskHandlerDeps,
  ctx: TaskContext,
  f: Finish,
): Promise<TaskOutcome> {
  const { task } = ctx;
  const { owner, repo, branch } = f.info;
  const subject = (f.result.commitMessage ?? f.result.prTitle ?? f.title).trim() || 'devbot changes';
  await ctx.emit('step', {
    phase: 'commit',
    message: `Committing ${f.changed.length} changed file${f.changed.length === 1 ? '' : 's'}`,
  });
  const sha = await f.ws.commit({
    message: subject,
    author: {
      name: `${deps.github.appSlug}[bot]`,
      email: deps.botEmail ?? `${deps.github.appSlug}[bot]@users.noreply.github.com`,
    },
    trailers: coAuthorTrailers(task),
  });
  if (!sha) throw new Error('nothing was committed although the diff had changes');
  await ctx.emit('git', { action: 'committed', sha, branch, files: f.changed.length });
  await ctx.emit('step', { phase: 'push', message: `Pushing \`${branch}\`` });
  await f.ws.push(branch, f.token);
  await ctx.emit('git', { action: 'pushed', sha, branch });
  await ctx.patch({ branch });

  const text = pullRequestText({
    title: f.result.prTitle ?? subject,
    body: f.result.prBody ?? f.result.summary,
    issueNumber: f.issueNumber,
    requester: task.requester,
    taskId: task.id,
  });
  const pr = await ensurePullRequest(f.octokit, {
    owner,
    repo,
    head: branch,
    base: f.prBase,
    title: text.title,
    body: text.body,
    draft: deps.draft,
  });
  await ctx.emit('pr_opened', { url: pr.url, number: pr.number, reused: !pr.created });
  if (f.info.kind === 'followup')
    await replyInThread(
      f.octokit,
      task,
      owner,
      repo,
      f.prNumber,
      f.result.reply ?? f.result.summary,
      deps.logger,
    );
  return {
    summary: f.result.summary,
    result: {
      branch,
      sha,
      changed: f.changed,
      pr: { number: pr.number, url: pr.url },
      // What the agent says to the person who asked (the chat reply); reporters may show it.
      ...(f.result.reply ? { reply: f.result.reply } : {}),
      agent: f.result.data ?? {},
    },
    patch: { branch, prUrl: pr.url, ...(f.result.previewUrl ? { previewUrl: f.result.previewUrl } : {}) },
  };
}

function coAuthorTrailers(task: Task): string[] {
  if (task.requester.startsWith('gh:')) {
    const login = task.requester.slice(3);
    return [`Co-authored-by: ${login} <${login}@users.noreply.github.com>`];
  }
  return [`Requested-by: ${task.requester}`];
}

/** Follow-ups from a review comment answer in that comment's thread. */
async function replyInThread(
  octokit: ProbotOctokit,
  task: Task,
  owner: string,
  repo: string,
  prNumber: number | undefined,
  body: string,
  logger: Logger,
): Promise<void> {
  const commentId = task.origin['reviewCommentId'];
  if (typeof commentId !== 'number' || !prNumber || !body) return;
  try {
    await octokit.rest.pulls.createReplyForReviewComment({
      owner,
      repo,
      pull_number: prNumber,
      comment_id: commentId,
      body,
    });
  } catch (err) {
    logger.warn({ err, taskId: task.id }, 'could not reply in the review thread');
  }
}
