/**
 * Progress on GitHub for github tasks: one sticky comment per task, edited in place (throttled,
 * never more than one edit in flight, always ending with the final state), and a `devbot` check
 * run on the branch head once a commit has been pushed.
 */
import type { ProbotOctokit } from 'probot';
import type { Task, TaskEvent, TaskReporter, TaskStore } from '../core/index.js';
import { isTerminalEvent } from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import {
  type ProgressState,
  type ProgressStatus,
  renderCheckSummary,
  renderProgressComment,
} from './progress-comment.js';

export const CHECK_RUN_NAME = 'devbot';

export interface GithubReporterOptions {
  /** An installation-authenticated client. */
  octokit(installationId: number): Promise<ProbotOctokit>;
  store: Pick<TaskStore, 'patchTask' | 'getTask'>;
  logger: Logger;
  /** Minimum time between two edits of the same comment (ms). */
  minEditIntervalMs?: number;
  /** Link shown on the check run (the task's page). */
  detailsUrl?: (taskId: string) => string | undefined;
}

interface Live {
  state: ProgressState;
  owner: string;
  repo: string;
  installationId: number;
  issueNumber: number;
  commentId: number | null;
  headSha: string | null;
  checkRun: { id: number; sha: string; completed: boolean } | null;
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

  constructor(private readonly options: GithubReporterOptions) {
    this.#interval = options.minEditIntervalMs ?? 2_000;
  }

  accepts(task: Task): boolean {
    return task.source === 'github' && typeof task.origin['installationId'] === 'number';
  }

  async onEvent(task: Task, event: TaskEvent): Promise<void> {
    const live = this.#liveFor(task);
    const changed = apply(live, task, event);
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
      const o = task.origin;
      live = {
        state: { taskId: task.id, status: task.status, steps: [] },
        owner: String(o['owner']),
        repo: String(o['repo']),
        installationId: Number(o['installationId']),
        issueNumber: Number(o['prNumber'] ?? o['issueNumber']),
        // Persisted ids survive a worker restart: the same comment keeps being edited.
        commentId: typeof o['progressCommentId'] === 'number' ? o['progressCommentId'] : null,
        headSha: null,
        checkRun:
          typeof o['checkRunId'] === 'number' && typeof o['checkRunSha'] === 'string'
            ? { id: o['checkRunId'], sha: o['checkRunSha'], completed: false }
            : null,
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
    const body = renderProgressComment(live.state);
    const persist: Record<string, unknown> = {};
    if (live.commentId === null) {
      const { data } = await octokit.rest.issues.createComment({
        owner,
        repo,
        issue_number: live.issueNumber,
        body,
      });
      live.commentId = data.id;
      persist['progressCommentId'] = data.id;
    } else {
      await octokit.rest.issues.updateComment({ owner, repo, comment_id: live.commentId, body });
    }
    await this.#writeCheckRun(octokit, live, persist);
    if (Object.keys(persist).length > 0) {
      const current = (await this.options.store.getTask(task.id)) ?? task;
      await this.options.store.patchTask(task.id, { origin: { ...current.origin, ...persist } });
    }
  }

  async #writeCheckRun(octokit: ProbotOctokit, live: Live, persist: Record<string, unknown>): Promise<void> {
    const { owner, repo, state } = live;
    const final = state.status === 'succeeded' || state.status === 'failed' || state.status === 'cancelled';
    const output = { title: titleOf(state.status), summary: renderCheckSummary(state) };
    const detailsUrl = this.options.detailsUrl?.(state.taskId);
    const completion = final
      ? {
          status: 'completed' as const,
          conclusion: conclusionOf(state.status),
          completed_at: new Date().toISOString(),
        }
      : { status: 'in_progress' as const };
    if (live.headSha && (!live.checkRun || live.checkRun.sha !== live.headSha)) {
      const { data } = await octokit.rest.checks.create({
        owner,
        repo,
        name: CHECK_RUN_NAME,
        head_sha: live.headSha,
        external_id: state.taskId,
        ...(detailsUrl ? { details_url: detailsUrl } : {}),
        ...completion,
        output,
      });
      live.checkRun = { id: data.id, sha: live.headSha, completed: final };
      persist['checkRunId'] = data.id;
      persist['checkRunSha'] = live.headSha;
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

function titleOf(status: ProgressStatus): string {
  switch (status) {
    case 'succeeded':
      return 'devbot finished';
    case 'failed':
      return 'devbot failed';
    case 'cancelled':
      return 'devbot was cancelled';
    default:
      return 'devbot is working';
  }
}

function conclusionOf(status: ProgressStatus): 'success' | 'failure' | 'cancelled' {
  if (status === 'succeeded') return 'success';
  if (status === 'cancelled') return 'cancelled';
  return 'failure';
}

/** Folds one event into the state; returns whether anything visible changed. */
function apply(live: Live, task: Task, event: TaskEvent): boolean {
  const s = live.state;
  const d = event.data;
  switch (event.type) {
    case 'task.created':
    case 'task.queued':
      return false;
    case 'task.started':
      s.status = 'running';
      return true;
    case 'task.retrying':
      s.steps.push(`Retrying: ${String(d['reason'] ?? 'transient error')}`);
      return true;
    case 'step':
      s.steps.push(String(d['message'] ?? d['phase'] ?? 'working'));
      return true;
    case 'git':
      if (d['action'] === 'pushed' && typeof d['sha'] === 'string') {
        live.headSha = d['sha'];
        if (typeof d['branch'] === 'string') s.branch = d['branch'];
        return true;
      }
      return false;
    case 'pr_opened':
      if (typeof d['url'] === 'string') s.prUrl = d['url'];
      return true;
    case 'preview_ready':
      if (typeof d['url'] === 'string') s.previewUrl = d['url'];
      return true;
    case 'task.succeeded':
    case 'task.failed':
    case 'task.cancelled': {
      s.status = event.type.slice('task.'.length) as ProgressStatus;
      if (task.resultSummary ?? d['summary']) s.summary = String(task.resultSummary ?? d['summary']);
      if (task.error ?? d['error']) s.error = String(task.error ?? d['error']);
      if (task.prUrl) s.prUrl = task.prUrl;
      if (task.previewUrl) s.previewUrl = task.previewUrl;
      if (task.branch) s.branch = task.branch;
      const start = task.startedAt ?? task.createdAt;
      const end = task.finishedAt ?? event.at;
      s.durationMs = new Date(end).getTime() - new Date(start).getTime();
      if (typeof task.usage.costUsd === 'number') s.costUsd = task.usage.costUsd;
      return true;
    }
    default:
      return false;
  }
}
