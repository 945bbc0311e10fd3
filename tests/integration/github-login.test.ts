/**
 * Signing in with GitHub links a Telegram user to a GitHub login (issue 13), through the real
 * pages and the fake GitHub's OAuth flow. The attacks: a forged state, a used state, a replayed
 * code, an attacker's link opened by a victim (login CSRF) — each links nothing. The user token is
 * never stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlSubjectAccess } from '../../src/store/sql-subject-access.js';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import { githubAppEnv } from '../helpers/github-fixtures.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';

let gh: FakeGithub;
let devbot: TestDevbot;
let access: SqlSubjectAccess;

const get = (url: string) => fetch(url, { redirect: 'manual' });

beforeAll(async () => {
  gh = await startFakeGithub({ appId: 4242, appSlug: 'devbot' });
  gh.signedInUser = 'octocat';
  devbot = await startTestDevbot({
    env: {
      ...githubAppEnv(gh, 'login-test-secret'),
      GITHUB_URL: gh.webUrl,
      GITHUB_CLIENT_ID: gh.app.clientId,
      GITHUB_CLIENT_SECRET: gh.appRecord(gh.app.id)?.clientSecret ?? '',
    },
  });
  access = new SqlSubjectAccess(devbot.app.runtime.sql);
}, 60_000);

afterAll(async () => {
  await devbot?.stop();
  await gh?.close();
});

/** Through devbot's start page and GitHub's authorize page: the callback URL GitHub sends back. */
async function approve(link: string): Promise<string> {
  const start = await get(link);
  expect(start.status).toBe(302);
  const authorize = new URL(start.headers.get('location') ?? '');
  expect(`${authorize.origin}${authorize.pathname}`).toBe(`${gh.webUrl}/login/oauth/authorize`);
  expect(authorize.searchParams.get('client_id')).toBe(gh.app.clientId);
  const back = await get(authorize.toString());
  expect(back.status).toBe(302);
  const callback = back.headers.get('location') ?? '';
  expect(callback.startsWith(`${devbot.app.url}/auth/github/callback?`)).toBe(true);
  return callback;
}

/** The confirmation page's one-time token, POSTed as its form does. */
async function confirm(pageHtml: string): Promise<Response> {
  const token = /name="token" value="([\w-]+)"/.exec(pageHtml)?.[1] ?? '';
  return fetch(`${devbot.app.url}/auth/github/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
    redirect: 'manual',
  });
}

describe('signing in with GitHub (/login)', () => {
  it('links the Telegram user who asked to the GitHub login that approved, once', async () => {
    const link = await devbot.app.modules.githubLogin.loginLink('tg:1001');
    expect(link).toMatch(new RegExp(`^${devbot.app.url}/auth/github/start\\?state=[\\w-]{32}$`));
    const callback = await approve(link ?? '');
    const asked = await get(callback);
    expect(asked.status).toBe(200);
    const html = await asked.text();
    expect(html).toContain('octocat');
    expect((await access.get('tg:1001')).login).toBeNull();
    const done = await confirm(html);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('octocat');
    expect((await access.get('tg:1001')).login).toBe('octocat');
    // The confirmation works once.
    expect((await confirm(html)).status).toBe(400);

    // The same callback again (state used, code used): nothing changes, even if the login would.
    gh.signedInUser = 'mallory';
    const again = await get(callback);
    expect(again.status).toBe(400);
    expect((await access.get('tg:1001')).login).toBe('octocat');
    gh.signedInUser = 'octocat';
    // The user token went nowhere but GET /user.
    const rows = await devbot.app.runtime.sql.query('SELECT * FROM subject_links');
    expect(JSON.stringify(rows.rows)).not.toMatch(/ghu_/);
  });

  it('links nothing for a forged state, and nothing for a replayed code with a fresh state', async () => {
    // A real code, handed back with a state devbot never issued.
    const victim = await devbot.app.modules.githubLogin.loginLink('tg:2002');
    const callback = new URL(await approve(victim ?? ''));
    const code = callback.searchParams.get('code') ?? '';
    const forged = await get(`${devbot.app.url}/auth/github/callback?state=forged-state&code=${code}`);
    expect(forged.status).toBe(400);
    expect(await get(`${devbot.app.url}/auth/github/start?state=forged-state`)).toHaveProperty('status', 400);

    // The victim's code used once, then replayed with another user's fresh state.
    expect((await confirm(await (await get(callback.toString())).text())).status).toBe(200);
    const attacker = await devbot.app.modules.githubLogin.loginLink('tg:3003');
    const state = new URL(attacker ?? '').searchParams.get('state') ?? '';
    const replay = await get(`${devbot.app.url}/auth/github/callback?state=${state}&code=${code}`);
    expect(replay.status).toBe(502);
    expect((await access.get('tg:3003')).login).toBeNull();
    // The attacker's state is used up by the failed attempt.
    expect((await get(`${devbot.app.url}/auth/github/start?state=${state}`)).status).toBe(400);
    expect((await access.get('tg:2002')).login).toBe('octocat');
  });

  it("an attacker's /login link opened by a victim links nothing until the victim confirms, on a page naming the attacker's account", async () => {
    // Mallory asks the bot for a link and sends it to the victim, who is signed in to GitHub (an
    // App already authorized skips GitHub's consent screen: the callback comes at once).
    const link = await devbot.app.modules.githubLogin.loginLink(
      'tg:6666',
      '@mallory, Telegram user 6666 ("<b>Mallory</b>")',
    );
    gh.signedInUser = 'victim';
    try {
      const landed = await get(await approve(link ?? ''));
      expect(landed.status).toBe(200);
      expect(landed.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      const html = await landed.text();
      // Nothing linked by the GET: the victim is told whose Telegram account would act as them.
      expect((await access.get('tg:6666')).login).toBeNull();
      expect(html).toContain('@mallory, Telegram user 6666');
      expect(html).toContain('method="post"');
      expect(html).not.toContain('<b>Mallory</b>');
      expect(html).toContain('&lt;b&gt;Mallory&lt;/b&gt;');
      // The confirmation is a POST with its token: a GET, or a POST without the token, links nothing.
      expect((await get(`${devbot.app.url}/auth/github/confirm`)).status).toBe(405);
      expect((await confirm('')).status).toBe(400);
      expect((await access.get('tg:6666')).login).toBeNull();
    } finally {
      gh.signedInUser = 'octocat';
    }
  });
});
