import type { IssuedToken } from '../core/index.js';
import type { TokenAdmin } from '../gateway/token-admin.js';
import type { IssuedApiToken, Scope } from '../gateway/token-issuer.js';

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
  constructor(
    private readonly baseUrl: string,
    private readonly bearer: string,
  ) {}

  async issue(
    subject: string,
    options: { admin: boolean; ttlSeconds: number | null | undefined },
  ): Promise<IssuedApiToken> {
    const body = await this.#call<TokenJson & { token: string }>('POST', '/tokens', {
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
    const body = await this.#call<{ tokens: TokenJson[] }>('GET', '/tokens');
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
    const body = await this.#call<{ already: boolean }>('DELETE', `/tokens/${encodeURIComponent(id)}`);
    return !body.already;
  }

  async #call<T>(method: string, path: string, json?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.bearer}`,
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json().catch(() => ({}))) as { message?: string };
    if (!res.ok)
      throw new Error(
        `the running devbot at ${this.baseUrl} answered ${res.status}: ${body.message ?? 'no reason given'}`,
      );
    return body as T;
  }
}
