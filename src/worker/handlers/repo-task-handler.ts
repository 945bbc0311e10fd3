/**
 * How a task becomes a pull request (`dev` and `followup`, from any front door): a checkout on the
 * host, the repository copied into a sandbox with no credentials, the agent works there, the
 * changes come back as a diff, devbot commits them (co-authored by the requester), pushes with a
 * short-lived credential and opens or reuses the PR. Ports only: the repository host, host-side
 * git, the sandbox provider and the agent are injected.
 */
import { rm } from 'node:fs/promises';
import {
  type AgentResult,
  type ApprovalInfo,
  type ApprovalSetting,
  approvalIncludes,
  assertChangeAllowed,
  BadInputError,
  branchName,
  CancelledError,
  ForbiddenError,
  githubOrigin,
  type HostedRepo,
  type PreviewRecords,
  type PullRequestContext,
  previewToken,
  REPO_CONFIG_FILE,
  type RepoHost,
  type RepoInfo,
  type RunAgent,
  requireRepoConfig,
  type SandboxProvider,
  type Task,
  type TaskContext,
  type TaskHandler,
  type TaskResult,
  type TaskWorkspace,
  type Workspaces,
} from '../../core/index.js';
import type { Logger } from '../../observability/logger.js';
import type { PreviewLeases } from '../preview-leases.js';
import type { RepoAuthorizer } from '../repo-authorizer.js';
import { pullRequestText } from './pull-request-text.js';
import {
  promptWithReviewContext,
  type ThreadOutcome,
  threadLocation,
  threadOutcomes,
} from './review-context.js';
import { collectSandboxDiff, recordSandboxBaseline } from './sandbox-diff.js';

export interface RepoTaskHandlerDeps {
  host: RepoHost;
  /** Whether the requester may change the repository: checked before any work and before the push. */
  authorizer: RepoAuthorizer;
  workspaces: Workspaces;
  sandboxes: SandboxProvider;
  runAgent: RunAgent;
  /** Keeps a sandbox serving a preview alive for the preview TTL. */
  previews: PreviewLeases;
  /** Where a preview's origin is recorded, so its link can bring it back after it ends. */
  previewRecords?: PreviewRecords;
  logger: Logger;
  /** Open PRs as drafts (GITHUB_PR_DRAFT). */
  draft: boolean;
  sandboxTimeoutMs?: number;
  /** Give the task's sandbox network access through the provider's policy (DEVBOT_SANDBOX_NETWORK). */
  network?: boolean;
  /** The deployment's approvals (DEVBOT_APPROVAL); a repository's `.devbot.yml` overrides them. */
  approval?: ApprovalSetting;
}

/** `.devbot.yml` larger than this is refused (it is a few lines of settings). */
const MAX_CONFIG_BYTES = 64 * 1024;

function targetOf(task: Task): { owner: string; repo: string; installationId: number | undefined } {
  const match = task.repo ? /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(task.repo) : null;
  if (!match || ['.', '..'].includes(match[1] as string) || ['.', '..'].includes(match[2] as string))
    throw new BadInputError('a repo task needs a repository (owner/name); bind the chat to one first');
  return {
    owner: match[1] as string,
    repo: match[2] as string,
    installationId: githubOrigin(task)?.installationId,
  };
}

