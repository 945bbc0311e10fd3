/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core (skipped when
 * /usr/bin/chromium is absent; CI installs it). One devbot and one browser for the whole file.
 * Sign-in through a link, the live list and task page, cancel, a dev task's diff and links, share
 * links, a signed-out browser, and untrusted text that looks like HTML staying text.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run-cli.js';
import { type AgentResult, type RunAgent, waitForPort } from '../../src/core/index.js';
import { SqlSubjectAccess } from '../../src/store/sql-subject-access.js';
import type { ApiClient } from '../helpers/api-client.js';
import { SHELL_COMMAND_AGENT_INPUT, shellCommandAgent } from '../helpers/shell-command-agent.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { taskEnded } from '../helpers/test-env.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const run = promisify(execFile);

// Text that would run if any of it reached the page as HTML.
const XSS_PROMPT =
  'make it <script>window.__pwned = "prompt"</script><img src=x onerror="window.__pwned=\'img\'">';
const XSS_OUTPUT = '<script>window.__pwned="output"</script><b>bold?</b>';
const XSS_FILE = '<img src=x onerror=window.__pwned=1>.txt';

/** The shell command agent, then a preview served from the sandbox (like the crew's preview step). */
const agentWithPreview: RunAgent = async (ctx, sandbox, repo): Promise<AgentResult> => {
  const result = await shellCommandAgent()(ctx, sandbox, repo);
  const proc = await sandbox.execBackground('python3 -m http.server 8000', { cwd: sandbox.workdir });
  if ((await waitForPort(sandbox, 8000, { process: proc, timeoutMs: 15_000 })) !== 'open')
    throw new Error('the preview did not come up');
  const url = await sandbox.exposePort(8000);
  await ctx.emit('preview_ready', { url, port: 8000 });
  return { ...result, preview: { url, port: 8000 } };
};

