import { createHash, createHmac } from 'node:crypto';
import type { ShareLinks } from '../core/index.js';
import type { SqlClient } from '../core/sql-client.js';
import { isUuid } from './sql-task-store.js';

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Share links in SQL. A token is an HMAC of (task id, generation) under a key derived from the
 * deployment's secret, so devbot can hand the same link out again while the database holds only
 * its SHA-256: a copy of the database opens no task page. A revoke marks the generation dead; the
 * next link asked for is the next generation.
 */
export class SqlShareLinks implements ShareLinks {
  readonly #key: Buffer;

  constructor(
    private readonly sql: SqlClient,
    secret: string,
    private readonly publicUrl: () => string,
  ) {
    this.#key = createHmac('sha256', secret).update('devbot share links v1').digest();
  }

  #token(taskId: string, generation: number): string {
    return createHmac('sha256', this.#key)
      .update(`${taskId.toLowerCase()}:${generation}`)
      .digest('base64url');
  }

  async tokenFor(taskId: string): Promise<string> {
    if (!isUuid(taskId)) throw new Error(`not a task id: ${taskId}`);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const res = await this.sql.query<{ generation: number; revoked: boolean }>(
        `SELECT generation, revoked_at IS NOT NULL AS revoked FROM share_links
         WHERE task_id = $1 ORDER BY generation DESC LIMIT 1`,
        [taskId],
      );
      const last = res.rows[0];
      if (last && !last.revoked) return this.#token(taskId, last.generation);
      const generation = (last?.generation ?? 0) + 1;
      const token = this.#token(taskId, generation);
      // Two callers minting at once: one insert wins, the other reads the winner's generation.
      await this.sql.query(
        `INSERT INTO share_links (task_id, generation, token_hash) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING`,
        [taskId, generation, hashToken(token)],
      );
    }
    throw new Error(`could not mint a share link for task ${taskId}`);
  }

  async urlFor(taskId: string): Promise<string> {
    return `${this.publicUrl().replace(/\/$/, '')}/ui/t/${await this.tokenFor(taskId)}`;
  }

  async resolve(token: string): Promise<string | null> {
    if (!TOKEN.test(token)) return null;
    const res = await this.sql.query<{ task_id: string }>(
      'SELECT task_id FROM share_links WHERE token_hash = $1 AND revoked_at IS NULL',
      [hashToken(token)],
    );
    return res.rows[0]?.task_id ?? null;
  }

  async revoke(taskId: string): Promise<number> {
    if (!isUuid(taskId)) return 0;
    const res = await this.sql.query<{ generation: number }>(
      'UPDATE share_links SET revoked_at = now() WHERE task_id = $1 AND revoked_at IS NULL RETURNING generation',
      [taskId],
    );
    return res.rows.length;
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