export function createRepoTaskHandler(deps: RepoTaskHandlerDeps): TaskHandler {
  return async (ctx) => {
    const { task } = ctx;
    const target = targetOf(task);
    const { owner, repo } = target;
    const hosted = await deps.host.open({
      owner,
      name: repo,
      ...(target.installationId !== undefined ? { installationId: target.installationId } : {}),
    });
    // Checked before any work, and again right before the push (on the repository opened here).
    const authorize = () =>
      deps.authorizer.assertMayChange(task.requester, `${owner}/${repo}`, {
        installationId: target.installationId,
        hosted,
      });
    await authorize();
    const ciFix = task.input.ciFix;
    if (ciFix)
      await ctx.emit('step', {
        phase: 'ci-fix',
        message: `CI fix attempt ${ciFix.attempt} of ${ciFix.max}: ${ciFix.check} failed`,
      });
    const kind: RepoInfo['kind'] = task.kind === 'followup' ? 'followup' : 'dev';
    const prNumber = task.input.prNumber;
    const issueNumber = kind === 'dev' ? task.input.issueNumber : undefined;
    const title = (task.input.issueTitle ?? task.prompt.split('\n')[0] ?? '').trim();

    let branch: string;
    let baseBranch: string;
    let prBase = hosted.defaultBranch;
    let review: PullRequestContext | null = null;
    let mode: NonNullable<RepoInfo['mode']> = task.input.mode ?? 'change';
    let readOnlyNote: string | null = null;
    const pullRequestOf = hosted.pullRequest?.bind(hosted);
    if (kind === 'followup' && !pullRequestOf) {
      // A host without pull requests (local repositories): the follow-up names devbot's branch.
      const given = task.input.branch;
      if (!given) throw new BadInputError('a follow-up on a local repository needs input.branch (devbot/…)');
      if (!given.startsWith('devbot/'))
        throw new ForbiddenError(`devbot pushes only to its own branches (devbot/…), not ${given}`);
      branch = given;
      baseBranch = given;
    } else if (kind === 'followup' && pullRequestOf) {
      if (!prNumber) throw new BadInputError('a follow-up needs the pull request it follows up on');
      const pr = await pullRequestOf(prNumber);
      if (!pr.sameRepo) {
        // A fork's branch is out of devbot's reach (and its code unvetted): answer, never push.
        readOnlyNote = `#${prNumber} comes from a fork, so devbot does not push to it; here is an answer instead of a change.`;
        mode = mode === 'change' ? 'answer' : mode;
        branch = pr.baseRef;
        baseBranch = pr.baseRef;
        prBase = pr.baseRef;
        // The fork's code is not checked out (the workspace is the base branch): the run reads the
        // pull request's diff from the host instead.
        review = await readReviewContext(hosted, ctx, prNumber, deps.logger);
      } else {
        // Someone else's branch: only a GitHub user whose write access was just verified may have
        // devbot push there; API and Telegram requests push only to devbot's own pull requests.
        if (!pr.openedByDevbot && mode === 'change' && !verifiedGithubWriter(task))
          throw new ForbiddenError(
            `devbot pushes only to pull requests it opened; #${prNumber} (${pr.headRef}) is someone else's`,
          );
        branch = pr.headRef;
        baseBranch = pr.headRef;
        prBase = pr.baseRef;
        review = await readReviewContext(hosted, ctx, prNumber, deps.logger);
      }
    } else {
      branch = branchName(issueNumber ?? task.id.replace(/-/g, '').slice(0, 8), title);
      baseBranch = hosted.defaultBranch;
    }

    await ctx.emit('step', { phase: 'checkout', message: `Fetching ${owner}/${repo}` });
    const token = await hosted.pushToken();
    const started = performance.now();
    const ws = await deps.workspaces.prepare({
      owner,
      repo,
      cloneUrl: hosted.cloneUrl,
      taskId: task.id,
      baseBranch,
      ...(token !== undefined ? { token } : {}),
      ...(kind === 'dev' && mode === 'change' ? { preferBranch: branch } : {}),
    });
    await ctx.emit('git', {
      action: 'checkout',
      base: ws.baseBranch,
      sha: ws.baseSha,
      ms: Math.round(performance.now() - started),
    });
    try {
      // The repository's settings come from its default branch, as git objects: never from a
      // branch the agent wrote, never through a file a sandbox could have planted.
      const config = requireRepoConfig(
        await ws.readTrustedFile(hosted.defaultBranch, REPO_CONFIG_FILE, MAX_CONFIG_BYTES),
      );
      const info: RepoInfo = {
        owner,
        repo,
        fullName: `${owner}/${repo}`,
        defaultBranch: hosted.defaultBranch,
        baseBranch: ws.baseBranch,
        branch,
        baseSha: ws.baseSha,
        kind,
        mode,
        config,
        ...(issueNumber !== undefined ? { issueNumber } : {}),
        ...(prNumber !== undefined ? { prNumber } : {}),
        approval: approvalFor(task, kind, config.approval ?? deps.approval ?? []),
      };
      // The crew reads the prompt with the PR's review context; the stored prompt stays as asked.
      let prompt = review
        ? promptWithReviewContext(task.prompt, review, { patches: mode !== 'change' })
        : task.prompt;
      if (readOnlyNote)
        prompt += `\n\n${readOnlyNote} The workspace holds the base branch (${baseBranch}), not the fork's code: the pull request's changes are in its diff above. Do not change files: answer the request.`;
      const agentCtx = prompt === task.prompt ? ctx : { ...ctx, task: { ...task, prompt } };
      const { result, diff } = await runInSandbox(deps, agentCtx, ws, info);
      if (mode !== 'change')
        return await answerOnly(hosted, ctx, info, ws.baseSha, result, readOnlyNote, deps.logger);
      const changed = await ws.applyPatch(diff);
      if (changed.length === 0) {
        await replyInThread(hosted, task, prNumber, result.reply ?? result.summary, deps.logger);
        if (review && prNumber)
          await reportThreads(
            hosted,
            task,
            prNumber,
            threadOutcomes(review.threads, [], result),
            null,
            deps.logger,
          );
        return { ...agentFacts(result), summary: result.summary || 'No changes were needed.', changed: [] };
      }
      assertChangeAllowed(await ws.stagedChanges(), config);
      await ctx.emit('diff', readableDiff(diff, changed.length));
      return await commitPushAndOpen(deps, ctx, {
        ws,
        hosted,
        info,
        result,
        changed,
        token,
        title,
        prBase,
        authorize,
        review,
      });
    } finally {
      await deps.workspaces.dispose(ws).catch((err) => deps.logger.warn({ err }, 'worktree cleanup failed'));
    }
  };
}

