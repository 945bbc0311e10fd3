import { type ApiTokenLog, BadInputError, type IssuedToken, TOKEN_ID } from '../core/index.js';
import type { IssuedApiToken, Scope, TokenIssuer } from './token-issuer.js';

/** What issuing, listing and revoking API tokens needs: here on the store, in the CLI over HTTP too. */
export interface TokenAdmin {
  issue(
    subject: string,
    options: { admin: boolean; ttlSeconds: number | null | undefined },
  ): Promise<IssuedApiToken>;
  list(): Promise<IssuedToken[]>;
  /** False when the token was revoked already. */
  revoke(id: string): Promise<boolean>;
}

export const TOKEN_SUBJECT = /^[\w.@:-]{1,100}$/;

/** Tokens signed here and recorded in the token log; a revocation also reaches `onRevoked` at once. */
export class LocalTokenAdmin implements TokenAdmin {
  constructor(
    private readonly deps: {
      issuer: TokenIssuer;
      log: ApiTokenLog;
      onRevoked?: (id: string) => void;
    },
  ) {}

  async issue(
    subject: string,
    options: { admin: boolean; ttlSeconds: number | null | undefined },
  ): Promise<IssuedApiToken> {
    if (!TOKEN_SUBJECT.test(subject))
      throw new BadInputError('the user must be 1-100 letters, digits or . _ @ : -');
    const scopes: Scope[] = options.admin
      ? ['tasks:read', 'tasks:write', 'admin']
      : ['tasks:read', 'tasks:write'];
    const issued = await this.deps.issuer.issue(subject, { scopes, ttlSeconds: options.ttlSeconds });
    await this.deps.log.record({
      id: issued.id,
      subject,
      scopes,
      issuedAt: issued.issuedAt,
      expiresAt: issued.expiresAt,
    });
    return issued;
  }

  list(): Promise<IssuedToken[]> {
    return this.deps.log.list();
  }

  async revoke(id: string): Promise<boolean> {
    if (!TOKEN_ID.test(id))
      throw new BadInputError(`"${id}" is not a token id (devbot token --list shows them)`);
    const revoked = await this.deps.log.revoke(id);
    this.deps.onRevoked?.(id);
    return revoked;
  }
}
