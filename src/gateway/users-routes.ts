import { Hono } from 'hono';
import { z } from 'zod';
import { isGrantPattern, isHostLogin, isSubjectName, type SubjectAccess } from '../core/index.js';
import type { ApiEnv } from './api-env.js';
import { ApiError } from './api-error.js';
import { readRequestJson } from './request-body.js';

const loginBody = z.object({ login: z.string().refine(isHostLogin, 'not a GitHub login') }).strict();
const grantBody = z
  .object({ pattern: z.string().refine(isGrantPattern, 'use owner/name, owner/* or *') })
  .strict();

/**
 * `/users` for admins, what `devbot users` does (it uses these when a running devbot holds the
 * embedded database): `GET` lists every subject with its link and grants; `PUT /users/:subject/login`
 * links a subject to a GitHub login and `DELETE` unlinks it; `POST /users/:subject/grants`
 * (`{"pattern"}`) grants repositories and `DELETE /users/:subject/grants?pattern=` revokes a grant.
 * Mounted behind the API's JWT check; who may change which repository is an admin's decision.
 */
export function createUsersRoutes(deps: { access: SubjectAccess; bodyLimitBytes: number }): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use('*', async (c, next) => {
    if (!c.get('claims')?.scopes.includes('admin'))
      throw new ApiError(403, 'forbidden', 'managing users needs an admin token (devbot token --admin)');
    await next();
  });
  const subjectOf = (raw: string): string => {
    if (!isSubjectName(raw))
      throw new ApiError(
        400,
        'invalid_subject',
        `"${raw}" is not a subject: use tg:<user id> or an API token's user name`,
      );
    return raw;
  };
  const body = async <T>(c: Parameters<typeof readRequestJson>[0], schema: z.ZodType<T>): Promise<T> => {
    const parsed = schema.safeParse(await readRequestJson(c, deps.bodyLimitBytes));
    if (!parsed.success)
      throw new ApiError(
        400,
        'invalid_body',
        parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      );
    return parsed.data;
  };
  app.get('/', async (c) => c.json({ users: await deps.access.list() }));
  app.put('/:subject/login', async (c) => {
    const subject = subjectOf(c.req.param('subject'));
    const { login } = await body(c, loginBody);
    await deps.access.link(subject, login);
    return c.json({ subject, login });
  });
  app.delete('/:subject/login', async (c) => {
    const subject = subjectOf(c.req.param('subject'));
    return c.json({ subject, removed: await deps.access.unlink(subject) });
  });
  app.post('/:subject/grants', async (c) => {
    const subject = subjectOf(c.req.param('subject'));
    const { pattern } = await body(c, grantBody);
    await deps.access.grant(subject, pattern);
    return c.json({ subject, pattern }, 201);
  });
  app.delete('/:subject/grants', async (c) => {
    const subject = subjectOf(c.req.param('subject'));
    const pattern = c.req.query('pattern') ?? '';
    if (!isGrantPattern(pattern))
      throw new ApiError(400, 'invalid_query', 'pattern: use owner/name, owner/* or *');
    return c.json({ subject, pattern, removed: await deps.access.revoke(subject, pattern) });
  });
  return app;
}
