/** The issued API tokens in `api_tokens` (PostgreSQL and PGlite). */
import type { ApiTokenLog, IssuedToken, SqlClient } from '../core/index.js';

interface Row {
  jti: string;
  subject: string | null;
  scopes: string;
  issued_at: Date | string;
  expires_at: Date | string | null;
  revoked_at: Date | string | null;
}

export class SqlApiTokenLog implements ApiTokenLog {
  constructor(private readonly sql: Pick<SqlClient, 'query'>) {}

  async record(token: Omit<IssuedToken, 'revokedAt'>): Promise<void> {
    await this.sql.query(
      'INSERT INTO api_tokens (jti, subject, scopes, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)',
      [token.id, token.subject, token.scopes.join(' '), token.issuedAt, token.expiresAt],
    );
  }

  async revoke(id: string): Promise<boolean> {
    const res = await this.sql.query(
      `INSERT INTO api_tokens (jti, revoked_at) VALUES ($1, now())
       ON CONFLICT (jti) DO UPDATE SET revoked_at = now() WHERE api_tokens.revoked_at IS NULL
       RETURNING jti`,
      [id],
    );
    return res.rows.length > 0;
  }

  async list(): Promise<IssuedToken[]> {
    const res = await this.sql.query<Row>(
      `SELECT jti, subject, scopes, issued_at, expires_at, revoked_at FROM api_tokens
       WHERE subject IS NOT NULL AND (expires_at IS NULL OR expires_at > now())
       ORDER BY issued_at DESC, jti`,
    );
    return res.rows.map((r) => ({
      id: r.jti,
      subject: r.subject,
      scopes: r.scopes.split(' ').filter(Boolean),
      issuedAt: new Date(r.issued_at),
      expiresAt: r.expires_at === null ? null : new Date(r.expires_at),
      revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at),
    }));
  }

  async revokedIds(): Promise<string[]> {
    const res = await this.sql.query<{ jti: string }>(
      `SELECT jti FROM api_tokens
       WHERE revoked_at IS NOT NULL AND (expires_at IS NULL OR expires_at > now())`,
    );
    return res.rows.map((r) => r.jti);
  }
}
