/**
 * Chats linked to repositories (`/link owner/repo`) in `chat_repo_links`: which chats hear about
 * devbot's pull requests of a repository. Works on PostgreSQL and PGlite.
 */
import type { ChatRepoLink, ChatRepoLinks, LinkOutcome, SqlClient } from '../core/index.js';

interface Row {
  chat_id: string | number;
  thread_id: string | number | null;
  repo: string;
  linked_by: string;
  created_at: Date | string;
}

const COLUMNS = 'chat_id, thread_id, repo, linked_by, created_at';

function toLink(row: Row): ChatRepoLink {
  return {
    chatId: Number(row.chat_id),
    threadId: row.thread_id === null ? null : Number(row.thread_id),
    repo: row.repo,
    linkedBy: row.linked_by,
    createdAt: new Date(row.created_at),
  };
}

export class SqlChatRepoLinks implements ChatRepoLinks {
  constructor(private readonly sql: Pick<SqlClient, 'dialect' | 'query' | 'transaction'>) {}

  async link(link: Omit<ChatRepoLink, 'createdAt'>, max: number): Promise<LinkOutcome> {
    const repo = link.repo.toLowerCase();
    return this.sql.transaction(async (tx) => {
      // Serialises links of one chat (two /link at once cannot both pass the cap); PGlite has one
      // connection, so its transactions are serial already.
      if (this.sql.dialect === 'postgres')
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`chat_repo_links:${link.chatId}`]);
      const existing = await tx.query<{ repo: string }>(
        'SELECT repo FROM chat_repo_links WHERE chat_id = $1',
        [link.chatId],
      );
      const known = existing.rows.some((r) => r.repo === repo);
      if (!known && existing.rows.length >= max) return { full: existing.rows.length };
      await tx.query(
        `INSERT INTO chat_repo_links (chat_id, repo, thread_id, linked_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (chat_id, repo) DO UPDATE SET thread_id = EXCLUDED.thread_id, linked_by = EXCLUDED.linked_by`,
        [link.chatId, repo, link.threadId, link.linkedBy],
      );
      return known ? 'updated' : 'linked';
    });
  }

  async unlink(chatId: number, repo?: string): Promise<string[]> {
    const res =
      repo === undefined
        ? await this.sql.query<{ repo: string }>(
            'DELETE FROM chat_repo_links WHERE chat_id = $1 RETURNING repo',
            [chatId],
          )
        : await this.sql.query<{ repo: string }>(
            'DELETE FROM chat_repo_links WHERE chat_id = $1 AND repo = $2 RETURNING repo',
            [chatId, repo.toLowerCase()],
          );
    return res.rows.map((r) => r.repo).sort();
  }

  async list(chatId: number): Promise<ChatRepoLink[]> {
    const res = await this.sql.query<Row>(
      `SELECT ${COLUMNS} FROM chat_repo_links WHERE chat_id = $1 ORDER BY created_at, repo`,
      [chatId],
    );
    return res.rows.map(toLink);
  }

  async chatsFor(repo: string): Promise<ChatRepoLink[]> {
    const res = await this.sql.query<Row>(
      `SELECT ${COLUMNS} FROM chat_repo_links WHERE repo = $1 ORDER BY chat_id`,
      [repo.toLowerCase()],
    );
    return res.rows.map(toLink);
  }
}
