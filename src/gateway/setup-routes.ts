/**
 * `/setup`: GitHub in one click. With no GitHub credentials configured, the page carries a form
 * that posts devbot's App manifest to GitHub's "new App" page; GitHub sends the person back to
 * `/setup/github/callback?code=...&state=...`, and devbot redeems the code for the new App and
 * starts using it at once.
 *
 * Who may: the setup page only answers requests from this machine (a loopback peer with no
 * forwarding header: a reverse proxy on the same host adds one) or with an admin API token
 * (`Authorization: Bearer`, or `?token=` for a browser). The callback needs no such proof: it
 * needs a `state` only a page served to such a person carries (random, single-use, an hour), so
 * a forged or replayed callback is refused before GitHub is asked anything.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadInputError } from '../core/errors.js';
import type { RawRoute } from '../http/raw-route.js';
import type { Logger } from '../observability/logger.js';

export const SETUP_PATH = '/setup';
export const SETUP_CALLBACK = '/setup/github/callback';

export interface SetupStatus {
  /** What is configured: a sentence for the page. */
  description: string;
  /** The App's page to install it on repositories (App mode). */
  installUrl?: string;
}

export interface SetupRoutesDeps {
  /** GitHub's web address (GITHUB_URL): where the manifest form posts. */
  githubUrl: string;
  /** null while no GitHub credentials are configured (the page then offers the App). */
  configured(): SetupStatus | null;
  /** The manifest to post (JSON-able); throws BadInputError for a bad name. */
  manifest(input: { name?: string }): unknown;
  /** Redeems the code, stores the App and starts using it; BadInputError for a code GitHub refuses. */
  complete(code: string): Promise<{ name: string; installUrl: string }>;
  /** Something to fix first, shown above the button (e.g. a public URL GitHub cannot reach). */
  warning?(): string | null;
  /** Whether a bearer token is a valid admin API token. */
  isAdmin(token: string): Promise<boolean>;
  logger: Logger;
  /** How long a setup page's state stays valid (default an hour, as GitHub's codes). */
  stateTtlMs?: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const FORWARDED = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

/** A request from this machine itself, not relayed by a proxy. */
export function isLocalRequest(req: IncomingMessage): boolean {
  const peer = req.socket.remoteAddress ?? '';
  const local = LOOPBACK.has(peer) || peer.startsWith('127.');
  return local && !FORWARDED.some((h) => req.headers[h] !== undefined);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res: ServerResponse, status: number, title: string, body: string, formAction?: string): void {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · devbot</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2328}
button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #1f883d;background:#1f883d;color:#fff;cursor:pointer}
input{font:inherit;padding:.25rem .5rem}label{display:block;margin:.5rem 0}.error{color:#cf222e}code{background:#f6f8fa;padding:0 .25rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    // The page may carry an admin token in its URL: never hand it to GitHub as a Referer.
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${formAction ? ` ${new URL(formAction).origin}` : ''}; frame-ancestors 'none'`,
  });
  res.end(html);
}

export function createSetupRoutes(deps: SetupRoutesDeps): RawRoute {
  const ttl = deps.stateTtlMs ?? 3_600_000;
  const states = new Map<string, number>();
  const issueState = (): string => {
    const now = Date.now();
    for (const [s, until] of states) if (until <= now) states.delete(s);
    if (states.size >= 1_000) states.delete(states.keys().next().value as string);
    const state = randomBytes(24).toString('base64url');
    states.set(state, now + ttl);
    return state;
  };
  const takeState = (state: string | null): boolean => {
    if (!state) return false;
    const until = states.get(state);
    states.delete(state);
    return until !== undefined && until > Date.now();
  };

  const allowed = async (req: IncomingMessage, url: URL): Promise<boolean> => {
    if (isLocalRequest(req)) return true;
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ?? url.searchParams.get('token');
    return token ? deps.isAdmin(token).catch(() => false) : false;
  };

  const setupPage = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (!(await allowed(req, url)))
      return page(
        res,
        403,
        'Not from here',
        '<p>The setup page only answers on this machine (open it through <code>http://127.0.0.1</code>, e.g. an SSH tunnel) or with an admin token: <code>devbot setup github</code> prints a link with one.</p>',
      );
    const status = deps.configured();
    if (status)
      return page(
        res,
        200,
        'GitHub is set up',
        `<p>${escapeHtml(status.description)}</p>${
          status.installUrl
            ? `<p><a href="${escapeHtml(status.installUrl)}">Install the App on repositories</a></p>`
            : ''
        }`,
      );
    const name = url.searchParams.get('name')?.trim() || undefined;
    const org = url.searchParams.get('org')?.trim() || undefined;
    if (org !== undefined && !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(org))
      return page(
        res,
        400,
        'Bad organization',
        '<p class="error">That is not a GitHub organization name.</p>',
      );
    let manifest: unknown;
    try {
      manifest = deps.manifest(name !== undefined ? { name } : {});
    } catch (err) {
      if (err instanceof BadInputError)
        return page(res, 400, 'Bad App name', `<p class="error">${escapeHtml(err.message)}</p>`);
      throw err;
    }
    const state = issueState();
    const base = deps.githubUrl.replace(/\/+$/, '');
    const path = org ? `/organizations/${encodeURIComponent(org)}/settings/apps/new` : '/settings/apps/new';
    const action = `${base}${path}?state=${encodeURIComponent(state)}`;
    const token = url.searchParams.get('token');
    const warning = deps.warning?.();
    const body = `${warning ? `<p class="error">${escapeHtml(warning)}</p>` : ''}<p>devbot has no GitHub credentials yet. This creates a GitHub App for it on
${escapeHtml(new URL(base).host)}${org ? ` in the organization <b>${escapeHtml(org)}</b>` : ' for your account'}, with the
events and permissions of devbot's <code>app.yml</code>. GitHub asks you to confirm, then sends you back here.</p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(manifest))}">
<button type="submit">Create the GitHub App</button>
</form>
<h2>Options</h2>
<form method="get" action="${SETUP_PATH}">
<label>App name (unique on GitHub) <input name="name" value="${escapeHtml(name ?? '')}" maxlength="34"></label>
<label>Organization (empty: your account) <input name="org" value="${escapeHtml(org ?? '')}" maxlength="39"></label>
${token ? `<input type="hidden" name="token" value="${escapeHtml(token)}">` : ''}
<button type="submit">Update</button>
</form>`;
    return page(res, 200, 'Set up GitHub', body, action);
  };

  const callback = async (_req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (!takeState(url.searchParams.get('state')))
      return page(
        res,
        400,
        'Setup link not valid',
        '<p class="error">This answer from GitHub does not belong to a setup page devbot served (unknown, used or expired <code>state</code>). Nothing was stored. Start again from <a href="/setup">/setup</a>.</p>',
      );
    if (deps.configured()) return page(res, 409, 'GitHub is already set up', '<p>Nothing was changed.</p>');
    const code = url.searchParams.get('code') ?? '';
    try {
      const app = await deps.complete(code);
      return page(
        res,
        200,
        'GitHub App created',
        `<p>devbot now uses the App <b>${escapeHtml(app.name)}</b>; its credentials are stored in the data directory (readable by devbot's user only).</p>
<p><a href="${escapeHtml(app.installUrl)}">Install it on your repositories</a>, then label an issue <code>devbot</code>.</p>`,
      );
    } catch (err) {
      if (err instanceof BadInputError)
        return page(res, 400, 'GitHub App not created', `<p class="error">${escapeHtml(err.message)}</p>`);
      deps.logger.error({ err }, 'GitHub App setup failed');
      return page(
        res,
        502,
        'GitHub App not created',
        '<p class="error">devbot could not complete the setup with GitHub (the logs say why). Nothing was stored. Start again from <a href="/setup">/setup</a>.</p>',
      );
    }
  };

  return {
    prefix: SETUP_PATH,
    handle: async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://devbot.invalid');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET' }).end();
        return;
      }
      if (path === SETUP_PATH) return setupPage(req, res, url);
      if (path === SETUP_CALLBACK) return callback(req, res, url);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    },
  };
}
