/**
 * Signing in with GitHub to link a Telegram user to a GitHub login (issue 13), through the GitHub
 * App's OAuth client: `/auth/github/start?state=…` sends the person to GitHub's authorize page, and
 * `/auth/github/callback` redeems the one-time state (which says who asked), exchanges the code for
 * a user token and asks `GET /user` whose it is. The token is used for that one call and never
 * stored; a state that was never issued, expired or already used links nothing.
 *
 * The state says who asked, not who signs in: anyone who opens a /login link signs in for its
 * asker. So the callback links nothing yet: it names the Telegram account that would act as the
 * GitHub user and asks that person to confirm with a POST to `/auth/github/confirm` (a one-time
 * token, five minutes). A victim sent an attacker's link sees whose account it is and stops there.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoginStates, SubjectAccess } from '../core/index.js';
import type { RawRoute } from '../http/raw-route.js';

export const LOGIN_START_PATH = '/auth/github/start';
export const LOGIN_CALLBACK_PATH = '/auth/github/callback';
export const LOGIN_CONFIRM_PATH = '/auth/github/confirm';

export interface GithubOAuthClient {
  clientId: string;
  clientSecret: string;
}

export interface GithubLoginOptions {
  /** The App's OAuth client; null while there is none (the pages say signing in is not set up). */
  client: () => GithubOAuthClient | null;
  /** GitHub's web address (GITHUB_URL): the authorize page and the token exchange. */
  githubUrl: string;
  /** GitHub's REST API (GITHUB_API_URL): `GET /user`. */
  apiUrl: string;
  /** Where people reach devbot (DEVBOT_PUBLIC_URL): GitHub sends them back there. */
  publicUrl: () => string;
  states: LoginStates;
  links: Pick<SubjectAccess, 'link'>;
  /** Told who was linked (e.g. the Telegram user, in their chat). */
  onLinked?: (subject: string, login: string) => Promise<void>;
  fetch?: typeof fetch;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** The start link a person opens (the bot sends it): devbot's page, which redirects to GitHub. */
export function loginStartUrl(publicUrl: string, state: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${LOGIN_START_PATH}?state=${encodeURIComponent(state)}`;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A page of escaped text; `html` (already escaped by the caller) follows it. */
function page(res: ServerResponse, status: number, title: string, text: string, html = ''): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
  });
  res.end(
    `<!doctype html><meta charset="utf-8"><title>${esc(title)}</title><h1>${esc(title)}</h1><p>${esc(text)}</p>${html}`,
  );
}

/** The most a confirmation form's body may be. */
const CONFIRM_BODY_LIMIT = 1024;

async function formToken(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > CONFIRM_BODY_LIMIT) return '';
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('token') ?? '';
}

const EXPIRED =
  'This sign-in link is not valid: it expired (links last 10 minutes), was used already, or was never issued. Send /login to the bot again.';

/** The code GitHub handed back, exchanged for the login of the person who approved. */
export async function githubLoginOf(
  options: Pick<GithubLoginOptions, 'githubUrl' | 'apiUrl' | 'publicUrl' | 'fetch'>,
  client: GithubOAuthClient,
  code: string,
): Promise<string> {
  const doFetch = options.fetch ?? fetch;
  const exchange = await doFetch(`${options.githubUrl}/login/oauth/access_token`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      code,
      redirect_uri: `${options.publicUrl().replace(/\/+$/, '')}${LOGIN_CALLBACK_PATH}`,
    }),
    signal: AbortSignal.timeout(15_000),
  });
  const answer = (await exchange.json().catch(() => ({}))) as { access_token?: unknown; error?: unknown };
  if (!exchange.ok || typeof answer.access_token !== 'string')
    throw new Error(`GitHub refused the code: ${String(answer.error ?? exchange.status)}`);
  const user = await doFetch(`${options.apiUrl}/user`, {
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${answer.access_token}`,
      'user-agent': 'devbot',
    },
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await user.json().catch(() => ({}))) as { login?: unknown };
  if (!user.ok || typeof body.login !== 'string') throw new Error(`GET /user answered ${user.status}`);
  return body.login;
}