async function runInSandbox(
  deps: RepoTaskHandlerDeps,
  ctx: TaskContext,
  ws: TaskWorkspace,
  info: RepoInfo,
): Promise<{ result: AgentResult; diff: string }> {
  // A task cancelled during the checkout stops here, not at the crew's first model call.
  stopIfAborted(ctx);
  const seedDir = await ws.exportSeed();
  await ctx.emit('step', { phase: 'sandbox', message: 'Copying the repository into a sandbox' });
  const sandbox = await deps.sandboxes
    .create({
      taskId: ctx.task.id,
      seedDir,
      ...(deps.sandboxTimeoutMs ? { timeoutMs: deps.sandboxTimeoutMs } : {}),
      ...(deps.network ? { network: true } : {}),
    })
    .finally(() => rm(seedDir, { recursive: true, force: true }));
  let keepForPreview = false;
  try {
    const baseline = await recordSandboxBaseline(sandbox);
    stopIfAborted(ctx);
    await ctx.emit('step', { phase: 'agent', message: 'Working on the change in the sandbox' });
    const result = await deps.runAgent(ctx, sandbox, info);
    const diff = await collectSandboxDiff(sandbox, baseline);
    if (result.preview) {
      // The agent announced the preview (preview_ready); the lease keeps its sandbox serving.
      keepForPreview = true;
      deps.previews.hold({ taskId: ctx.task.id, sandbox, release: () => sandbox.close() });
    }
    return { result, diff };
  } finally {
    if (!keepForPreview) await sandbox.close();
  }
}

interface Finish {
  ws: TaskWorkspace;
  hosted: HostedRepo;
  info: RepoInfo;
  result: AgentResult;
  changed: string[];
  token: string | undefined;
  title: string;
  prBase: string;
  /** Checked again right before the push: access can change while the agent works. */
  authorize(): Promise<void>;
  /** A follow-up's review context: its threads get answers after the push. */
  review: PullRequestContext | null;
}

