/**
 * A GitHub App's OAuth web flow on the fake (github.com's pages, outside the REST API): the
 * authorize page (here approved at once by `gh.signedInUser`) redirects to `redirect_uri` with a
 * one-time `code` and the caller's `state`; `POST /login/oauth/access_token` redeems the code, once
 * and within ten minutes, for a user token that `GET /user` answers for. As on GitHub, a bad code
 * is a 200 with `error: bad_verification_code`.
 */
import { randomBytes } from 'node:crypto';
import type { FakeGithub } from './fake-github.js';
import { type Reply, type RouteDef, route } from './fake-github-http.js';

interface OAuthCode {
  clientId: string;
  login: string;
  redirectUri: string;
  expiresAt: number;
}

export function oauthRoutes(gh: FakeGithub): RouteDef[] {
  const codes = new Map<string, OAuthCode>();
  const authorize = route(
    'GET',
    '',
    { kind: 'public' },
    (ctx): Reply => {
      const clientId = ctx.query.get('client_id') ?? '';
      const redirectUri = ctx.query.get('redirect_uri') ?? '';
      if (!gh.appRecord(clientId)) return { status: 404, text: 'Not Found' };
      if (!/^https?:\/\//.test(redirectUri)) return { status: 422, text: 'redirect_uri is required' };
      const code = randomBytes(10).toString('hex');
      const login = gh.signedInUser;
      gh.oauthAuthorizations.push({ clientId, login });
      codes.set(code, { clientId, login, redirectUri, expiresAt: Date.now() + 600_000 });
      const target = new URL(redirectUri);
      target.searchParams.set('code', code);
      const state = ctx.query.get('state');
      if (state !== null) target.searchParams.set('state', state);
      return { status: 302, text: '', headers: { location: target.toString() } };
    },
    { outsideRestApi: true },
  );
  const exchange = route(
    'POST',
    '',
    { kind: 'public' },
    (ctx): Reply => {
      const form = ctx.req.headers['content-type']?.includes('json')
        ? (ctx.body as Record<string, unknown>)
        : Object.fromEntries(new URLSearchParams(ctx.rawBody));
      const clientId = String(form['client_id'] ?? '');
      const app = gh.appRecord(clientId);
      if (!app || app.clientSecret !== String(form['client_secret'] ?? ''))
        return { status: 200, body: { error: 'incorrect_client_credentials' } };
      const code = String(form['code'] ?? '');
      const entry = codes.get(code);
      codes.delete(code);
      if (!entry || entry.clientId !== clientId || entry.expiresAt < Date.now())
        return { status: 200, body: { error: 'bad_verification_code' } };
      const redirectUri = form['redirect_uri'];
      if (redirectUri !== undefined && redirectUri !== entry.redirectUri)
        return { status: 200, body: { error: 'redirect_uri_mismatch' } };
      const token = gh.registerPersonalToken({
        login: entry.login,
        scopes: [],
        token: `ghu_${randomBytes(18).toString('hex')}`,
      });
      return { status: 200, body: { access_token: token, token_type: 'bearer', scope: '' } };
    },
    { outsideRestApi: true },
  );
  // github.com's pages: served at the root and under /web (the fake's web base).
  return ['', '/web'].flatMap((prefix) => [
    { ...authorize, template: `${prefix}/login/oauth/authorize` },
    { ...exchange, template: `${prefix}/login/oauth/access_token` },
  ]);
}
