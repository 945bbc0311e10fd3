/**
 * Signing in with GitHub links a Telegram user to a GitHub login (issue 13), through the real
 * pages and the fake GitHub's OAuth flow. The attacks: a forged state, a used state, a replayed
 * code — each links nothing. The user token is never stored.
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

describe('signing in with GitHub (/login)', () => {
  it('links the Telegram user who asked to the GitHub login that approved, once', async () => {
    const link = await devbot.app.modules.githubLogin.loginLink('tg:1001');
    expect(link).toMatch(new RegExp(`^${devbot.app.url}/auth/github/start\\?state=[\\w-]{32}$`));
    const callback = await approve(link ?? '');
    const done = await get(callback);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('octocat');
    expect((await access.get('tg:1001')).login).toBe('octocat');

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
    expect((await get(callback.toString())).status).toBe(200);
    const attacker = await devbot.app.modules.githubLogin.loginLink('tg:3003');
    const state = new URL(attacker ?? '').searchParams.get('state') ?? '';
    const replay = await get(`${devbot.app.url}/auth/github/callback?state=${state}&code=${code}`);
    expect(replay.status).toBe(502);
    expect((await access.get('tg:3003')).login).toBeNull();
    // The attacker's state is used up by the failed attempt.
    expect((await get(`${devbot.app.url}/auth/github/start?state=${state}`)).status).toBe(400);
    expect((await access.get('tg:2002')).login).toBe('octocat');
  });
});
