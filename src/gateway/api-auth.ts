import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { ApiEnv } from './api-env.js';
import { ApiError } from './api-error.js';
import { type ApiRateLimiter, createApiRateLimiter, rateLimitHeaders } from './api-rate-limit.js';
import {
  InvalidTokenError,
  NOT_VALID,
  type Scope,
  type TokenClaims,
  type TokenIssuer,
} from './token-issuer.js';
import { SESSION_COOKIE, UI_HEADER } from './ui/ui-session.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Bearer-token authentication for the API: a missing or bad token is 401, a missing scope 403, and
 * more than `rateLimitPerMinute` requests of one subject a minute 429 with Retry-After. Every
 * authenticated answer carries the `RateLimit-*` headers. `rateLimiter` is the deployment's
 * shared one (Redis); without it this process counts on its own.
 */
export function createAuth(deps: {
  tokens: TokenIssuer;
  rateLimitPerMinute: number;
  rateLimiter?: ApiRateLimiter | undefined;
}) {
  const limiter = deps.rateLimiter ?? createApiRateLimiter({ perMinute: deps.rateLimitPerMinute });
  return (scope: Scope) =>
    createMiddleware<ApiEnv>(async (c, next) => {
      const header = c.req.header('authorization');
      // The dashboard's session: its cookie stands for the bearer token. A request that changes
      // something must also carry the dashboard's header (a forged cross-site request cannot).
      const session = header === undefined ? getCookie(c, SESSION_COOKIE) : undefined;
      if (session && !SAFE_METHODS.has(c.req.method) && c.req.header(UI_HEADER) !== '1') {
        throw new ApiError(
          403,
          'forbidden',
          `a request with the session cookie needs the ${UI_HEADER} header`,
        );
      }
      const match = session ? [session, session] : /^Bearer\s+(\S+)$/i.exec(header ?? '');
      if (!match?.[1]) {
        throw new ApiError(
          401,
          'unauthorized',
          'send Authorization: Bearer <token> (create one with `devbot token`)',
          {
            'www-authenticate': 'Bearer',
          },
        );
      }
      let claims: TokenClaims;
      try {
        claims = await deps.tokens.verify(match[1]);
      } catch (err) {
        const why = err instanceof InvalidTokenError ? err.message : NOT_VALID;
        throw new ApiError(401, 'unauthorized', why, { 'www-authenticate': 'Bearer error="invalid_token"' });
      }
      if (!claims.scopes.includes(scope) && !claims.scopes.includes('admin')) {
        throw new ApiError(403, 'forbidden', `the token lacks the ${scope} scope`);
      }
      const decision = await limiter.take(claims.subject);
      const headers = rateLimitHeaders(decision);
      if (!decision.allowed) {
        throw new ApiError(429, 'rate_limited', `more than ${decision.limit} requests a minute`, {
          ...headers,
          'retry-after': String(decision.resetSeconds),
        });
      }
      for (const [name, value] of Object.entries(headers)) c.header(name, value);
      c.set('claims', claims);
      await next();
    });
}
