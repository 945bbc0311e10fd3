/**
 * GitHub in one click: a devbot with no GitHub credentials serves /setup (loopback or admin token
 * only), whose form posts app.yml's manifest to the fake GitHub's "new App" page; GitHub's
 * redirect back to the callback stores the new App (0600) and starts the GitHub module in the
 * running devbot, so the next labelled issue becomes a PR without a restart. Bad states and
 * replayed codes store nothing; the next start loads the stored App.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../../src/cli/run-cli.js';
import { resolveJwtSecret } from '../../src/config/jwt-secret.js';
import type { RunAgent } from '../../src/core/agent-runner.js';
import type { SqlClient } from '../../src/core/sql-client.js';
import { TokenIssuer } from '../../src/gateway/token-issuer.js';
import type { StoredGithubApp } from '../../src/github/stored-app.js';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import { deliver, issueLabeled } from '../fakes/github/webhook-payloads.js';
import { openTestPglite } from '../helpers/pglite-template.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { captureLogger, removeDir, taskEnded, tempDir, waitFor } from '../helpers/test-env.js';

const OWNER = 'acme';
const REPO = 'app';
const ROOT = join(import.meta.dirname, '../..');

let gh: FakeGithub;
let devbot: TestDevbot;
let sql: SqlClient;
let dataDir: string;
const log = captureLogger(() => []);

const runAgent: RunAgent = async (_ctx, sandbox) => {
  await sandbox.exec('printf "hello\\n" > hello.txt');
  return { summary: 'Added hello.txt.', prTitle: 'Add hello.txt', prBody: 'Adds hello.txt.' };
};

function start(): Promise<TestDevbot> {
  return startTestDevbot({
    sql,
    dataDir,
    env: { GITHUB_URL: gh.webUrl, GITHUB_API_URL: gh.url, LOG_LEVEL: 'debug' },
    logger: log.logger,
    github: { minEditIntervalMs: 50, throttle: false },
    agents: { runAgent },
  });
}

/** The setup page's form: where it posts and the manifest it carries. */
async function setupForm(query = '', headers: Record<string, string> = {}) {
  const res = await fetch(`${devbot.app.url}/setup${query}`, { headers });
  const html = await res.text();
  expect(res.status, html).toBe(200);
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1]?.replace(/&#38;/g, '&');
  const value = /name="manifest" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const manifest = JSON.parse(value.replace(/&#(\d+);/g, (_m, c: string) => String.fromCharCode(Number(c))));
  return { action: action!, manifest, res };
}

/** What the person's browser does: post the form to GitHub, which redirects to the callback. */
async function confirmOnGithub(form: { action: string; manifest: unknown }): Promise<URL> {
  const res = await fetch(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ manifest: JSON.stringify(form.manifest) }).toString(),
    redirect: 'manual',
  });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

const storedPath = () => join(dataDir, 'github-app.json');

beforeAll(async () => {
  gh = await startFakeGithub();
  await gh.createRepo({ owner: OWNER, name: REPO, files: { 'README.md': '# app\n' } });
  gh.setPermission(OWNER, REPO, 'alice', 'write');
  sql = await openTestPglite();
  dataDir = tempDir();
  devbot = await start();
}, 60_000);

afterAll(async () => {
  await devbot?.stop();
  await sql?.close();
  await gh?.close();
  removeDir(dataDir);
});

