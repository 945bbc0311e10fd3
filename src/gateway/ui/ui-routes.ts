/**
 * The dashboard under /ui/: server-rendered pages, one small client script for the live parts
 * (it reads the /tasks API and the task stream with the session cookie), and read-only share
 * links. Every page is sent with a strict Content-Security-Policy: scripts only from
 * /ui/assets/, no inline script or style, no other origin.
 */
import { readFileSync } from 'node:fs';
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { type ShareLinks, TASK_SOURCES, TASK_STATUSES, type TaskStore } from '../../core/index.js';
import type { Logger } from '../../observability/logger.js';
import type { ApiEnv } from '../api-env.js';
import { InvalidTokenError, NOT_VALID, type TokenClaims, type TokenIssuer } from '../token-issuer.js';
import { listEvalRuns, readEvalReport, renderEvalReport, renderEvalRuns } from './eval-runs-page.js';
import { renderTaskList } from './task-list-page.js';
import { renderTaskPage } from './task-page.js';
import { esc, page } from './ui-html.js';
import { SESSION_COOKIE, SESSION_MAX_AGE_SECONDS } from './ui-session.js';

export interface UiDeps {
  store: TaskStore;
  tokens: TokenIssuer;
  shareLinks?: ShareLinks | undefined;
  logger: Logger;
  /** Where people reach devbot: an https URL makes the cookie Secure. */
  publicUrl: () => string;
  /** Where `devbot eval` keeps its reports (`<DEVBOT_DATA_DIR>/eval`): `/ui/evals` lists them. */
  evalReportsDir?: string | undefined;
}

