/**
 * Token mode end to end: a personal access token instead of a GitHub App. `devbot github
 * add-repo` checks the token and adds the repository webhook; the fake GitHub delivers a labelled
 * issue through that webhook (no installation in the payload, signed with the shared secret); the
 * task ends as a PR by the token's user with a `devbot` commit status on its head.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GithubModule } from '../../src/app/modules/github-module.js';
import { runCli } from '../../src/cli/run-cli.js';
import type { RunAgent } from '../../src/core/agent-runner.js';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import { deliver, issueLabeled } from '../fakes/github/webhook-payloads.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { taskEnded, waitFor } from '../helpers/test-env.js';

const OWNER = 'acme';
const REPO = 'app';
const SECRET = `whsec-${randomBytes(12).toString('hex')}`;
const FULL = {
  metadata: 'read',
  contents: 'write',
  issues: 'write',
  pull_requests: 'write',
  statuses: 'write',
  repository_hooks: 'write',
  actions: 'read',
} as const;

let gh: FakeGithub;
let devbot: TestDevbot;
let mod: GithubModule;
let token: string;
let hookUrl: string;

const runAgent: RunAgent = async (_ctx, sandbox) => {
  await sandbox.exec('printf "hello from devbot\\n" > hello.txt');
  return {
    summary: 'Added hello.txt with a greeting.',
    prTitle: 'Add a greeting file',
    prBody: 'Adds hello.txt.',
  };
};

/** `devbot ...` in this process, with the test's environment; returns the code and what it printed. */
async function cli(args: string[], env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    env: { GITHUB_API_URL: gh.url, GITHUB_WEBHOOK_SECRET: SECRET, ...env },
    cwd: devbot.config.dataDir,
    io: { out: (t) => void out.push(t), err: (t) => void err.push(t) },
  });
  return { code, out: out.join(''), err: err.join('') };
}

beforeAll(async () => {
  gh = await startFakeGithub();
  await gh.createRepo({ owner: OWNER, name: REPO, files: { 'README.md': '# app\n' } });
  gh.setPermission(OWNER, REPO, 'octo', 'admin');
  gh.setPermission(OWNER, REPO, 'alice', 'write');
  token = gh.registerPersonalToken({ login: 'octo', permissions: { ...FULL } });
  devbot = await startTestDevbot({
    env: { GITHUB_TOKEN: token, GITHUB_WEBHOOK_SECRET: SECRET, GITHUB_API_URL: gh.url },
    github: { minEditIntervalMs: 50, throttle: false },
    agents: { runAgent },
  });
  if (!devbot.app.modules.github) throw new Error('github module not enabled');
  mod = devbot.app.modules.github;
  hookUrl = `${devbot.app.url}/api/github/webhooks`;
}, 60_000);

afterAll(async () => {
  await devbot?.stop();
  await gh?.close();
});

