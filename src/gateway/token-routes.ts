import { Hono } from 'hono';
import { z } from 'zod';
import { BadInputError, type IssuedToken } from '../core/index.js';
import type { ApiEnv } from './api-env.js';
import { ApiError } from './api-error.js';
import { readRequestJson } from './request-body.js';
import type { TokenAdmin } from './token-admin.js';

export const issueTokenBody = z
  .object({
    user: z.string(),
    admin: z.boolean().default(false),
    /** Seconds; null never expires; absent: the 30-day default. */
    ttlSeconds: z
      .number()
      .int()
      .positive()
      .max(10 * 365 * 24 * 3600)
      .nullable()
      .optional(),
  })
  .strict();

/**
 * `/tokens` for admins: `GET` lists the tokens issued (never the tokens themselves), `POST`
 * issues one, `DELETE /tokens/:id` revokes one (at once on this process, within seconds on
 * others). `devbot token` goes through these when the embedded database is held by a running
 * devbot. Mounted behind the API's JWT check.
 */
export function createTokenRoutes(deps: { admin: TokenAdmin; bodyLimitBytes: number }): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use('*', async (c, next) => {
    if (!c.get('claims')?.scopes.includes('admin'))
      throw new ApiError(403, 'forbidden', 'managing API tokens needs an admin token (devbot token --admin)');
    await next();
  });
  app.get('/', async (c) => c.json({ tokens: (await deps.admin.list()).map(tokenJson) }));
  app.post('/', async (c) => {
    const parsed = issueTokenBody.safeParse(await readRequestJson(c, deps.bodyLimitBytes));
    if (!parsed.success)
      throw new ApiError(
        400,
        'invalid_body',
        parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      );
    try {
      const issued = await deps.admin.issue(parsed.data.user, {
        admin: parsed.data.admin,
        ttlSeconds: parsed.data.ttlSeconds,
      });
      return c.json(
        {
          token: issued.token,
          id: issued.id,
          subject: issued.subject,
          scopes: issued.scopes,
          expiresAt: issued.expiresAt?.toISOString() ?? null,
        },
        201,
      );
    } catch (err) {
      if (err instanceof BadInputError) throw new ApiError(400, 'invalid_body', err.message);
      throw err;
    }
  });
  app.delete('/:id', async (c) => {
    try {
      const revoked = await deps.admin.revoke(c.req.param('id'));
      return c.json({ id: c.req.param('id'), revoked: true, already: !revoked });
    } catch (err) {
      if (err instanceof BadInputError) throw new ApiError(400, 'invalid_token_id', err.message);
      throw err;
    }
  });
  return app;
}

export function tokenJson(t: IssuedToken) {
  return {
    id: t.id,
    subject: t.subject,
    scopes: t.scopes,
    issuedAt: t.issuedAt.toISOString(),
    expiresAt: t.expiresAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
  };
}