describe('GitHub App in one click', () => {
  it('starts without GitHub, and the webhook route says to open /setup', async () => {
    expect(devbot.app.modules.github).toBeNull();
    const res = await fetch(`${devbot.app.url}/api/github/webhooks`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toContain('/setup');
  });

  it("the form posts to GitHub's new-App page a manifest with app.yml's events and permissions", async () => {
    const yml = parse(readFileSync(join(ROOT, 'app.yml'), 'utf8'));
    const form = await setupForm();
    expect(form.action).toMatch(new RegExp(`^${gh.webUrl}/settings/apps/new\\?state=[\\w-]{20,}$`));
    expect(form.manifest.default_events).toEqual(yml.default_events);
    expect(form.manifest.default_permissions).toEqual(yml.default_permissions);
    expect(form.manifest).toMatchObject({
      name: yml.name,
      hook_attributes: { url: `${devbot.app.url}/api/github/webhooks`, active: true },
      redirect_url: `${devbot.app.url}/setup/github/callback`,
      callback_urls: [`${devbot.app.url}/setup/github/callback`, `${devbot.app.url}/auth/github/callback`],
    });
    expect(form.res.headers.get('referrer-policy')).toBe('no-referrer');
    const org = await setupForm('?org=acme-corp&name=devbot-acme');
    expect(org.action).toContain(`${gh.webUrl}/organizations/acme-corp/settings/apps/new?state=`);
    expect(org.manifest.name).toBe('devbot-acme');
  });

  it('/setup from elsewhere than this machine needs an admin token (403)', async () => {
    const proxied = { 'x-forwarded-for': '203.0.113.7' };
    const refused = await fetch(`${devbot.app.url}/setup`, { headers: proxied });
    expect(refused.status).toBe(403);
    expect(await refused.text()).not.toContain('manifest');
    const issuer = new TokenIssuer(resolveJwtSecret(devbot.config));
    const user = await issuer.sign('bob', { scopes: ['tasks:read', 'tasks:write'] });
    const admin = await issuer.sign('root', { scopes: ['tasks:read', 'tasks:write', 'admin'] });
    expect(
      (await fetch(`${devbot.app.url}/setup`, { headers: { ...proxied, authorization: `Bearer ${user}` } }))
        .status,
    ).toBe(403);
    expect((await fetch(`${devbot.app.url}/setup?token=not-a-token`, { headers: proxied })).status).toBe(403);
    await setupForm('', { ...proxied, authorization: `Bearer ${admin}` });
    await setupForm(`?token=${admin}`, proxied);

    // `devbot setup github` prints a link with a short-lived admin token that opens it from elsewhere.
    const out: string[] = [];
    const code = await runCli(['setup', 'github', '--org', 'acme-corp', '--ttl', '5'], {
      env: { DEVBOT_DATA_DIR: dataDir, DEVBOT_PUBLIC_URL: devbot.app.url, GITHUB_URL: gh.webUrl },
      cwd: dataDir,
      io: { out: (t) => void out.push(t), err: (t) => void out.push(t) },
    });
    expect(code).toBe(0);
    const link = /from anywhere: +(\S+)/.exec(out.join(''))?.[1];
    expect(link).toMatch(new RegExp(`^${devbot.app.url}/setup\\?org=acme-corp&token=`));
    const viaLink = await setupForm(link!.slice(`${devbot.app.url}/setup`.length), proxied);
    expect(viaLink.action).toContain('/organizations/acme-corp/settings/apps/new');
  });

  it('a bad state or a replayed code stores nothing and says so', async () => {
    const bogus = await fetch(`${devbot.app.url}/setup/github/callback?code=abc&state=forged`);
    expect(bogus.status).toBe(400);
    expect(await bogus.text()).toContain('does not belong to a setup page');

    const back = await confirmOnGithub(await setupForm('?name=devbot-replay'));
    // Someone redeems the code first (or the browser replays an old redirect).
    const code = back.searchParams.get('code')!;
    const first = await fetch(`${gh.url}/app-manifests/${code}/conversions`, { method: 'POST' });
    expect(first.status).toBe(201);
    const replayed = await fetch(back);
    expect(replayed.status).toBe(400);
    expect(await replayed.text()).toContain('used already');
    // The state was single-use as well.
    const again = await fetch(back);
    expect(again.status).toBe(400);
    expect(existsSync(storedPath())).toBe(false);
    expect(devbot.app.modules.github).toBeNull();

    // A name GitHub refuses (the fake's own App is `devbot`): clear error, nothing stored.
    const taken = await fetch(await confirmOnGithub(await setupForm()));
    expect(taken.status).toBe(400);
    expect(await taken.text()).toContain('Name is already in use');
    expect(existsSync(storedPath())).toBe(false);
  });

  it('the callback stores the App (0600) and the next labelled issue is handled without a restart', async () => {
    const back = await confirmOnGithub(await setupForm('?name=devbot-test'));
    const res = await fetch(back);
    const html = await res.text();
    expect(res.status, html).toBe(200);
    expect(html).toContain(`${gh.webUrl}/apps/devbot-test/installations/new`);

    expect(statSync(storedPath()).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(storedPath(), 'utf8')) as StoredGithubApp;
    expect(stored).toMatchObject({ slug: 'devbot-test', name: 'devbot-test', owner: 'devbot-maker' });
    expect(stored.privateKey).toContain('PRIVATE KEY');
    for (const secret of [stored.privateKey, stored.webhookSecret, stored.clientSecret]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(log.lines.join('\n')).not.toContain(secret.split('\n')[1] ?? secret);
    }
    expect(log.lines.join('\n')).not.toContain(stored.webhookSecret);
    const mod = devbot.app.modules.github;
    expect(mod?.mode).toBe('app');
    // The stored App's OAuth client: Telegram users can sign in with GitHub (/login) at once.
    const login = await devbot.app.modules.githubLogin.loginLink('tg:5');
    const start = await fetch(login ?? '', { redirect: 'manual' });
    expect(new URL(start.headers.get('location') ?? '').searchParams.get('client_id')).toBe(stored.clientId);
    expect((await fetch(`${devbot.app.url}/setup`)).status).toBe(200);

    // The person installs the App; GitHub delivers the next labelled issue, signed with its secret.
    const installationId = gh.installApp(Number(stored.appId), OWNER);
    const issue = gh.createIssue(OWNER, REPO, { title: 'Add hello', user: 'alice', labels: ['devbot'] });
    const delivery = issueLabeled(gh, OWNER, REPO, issue.number, 'devbot', 'alice');
    delivery.payload['installation'] = { id: installationId, node_id: 'I_1' };
    const forged = await deliver(`${devbot.app.url}/api/github/webhooks`, 'wrong', delivery);
    expect(forged.status).toBe(400);
    const ok = await deliver(`${devbot.app.url}/api/github/webhooks`, stored.webhookSecret, delivery);
    expect(ok.status).toBe(200);
    const [task] = await devbot.app.runtime.store.listTasks({ source: 'github' });
    const done = await taskEnded(devbot.app.runtime.store, task!.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    const pulls = gh.repo(OWNER, REPO).pulls;
    expect(pulls).toHaveLength(1);
    expect(pulls[0]!.user.login).toBe('devbot-test[bot]');
    // The reporter hears of the end just after the task row says it: wait for the check run.
    const run = await waitFor(
      // The first run (on the start commit) closes as neutral when the push moves it to the head.
      () => gh.repo(OWNER, REPO).checkRuns.find((r) => r.conclusion !== null && r.conclusion !== 'neutral'),
      'the completed check run',
    );
    expect(run).toMatchObject({ name: 'devbot', conclusion: 'success' });

    // A callback after the setup changes nothing.
    const late = await fetch(await confirmOnGithub(await setupFormOrStatus()));
    expect(late.status).toBe(400);
  });

  it('the next start loads the stored App', async () => {
    await devbot.stop();
    devbot = await start();
    expect(devbot.app.modules.github?.app.appSlug).toBe('devbot-test');
    const page = await (await fetch(`${devbot.app.url}/setup`)).text();
    expect(page).toContain('GitHub is set up');
    expect(page).toContain('devbot-test');
  });
});

/** Once set up, /setup shows the status and issues no state: a forged form gets none either. */
async function setupFormOrStatus() {
  const html = await (await fetch(`${devbot.app.url}/setup`)).text();
  expect(html).toContain('GitHub is set up');
  return {
    action: `${gh.webUrl}/settings/apps/new?state=${randomBytes(8).toString('hex')}`,
    manifest: {
      name: 'devbot-late',
      url: 'https://example.com',
      redirect_url: `${devbot.app.url}/setup/github/callback`,
    },
  };
}
