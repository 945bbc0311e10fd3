/** Subject links and grants in `subject_links` / `subject_grants` (PostgreSQL and PGlite). */
import type { SqlClient, SubjectAccess, SubjectRecord } from '../core/index.js';

export class SqlSubjectAccess implements SubjectAccess {
  constructor(private readonly sql: Pick<SqlClient, 'query'>) {}

  async get(subject: string): Promise<SubjectRecord> {
    const [link, grants] = await Promise.all([
      this.sql.query<{ login: string }>('SELECT login FROM subject_links WHERE subject = $1', [subject]),
      this.sql.query<{ pattern: string }>(
        'SELECT pattern FROM subject_grants WHERE subject = $1 ORDER BY pattern',
        [subject],
      ),
    ]);
    return { subject, login: link.rows[0]?.login ?? null, grants: grants.rows.map((r) => r.pattern) };
  }

  async link(subject: string, login: string): Promise<void> {
    await this.sql.query(
      `INSERT INTO subject_links (subject, login) VALUES ($1, $2)
       ON CONFLICT (subject) DO UPDATE SET login = EXCLUDED.login, created_at = now()`,
      [subject, login],
    );
  }

  async unlink(subject: string): Promise<boolean> {
    return (await this.sql.query('DELETE FROM subject_links WHERE subject = $1', [subject])).rowCount > 0;
  }

  async grant(subject: string, pattern: string): Promise<void> {
    await this.sql.query(
      'INSERT INTO subject_grants (subject, pattern) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [subject, pattern],
    );
  }

  async revoke(subject: string, pattern: string): Promise<boolean> {
    const res = await this.sql.query('DELETE FROM subject_grants WHERE subject = $1 AND pattern = $2', [
      subject,
      pattern,
    ]);
    return res.rowCount > 0;
  }

  async list(): Promise<SubjectRecord[]> {
    const res = await this.sql.query<{ subject: string; login: string | null; pattern: string | null }>(
      `SELECT s.subject, l.login, g.pattern FROM
         (SELECT subject FROM subject_links UNION SELECT subject FROM subject_grants) s
         LEFT JOIN subject_links l ON l.subject = s.subject
         LEFT JOIN subject_grants g ON g.subject = s.subject
       ORDER BY s.subject, g.pattern`,
    );
    const bySubject = new Map<string, SubjectRecord>();
    for (const row of res.rows) {
      const record = bySubject.get(row.subject) ?? { subject: row.subject, login: row.login, grants: [] };
      if (row.pattern) record.grants.push(row.pattern);
      bySubject.set(row.subject, record);
    }
    return [...bySubject.values()];
  }
}
