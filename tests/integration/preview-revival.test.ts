/**
 * Previews that come back (issue 17): a dev task's preview link, after its TTL, rebuilds the
 * preview from the recorded commit and serves the same page; after a restart of devbot too; a
 * deleted branch's preview and an ended shell preview answer 410 with a page that says so.
 * One devbot (then its restart on the same database) for the file; DEVBOT_PREVIEW_TTL=2.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentResult, RunAgent } from '../../src/core/index.js';
import { waitForPort } from '../../src/core/index.js';
import type { SqlClient } from '../../src/core/sql-client.js';
import { SqlPullRequestRecords } from '../../src/store/sql-pull-request-records.js';
import { SqlSubjectAccess } from '../../src/store/sql-subject-access.js';
import { openTestPglite } from '../helpers/pglite-template.js';
import { SHELL_COMMAND_AGENT_INPUT, shellCommandAgent } from '../helpers/shell-command-agent.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { removeDir, taskEnded, tempDir, waitFor } from '../helpers/test-env.js';

const run = promisify(execFile);
const PREVIEW = 'python3 -m http.server 8000';

/** The shell command agent, then the repository's preview (like the crew's preview step). */
const agentWithPreview: RunAgent = async (ctx, sandbox, repo): Promise<AgentResult> => {
  const result = await shellCommandAgent()(ctx, sandbox, repo);
  const proc = await sandbox.execBackground(PREVIEW, { cwd: sandbox.workdir });
  if ((await waitForPort(sandbox, 8000, { process: proc, timeoutMs: 15_000 })) !== 'open')
    throw new Error('the preview did not come up');
  const url = await sandbox.exposePort(8000);
  await ctx.emit('preview_ready', { url, port: 8000 });
  return { ...result, preview: { url, port: 8000, command: PREVIEW } };
};

describe('previews that come back', () => {
  const reposDir = mkdtempSync(join(tmpdir(), 'devbot-revive-'));
  const site = join(reposDir, 'site');
  const dataDir = tempDir();
  let sql: SqlClient;
  let devbot: TestDevbot;
  const git = (...args: string[]) => run('git', ['-C', site, ...args]);
  const start = async () => {
    devbot = await startTestDevbot({
      sql,
      dataDir,
      env: { DEVBOT_REPOS_DIR: reposDir, DEVBOT_PREVIEW_TTL: '2' },
      agents: { runAgent: agentWithPreview, agentInput: SHELL_COMMAND_AGENT_INPUT },
    });
  };
  let token = '';
  let sha = '';

  beforeAll(async () => {
    mkdirSync(site);
    await git('init', '-q', '-b', 'main');
    writeFileSync(join(site, 'index.html'), 'hello v1\n');
    await git('add', '.');
    await git('-c', 'user.name=Me', '-c', 'user.email=me@example.com', 'commit', '-qm', 'first');
    sql = await openTestPglite();
    await start();
    await new SqlSubjectAccess(sql).grant('alice', 'local/*');
  }, 60_000);

  afterAll(async () => {
    await devbot?.stop();
    await sql?.close();
    removeDir(dataDir);
    rmSync(reposDir, { recursive: true, force: true });
  });

  const open = async (base: string) => {
    const res = await fetch(`${base}/preview/${token}/`);
    return { status: res.status, text: await res.text() };
  };
  /** Opens the link until it serves the page (the starting page refreshes itself the same way). */
  const servedAgain = async (base: string) => {
    const first = await open(base);
    expect(first.status, first.text).toBe(503);
    expect(first.text).toContain(`Starting the preview of local/site@${sha.slice(0, 7)}`);
    expect(first.text).toContain('<meta http-equiv="refresh"');
    return waitFor(
      async () => {
        const r = await open(base);
        return r.status === 200 ? r.text : null;
      },
      'the revived preview',
      30_000,
    );
  };
  const expired = (base: string) =>
    waitFor(async () => (await open(base)).status !== 200, 'the preview to expire', 15_000);

  it("serves a dev task's preview again from its commit after the TTL", async () => {
    const res = await devbot.api.createTask({
      kind: 'dev',
      repo: 'local/site',
      prompt: 'say v2',
      input: { command: "sed -i 's/v1/v2/' index.html" },
    });
    const done = await taskEnded(devbot.app.runtime.store, res.body.id as string);
    expect(done.status, done.error ?? '').toBe('succeeded');
    token = /\/preview\/([\w-]+)\/$/.exec(done.previewUrl ?? '')?.[1] ?? '';
    expect(token).not.toBe('');
    sha = (await git('rev-parse', done.branch as string)).stdout.trim();
    await expired(devbot.app.url);
    expect(await servedAgain(devbot.app.url)).toBe('hello v2\n');
  }, 60_000);

  it('serves it again after devbot restarts', async () => {
    await devbot.stop();
    await start();
    expect(await servedAgain(devbot.app.url)).toBe('hello v2\n');
  }, 60_000);

  it('answers 410 for the preview of a merged pull request, its branch still there', async () => {
    const res = await devbot.api.createTask({
      kind: 'dev',
      repo: 'local/site',
      prompt: 'say v3',
      input: { command: "sed -i 's/v1/v3/' index.html" },
    });
    const done = await taskEnded(devbot.app.runtime.store, res.body.id as string);
    expect(done.status, done.error ?? '').toBe('succeeded');
    const merged = /\/preview\/([\w-]+)\/$/.exec(done.previewUrl ?? '')?.[1] ?? '';
    // What the GitHub module records from a `pull_request` closed-and-merged event.
    const records = new SqlPullRequestRecords(sql);
    await records.opened('local/site', 7, done.id);
    await records.closed('local/site', 7, true);
    const url = `${devbot.app.url}/preview/${merged}/`;
    await waitFor(async () => (await fetch(url)).status !== 200, 'the preview to expire', 15_000);
    const gone = await fetch(url);
    expect(gone.status).toBe(410);
    expect(await gone.text()).toContain('Pull request #7 of this preview was merged');
  }, 60_000);

  it("answers 410 once the preview's branch is deleted", async () => {
    const tasks = await devbot.app.runtime.store.listTasks({ repo: 'local/site' });
    const branch = tasks.find((t) => t.previewUrl?.includes(token))?.branch as string;
    await git('branch', '-D', branch);
    await expired(devbot.app.url);
    const gone = await waitFor(
      async () => {
        const r = await open(devbot.app.url);
        return r.status === 410 ? r.text : null;
      },
      'a 410',
      30_000,
    );
    expect(gone).toContain('This preview is gone');
  }, 60_000);

  it("answers 410 for a shell task's preview after its TTL", async () => {
    const res = await devbot.api.createTask({ kind: 'shell', command: PREVIEW, preview: { port: 8000 } });
    const url = await waitFor(
      async () => (await devbot.api.getTask(res.body.id)).body.previewUrl,
      'the preview',
    );
    await waitFor(async () => (await fetch(url)).status === 410, 'the shell preview to end with 410', 15_000);
    const page = await (await fetch(url)).text();
    expect(page).toContain('previews of shell tasks last DEVBOT_PREVIEW_TTL');
  }, 60_000);
});
