/**
 * CI on the fake GitHub as a PR loop meets it: a workflow run on a PR's head with jobs, steps and
 * check runs; a job's log only through a redirect to a short-lived plain-text link; commit
 * statuses for personal tokens, which may not create check runs; and the permission answers
 * (401/403/404, x-oauth-scopes) GitHub gives each kind of token.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';

let gh: FakeGithub;
let app: string;
let head: string;
let pr: number;

async function call(method: string, path: string, auth: string | null, body?: unknown) {
  const res = await fetch(path.startsWith('http') ? path : `${gh.url}${path}`, {
    method,
    redirect: 'manual',
    headers: { ...(auth ? { authorization: auth } : {}), 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const json =
    res.headers.get('content-type')?.startsWith('application/json') && text ? JSON.parse(text) : null;
  return { status: res.status, json, text, headers: res.headers };
}

beforeAll(async () => {
  gh = await startFakeGithub();
  await gh.createRepo({ owner: 'acme', name: 'app', files: { 'a.ts': 'a\n' } });
  gh.setPermission('acme', 'app', 'mia', 'write');
  gh.setPermission('acme', 'app', 'rex', 'read');
  const minted = await fetch(`${gh.url}/app/installations/${gh.installationId}/access_tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer e30.${Buffer.from('{"iss":12345}').toString('base64url')}.sig` },
  });
  app = `token ${((await minted.json()) as { token: string }).token}`;
  head = await gh.pushBranch('acme', 'app', { branch: 'devbot/x', files: { 'a.ts': 'b\n' } });
  pr = (await call('POST', '/repos/acme/app/pulls', app, { title: 'X', head: 'devbot/x', base: 'main' })).json
    .number;
});
afterAll(async () => {
  vi.useRealTimers();
  await gh?.close();
});

describe('fake GitHub Actions', () => {
  it('models a failed run on the PR head: jobs, steps, check runs, annotations, suite', async () => {
    const run = await gh.addWorkflowRun('acme', 'app', {
      headBranch: 'devbot/x',
      jobs: [
        { name: 'lint', conclusion: 'success' },
        {
          name: 'test',
          conclusion: 'failure',
          steps: [
            { name: 'Set up job', conclusion: 'success' },
            { name: 'npm test', output: 'FAIL a.test.ts\n  expected 1, got 2' },
          ],
        },
      ],
    });
    const got = await call('GET', `/repos/acme/app/actions/runs/${run.id}`, app);
    expect(got.json).toMatchObject({
      status: 'completed',
      conclusion: 'failure',
      head_sha: head,
      head_branch: 'devbot/x',
      event: 'pull_request',
      pull_requests: [{ number: pr, head: { sha: head, ref: 'devbot/x' } }],
    });
    const jobs = (await call('GET', `/repos/acme/app/actions/runs/${run.id}/jobs`, app)).json;
    expect(jobs.total_count).toBe(2);
    const failed = jobs.jobs.find((j: { name: string }) => j.name === 'test');
    expect(failed.conclusion).toBe('failure');
    expect(failed.steps.map((s: { name: string; conclusion: string }) => [s.name, s.conclusion])).toEqual([
      ['Set up job', 'success'],
      ['npm test', 'failure'],
    ]);
    // Each job is a check run of GitHub Actions with the same id, in the run's suite.
    const runs = (await call('GET', `/repos/acme/app/commits/${head}/check-runs`, app)).json;
    const checkRun = runs.check_runs.find((c: { id: number }) => c.id === failed.id);
    expect(checkRun).toMatchObject({
      name: 'test',
      conclusion: 'failure',
      check_suite: { id: run.checkSuiteId },
    });
    expect(checkRun.app.slug).toBe('github-actions');
    const annotations = (await call('GET', `/repos/acme/app/check-runs/${failed.id}/annotations`, app)).json;
    expect(annotations).toEqual([
      expect.objectContaining({ message: 'Process completed with exit code 1.' }),
    ]);
    const suite = (await call('GET', `/repos/acme/app/check-suites/${run.checkSuiteId}`, app)).json;
    expect(suite).toMatchObject({ status: 'completed', conclusion: 'failure', head_sha: head });
    const byBranch = (await call('GET', '/repos/acme/app/actions/runs?branch=devbot%2Fx&status=failure', app))
      .json;
    expect(byBranch.workflow_runs.map((r: { id: number }) => r.id)).toEqual([run.id]);
  });

  it('gives a job log as a 302 to a plain-text link that needs no token and expires', async () => {
    const run = await gh.addWorkflowRun('acme', 'app', {
      headBranch: 'devbot/x',
      jobs: [
        {
          name: 'test',
          conclusion: 'failure',
          steps: [{ name: 'npm test', output: 'AssertionError: nope' }],
        },
      ],
    });
    const job = run.jobs[0]!;
    const redirect = await call('GET', `/repos/acme/app/actions/jobs/${job.id}/logs`, app);
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_blobs\//);
    const log = await call('GET', location, null);
    expect(log.status).toBe(200);
    expect(log.headers.get('content-type')).toMatch(/^text\/plain/);
    const lines = log.text
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\n');
    expect(lines.every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z /.test(l))).toBe(true);
    expect(log.text).toContain('##[group]Run npm test');
    expect(log.text).toContain('AssertionError: nope');
    expect(log.text).toContain('##[error]Process completed with exit code 1.');
    // fetch follows the redirect by itself, as octokit does.
    const followed = await fetch(`${gh.url}/repos/acme/app/actions/jobs/${job.id}/logs`, {
      headers: { authorization: app },
    });
    expect(await followed.text()).toBe(log.text);
    // The API itself still wants credentials for the private repository.
    expect((await call('GET', `/repos/acme/app/actions/jobs/${job.id}/logs`, null)).status).toBe(404);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61_000 });
    try {
      expect((await call('GET', location, null)).status).toBe(403);
    } finally {
      vi.useRealTimers();
    }
  });

  it('lists no PR for a run on a fork branch, as GitHub does', async () => {
    await gh.forkRepo('acme', 'app', 'zoe');
    await gh.pushBranch('zoe', 'app', { branch: 'idea', files: { 'z.ts': 'z\n' } });
    await gh.openPullRequest('acme', 'app', { title: 'Idea', head: 'zoe:idea', user: 'zoe' });
    const run = await gh.addWorkflowRun('acme', 'app', {
      headBranch: 'idea',
      headOwner: 'zoe',
      jobs: [{ name: 'test' }],
    });
    const got = (await call('GET', `/repos/acme/app/actions/runs/${run.id}`, app)).json;
    expect(got).toMatchObject({
      conclusion: 'success',
      pull_requests: [],
      head_repository: { full_name: 'zoe/app' },
    });
  });
});

describe('fake GitHub checks and statuses by token kind', () => {
  it('lets the App create check runs in its own suite, and refuses personal tokens', async () => {
    const created = await call('POST', '/repos/acme/app/check-runs', app, {
      name: 'devbot',
      head_sha: head,
      status: 'in_progress',
    });
    expect(created.status).toBe(201);
    expect(created.json.app.slug).toBe('devbot');
    expect(created.json.pull_requests).toEqual([expect.objectContaining({ number: pr })]);
    const suite = gh.repo('acme', 'app').checkSuites.find((s) => s.id === created.json.check_suite.id)!;
    expect(suite).toMatchObject({ status: 'in_progress', headSha: head });
    await call('PATCH', `/repos/acme/app/check-runs/${created.json.id}`, app, { conclusion: 'success' });
    expect(suite).toMatchObject({ status: 'completed', conclusion: 'success' });
    const classic = `token ${gh.registerPersonalToken({ login: 'acme', scopes: ['repo'] })}`;
    const fine = `token ${gh.registerPersonalToken({ login: 'acme', permissions: { checks: 'write', statuses: 'write' } })}`;
    for (const auth of [classic, fine]) {
      const refused = await call('POST', '/repos/acme/app/check-runs', auth, { name: 'x', head_sha: head });
      expect(refused.status).toBe(403);
      expect(refused.json.message).toBe('You must authenticate via a GitHub App.');
    }
    expect(
      (await call('POST', '/repos/acme/app/check-runs', app, { name: 'x', head_sha: 'f'.repeat(40) })).status,
    ).toBe(422);
  });

  it('combines commit statuses per context: pending, failure, success', async () => {
    const pat = `token ${gh.registerPersonalToken({ login: 'mia', scopes: ['repo'] })}`;
    const combined = async () =>
      (await call('GET', `/repos/acme/app/commits/${encodeURIComponent('devbot/x')}/status`, pat)).json;
    expect(await combined()).toMatchObject({ state: 'pending', total_count: 0, sha: head });
    const post = (body: Record<string, unknown>) =>
      call('POST', `/repos/acme/app/statuses/${head}`, pat, body);
    expect((await post({ state: 'pending', context: 'devbot', description: 'working' })).status).toBe(201);
    expect((await post({ state: 'success', context: 'lint' })).status).toBe(201);
    expect((await combined()).state).toBe('pending');
    await post({ state: 'failure', context: 'devbot', target_url: 'https://devbot.example/t/1' });
    expect(await combined()).toMatchObject({ state: 'failure', total_count: 2 });
    const created = await post({ state: 'success', context: 'devbot' });
    expect(created.json.creator.login).toBe('mia');
    expect(await combined()).toMatchObject({ state: 'success', total_count: 2 });
    const all = (await call('GET', `/repos/acme/app/commits/${head}/statuses`, pat)).json;
    expect(all.map((s: { context: string; state: string }) => `${s.context}:${s.state}`)).toEqual([
      'devbot:success',
      'devbot:failure',
      'lint:success',
      'devbot:pending',
    ]);
    expect((await post({ state: 'success', description: 'x'.repeat(141) })).status).toBe(422);
    expect((await call('POST', '/repos/acme/app/statuses/devbot/x', pat, { state: 'success' })).status).toBe(
      404,
    );
    const unknown = await call('POST', `/repos/acme/app/statuses/${'a'.repeat(40)}`, pat, {
      state: 'success',
    });
    expect(unknown).toMatchObject({
      status: 422,
      json: { message: `No commit found for SHA: ${'a'.repeat(40)}` },
    });
  });

  it('answers each kind of token as GitHub does', async () => {
    const statuses = (auth: string | null) =>
      call('POST', `/repos/acme/app/statuses/${head}`, auth, { state: 'success' });
    // Classic: scopes echoed on every answer; no fitting scope on a private repository: 404.
    const hookOnly = `token ${gh.registerPersonalToken({ login: 'acme', scopes: ['admin:repo_hook'] })}`;
    const hidden = await statuses(hookOnly);
    expect(hidden.status).toBe(404);
    expect(hidden.headers.get('x-oauth-scopes')).toBe('admin:repo_hook');
    expect(hidden.headers.get('x-accepted-oauth-scopes')).toBe('repo, repo:status');
    const statusOnly = `token ${gh.registerPersonalToken({ login: 'acme', scopes: ['repo:status'] })}`;
    expect((await statuses(statusOnly)).status).toBe(201);
    // The user's own role still counts: a reader may not set statuses.
    const reader = `token ${gh.registerPersonalToken({ login: 'rex', scopes: ['repo'] })}`;
    expect((await statuses(reader)).json.message).toBe('Must have push access to repository');
    // Fine-grained: per-repository permissions.
    const noStatuses = `token ${gh.registerPersonalToken({ login: 'mia', permissions: { contents: 'write' } })}`;
    const refused = await statuses(noStatuses);
    expect(refused).toMatchObject({
      status: 403,
      json: { message: 'Resource not accessible by personal access token' },
    });
    expect(refused.headers.get('x-accepted-github-permissions')).toBe('statuses=write');
    expect(refused.headers.get('x-oauth-scopes')).toBeNull();
    const otherRepo = `token ${gh.registerPersonalToken({ login: 'mia', permissions: { statuses: 'write' }, repositories: ['acme/other'] })}`;
    expect((await statuses(otherRepo)).status).toBe(404);
    const granted = `token ${gh.registerPersonalToken({ login: 'mia', permissions: { statuses: 'write' }, repositories: ['acme/app'] })}`;
    expect((await statuses(granted)).status).toBe(201);
    expect((await statuses('token ghp_unknown')).status).toBe(401);
    expect((await statuses(null)).status).toBe(404);
    // GET /user is for people: an installation token gets a 403.
    expect((await call('GET', '/user', granted)).json.login).toBe('mia');
    expect((await call('GET', '/user', app)).status).toBe(403);
  });

  it('refuses an installation what its App was not granted', async () => {
    const narrow = await startFakeGithub({
      appPermissions: { contents: 'read', metadata: 'read', pull_requests: 'write' },
    });
    try {
      await narrow.createRepo({ owner: 'acme', name: 'app' });
      const minted = await fetch(`${narrow.url}/app/installations/${narrow.installationId}/access_tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer e30.${Buffer.from('{"iss":12345}').toString('base64url')}.sig` },
      });
      const token = (await minted.json()) as { token: string; permissions: Record<string, string> };
      expect(token.permissions).toEqual({ contents: 'read', metadata: 'read', pull_requests: 'write' });
      const sha = (await narrow.gitLog('acme', 'app', 'main', '%H'))[0]!;
      const res = await fetch(`${narrow.url}/repos/acme/app/check-runs`, {
        method: 'POST',
        headers: { authorization: `token ${token.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x', head_sha: sha }),
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { message: string }).message).toBe(
        'Resource not accessible by integration',
      );
    } finally {
      await narrow.close();
    }
  });
});
