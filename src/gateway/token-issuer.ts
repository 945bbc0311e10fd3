import { createSecretKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

export const SCOPES = ['tasks:read', 'tasks:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface TokenClaims {
  subject: string;
  scopes: Scope[];
  /** Epoch ms, when the token has an expiry. */
  expiresAt?: number;
}

export class InvalidTokenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidTokenError';
  }
}

/**
 * The usual cause of a bad signature is a token from another devbot: `devbot token` run against
 * another data directory (each generates its own secret) or with another DEVBOT_JWT_SECRET.
 */
export const NOT_VALID =
  'the token is not valid: tokens signed for another devbot (another DEVBOT_DATA_DIR or DEVBOT_JWT_SECRET) do not work here; create one with `devbot token` using the DEVBOT_DATA_DIR or DEVBOT_JWT_SECRET of the devbot you are calling';

const ISSUER = 'devbot';
const AUDIENCE = 'devbot-api';

/** HS256 JWTs for the API (jose). Subjects: a user name, `tg:<id>`, `gh:<login>`. */
export class TokenIssuer {
  // A KeyObject made once: passing raw bytes would import the key again on every verify.
  readonly #key: KeyObject;

  constructor(secret: string) {
    this.#key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  async sign(subject: string, options: { scopes?: Scope[]; ttlSeconds?: number } = {}): Promise<string> {
    const jwt = new SignJWT({ scope: (options.scopes ?? ['tasks:read', 'tasks:write']).join(' ') })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(subject)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt();
    if (options.ttlSeconds) jwt.setExpirationTime(`${options.ttlSeconds}s`);
    return jwt.sign(this.#key);
  }

  /**
   * Verified tokens, so a client's next request with the same token skips the signature check
   * (jose goes through WebCrypto, which dominated the gateway's CPU under load). Bounded, and an
   * entry never outlives its token's expiry.
   */
  readonly #verified = new Map<string, { claims: TokenClaims; expiresAt: number }>();

  async verify(token: string): Promise<TokenClaims> {
    const cached = this.#verified.get(token);
    if (cached && cached.expiresAt > Date.now()) return cached.claims;
    if (cached) this.#verified.delete(token);
    const claims = await this.#verify(token);
    if (this.#verified.size >= 10_000) this.#verified.delete(this.#verified.keys().next().value as string);
    this.#verified.set(token, { claims, expiresAt: claims.expiresAt ?? Number.POSITIVE_INFINITY });
    return claims;
  }

  async #verify(token: string): Promise<TokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
      });
      if (!payload.sub) throw new InvalidTokenError('the token has no subject');
      const scopes = String(payload['scope'] ?? '')
        .split(' ')
        .filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));
      return { subject: payload.sub, scopes, ...(payload.exp ? { expiresAt: payload.exp * 1000 } : {}) };
    } catch (err) {
      if (err instanceof InvalidTokenError) throw err;
      const reason = err instanceof errors.JWTExpired ? 'the token has expired' : NOT_VALID;
      throw new InvalidTokenError(reason, { cause: err });
    }
  }
}
