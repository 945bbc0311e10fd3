/**
 * Remembers which updates a bot already handled (`telegram_updates`), so a redelivered update — a
 * webhook retry, a poller restarting before it confirmed an offset — creates nothing twice.
 */
import type { UpdateClaims } from '../core/index.js';
import type { SqlClient } from '../core/sql-client.js';

export class SqlUpdateClaims implements UpdateClaims {
  constructor(
    private readonly sql: Pick<SqlClient, 'query'>,
    private readonly botId: number,
  ) {}

  /** True for the first claim of an update; false when it was seen before. */
  async claim(updateId: number, chatId: number | null): Promise<boolean> {
    const res = await this.sql.query(
      `INSERT INTO telegram_updates (bot_id, update_id, chat_id) VALUES ($1, $2, $3)
       ON CONFLICT (bot_id, update_id) DO NOTHING RETURNING update_id`,
      [this.botId, updateId, chatId],
    );
    return res.rows.length > 0;
  }

  /** The task an earlier delivery of this update created, if it got that far. */
  async taskOf(updateId: number): Promise<string | null> {
    const res = await this.sql.query<{ task_id: string | null }>(
      'SELECT task_id FROM telegram_updates WHERE bot_id = $1 AND update_id = $2',
      [this.botId, updateId],
    );
    return res.rows[0]?.task_id ?? null;
  }

  async attachTask(updateId: number, taskId: string): Promise<void> {
    await this.sql.query('UPDATE telegram_updates SET task_id = $3 WHERE bot_id = $1 AND update_id = $2', [
      this.botId,
      updateId,
      taskId,
    ]);
  }

  /** Gives an update back (its handling failed before anything was sent), so a redelivery retries. */
  async release(updateId: number): Promise<void> {
    await this.sql.query('DELETE FROM telegram_updates WHERE bot_id = $1 AND update_id = $2', [
      this.botId,
      updateId,
    ]);
  }

  /** Forgets claims older than `days` (Telegram keeps undelivered updates for 24 hours). */
  async prune(days = 7): Promise<number> {
    const res = await this.sql.query(
      `DELETE FROM telegram_updates WHERE bot_id = $1 AND received_at < now() - make_interval(days => $2::int)`,
      [this.botId, days],
    );
    return res.rowCount;
  }
}