async function commitPushAndOpen(
  deps: RepoTaskHandlerDeps,
  ctx: TaskContext,
  f: Finish,
): Promise<TaskResult> {
  const { task } = ctx;
  const { branch } = f.info;
  const subject = (f.result.commitMessage ?? f.result.prTitle ?? f.title).trim() || 'devbot changes';
  // A cancel or a timeout stops the task here, before anything leaves the host.
  stopIfAborted(ctx);
  await ctx.emit('step', {
    phase: 'commit',
    message: `Committing ${f.changed.length} changed file${f.changed.length === 1 ? '' : 's'}`,
  });
  const sha = await f.ws.commit({
    message: subject,
    author: f.hosted.commitAuthor,
    trailers: coAuthorTrailers(task),
  });
  if (!sha) throw new Error('nothing was committed although the diff had changes');
  await ctx.emit('git', { action: 'committed', sha, branch, files: f.changed.length });
  await ctx.emit('step', { phase: 'push', message: `Pushing \`${branch}\`` });
  await f.authorize();
  stopIfAborted(ctx);
  await f.ws.push(branch, f.token);
  await ctx.emit('git', { action: 'pushed', sha, branch });
  await recordPreview(deps, ctx, f, sha);
  await ctx.patch({ branch });

  if (!f.hosted.ensurePullRequest) {
    // No pull requests here: the branch is the deliverable, with how to look at it.
    const hint = f.hosted.branchHint?.(branch, f.prBase);
    return {
      ...agentFacts(f.result),
      summary: hint ? `${f.result.summary}\n\nSee it: ${hint}` : f.result.summary,
      branch,
      commit: sha,
      changed: f.changed,
    };
  }
  const text = pullRequestText({
    title: f.result.prTitle ?? subject,
    body: f.result.prBody ?? f.result.summary,
    issueNumber: f.info.issueNumber,
    requester: task.requester,
    taskId: task.id,
  });
  stopIfAborted(ctx);
  const pr = await f.hosted.ensurePullRequest({
    head: branch,
    base: f.prBase,
    title: text.title,
    body: text.body,
    draft: deps.draft,
  });
  await ctx.emit('pr_opened', { url: pr.url, number: pr.number, reused: !pr.created });
  if (f.info.kind === 'followup') {
    const outcomes = f.review ? threadOutcomes(f.review.threads, f.changed, f.result) : [];
    // The triggering review comment gets its answer once: in its thread's reply when addressed.
    const answered = outcomes.some((o) => o.addressed && o.thread.id === githubOrigin(task)?.reviewCommentId);
    if (!answered)
      await replyInThread(f.hosted, task, f.info.prNumber, f.result.reply ?? f.result.summary, deps.logger);
    if (f.info.prNumber)
      await reportThreads(
        f.hosted,
        task,
        f.info.prNumber,
        outcomes,
        { sha, url: `${pr.url}/commits/${sha}` },
        deps.logger,
      );
  }
  return {
    ...agentFacts(f.result),
    branch,
    commit: sha,
    changed: f.changed,
    pr: { number: pr.number, url: pr.url },
  };
}

/**
 * Plan approval applies to new work (dev), not to follow-ups on devbot's own PR; command approval
 * to both. Neither applies when the front door said to skip approval (GitHub's `devbot-auto`). A
 * plan approved earlier is handed back.
 */
function approvalFor(task: Task, kind: RepoInfo['kind'], setting: ApprovalSetting): ApprovalInfo {
  const skip = Boolean(task.input.skipApproval);
  return {
    mode: kind === 'dev' && !skip && approvalIncludes(setting, 'plan') ? 'plan' : 'none',
    commands: !skip && approvalIncludes(setting, 'commands'),
    ...(task.input.approvedPlan ? { approvedPlan: task.input.approvedPlan } : {}),
    ...(task.input.revisions?.length ? { revisions: task.input.revisions } : {}),
  };
}

function stopIfAborted(ctx: TaskContext): void {
  if (ctx.signal.aborted) throw ctx.signal.reason ?? new CancelledError();
}

