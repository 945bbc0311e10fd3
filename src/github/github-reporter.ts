/**
 * Progress on GitHub for github tasks: one sticky comment per task, edited in place (throttled,
 * never more than one edit in flight, always ending with the final state), and a live `devbot`
 * check run: created `in_progress` on the commit the task starts from as soon as it is checked
 * out (before the crew's first model call), moved to the branch head after the first push (the
 * run on the start commit is closed as neutral, pointing at the new one), updated as steps pass
 * (title, steps, cost so far) and completed with the outcome, the preview URL and the cost.
 * Read-only tasks (answers, reviews) get no check run.
 */
import {
  applyEvent,
  type GithubOrigin,
  githubOrigin,
  isTerminalEvent,
  mergeFinalTask,
  newProgress,
  type ProgressStatus,
  type Task,
  type TaskEvent,
  type TaskProgress,
  type TaskReporter,
  type TaskStore,
} from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import { CommitStatusWriter } from './commit-status.js';
import { renderCheckSummary, renderProgressComment } from './progress-comment.js';
import type { RestClient } from './rest-client.js';

export const CHECK_RUN_NAME = 'devbot';

export interface GithubReporterOptions {
  /** An installation-authenticated client. */
  octokit(installationId: number): Promise<RestClient>;
  store: Pick<TaskStore, 'patchTask' | 'getTask'>;
  logger: Logger;
  /** Minimum time between two edits of the same comment (ms). */
  minEditIntervalMs?: number;
  /** Link shown on the check run (the task's page). */
  detailsUrl?: (taskId: string) => Promise<string | undefined> | string | undefined;
  /**
   * How the branch head shows the task: a check run (App), or a commit status `devbot` (token mode:
   * personal tokens cannot create check runs). Default check-run.
   */
  headReport?: 'check-run' | 'commit-status';
}

interface Live {
  state: TaskProgress;
  owner: string;
  repo: string;
  installationId: number;
  issueNumber: number;
  commentId: number | null;
  checkRun: { id: number; sha: string; completed: boolean } | null;
  /** The commit the task started from (its checkout), where the check run lives until a push. */
  baseSha: string | null;
  /** Model cost so far, from the `llm` events. */
  costSoFar: number;
  /** Answers and reviews change nothing: no check run. */
  readOnly: boolean;
  lastWriteAt: number;
  timer: NodeJS.Timeout | null;
  /** The write chain: at most one write runs, at most one waits. */
  chain: Promise<void>;
  queued: Promise<void> | null;
}

export class GithubReporter implements TaskReporter {
  readonly name = 'github';
  readonly #live = new Map<string, Live>();
  readonly #interval: number;
  readonly #statuses = new CommitStatusWriter();

  constructor(private readonly options: GithubReporterOptions) {
    this.#interval = options.minEditIntervalMs ?? 2_000;
  }

  accepts(task: Task): boolean {
    return githubOrigin(task) !== null;
  }

  async onEvent(task: Task, event: TaskEvent): Promise<void> {
    const live = this.#liveFor(task);
    const before = visible(live.state);
    applyEvent(live.state, event);
    if (event.type === 'llm') live.costSoFar += event.data.costUsd;
    if (isTerminalEvent(event)) mergeFinalTask(live.state, task);
    if (event.type === 'git' && event.data.action === 'checkout' && !live.readOnly && !live.baseSha) {
      // At once, not throttled: the check run exists before the crew's first model call.
      live.baseSha = event.data.sha;
      if (live.timer) clearTimeout(live.timer);
      live.timer = null;
      await this.#requestWrite(live, task);
      return;
    }
    const changed = visible(live.state) !== before;
    if (isTerminalEvent(event)) {
      if (live.timer) clearTimeout(live.timer);
      live.timer = null;
      await this.#requestWrite(live, task);
      this.#live.delete(task.id);
      return;
    }
    if (changed) this.#throttled(live, task);
  }

  /** Resolves when every write requested so far for the task is done (tests, shutdown). */
  async idle(taskId: string): Promise<void> {
    const live = this.#live.get(taskId);
    if (live) await live.chain;
  }