describe.skipIf(!existsSync(CHROMIUM))('the dashboard in a browser', () => {
  const reposDir = mkdtempSync(join(tmpdir(), 'devbot-ui-repos-'));
  let devbot: TestDevbot;
  let browser: Browser;
  let alice: ApiClient;
  let signInLink: string;

  beforeAll(async () => {
    const widgets = join(reposDir, 'widgets');
    mkdirSync(widgets);
    const git = (...args: string[]) => run('git', ['-C', widgets, ...args]);
    await git('init', '-q', '-b', 'main');
    writeFileSync(join(widgets, 'app.js'), 'export const a = 1;\nexport const b = 2;\n');
    await git('add', '.');
    await git('-c', 'user.name=Me', '-c', 'user.email=me@example.com', 'commit', '-qm', 'first');
    [devbot, browser] = await Promise.all([
      startTestDevbot({
        env: { DEVBOT_REPOS_DIR: reposDir },
        agents: { runAgent: agentWithPreview, agentInput: SHELL_COMMAND_AGENT_INPUT },
      }),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] }),
    ]);
    await new SqlSubjectAccess(devbot.app.runtime.sql).grant('alice', 'local/*');
    alice = devbot.api;
    // The link exactly as the operator gets it: `devbot token --user alice --link`.
    let out = '';
    let err = '';
    const code = await runCli(['token', '--user', 'alice', '--link'], {
      env: { DEVBOT_DATA_DIR: devbot.config.dataDir, DEVBOT_PUBLIC_URL: devbot.app.url },
      cwd: reposDir,
      io: {
        out: (t) => {
          out += t;
        },
        err: (t) => {
          err += t;
        },
      },
    });
    expect(code, err).toBe(0);
    // stdout is the link alone; stderr says the token's id and expiry.
    expect(err).toMatch(/^token \S+ for alice, expires /);
    signInLink = out.trim();
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await devbot?.stop();
    rmSync(reposDir, { recursive: true, force: true });
  });

  /** A page that records whether any script of the tests' text ran, and any dialog. */
  async function newPage(signedIn: boolean): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    page.on('dialog', (d) => {
      throw new Error(`a dialog opened: ${d.message()}`);
    });
    if (signedIn) {
      await page.goto(signInLink);
      expect(new URL(page.url()).search, 'the token left the address bar').toBe('');
    }
    return page;
  }

  const noScriptRan = async (page: Page) =>
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');

  it('signs in through a link, follows a running task live, and cancels it', async () => {
    const page = await newPage(true);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'devbot_session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Strict');
    expect(await page.evaluate('document.cookie')).toBe('');

    // A running shell task appears in the list without a reload.
    const res = await alice.createTask({
      kind: 'shell',
      prompt: XSS_PROMPT,
      command: `printf '%s\\n' '${XSS_OUTPUT}'; for i in $(seq 1 600); do echo tick $i; sleep 0.2; done`,
    });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    const row = page.locator(`tr[data-id="${id}"]`);
    await row.locator('.st-running').waitFor({ timeout: 15_000 });
    await expect(row.textContent()).resolves.toContain('shell');
    await page.screenshot({ path: join(ARTIFACTS, 'ui-list.png'), fullPage: true });

    // Its page: the request and the output as text, and new events arriving live.
    await row.locator('a').click();
    await page.waitForURL(`**/ui/tasks/${id}`);
    await page.locator('#live:not([hidden])').waitFor();
    await expect(page.locator('#prompt').textContent()).resolves.toBe(XSS_PROMPT);
    const before = await page.locator('#timeline li').count();
    // A locator, not a string to evaluate: the page's CSP refuses eval, as it should.
    await page.locator('#timeline li').nth(before).waitFor();
    await page.locator('#output', { hasText: 'tick 2' }).waitFor();
    await expect(page.locator('#output').textContent()).resolves.toContain(XSS_OUTPUT);
    await page.screenshot({ path: join(ARTIFACTS, 'ui-task-running.png'), fullPage: false });
    await noScriptRan(page);

    await page.locator('#cancel').click();
    await page.locator('.head .st-cancelled').waitFor({ timeout: 15_000 });
    expect((await devbot.app.runtime.store.getTask(id))?.status).toBe('cancelled');
    await page.waitForLoadState('load');
    await page.locator('.head .st-cancelled').waitFor();
    await expect(page.locator('#cancel').count()).resolves.toBe(0);
    await noScriptRan(page);
    await page.context().close();
  }, 60_000);

  it("shows a dev task's diff, branch and preview, with a file name that looks like HTML as text", async () => {
    const res = await alice.createTask({
      kind: 'dev',
      repo: 'local/widgets',
      prompt: XSS_PROMPT,
      input: {
        command: `printf 'hi\\n' > '${XSS_FILE}' && sed -i 's/b = 2/b = 3/' app.js && echo '${XSS_OUTPUT}'`,
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const done = await taskEnded(devbot.app.runtime.store, res.body.id as string);
    expect(done.status, done.error ?? '').toBe('succeeded');

    const page = await newPage(true);
    await page.goto(`${devbot.app.url}/ui/tasks/${done.id}`);
    await expect(page.locator('.file-name').allTextContents()).resolves.toEqual(
      expect.arrayContaining([XSS_FILE, 'app.js']),
    );
    await expect(page.locator('.diff .add').allTextContents()).resolves.toEqual(
      expect.arrayContaining(['+export const b = 3;', '+hi']),
    );
    await expect(page.locator('.diff .del').allTextContents()).resolves.toContain('-export const b = 2;');
    await expect(page.locator('#links').textContent()).resolves.toContain(done.branch as string);
    const preview = page.locator('#links a', { hasText: '/preview/' });
    expect(await preview.getAttribute('href')).toBe(done.previewUrl);
    // The preview link opens the page the sandbox serves.
    const served = await page.request.get(done.previewUrl as string);
    expect(served.status()).toBe(200);
    await expect(page.locator('#output').textContent()).resolves.toContain(XSS_OUTPUT);
    await page.screenshot({ path: join(ARTIFACTS, 'ui-task.png'), fullPage: true });
    await noScriptRan(page);
    // A phone-sized screen: the same page, readable.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${devbot.app.url}/ui/`);
    await page.screenshot({ path: join(ARTIFACTS, 'ui-list-phone.png'), fullPage: false });
    await noScriptRan(page);
    await page.context().close();
  }, 60_000);

  it('a share link shows its task to a browser with no session, and nothing else', async () => {
    const mine = await alice.createTask({ kind: 'shell', prompt: 'shared', command: 'echo shared-output' });
    const other = await alice.createTask({ kind: 'shell', prompt: 'not shared', command: 'echo private' });
    await Promise.all([mine, other].map((r) => taskEnded(devbot.app.runtime.store, r.body.id as string)));
    const got = await alice.getTask(mine.body.id);
    const shareUrl = got.body.shareUrl as string;
    expect(shareUrl).toMatch(new RegExp(`^${devbot.app.url}/ui/t/[A-Za-z0-9_-]{43}$`));
    // The owner gets the same link again; another user's request for the task is refused.
    expect((await alice.getTask(mine.body.id)).body.shareUrl).toBe(shareUrl);
    expect((await (await devbot.client('bob')).getTask(mine.body.id)).status).toBe(403);

    const page = await newPage(false);
    const res = await page.goto(shareUrl);
    expect(res?.status()).toBe(200);
    await expect(page.locator('#prompt').textContent()).resolves.toBe('shared');
    await expect(page.locator('#output').textContent()).resolves.toContain('shared-output');
    expect(await page.locator('#cancel').count()).toBe(0);
    expect(await page.locator('header nav').count()).toBe(0);
    // Nothing else: not the list, not another task, not the API, not another task's stream.
    for (const path of ['/ui/', `/ui/tasks/${other.body.id}`, `/ui/tasks/${mine.body.id}`]) {
      const r = await page.goto(`${devbot.app.url}${path}`);
      expect(r?.status(), path).toBe(401);
      expect(await page.locator('main').textContent()).toContain('devbot token --user NAME --link');
      expect(await page.locator('main').textContent()).not.toContain('not shared');
    }
    const token = shareUrl.split('/').at(-1) as string;
    expect((await page.request.get(`${devbot.app.url}/tasks`)).status()).toBe(401);
    const wsUrl = (id: string) => `${devbot.app.url.replace('http', 'ws')}/tasks/${id}/stream?share=${token}`;
    const opens = (id: string) =>
      page.evaluate(`new Promise((resolve) => {
        const ws = new WebSocket(${JSON.stringify(wsUrl(id))});
        ws.onopen = () => resolve('open');
        ws.onerror = () => resolve('refused');
      })`);
    expect(await opens(mine.body.id)).toBe('open');
    const stream = await opens(other.body.id);
    expect(stream).toBe('refused');

    // An admin revokes it: the link opens nothing, and the owner gets a new one.
    const admin = await devbot.client('root', ['admin']);
    expect((await alice.request('DELETE', `/tasks/${mine.body.id}/share`)).status).toBe(403);
    expect((await admin.request('DELETE', `/tasks/${mine.body.id}/share`)).body).toEqual({ revoked: 1 });
    expect((await page.goto(shareUrl))?.status()).toBe(404);
    const fresh = (await alice.getTask(mine.body.id)).body.shareUrl;
    expect(fresh).not.toBe(shareUrl);
    expect((await page.goto(fresh))?.status()).toBe(200);
    await page.context().close();
  }, 60_000);

  it('a signed-out browser gets no data, and a bad link signs no one in', async () => {
    const page = await newPage(false);
    const tasks = await alice.request('GET', '/tasks');
    const someId = tasks.body.tasks[0].id as string;
    for (const path of ['/ui/', `/ui/tasks/${someId}`, '/ui/?token=not-a-token']) {
      const r = await page.goto(`${devbot.app.url}${path}`);
      expect(r?.status(), path).toBe(401);
      expect(await page.locator('tr').count()).toBe(0);
      expect(r?.headers()['content-security-policy']).toContain("script-src 'self'");
    }
    expect((await page.context().cookies()).length).toBe(0);
    // The session cookie alone cannot change anything without the dashboard's header.
    const signed = await newPage(true);
    const forged = await signed.request.post(`${devbot.app.url}/tasks/${someId}/cancel`);
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toContain('x-devbot-ui');
    // Signing out clears the session.
    await signed.goto(`${devbot.app.url}/ui/`);
    await signed.locator('header button', { hasText: 'Sign out' }).click();
    await signed.waitForURL(`${devbot.app.url}/ui/`);
    expect((await signed.context().cookies()).length).toBe(0);
    await expect(signed.locator('h1').textContent()).resolves.toBe('Sign in to devbot');
    await page.context().close();
    await signed.context().close();
  }, 60_000);
});