export const UI_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'event-line.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};
const assetCache = new Map<string, string>();
function asset(name: string): string {
  let body = assetCache.get(name);
  if (body === undefined) {
    body = readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');
    assetCache.set(name, body);
  }
  return body;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REPO = /^[\w.-]+\/[\w.-]+$/;

export function mountUi(app: Hono<ApiEnv>, deps: UiDeps): void {
  app.use('/ui/*', async (c, next) => {
    await next();
    c.header('content-security-policy', UI_CSP);
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'no-referrer');
    c.header('x-frame-options', 'DENY');
    c.header('cross-origin-opener-policy', 'same-origin');
    if (!c.req.path.startsWith('/ui/assets/')) c.header('cache-control', 'no-store');
  });
  app.get('/ui', (c) => c.redirect('/ui/', 301));

  app.get('/ui/assets/:name', (c) => {
    const name = c.req.param('name');
    const type = ASSETS[name];
    if (!type) return htmlError(c, 404, 'Not found', 'No such file.');
    c.header('cache-control', 'no-cache');
    return c.body(asset(name), 200, { 'content-type': type });
  });

  const session = async (c: Context<ApiEnv>): Promise<TokenClaims | null> => {
    const token = getCookie(c, SESSION_COOKIE);
    if (!token) return null;
    try {
      const claims = await deps.tokens.verify(token);
      return claims.scopes.includes('tasks:read') || claims.scopes.includes('admin') ? claims : null;
    } catch {
      return null;
    }
  };

  app.get('/ui/', async (c) => {
    const token = c.req.query('token');
    if (token !== undefined) return signIn(c, token);
    const claims = await session(c);
    if (!claims) return signedOut(c);
    const q = c.req.query();
    const filters = {
      ...(q['status'] && (TASK_STATUSES as readonly string[]).includes(q['status'])
        ? { status: q['status'] as (typeof TASK_STATUSES)[number] }
        : {}),
      ...(q['source'] && (TASK_SOURCES as readonly string[]).includes(q['source'])
        ? { source: q['source'] as (typeof TASK_SOURCES)[number] }
        : {}),
      ...(q['repo'] && REPO.test(q['repo']) ? { repo: q['repo'] } : {}),
      ...(q['before'] && UUID.test(q['before']) ? { before: q['before'] } : {}),
    };
    const admin = claims.scopes.includes('admin');
    const limit = 50;
    const tasks = await deps.store.listTasks({
      ...filters,
      limit,
      ...(admin ? {} : { requester: claims.subject }),
    });
    const next = tasks.length === limit ? (tasks.at(-1)?.id ?? null) : null;
    return c.html(renderTaskList({ tasks, next, filters, subject: claims.subject, admin }));
  });

  const signIn = async (c: Context<ApiEnv>, token: string) => {
    let claims: TokenClaims;
    try {
      claims = await deps.tokens.verify(token);
    } catch (err) {
      const why = err instanceof InvalidTokenError ? err.message : NOT_VALID;
      return htmlError(c, 401, 'This sign-in link does not work', `${esc(why)}. ${HOW_TO_SIGN_IN}`);
    }
    const left = claims.expiresAt
      ? Math.floor((claims.expiresAt - Date.now()) / 1000)
      : SESSION_MAX_AGE_SECONDS;
    setCookie(c, SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: deps.publicUrl().startsWith('https:'),
      path: '/',
      maxAge: Math.max(1, Math.min(left, SESSION_MAX_AGE_SECONDS)),
    });
    deps.logger.info({ subject: claims.subject }, 'dashboard sign-in');
    // The token leaves the address bar (and the history) at once.
    return c.redirect('/ui/', 303);
  };

  app.post('/ui/signout', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/', sameSite: 'Strict', httpOnly: true });
    return c.redirect('/ui/', 303);
  });

  // Eval runs span every task of the suite and the deployment's model: admins only.
  app.get('/ui/evals', async (c) => {
    const claims = await session(c);
    if (!claims) return signedOut(c);
    if (!claims.scopes.includes('admin'))
      return htmlError(c, 403, 'Admins only', 'Eval runs are shown to admin tokens (devbot token --admin).');
    const runs = deps.evalReportsDir ? await listEvalRuns(deps.evalReportsDir) : [];
    return c.html(page({ title: 'Eval runs', body: renderEvalRuns(runs), signedIn: true }));
  });
  app.get('/ui/evals/:id', async (c) => {
    const claims = await session(c);
    if (!claims) return signedOut(c);
    if (!claims.scopes.includes('admin'))
      return htmlError(c, 403, 'Admins only', 'Eval runs are shown to admin tokens (devbot token --admin).');
    const id = c.req.param('id');
    const markdown = deps.evalReportsDir ? await readEvalReport(deps.evalReportsDir, id) : null;
    if (markdown === null) return htmlError(c, 404, 'Not found', 'No such eval run.');
    return c.html(page({ title: `Eval run ${id}`, body: renderEvalReport(id, markdown), signedIn: true }));
  });

  app.get('/ui/tasks/:id', async (c) => {
    const claims = await session(c);
    if (!claims) return signedOut(c);
    const id = c.req.param('id');
    const task = UUID.test(id) ? await deps.store.getTask(id) : null;
    // Someone else's task is "not found" to a non-admin, like one that does not exist.
    if (!task || (task.requester !== claims.subject && !claims.scopes.includes('admin')))
      return htmlError(c, 404, 'No such task', 'There is no task here that you may see.');
    const events = await deps.store.listEvents(task.id);
    return c.html(renderTaskPage({ task, events, viewer: { kind: 'user' } }));
  });

  app.get('/ui/t/:token', async (c) => {
    const token = c.req.param('token');
    const id = deps.shareLinks ? await deps.shareLinks.resolve(token) : null;
    const task = id ? await deps.store.getTask(id) : null;
    if (!task) return htmlError(c, 404, 'This link opens nothing', 'The link is wrong or was revoked.');
    const events = await deps.store.listEvents(task.id);
    return c.html(renderTaskPage({ task, events, viewer: { kind: 'share', token } }));
  });

  app.all('/ui/*', (c) => htmlError(c, 404, 'Not found', 'There is no page here.'));
}

const HOW_TO_SIGN_IN =
  'Ask the operator for a sign-in link: on the devbot host, run <code>devbot token --user NAME --link</code> and open the link it prints.';

function signedOut(c: Context<ApiEnv>) {
  return c.html(
    page({
      title: 'Sign in',
      body: `<h1>Sign in to devbot</h1><p>${HOW_TO_SIGN_IN}</p>`,
      data: { page: 'signed-out' },
    }),
    401,
  );
}

/** `detail` is trusted HTML written here; nothing from a request is put into it unescaped. */
function htmlError(c: Context<ApiEnv>, status: 401 | 403 | 404, title: string, detail: string) {
  return c.html(page({ title, body: `<h1>${esc(title)}</h1><p>${detail}</p>` }), status);
}
