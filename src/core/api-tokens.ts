/**
 * The API tokens devbot issued: each has an id (the JWT's `jti`) so it can be listed and revoked.
 * src/store implements the log; the gateway checks revocations on every request.
 */

export interface IssuedToken {
  /** The JWT's `jti`. */
  id: string;
  /** null for a revocation of a token that was never recorded. */
  subject: string | null;
  scopes: string[];
  issuedAt: Date;
  /** null: never expires. */
  expiresAt: Date | null;
  revokedAt: Date | null;
}

export interface ApiTokenLog {
  record(token: Omit<IssuedToken, 'revokedAt'>): Promise<void>;
  /**
   * Marks the token revoked; a token that was never recorded is revoked all the same. False when
   * it was revoked already.
   */
  revoke(id: string): Promise<boolean>;
  /** Tokens not yet expired (revoked ones too, marked), newest first. */
  list(): Promise<IssuedToken[]>;
  /** Ids of revoked tokens that have not expired yet (an expired one is refused anyway). */
  revokedIds(): Promise<string[]>;
}

/** A token id as devbot makes them (and as an operator types them): 8-64 of [A-Za-z0-9_-]. */
export const TOKEN_ID = /^[\w-]{8,64}$/;
