import type { NoticeLog, SqlClient } from '../core/index.js';

/** Keys older than this are forgotten (a key carries its day, so it never comes back anyway). */
const KEEP_DAYS = 3;

export class SqlNoticeLog implements NoticeLog {
  #claims = 0;

  constructor(private readonly sql: Pick<SqlClient, 'query'>) {}

  async claim(key: string): Promise<boolean> {
    const res = await this.sql.query(
      'INSERT INTO notices (key) VALUES ($1) ON CONFLICT DO NOTHING RETURNING key',
      [key],
    );
    // Now and then, forget old keys; a failure here costs nothing.
    if (++this.#claims % 100 === 1)
      await this.sql
        .query(`DELETE FROM notices WHERE at < now() - make_interval(days => ${KEEP_DAYS})`)
        .catch(() => {});
    return res.rows.length > 0;
  }
}
