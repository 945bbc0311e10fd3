/**
 * Previews that come back: opening the link of a repo task's preview whose sandbox is gone (TTL,
 * restart, eviction) rebuilds it — a sandbox seeded from the recorded commit, the recorded preview
 * command, the port exposed again — and the old link then serves the new sandbox. A preview of a
 * deleted branch, of a merged or closed pull request, or of a shell task, is gone for good (the
 * proxy answers 410).
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import {
  NotFoundError,
  type PreviewAnswer,
  type PreviewRecord,
  type PreviewRecords,
  type PreviewRevivalRequests,
  type PullRequestRecords,
  previewToken,
  type RepoHost,
  type SandboxProvider,
  type Workspaces,
  waitForPort,
} from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import type { PreviewLeases } from './preview-leases.js';

export type RevivalAnswer = PreviewAnswer;

export interface PreviewRevivalDeps {
  records: PreviewRecords;
  host: RepoHost | null;
  workspaces: Workspaces | null;
  sandboxes: SandboxProvider;
  leases: PreviewLeases;
  /** Makes the old token serve the revived preview's (PreviewRegistry.alias). */
  alias(oldToken: string, newToken: string): void | Promise<void>;
  logger: Logger;
  /** How long the preview command may take to answer on its port. */
  waitMs?: number;
  /** devbot's pull requests: a preview of a merged or closed one is gone, branch or not. */
  pullRequests?: Pick<PullRequestRecords, 'byTask'> | undefined;
  /**
   * Split roles, in a gateway: the revival is asked of a worker (the `previews` queue) instead of
   * run here; the checks that need only the database (unknown, shell preview, closed PR) stay here.
   */
  remote?: PreviewRevivalRequests | undefined;
  /**
   * Most revivals this process builds at once (default 2); the others wait their turn. Opening a
   * link needs no login, and preview links are public (PR comments): without a cap, opening many
   * known links at once would build as many sandboxes at once. (Split roles: the `previews`
   * queue's worker takes one job at a time.)
   */
  maxConcurrent?: number;
}

/** The default of `maxConcurrent`. */
export const MAX_CONCURRENT_REVIVALS = 2;

/** How long a failed or gone answer is remembered before the next open tries again. */
const REMEMBER_MS = 30_000;

export class PreviewRevival {
  readonly #starting = new Map<string, { label: string; done: Promise<RevivalAnswer | null> }>();
  readonly #ended = new Map<string, { answer: RevivalAnswer; at: number }>();
  /** Builds running now, and the builds waiting for one of them to end. */
  #building = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(private readonly deps: PreviewRevivalDeps) {}

  /** What opening a dead preview link does now: starts it (once) or says why it cannot. */
  async revive(token: string): Promise<RevivalAnswer> {
    const checked = await this.#check(token);
    if (!('record' in checked)) return checked;
    const label = labelOf(checked.record);
    const { remote } = this.deps;
    if (remote) {
      // A worker remembers what its last attempt ended with; otherwise one (more) request, which
      // the queue dedupes while one is waiting or running.
      try {
        const last = await remote.lastAnswer(token);
        if (last) return last;
        await remote.request(token);
      } catch (err) {
        const reason = `could not ask a worker to start it (Redis): ${err instanceof Error ? err.message : String(err)}`;
        return { state: 'failed', label, reason };
      }
      return { state: 'starting', label };
    }
    void this.#run(checked.record);
    return { state: 'starting', label };
  }

  /**
   * Revives the preview and resolves when it is served again (null) or with why it is not: a
   * worker's answer to a gateway's request. Joins a revival already running here.
   */
  async reviveNow(token: string): Promise<RevivalAnswer | null> {
    const checked = await this.#check(token);
    if (!('record' in checked))
      return checked.state === 'starting' ? (this.#starting.get(token)?.done ?? null) : checked;
    return this.#run(checked.record);
  }

  /** The record to revive, or the answer that makes a revival needless or impossible. */
  async #check(token: string): Promise<RevivalAnswer | { record: PreviewRecord }> {
    const running = this.#starting.get(token);
    if (running !== undefined) return { state: 'starting', label: running.label };
    const ended = this.#ended.get(token);
    if (ended && Date.now() - ended.at < REMEMBER_MS) return ended.answer;
    this.#ended.delete(token);
    const record = await this.deps.records.get(token);
    if (!record) return { state: 'unknown' };
    const canBuild = this.deps.remote !== undefined || (this.deps.host && this.deps.workspaces);
    if (!record.repo || !record.commit || !record.command || !canBuild)
      return {
        state: 'gone',
        reason: 'This preview has ended: previews of shell tasks last DEVBOT_PREVIEW_TTL after their task.',
      };
    const closedPr = (await this.deps.pullRequests?.byTask(record.taskId).catch(() => []))?.find(
      (pr) => pr.repo === record.repo && (pr.outcome === 'merged' || pr.outcome === 'closed'),
    );
    if (closedPr) {
      const answer: RevivalAnswer = {
        state: 'gone',
        reason: `Pull request #${closedPr.number} of this preview was ${closedPr.outcome === 'merged' ? 'merged' : 'closed'}.`,
      };
      this.#ended.set(token, { answer, at: Date.now() });
      return answer;
    }
    return { record };
  }

