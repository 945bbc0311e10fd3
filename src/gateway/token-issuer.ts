import { createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

export const SCOPES = ['tasks:read', 'tasks:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface TokenClaims {
  subject: string;
  scopes: Scope[];
  /** Epoch ms, when the token has an expiry. */
  expiresAt?: number;
  /** The token's id (`jti`), by which it is listed and revoked; tokens from before ids have none. */
  id?: string;
}

/** A token just signed, with what the token log records of it. */
export interface IssuedApiToken {
  token: string;
  id: string;
  subject: string;
  scopes: Scope[];
  issuedAt: Date;
  expiresAt: Date | null;
}

/** Tokens expire after 30 days unless their issuer says otherwise. */
export const DEFAULT_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

/** Which token ids were revoked: asked on every request, so it must answer from memory. */
export interface RevokedTokens {
  has(id: string): boolean;
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

  readonly #revoked: RevokedTokens;

  constructor(secret: string, options: { revoked?: RevokedTokens } = {}) {
    this.#key = createSecretKey(Buffer.from(secret, 'utf8'));
    this.#revoked = options.revoked ?? { has: () => false };
  }

  /**
   * Signs a token with a fresh id. `ttlSeconds`: undefined is the 30-day default, null never
   * expires (the id still lets it be revoked).
   */
  async issue(
    subject: string,
    options: { scopes?: Scope[]; ttlSeconds?: number | null | undefined } = {},
  ): Promise<IssuedApiToken> {
    const scopes = options.scopes ?? ['tasks:read', 'tasks:write'];
    const id = randomBytes(12).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const ttl = options.ttlSeconds === undefined ? DEFAULT_TOKEN_TTL_SECONDS : options.ttlSeconds;
    const jwt = new SignJWT({ scope: scopes.join(' ') })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(subject)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setJti(id)
      .setIssuedAt(now);
    if (ttl !== null) jwt.setExpirationTime(now + ttl);
    return {
      token: await jwt.sign(this.#key),
      id,
      subject,
      scopes,
      issuedAt: new Date(now * 1000),
      expiresAt: ttl === null ? null : new Date((now + ttl) * 1000),
    };
  }

  /** `issue`, the token alone. */
  async sign(
    subject: string,
    options: { scopes?: Scope[]; ttlSeconds?: number | null | undefined } = {},
  ): Promise<string> {
    return (await this.issue(subject, options)).token;
  }

  /**
   * Verified tokens, so a client's next request with the same token skips the signature check
   * (jose goes through WebCrypto, which dominated the gateway's CPU under load). Bounded, and an
   * entry never outlives its token's expiry.
   */
  readonly #verified = new Map<string, { claims: TokenClaims; expiresAt: number }>();

  async verify(token: string): Promise<TokenClaims> {
    const cached = this.#verified.get(token);
    if (cached && cached.expiresAt > Date.now()) return this.#notRevoked(cached.claims);
    if (cached) this.#verified.delete(token);
    const claims = this.#notRevoked(await this.#verify(token));
    if (this.#verified.size >= 10_000) this.#verified.delete(this.#verified.keys().next().value as string);
    this.#verified.set(token, { claims, expiresAt: claims.expiresAt ?? Number.POSITIVE_INFINITY });
    return claims;
  }

  /** Revocation is checked on every request, cached or not: it takes effect at the next one. */
  #notRevoked(claims: TokenClaims): TokenClaims {
    if (claims.id !== undefined && this.#revoked.has(claims.id))
      throw new InvalidTokenError('the token was revoked: ask an operator for a new one (devbot token)');
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
      return {
        subject: payload.sub,
        scopes,
        ...(payload.exp ? { expiresAt: payload.exp * 1000 } : {}),
        ...(typeof payload.jti === 'string' ? { id: payload.jti } : {}),
      };
    } catch (err) {
      if (err instanceof InvalidTokenError) throw err;
      const reason = err instanceof errors.JWTExpired ? 'the token has expired' : NOT_VALID;
      throw new InvalidTokenError(reason, { cause: err });
    }
  }
}
