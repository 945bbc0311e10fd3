import type { IssuedToken } from '../core/index.js';
import type { TokenAdmin } from '../gateway/token-admin.js';
import type { IssuedApiToken, Scope } from '../gateway/token-issuer.js';
import type { RunningDevbotApi } from './running-devbot.js';

interface TokenJson {
  id: string;
  subject: string | null;
  scopes: string[];
  issuedAt?: string;
  expiresAt: string | null;
  revokedAt?: string | null;
}

/**
 * The running devbot's `/tokens` routes, for `devbot token` when that devbot holds the embedded
 * database: the CLI signs itself a one-minute admin token with the shared secret to call them.
 */
export class HttpTokenAdmin implements TokenAdmin {
  constructor(private readonly api: RunningDevbotApi) {}

  async issue(
    subject: string,
    options: { admin: boolean; ttlSeconds: number | null | undefined },
  ): Promise<IssuedApiToken> {
    const body = await this.api.call<TokenJson & { token: string }>('POST', '/tokens', {
      user: subject,
      admin: options.admin,
      ...(options.ttlSeconds !== undefined ? { ttlSeconds: options.ttlSeconds } : {}),
    });
    return {
      token: body.token,
      id: body.id,
      subject,
      scopes: body.scopes as Scope[],
      issuedAt: new Date(),
      expiresAt: body.expiresAt === null ? null : new Date(body.expiresAt),
    };
  }

  async list(): Promise<IssuedToken[]> {
    const body = await this.api.call<{ tokens: TokenJson[] }>('GET', '/tokens');
    return body.tokens.map((t) => ({
      id: t.id,
      subject: t.subject,
      scopes: t.scopes,
      issuedAt: new Date(t.issuedAt ?? 0),
      expiresAt: t.expiresAt === null ? null : new Date(t.expiresAt),
      revokedAt: t.revokedAt ? new Date(t.revokedAt) : null,
    }));
  }

  async revoke(id: string): Promise<boolean> {
    const body = await this.api.call<{ already: boolean }>('DELETE', `/tokens/${encodeURIComponent(id)}`);
    return !body.already;
  }
}
