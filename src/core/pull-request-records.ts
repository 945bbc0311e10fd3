/**
 * What devbot remembers about the pull requests it opened (DESIGN.md §3, "PR outcomes"): how they
 * ended, how many review rounds and CI-fix attempts they took, whether CI autofix is on.
 */

export const PR_OUTCOMES = ['open', 'merged', 'closed'] as const;
export type PrOutcome = (typeof PR_OUTCOMES)[number];

export interface PullRequestRecord {
  /** `owner/name`. */
  repo: string;
  number: number;
  /** The task that opened it, when known. */
  taskId: string | null;
  outcome: PrOutcome;
  reviewRounds: number;
  ciFixAttempts: number;
  autofix: boolean;
}

/** Why a CI-fix attempt was not granted. */
export type CiFixRefusal = 'autofix-off' | 'limit';

export interface PullRequestRecords {
  get(repo: string, number: number): Promise<PullRequestRecord | null>;
  /** The PRs a task opened or worked on (`GET /tasks/:id`). */
  byTask(taskId: string): Promise<PullRequestRecord[]>;
  /** Records the task that opened the PR (first one wins). */
  opened(repo: string, number: number, taskId: string | null): Promise<void>;
  closed(repo: string, number: number, merged: boolean): Promise<PullRequestRecord>;
  reviewRound(repo: string, number: number): Promise<void>;
  /** Takes one CI-fix attempt if autofix is on and fewer than `max` were made: its number, or why not. */
  claimCiFix(
    repo: string,
    number: number,
    max: number,
  ): Promise<{ attempt: number } | { refused: CiFixRefusal; attempts: number }>;
  setAutofix(repo: string, number: number, on: boolean): Promise<void>;
  /** Counts by outcome, for the metrics. */
  countByOutcome(): Promise<Record<PrOutcome, number>>;
}

/** In memory (a GitHub App used without a store, unit tests). */
export function memoryPullRequestRecords(): PullRequestRecords {
  const rows = new Map<string, PullRequestRecord>();
  const row = (repo: string, number: number): PullRequestRecord => {
    const key = `${repo}#${number}`;
    let r = rows.get(key);
    if (!r) {
      r = { repo, number, taskId: null, outcome: 'open', reviewRounds: 0, ciFixAttempts: 0, autofix: true };
      rows.set(key, r);
    }
    return r;
  };
  return {
    async get(repo, number) {
      const r = rows.get(`${repo}#${number}`);
      return r ? { ...r } : null;
    },
    async byTask(taskId) {
      return [...rows.values()].filter((r) => r.taskId === taskId).map((r) => ({ ...r }));
    },
    async opened(repo, number, taskId) {
      const r = row(repo, number);
      r.taskId ??= taskId;
    },
    async closed(repo, number, merged) {
      const r = row(repo, number);
      r.outcome = merged ? 'merged' : 'closed';
      return { ...r };
    },
    async reviewRound(repo, number) {
      row(repo, number).reviewRounds++;
    },
    async claimCiFix(repo, number, max) {
      const r = row(repo, number);
      if (!r.autofix) return { refused: 'autofix-off', attempts: r.ciFixAttempts };
      if (r.ciFixAttempts >= max) return { refused: 'limit', attempts: r.ciFixAttempts };
      r.ciFixAttempts++;
      return { attempt: r.ciFixAttempts };
    },
    async setAutofix(repo, number, on) {
      row(repo, number).autofix = on;
    },
    async countByOutcome() {
      const out: Record<PrOutcome, number> = { open: 0, merged: 0, closed: 0 };
      for (const r of rows.values()) out[r.outcome]++;
      return out;
    },
  };
}
