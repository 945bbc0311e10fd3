/** devbot's pull requests in the `pull_requests` table (migration 010): every write is one upsert. */
import type { PrOutcome, PullRequestRecord, PullRequestRecords, SqlClient } from '../core/index.js';

interface Row {
  repo: string;
  number: number;
  task_id: string | null;
  outcome: PrOutcome;
  review_rounds: number;
  ci_fix_attempts: number;
  autofix: boolean;
}

const toRecord = (r: Row): PullRequestRecord => ({
  repo: r.repo,
  number: Number(r.number),
  taskId: r.task_id,
  outcome: r.outcome,
  reviewRounds: Number(r.review_rounds),
  ciFixAttempts: Number(r.ci_fix_attempts),
  autofix: r.autofix,
});

const ENSURE = 'INSERT INTO pull_requests (repo, number) VALUES ($1, $2) ON CONFLICT DO NOTHING';

export class SqlPullRequestRecords implements PullRequestRecords {
  constructor(private readonly sql: Pick<SqlClient, 'query'>) {}

  async get(repo: string, number: number): Promise<PullRequestRecord | null> {
    const res = await this.sql.query<Row>('SELECT * FROM pull_requests WHERE repo = $1 AND number = $2', [
      repo,
      number,
    ]);
    return res.rows[0] ? toRecord(res.rows[0]) : null;
  }

  async byTask(taskId: string): Promise<PullRequestRecord[]> {
    const res = await this.sql.query<Row>('SELECT * FROM pull_requests WHERE task_id = $1 ORDER BY number', [
      taskId,
    ]);
    return res.rows.map(toRecord);
  }

  async opened(repo: string, number: number, taskId: string | null): Promise<void> {
    await this.sql.query(
      `INSERT INTO pull_requests (repo, number, task_id) VALUES ($1, $2, $3)
       ON CONFLICT (repo, number) DO UPDATE SET task_id = COALESCE(pull_requests.task_id, EXCLUDED.task_id)`,
      [repo, number, taskId],
    );
  }

  async closed(repo: string, number: number, merged: boolean): Promise<PullRequestRecord> {
    const res = await this.sql.query<Row>(
      `INSERT INTO pull_requests (repo, number, outcome) VALUES ($1, $2, $3)
       ON CONFLICT (repo, number) DO UPDATE SET outcome = EXCLUDED.outcome, updated_at = now()
       RETURNING *`,
      [repo, number, merged ? 'merged' : 'closed'],
    );
    return toRecord(res.rows[0] as Row);
  }

  async reviewRound(repo: string, number: number): Promise<void> {
    await this.sql.query(
      `INSERT INTO pull_requests (repo, number, review_rounds) VALUES ($1, $2, 1)
       ON CONFLICT (repo, number) DO UPDATE SET review_rounds = pull_requests.review_rounds + 1, updated_at = now()`,
      [repo, number],
    );
  }

  async claimCiFix(
    repo: string,
    number: number,
    max: number,
  ): Promise<{ attempt: number } | { refused: 'autofix-off' | 'limit'; attempts: number }> {
    await this.sql.query(ENSURE, [repo, number]);
    // One statement: two deliveries racing for the last attempt cannot both get it.
    const res = await this.sql.query<Row>(
      `UPDATE pull_requests SET ci_fix_attempts = ci_fix_attempts + 1, updated_at = now()
       WHERE repo = $1 AND number = $2 AND autofix AND ci_fix_attempts < $3 RETURNING *`,
      [repo, number, max],
    );
    if (res.rows[0]) return { attempt: Number(res.rows[0].ci_fix_attempts) };
    const now = (await this.get(repo, number)) as PullRequestRecord;
    return { refused: now.autofix ? 'limit' : 'autofix-off', attempts: now.ciFixAttempts };
  }

  async setAutofix(repo: string, number: number, on: boolean): Promise<void> {
    await this.sql.query(
      `INSERT INTO pull_requests (repo, number, autofix) VALUES ($1, $2, $3)
       ON CONFLICT (repo, number) DO UPDATE SET autofix = EXCLUDED.autofix, updated_at = now()`,
      [repo, number, on],
    );
  }

  async countByOutcome(): Promise<Record<PrOutcome, number>> {
    const res = await this.sql.query<{ outcome: PrOutcome; n: number }>(
      'SELECT outcome, count(*)::int AS n FROM pull_requests GROUP BY outcome',
    );
    const out: Record<PrOutcome, number> = { open: 0, merged: 0, closed: 0 };
    for (const r of res.rows) out[r.outcome] = Number(r.n);
    return out;
  }
}