  #liveFor(task: Task): Live {
    let live = this.#live.get(task.id);
    if (!live) {
      const o = githubOrigin(task) as GithubOrigin;
      live = {
        state: newProgress(task),
        owner: o.owner,
        repo: o.repo,
        installationId: o.installationId,
        issueNumber: o.issueNumber,
        // Persisted ids survive a worker restart: the same comment keeps being edited.
        commentId: o.progressCommentId ?? null,
        checkRun:
          o.checkRunId !== undefined && o.checkRunSha !== undefined
            ? { id: o.checkRunId, sha: o.checkRunSha, completed: false }
            : null,
        baseSha: null,
        costSoFar: 0,
        readOnly: task.input.mode !== undefined,
        lastWriteAt: 0,
        timer: null,
        chain: Promise.resolve(),
        queued: null,
      };
      this.#live.set(task.id, live);
    }
    return live;
  }

  #throttled(live: Live, task: Task): void {
    if (live.timer || live.queued) return;
    const wait = Math.max(0, live.lastWriteAt + this.#interval - Date.now());
    live.timer = setTimeout(() => {
      live.timer = null;
      void this.#requestWrite(live, task);
    }, wait);
    live.timer.unref();
  }

  #requestWrite(live: Live, task: Task): Promise<void> {
    // A write that has not started yet renders the state as it is when it starts: join it.
    if (live.queued) return live.queued;
    const next = live.chain.then(async () => {
      live.queued = null;
      try {
        await this.#write(live, task);
      } catch (err) {
        this.options.logger.warn({ err, taskId: task.id }, 'github progress update failed');
      } finally {
        live.lastWriteAt = Date.now();
      }
    });
    live.queued = next;
    live.chain = next;
    return next;
  }

  async #write(live: Live, task: Task): Promise<void> {
    const octokit = await this.options.octokit(live.installationId);
    const { owner, repo } = live;
    const body = renderProgressComment(live.state, await this.options.detailsUrl?.(live.state.taskId));
    const persist: Partial<GithubOrigin> = {};
    if (live.commentId === null) {
      const { data } = await octokit.rest.issues.createComment({
        owner,
        repo,
        issue_number: live.issueNumber,
        body,
      });
      live.commentId = data.id;
      persist.progressCommentId = data.id;
    } else {
      await octokit.rest.issues.updateComment({ owner, repo, comment_id: live.commentId, body });
    }
    if (this.options.headReport === 'commit-status')
      await this.#statuses.write(
        octokit,
        live,
        live.state,
        await this.options.detailsUrl?.(live.state.taskId),
      );
    else await this.#writeCheckRun(octokit, live, persist);
    if (Object.keys(persist).length > 0) {
      const current = (await this.options.store.getTask(task.id)) ?? task;
      await this.options.store.patchTask(task.id, { origin: { ...current.origin, ...persist } });
    }
  }

  async #writeCheckRun(octokit: RestClient, live: Live, persist: Partial<GithubOrigin>): Promise<void> {
    const { owner, repo, state } = live;
    const final = state.status === 'succeeded' || state.status === 'failed' || state.status === 'cancelled';
    const cost = state.costUsd ?? (live.costSoFar > 0 ? live.costSoFar : null);
    const output = {
      title: titleOf(state),
      summary: renderCheckSummary({ ...state, costUsd: cost }),
    };
    const detailsUrl = await this.options.detailsUrl?.(state.taskId);
    const completion = final
      ? {
          status: 'completed' as const,
          conclusion: conclusionOf(state.status),
          completed_at: new Date().toISOString(),
        }
      : { status: 'in_progress' as const };
    const target = live.readOnly ? null : (state.headSha ?? live.baseSha);
    if (target && (!live.checkRun || live.checkRun.sha !== target)) {
      const previous = live.checkRun;
      const { data } = await octokit.rest.checks.create({
        owner,
        repo,
        name: CHECK_RUN_NAME,
        head_sha: target,
        external_id: state.taskId,
        ...(detailsUrl ? { details_url: detailsUrl } : {}),
        ...completion,
        output,
      });
      live.checkRun = { id: data.id, sha: target, completed: final };
      persist.checkRunId = data.id;
      persist.checkRunSha = target;
      // A check run cannot change its commit: the one on the start commit ends, naming the new one.
      if (previous && !previous.completed)
        await octokit.rest.checks.update({
          owner,
          repo,
          check_run_id: previous.id,
          status: 'completed',
          conclusion: 'neutral',
          completed_at: new Date().toISOString(),
          output: {
            title: 'devbot moved on',
            summary: `devbot pushed ${target.slice(0, 7)}; its check run is on that commit.`,
          },
        });
      return;
    }
    if (live.checkRun && !live.checkRun.completed) {
      await octokit.rest.checks.update({
        owner,
        repo,
        check_run_id: live.checkRun.id,
        ...completion,
        output,
      });
      live.checkRun.completed = final;
    }
  }
}

function titleOf(state: TaskProgress): string {
  switch (state.status) {
    case 'succeeded':
      return 'devbot finished';
    case 'failed':
      return 'devbot failed';
    case 'cancelled':
      return 'devbot was cancelled';
    case 'waiting':
      return 'devbot waits for approval of its plan';
    default: {
      const step = state.steps.at(-1);
      return step ? `devbot: ${step}`.slice(0, 200) : 'devbot is working';
    }
  }
}

function conclusionOf(status: ProgressStatus): 'success' | 'failure' | 'cancelled' {
  if (status === 'succeeded') return 'success';
  if (status === 'cancelled') return 'cancelled';
  return 'failure';
}

/** What the comment and the check run show: a write happens only when this changes. */
function visible(s: TaskProgress): string {
  return JSON.stringify([
    s.status,
    s.planRound,
    s.commandAsks.at(-1)?.id,
    s.steps.length,
    s.steps.at(-1),
    s.prUrl,
    s.previewUrl,
    s.branch,
    s.headSha,
  ]);
}