/** `/auth/github/start` and `/auth/github/callback`. */
export function createGithubLoginRoute(options: GithubLoginOptions): RawRoute {
  const NOT_SET_UP = 'Signing in with GitHub is not set up on this devbot (no OAuth client).';
  const start = async (url: URL, res: ServerResponse) => {
    const client = options.client();
    if (!client) return page(res, 404, 'Not available', NOT_SET_UP);
    const state = url.searchParams.get('state') ?? '';
    if (!state || !(await options.states.peek(state))) return page(res, 400, 'Sign-in link expired', EXPIRED);
    const authorize = new URL(`${options.githubUrl}/login/oauth/authorize`);
    authorize.searchParams.set('client_id', client.clientId);
    authorize.searchParams.set(
      'redirect_uri',
      `${options.publicUrl().replace(/\/+$/, '')}${LOGIN_CALLBACK_PATH}`,
    );
    authorize.searchParams.set('state', state);
    authorize.searchParams.set('allow_signup', 'false');
    res.writeHead(302, {
      location: authorize.toString(),
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    });
    res.end();
  };
  const callback = async (url: URL, res: ServerResponse) => {
    const client = options.client();
    if (!client) return page(res, 404, 'Not available', NOT_SET_UP);
    const state = url.searchParams.get('state') ?? '';
    const code = url.searchParams.get('code') ?? '';
    // The state first, and used up whatever happens next: a code comes with the state it was given.
    const asker = state ? await options.states.take(state) : null;
    if (!asker) return page(res, 400, 'Sign-in link expired', EXPIRED);
    if (!code)
      return page(res, 400, 'Sign-in cancelled', 'GitHub sent no code back. Send /login to the bot again.');
    let login: string;
    try {
      login = await githubLoginOf(options, client, code);
    } catch (err) {
      options.log?.warn({ err, subject: asker.subject }, 'GitHub sign-in failed');
      return page(
        res,
        502,
        'Sign-in failed',
        'GitHub did not confirm who you are. Send /login to the bot again.',
      );
    }
    // Not linked yet: whoever signed in says whether this Telegram account may act as them.
    const token = await options.states.hold({ ...asker, login });
    const account = asker.label ?? asker.subject;
    return page(
      res,
      200,
      'Confirm: link your GitHub account',
      `You signed in as GitHub user ${login}. Confirming lets the Telegram account ${account} make devbot act as ${login}: change repositories ${login} can write to.`,
      `<p><strong>Only confirm if ${esc(account)} is your own Telegram account and you sent /login yourself.</strong> If someone sent you this link, close this page: nothing is linked.</p>` +
        `<form method="post" action="${LOGIN_CONFIRM_PATH}"><input type="hidden" name="token" value="${esc(token)}">` +
        `<button type="submit">Link ${esc(login)} to ${esc(account)}</button></form>`,
    );
  };
  const confirm = async (req: IncomingMessage, res: ServerResponse) => {
    const token = await formToken(req);
    const held = token ? await options.states.redeem(token) : null;
    if (!held)
      return page(
        res,
        400,
        'Confirmation expired',
        'This confirmation is not valid: it expired (5 minutes), was used already, or was never issued. Send /login to the bot again.',
      );
    const { subject, login } = held;
    await options.links.link(subject, login);
    options.log?.info({ subject, login }, 'subject linked to a GitHub login by signing in');
    await options
      .onLinked?.(subject, login)
      .catch((err: unknown) => options.log?.warn({ err }, 'could not say so'));
    return page(
      res,
      200,
      'Signed in',
      `The Telegram account ${held.label ?? subject} now acts as GitHub user ${login}. You can close this page.`,
    );
  };
  return {
    prefix: '/auth/github/',
    handle: async (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://devbot.invalid');
      try {
        if (url.pathname === LOGIN_CONFIRM_PATH) {
          if (req.method !== 'POST') return page(res, 405, 'Not allowed', 'POST only.');
          return await confirm(req, res);
        }
        if (req.method !== 'GET') return page(res, 405, 'Not allowed', 'GET only.');
        if (url.pathname === LOGIN_START_PATH) return await start(url, res);
        if (url.pathname === LOGIN_CALLBACK_PATH) return await callback(url, res);
        return page(res, 404, 'Not found', 'No such page.');
      } catch (err) {
        options.log?.warn({ err }, 'GitHub sign-in route failed');
        if (!res.headersSent) page(res, 500, 'Sign-in failed', 'Something went wrong; try /login again.');
      }
    },
  };
}