  /** Starts the revival once; resolves with null when served, or with why it did not start. */
  #run(record: PreviewRecord): Promise<RevivalAnswer | null> {
    const { token } = record;
    const running = this.#starting.get(token);
    if (running) return running.done;
    const label = labelOf(record);
    const done = this.#slot(() => this.#start(record))
      .then(() => null)
      .catch((err: unknown) => {
        const answer: RevivalAnswer =
          err instanceof NotFoundError
            ? { state: 'gone', reason: `The branch of this preview is gone: ${err.message}.` }
            : { state: 'failed', label, reason: err instanceof Error ? err.message : String(err) };
        this.deps.logger.warn({ err, token: token.slice(0, 6) }, 'reviving a preview failed');
        this.#ended.set(token, { answer, at: Date.now() });
        return answer;
      })
      .finally(() => this.#starting.delete(token));
    this.#starting.set(token, { label, done });
    return done;
  }

  /** Runs `build` once fewer than `maxConcurrent` builds run (in the order they asked). */
  async #slot<T>(build: () => Promise<T>): Promise<T> {
    const max = Math.max(1, this.deps.maxConcurrent ?? MAX_CONCURRENT_REVIVALS);
    if (this.#building >= max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#building += 1;
    try {
      return await build();
    } finally {
      // The slot passes straight to the next in line (the count stays), or is given back.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#building -= 1;
    }
  }

  async #start(record: PreviewRecord): Promise<void> {
    const { host, workspaces, sandboxes } = this.deps;
    if (!host || !workspaces || !record.repo || !record.commit || !record.command) return;
    const [owner = '', name = ''] = record.repo.split('/');
    const hosted = await host.open({ owner, name });
    const pushToken = await hosted.pushToken();
    const ws = await workspaces.prepare({
      owner,
      repo: name,
      cloneUrl: hosted.cloneUrl,
      taskId: `preview-${randomUUID()}`,
      // The branch must still exist: a preview of a deleted branch is gone (NotFoundError).
      baseBranch: record.branch ?? hosted.defaultBranch,
      commit: record.commit,
      ...(pushToken !== undefined ? { token: pushToken } : {}),
    });
    let seedDir: string;
    try {
      seedDir = await ws.exportSeed();
    } finally {
      await workspaces.dispose(ws).catch(() => {});
    }
    const sandbox = await sandboxes
      .create({ taskId: record.taskId, seedDir })
      .finally(() => rm(seedDir, { recursive: true, force: true }));
    try {
      const proc = await sandbox.execBackground(record.command, {
        cwd: sandbox.workdir,
        env: { PORT: String(record.port), HOST: '127.0.0.1' },
      });
      const waited = await waitForPort(sandbox, record.port, {
        process: proc,
        timeoutMs: this.deps.waitMs ?? 60_000,
        pollMs: 100,
      });
      if (waited !== 'open') throw new Error(`nothing answered on port ${record.port} (${waited})`);
      const url = await sandbox.exposePort(record.port);
      const fresh = previewToken(url);
      if (!fresh) throw new Error('the revived preview has no token');
      await this.deps.alias(record.token, fresh);
      this.deps.leases.hold({
        taskId: record.taskId,
        sandbox,
        ended: proc.done,
        release: () => sandbox.close(),
      });
      this.deps.logger.info({ taskId: record.taskId, repo: record.repo }, 'preview revived');
    } catch (err) {
      await sandbox.close().catch(() => {});
      throw err;
    }
  }
}

function labelOf(record: PreviewRecord): string {
  return `${record.repo}@${(record.commit ?? '').slice(0, 7)}`;
}