describe('GitHub with a personal access token', () => {
  it('runs in token mode', () => {
    expect(mod.mode).toBe('token');
  });

  it('add-repo checks the token and creates the webhook with the events and the secret', async () => {
    const res = await cli(['github', 'add-repo', `${OWNER}/${REPO}`, '--webhook-url', hookUrl], {
      GITHUB_TOKEN: token,
    });
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    expect(res.out).toContain('token: fine-grained, user octo');
    expect(res.out).toContain('webhook created');
    const hooks = gh.repo(OWNER, REPO).hooks;
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ url: hookUrl, contentType: 'json', secret: SECRET, active: true });
    expect([...hooks[0]!.events].sort()).toEqual(
      [
        'check_suite',
        'issue_comment',
        'issues',
        'pull_request',
        'pull_request_review',
        'pull_request_review_comment',
        'workflow_run',
      ].sort(),
    );
    // GitHub pings a new hook at once: devbot answered it (the signature checked out).
    await gh.settled();
    expect(gh.hookDeliveries.find((d) => d.event === 'ping')?.status).toBe(200);
    // Nothing was written by the permission probes.
    expect(gh.repo(OWNER, REPO).issues.size).toBe(0);
    expect(gh.repo(OWNER, REPO).pulls).toHaveLength(0);
    expect(gh.repo(OWNER, REPO).statuses).toHaveLength(0);

    // Again: the same hook is updated, not doubled.
    const again = await cli(['github', 'add-repo', `${OWNER}/${REPO}`, '--webhook-url', hookUrl], {
      GITHUB_TOKEN: token,
    });
    expect(again.code).toBe(0);
    expect(again.out).toContain('webhook updated');
    expect(gh.repo(OWNER, REPO).hooks).toHaveLength(1);
  });

  it('labelled issue -> PR by the token user with a devbot commit status', async () => {
    const issue = gh.createIssue(OWNER, REPO, {
      title: 'Add a greeting',
      body: 'Please add hello.txt',
      user: 'alice',
      labels: ['devbot'],
    });
    const [delivery] = await gh.deliverToRepoHooks(
      OWNER,
      REPO,
      issueLabeled(gh, OWNER, REPO, issue.number, 'devbot', 'alice'),
    );
    expect(delivery?.status).toBe(200);
    const [task] = await devbot.app.runtime.store.listTasks({ source: 'github' });
    expect(task).toMatchObject({ kind: 'dev', requester: 'gh:alice', repo: 'acme/app' });
    const done = await taskEnded(devbot.app.runtime.store, task!.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');

    const [head] = await gh.gitLog(
      OWNER,
      REPO,
      done.branch!,
      '%H%x09%an <%ae>%x09%(trailers:key=Co-authored-by,valueonly)',
    );
    const [sha, author, coauthor] = head!.split('\t');
    expect(author).toMatch(/^octo <\d+\+octo@users\.noreply\.github\.com>$/);
    expect(coauthor).toContain('alice <alice@users.noreply.github.com>');

    const pulls = gh.repo(OWNER, REPO).pulls;
    expect(pulls).toHaveLength(1);
    expect(pulls[0]!.user.login).toBe('octo');
    expect(pulls[0]!.body).toContain(`Closes #${issue.number}`);

    // The reporter hears of the end just after the task row says it: wait for the final status.
    await waitFor(
      () => gh.repo(OWNER, REPO).statuses.some((s) => s.state === 'success'),
      'the success status',
    );
    // No check run (a token cannot make one): a commit status on the head instead.
    expect(gh.repo(OWNER, REPO).checkRuns).toHaveLength(0);
    const statuses = gh.repo(OWNER, REPO).statuses.filter((s) => s.sha === sha);
    expect(statuses.map((s) => s.context)).toEqual(statuses.map(() => 'devbot'));
    expect(statuses.at(-1)).toMatchObject({
      state: 'success',
      creator: expect.objectContaining({ login: 'octo' }),
    });
    expect(statuses.at(-1)!.description).toContain('devbot finished');
    const sticky = gh.comments(OWNER, REPO, issue.number).filter((c) => c.user.login === 'octo');
    expect(sticky).toHaveLength(1);
    expect(sticky[0]!.body).toContain('✅');
    // devbot's own comment, delivered back through the webhook, starts nothing.
    expect(await devbot.app.runtime.store.listTasks({ source: 'github' })).toHaveLength(1);
  });

  it('refuses a delivery with a bad signature, and one signed with another secret', async () => {
    const issue = gh.createIssue(OWNER, REPO, { title: 'Forged', user: 'alice', labels: ['devbot'] });
    const forged = issueLabeled(gh, OWNER, REPO, issue.number, 'devbot', 'alice');
    delete forged.payload['installation'];
    const bad = await deliver(hookUrl, SECRET, forged, { signature: `sha256=${'0'.repeat(64)}` });
    expect(bad.status).toBe(400);
    const other = await deliver(hookUrl, 'not-the-secret', forged);
    expect(other.status).toBe(400);
    const unsigned = await fetch(hookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': 'x' },
      body: JSON.stringify(forged.payload),
    });
    expect(unsigned.status).toBe(401);
    const tasks = await devbot.app.runtime.store.listTasks({ source: 'github' });
    expect(tasks.some((t) => t.origin['issueNumber'] === issue.number)).toBe(false);
  });

  it('names each permission a fine-grained token lacks, and a classic token missing its scope', async () => {
    const partial = gh.registerPersonalToken({
      login: 'octo',
      permissions: { metadata: 'read', contents: 'read', issues: 'write', pull_requests: 'write' },
    });
    const res = await cli(['github', 'add-repo', `${OWNER}/${REPO}`, '--webhook-url', hookUrl], {
      GITHUB_TOKEN: partial,
    });
    expect(res.code).toBe(1);
    expect(res.err).toContain('missing: Contents: Read and write');
    expect(res.err).toContain('missing: Commit statuses: Read and write');
    expect(res.err).toContain('missing: Webhooks: Read and write');
    expect(res.err).not.toContain('Issues');
    expect(res.err).not.toContain('Pull requests');
    expect(res.out).toContain('optional, missing: Actions: Read-only');

    // Classic tokens: the scopes GitHub echoes in x-oauth-scopes, and the user's role.
    await gh.createRepo({ owner: OWNER, name: 'site', private: false });
    gh.setPermission(OWNER, 'site', 'octo', 'admin');
    await gh.createRepo({ owner: OWNER, name: 'secret', private: true });
    gh.setPermission(OWNER, 'secret', 'octo', 'write');
    const classic = (...scopes: string[]) => gh.registerPersonalToken({ login: 'octo', scopes });
    const add = (repo: string, tokenValue: string) =>
      cli(['github', 'add-repo', `${OWNER}/${repo}`, '--webhook-url', `${hookUrl}?${repo}`], {
        GITHUB_TOKEN: tokenValue,
      });
    const noHookScope = await add('site', classic('public_repo'));
    expect(noHookScope.code).toBe(1);
    expect(noHookScope.err).toContain('missing: scope admin:repo_hook (or write:repo_hook, or repo)');
    const publicScopes = await add('site', classic('public_repo', 'admin:repo_hook'));
    expect(publicScopes.err).toBe('');
    expect(publicScopes.code).toBe(0);
    expect(publicScopes.out).toContain('token: classic, user octo');
    const blind = await add('secret', classic('public_repo', 'admin:repo_hook'));
    expect(blind.code).toBe(1);
    expect(blind.err).toContain('the token cannot see acme/secret');
    const notAdmin = await add('secret', classic('repo'));
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.err).toContain('missing: the admin role on acme/secret for octo (to add a webhook)');
    const checkOnly = await cli(['github', 'add-repo', `${OWNER}/secret`, '--check-only'], {
      GITHUB_TOKEN: classic('repo'),
    });
    expect(checkOnly.code).toBe(0);
    expect(gh.repo(OWNER, 'secret').hooks).toHaveLength(0);
  });
});
