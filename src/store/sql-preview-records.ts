import type { PreviewRecord, PreviewRecords } from '../core/index.js';
import type { SqlClient } from '../core/sql-client.js';

interface Row {
  token: string;
  task_id: string;
  repo: string | null;
  branch: string | null;
  commit_sha: string | null;
  command: string | null;
  port: number;
}

/** Preview records in SQL (table `previews`). Recording a token twice keeps the first record. */
export class SqlPreviewRecords implements PreviewRecords {
  constructor(private readonly sql: SqlClient) {}

  async record(r: PreviewRecord): Promise<void> {
    await this.sql.query(
      `INSERT INTO previews (token, task_id, repo, branch, commit_sha, command, port)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (token) DO NOTHING`,
      [r.token, r.taskId, r.repo, r.branch, r.commit, r.command, r.port],
    );
  }

  async get(token: string): Promise<PreviewRecord | null> {
    const res = await this.sql.query<Row>('SELECT * FROM previews WHERE token = $1', [token]);
    const row = res.rows[0];
    if (!row) return null;
    return {
      token: row.token,
      taskId: row.task_id,
      repo: row.repo,
      branch: row.branch,
      commit: row.commit_sha,
      command: row.command,
      port: row.port,
    };
  }
}