/** What the agent's result adds to the task's result. */
function agentFacts(r: AgentResult) {
  return {
    summary: r.summary,
    ...(r.reply ? { reply: r.reply } : {}),
    ...(r.preview ? { preview: r.preview } : {}),
    ...(r.plan ? { plan: r.plan } : {}),
    ...(r.checks ? { checks: r.checks } : {}),
    ...(r.tests ? { tests: r.tests } : {}),
    ...(r.rounds !== undefined ? { rounds: r.rounds } : {}),
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
  hosted: HostedRepo,
  task: Task,
  prNumber: number | undefined,
  body: string,
  logger: Logger,
): Promise<void> {
  const commentId = githubOrigin(task)?.reviewCommentId;
  if (commentId === undefined || !prNumber || !body) return;
  try {
    await hosted.replyInThread(prNumber, commentId, body);
  } catch (err) {
    logger.warn({ err, taskId: task.id }, 'could not reply in the review thread');
  }
}

/** Most of a diff that a page can show: binary patches become one line each, and the whole is capped. */
export const DIFF_EVENT_CAP = 256 * 1024;
function readableDiff(diff: string, files: number): { text: string; files: number; truncated?: boolean } {
  const text = diff.replace(
    /^GIT binary patch\n[\s\S]*?(?=^diff --git |(?![\s\S]))/gm,
    'Binary file changed\n',
  );
  if (text.length <= DIFF_EVENT_CAP) return { text, files };
  return { text: text.slice(0, DIFF_EVENT_CAP), files, truncated: true };
}

/** Records what served the task's preview (the pushed commit), so its link can revive it later. */
async function recordPreview(
  deps: RepoTaskHandlerDeps,
  ctx: TaskContext,
  f: Finish,
  sha: string,
): Promise<void> {
  const preview = f.result.preview;
  const token = preview ? previewToken(preview.url) : null;
  if (!preview || !token || !deps.previewRecords) return;
  await deps.previewRecords
    .record({
      token,
      taskId: ctx.task.id,
      repo: f.info.fullName,
      branch: f.info.branch,
      commit: sha,
      command: preview.command ?? null,
      port: preview.port,
    })
    .catch((err) => deps.logger.warn({ err, taskId: ctx.task.id }, 'recording the preview failed'));
}

/** The PR's review context, or null (the follow-up still runs on the request alone). */
async function readReviewContext(
  hosted: HostedRepo,
  ctx: TaskContext,
  prNumber: number,
  logger: Logger,
): Promise<PullRequestContext | null> {
  if (!hosted.pullRequestContext) return null;
  try {
    const review = await hosted.pullRequestContext(prNumber);
    await ctx.emit('step', {
      phase: 'context',
      message: `Read the pull request: ${review.files.length} file(s), ${review.threads.length} unresolved review thread(s)`,
    });
    return review;
  } catch (err) {
    logger.warn({ err, taskId: ctx.task.id }, 'could not read the pull request review context');
    return null;
  }
}

/**
 * After the push: a reply in each thread the change addressed (what changed, the commit), and one
 * comment on the PR naming the threads it did not address and why.
 */
async function reportThreads(
  hosted: HostedRepo,
  task: Task,
  prNumber: number,
  outcomes: ThreadOutcome[],
  commit: { sha: string; url: string } | null,
  logger: Logger,
): Promise<void> {
  for (const o of outcomes.filter((x) => x.addressed && commit)) {
    const body = `${o.note}\n\nChanged in [${commit?.sha.slice(0, 7)}](${commit?.url}).`;
    await hosted
      .replyInThread(prNumber, o.thread.id, body)
      .catch((err) =>
        logger.warn({ err, taskId: task.id, thread: o.thread.id }, 'could not reply in a review thread'),
      );
  }
  const left = outcomes.filter((o) => !o.addressed);
  if (left.length === 0 || !hosted.comment) return;
  const lines = left.map((o) => `- ${threadLocation(o.thread)} (thread ${o.thread.id}): ${o.note}`);
  const body = [
    `<!-- devbot:threads task=${task.id} -->`,
    `devbot did not address ${left.length} review thread${left.length === 1 ? '' : 's'}${commit ? ` in ${commit.sha.slice(0, 7)}` : ''}:`,
    '',
    ...lines,
  ].join('\n');
  await hosted
    .comment(prNumber, body)
    .catch((err) => logger.warn({ err, taskId: task.id }, 'could not list the review threads left'));
}

/** A GitHub user asked, and the authorizer verified their write access to this repository. */
function verifiedGithubWriter(task: Task): boolean {
  return task.source === 'github' && task.requester.startsWith('gh:') && githubOrigin(task) !== null;
}

/**
 * A read-only run's end: the files the agent touched are thrown away; its answer is the task's
 * result (the sticky comment shows it), a review is posted as one PR review.
 */
async function answerOnly(
  hosted: HostedRepo,
  ctx: TaskContext,
  info: RepoInfo,
  commit: string,
  result: AgentResult,
  note: string | null,
  logger: Logger,
): Promise<TaskResult> {
  const { task } = ctx;
  const answer = (result.reply ?? result.summary).trim();
  if (info.mode === 'review' && info.prNumber && hosted.postReview && !note) {
    const review = result.review ?? { body: answer, comments: [] };
    await ctx.emit('step', {
      phase: 'review',
      message: `Posting a review with ${review.comments.length} inline comment(s)`,
    });
    await hosted.postReview(info.prNumber, {
      commit,
      body: review.body || answer,
      comments: review.comments,
    });
  }
  await replyInThread(hosted, task, info.prNumber, answer, logger);
  const summary = note ? `${note}\n\n${answer}` : answer;
  return { ...agentFacts(result), summary: summary || 'No answer.', reply: summary, changed: [] };
}
