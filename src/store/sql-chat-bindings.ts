/**
 * Per-chat state in `chat_bindings`: the repository a chat works on (`/repo`), and the shell fast
 * lane's persistent sandbox, working directory and recent commands. Works on PostgreSQL and PGlite.
 */
import type { ChatBinding, ChatBindings } from '../core/index.js';
import type { SqlClient } from '../core/sql-client.js';

interface Row {
  chat_id: string | number;
  chat_type: string;
  repo: string | null;
  sandbox_id: string | null;
  shell_cwd: string | null;
  shell_history: unknown;
  updated_at: Date | string;
}

const COLUMNS = 'chat_id, chat_type, repo, sandbox_id, shell_cwd, shell_history, updated_at';

function toBinding(row: Row): ChatBinding {
  const history = typeof row.shell_history === 'string' ? JSON.parse(row.shell_history) : row.shell_history;
  return {
    chatId: Number(row.chat_id),
    chatType: row.chat_type,
    repo: row.repo,
    sandboxId: row.sandbox_id,
    shellCwd: row.shell_cwd,
    shellHistory: Array.isArray(history) ? history.filter((h): h is string => typeof h === 'string') : [],
    updatedAt: new Date(row.updated_at),
  };
}

export class SqlChatBindings implements ChatBindings {
  constructor(private readonly sql: Pick<SqlClient, 'query'>) {}

  async get(chatId: number): Promise<ChatBinding | null> {
    const res = await this.sql.query<Row>(`SELECT ${COLUMNS} FROM chat_bindings WHERE chat_id = $1`, [
      chatId,
    ]);
    const row = res.rows[0];
    return row ? toBinding(row) : null;
  }

  /** Binds the chat to a repository (null unbinds). */
  async setRepo(chatId: number, chatType: string, repo: string | null): Promise<ChatBinding> {
    return this.#upsert(chatId, chatType, 'repo = EXCLUDED.repo', { repo });
  }

  /** Records the chat's persistent sandbox (null when it is gone). */
  async setSandbox(chatId: number, sandboxId: string | null): Promise<ChatBinding> {
    return this.#upsert(chatId, null, 'sandbox_id = EXCLUDED.sandbox_id', { sandbox_id: sandboxId });
  }

  /** Records a shell command and the working directory after it; keeps the last `keep` commands. */
  async recordShell(chatId: number, command: string, cwd: string | null, keep = 50): Promise<ChatBinding> {
    const res = await this.sql.query<Row>(
      `INSERT INTO chat_bindings (chat_id, shell_cwd, shell_history) VALUES ($1, $2, jsonb_build_array($3::text))
       ON CONFLICT (chat_id) DO UPDATE SET
         shell_cwd = EXCLUDED.shell_cwd,
         shell_history = (
           SELECT COALESCE(jsonb_agg(h ORDER BY n), '[]'::jsonb) FROM (
             SELECT h, n FROM jsonb_array_elements(chat_bindings.shell_history || EXCLUDED.shell_history)
               WITH ORDINALITY AS t(h, n)
             ORDER BY n DESC LIMIT $4
           ) AS recent
         ),
         updated_at = now()
       RETURNING ${COLUMNS}`,
      [chatId, cwd, command, keep],
    );
    return toBinding(res.rows[0] as Row);
  }

  /**
   * Forgets the chat's sandbox, cwd and history (the repository stays). With `onlyIf`, only when
   * the binding still names that sandbox and was last touched before `before` (the retention
   * sweep must not clear a chat that was used meanwhile). True when a row changed.
   */
  async clearShell(chatId: number, onlyIf?: { sandboxId: string; before: Date }): Promise<boolean> {
    const res = await this.sql.query<Row>(
      `UPDATE chat_bindings SET sandbox_id = NULL, shell_cwd = NULL, shell_history = '[]'::jsonb, updated_at = now()
       WHERE chat_id = $1 AND ($2::text IS NULL OR (sandbox_id = $2 AND updated_at < $3))
       RETURNING ${COLUMNS}`,
      [chatId, onlyIf?.sandboxId ?? null, onlyIf?.before ?? null],
    );
    return res.rows.length > 0;
  }

  /** Chats with a sandbox whose binding was last touched before `before`, oldest first. */
  async listIdleSandboxes(before: Date, limit = 100): Promise<{ chatId: number; sandboxId: string }[]> {
    const res = await this.sql.query<Row>(
      `SELECT ${COLUMNS} FROM chat_bindings WHERE sandbox_id IS NOT NULL AND updated_at < $1
       ORDER BY updated_at LIMIT $2`,
      [before, limit],
    );
    return res.rows.map(toBinding).map((b) => ({ chatId: b.chatId, sandboxId: b.sandboxId as string }));
  }

  async #upsert(
    chatId: number,
    chatType: string | null,
    set: string,
    values: { repo?: string | null; sandbox_id?: string | null },
  ): Promise<ChatBinding> {
    const res = await this.sql.query<Row>(
      `INSERT INTO chat_bindings (chat_id, chat_type, repo, sandbox_id) VALUES ($1, COALESCE($2, 'private'), $3, $4)
       ON CONFLICT (chat_id) DO UPDATE SET ${set},
         chat_type = COALESCE($2, chat_bindings.chat_type), updated_at = now()
       RETURNING ${COLUMNS}`,
      [chatId, chatType, values.repo ?? null, values.sandbox_id ?? null],
    );
    return toBinding(res.rows[0] as Row);
  }
}
