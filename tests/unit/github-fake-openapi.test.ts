/**
 * The fake GitHub must answer like GitHub: a client walks through every REST route the fake
 * serves, and every response it sent — successes, redirects, and the errors met on the way — is
 * checked against GitHub's OpenAPI description (@octokit/openapi).
 */
import { createSign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import {
  describeIssue,
  openApiSpec,
  responseProblems,
  schemaIssues,
} from '../fakes/github/openapi-schema.js';

let gh: FakeGithub;
const jwt = () => ['e30', Buffer.from(JSON.stringify({ iss: 12345 })).toString('base64url'), 'sig'].join('.');

async function call(method: string, path: string, auth: string | null, body?: unknown) {
  const res = await fetch(`${gh.url}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      ...(auth ? { authorization: auth } : {}),
      'content-type': 'application/json',
      accept: 'application/vnd.github+json',
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const json =
    text && res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : null;
  return { status: res.status, json, text, headers: res.headers };
}

/** An App JWT signed with a real key (for Apps made by the manifest flow). */
function signedJwt(iss: number | string, pem: string): string {
  const now = Math.floor(Date.now() / 1000);
  const head = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url');
  const claims = Buffer.from(JSON.stringify({ iat: now - 60, exp: now + 540, iss })).toString('base64url');
  const signature = createSign('RSA-SHA256').update(`${head}.${claims}`).sign(pem).toString('base64url');
  return `${head}.${claims}.${signature}`;
}

beforeAll(async () => {
  openApiSpec();
  gh = await startFakeGithub({ appId: 12345 });
  await gh.createRepo({
    owner: 'acme',
    name: 'app',
    files: { 'README.md': '# app\n', 'src/a.ts': 'one\ntwo\nthree\n' },
  });
  gh.setPermission('acme', 'app', 'mia', 'maintain');
});
afterAll(async () => {
  await gh?.close();
});

describe('fake GitHub vs the OpenAPI description', () => {
  it('every response of every REST route has the documented shape', async () => {
    const app = `Bearer ${jwt()}`;
    expect((await call('GET', '/app', app)).status).toBe(200);
    await call('GET', '/app/installations', app);
    const minted = await call('POST', `/app/installations/${gh.installationId}/access_tokens`, app);
    expect(minted.status).toBe(201);
    const token = `token ${minted.json.token}`;
    await call('GET', '/installation/repositories', token);
    await call('GET', '/repos/acme/app/installation', app);
    await call('GET', '/repos/acme/app', token);
    await call('GET', '/repos/acme/app/collaborators/mia/permission', token);
    await call('GET', '/repos/acme/app/collaborators/nobody/permission', token);

    // Issues, comments, reactions.
    const issue = await call('POST', '/repos/acme/app/issues', token, { title: 'T', body: 'B' });
    const n = issue.json.number;
    await call('GET', `/repos/acme/app/issues/${n}`, token);
    const comment = await call('POST', `/repos/acme/app/issues/${n}/comments`, token, { body: 'hi' });
    await call('GET', `/repos/acme/app/issues/${n}/comments`, token);
    await call('GET', `/repos/acme/app/issues/comments/${comment.json.id}`, token);
    await call('PATCH', `/repos/acme/app/issues/comments/${comment.json.id}`, token, { body: 'edited' });
    await call('POST', `/repos/acme/app/issues/${n}/reactions`, token, { content: 'eyes' });
    await call('POST', `/repos/acme/app/issues/${n}/reactions`, token, { content: 'eyes' });
    await call('POST', `/repos/acme/app/issues/comments/${comment.json.id}/reactions`, token, {
      content: 'eyes',
    });
    expect((await call('POST', '/repos/acme/app/issues', token, { body: 'no title' })).status).toBe(422);

    // Pull requests: one by the App, one by a person from a fork.
    const head = await gh.pushBranch('acme', 'app', {
      branch: 'feature',
      files: { 'src/a.ts': 'one\nTWO\nthree\n' },
    });
    const pr = await call('POST', '/repos/acme/app/pulls', token, {
      title: 'P',
      head: 'feature',
      base: 'main',
      body: 'b',
    });
    expect(pr.status).toBe(201);
    const p = pr.json.number;
    expect(
      (await call('POST', '/repos/acme/app/pulls', token, { title: 'P', head: 'feature', base: 'main' }))
        .status,
    ).toBe(422);
    await gh.forkRepo('acme', 'app', 'zoe');
    await gh.pushBranch('zoe', 'app', { branch: 'fix', files: { 'README.md': '# app!\n' } });
    const forkPr = await gh.openPullRequest('acme', 'app', { title: 'Fork', head: 'zoe:fix', user: 'zoe' });
    await call('GET', '/repos/acme/app/pulls?head=acme:feature&state=open', token);
    await call('GET', `/repos/acme/app/pulls/${p}`, token);
    await call('GET', `/repos/acme/app/pulls/${forkPr.number}`, token);

    // Reviews and review comments.
    const seeded = await gh.seedReview('acme', 'app', p, {
      user: 'mia',
      state: 'CHANGES_REQUESTED',
      body: 'Please fix',
      comments: [{ path: 'src/a.ts', line: 2, body: 'why upper case?' }],
    });
    const root = seeded.comments[0]!;
    await call('POST', `/repos/acme/app/pulls/${p}/comments/${root.id}/replies`, token, { body: 'ok' });
    const single = await call('POST', `/repos/acme/app/pulls/${p}/comments`, token, {
      body: 'note',
      commit_id: head,
      path: 'src/a.ts',
      line: 3,
      side: 'RIGHT',
    });
    expect(single.status).toBe(201);
    const reply = await call('POST', `/repos/acme/app/pulls/${p}/comments`, token, {
      body: 're',
      in_reply_to: root.id,
    });
    expect(reply.status).toBe(201);
    expect(
      (
        await call('POST', `/repos/acme/app/pulls/${p}/comments`, token, {
          body: 'x',
          commit_id: head,
          path: 'src/a.ts',
          line: 40,
        })
      ).status,
    ).toBe(422);
    await call('GET', `/repos/acme/app/pulls/${p}/comments`, token);
    await call('GET', `/repos/acme/app/pulls/${p}/files`, token);
    await call('GET', `/repos/acme/app/pulls/comments/${root.id}`, token);
    await call('POST', `/repos/acme/app/pulls/comments/${root.id}/reactions`, token, { content: 'eyes' });
    const review = await call('POST', `/repos/acme/app/pulls/${forkPr.number}/reviews`, token, {
      event: 'COMMENT',
      body: 'two notes',
      comments: [{ path: 'README.md', line: 1, side: 'RIGHT', body: 'exclaim?' }],
    });
    expect(review.status).toBe(200);
    expect(
      (
        await call('POST', `/repos/acme/app/pulls/${forkPr.number}/reviews`, token, {
          event: 'COMMENT',
          comments: [{ path: 'nope.ts', line: 1, body: 'x' }],
        })
      ).status,
    ).toBe(422);
    await call('GET', `/repos/acme/app/pulls/${p}/reviews`, token);
    await call('GET', `/repos/acme/app/pulls/${p}/reviews/${seeded.review.id}`, token);
    await call('GET', `/repos/acme/app/pulls/${p}/reviews/${seeded.review.id}/comments`, token);

    // Checks: the App's run, then CI's.
    const run = await call('POST', '/repos/acme/app/check-runs', token, {
      name: 'devbot',
      head_sha: head,
      status: 'in_progress',
      output: { title: 'working', summary: 's' },
    });
    await call('PATCH', `/repos/acme/app/check-runs/${run.json.id}`, token, {
      conclusion: 'failure',
      output: {
        title: 'done',
        summary: 'one problem',
        annotations: [
          { path: 'src/a.ts', start_line: 2, end_line: 2, annotation_level: 'warning', message: 'hm' },
        ],
      },
    });
    await call('GET', `/repos/acme/app/check-runs/${run.json.id}`, token);
    await call('GET', `/repos/acme/app/check-runs/${run.json.id}/annotations`, token);
    const ci = await gh.addWorkflowRun('acme', 'app', {
      headBranch: 'feature',
      jobs: [
        { name: 'lint', conclusion: 'success' },
        { name: 'test', conclusion: 'failure', steps: [{ name: 'npm test', output: 'FAIL src/a.test.ts' }] },
      ],
    });
    await call('GET', '/repos/acme/app/commits/feature/check-runs', token);
    await call('GET', `/repos/acme/app/commits/${head}/check-suites`, token);
    await call('GET', `/repos/acme/app/check-suites/${ci.checkSuiteId}`, token);
    await call('GET', `/repos/acme/app/check-suites/${ci.checkSuiteId}/check-runs`, token);
    await call('GET', '/repos/acme/app/actions/runs?branch=feature', token);
    await call('GET', `/repos/acme/app/actions/runs/${ci.id}`, token);
    await call('GET', `/repos/acme/app/actions/runs/${ci.id}/jobs`, token);
    await call('GET', `/repos/acme/app/actions/jobs/${ci.jobs[1]!.id}`, token);
    const logs = await call('GET', `/repos/acme/app/actions/jobs/${ci.jobs[1]!.id}/logs`, token);
    expect(logs.status).toBe(302);

    // Commit statuses, as a personal token (which the Checks API refuses).
    const pat = `token ${gh.registerPersonalToken({ login: 'acme', scopes: ['repo', 'admin:repo_hook'] })}`;
    await call('GET', '/user', pat);
    expect(
      (await call('POST', '/repos/acme/app/check-runs', pat, { name: 'x', head_sha: head })).status,
    ).toBe(403);
    await call('POST', `/repos/acme/app/statuses/${head}`, pat, { state: 'pending', context: 'devbot' });
    await call('POST', `/repos/acme/app/statuses/${head}`, pat, { state: 'success', context: 'devbot' });
    expect((await call('POST', `/repos/acme/app/statuses/${head}`, pat, { state: 'bogus' })).status).toBe(
      422,
    );
    await call('GET', '/repos/acme/app/commits/feature/status', pat);
    await call('GET', `/repos/acme/app/commits/${head}/statuses`, pat);

    // Repository webhooks (the fake pings them; nothing listens on this URL).
    const hook = await call('POST', '/repos/acme/app/hooks', pat, {
      config: { url: 'http://127.0.0.1:9/hook', content_type: 'json', secret: 's3cret' },
      events: ['issues', 'pull_request'],
    });
    expect(hook.status).toBe(201);
    await call('GET', '/repos/acme/app/hooks', pat);
    await call('GET', `/repos/acme/app/hooks/${hook.json.id}`, pat);
    await call('PATCH', `/repos/acme/app/hooks/${hook.json.id}`, pat, { add_events: ['check_suite'] });
    await call('POST', `/repos/acme/app/hooks/${hook.json.id}/pings`, pat);
    await call('DELETE', `/repos/acme/app/hooks/${hook.json.id}`, pat);
    await gh.settled();

    // An App made by the manifest flow, then authenticating with its new key.
    gh.registerManifestCode('code-1', {
      name: 'devbot-acme',
      url: 'https://devbot.example',
      hook_attributes: { url: 'https://devbot.example/hook' },
    });
    const made = await call('POST', '/app-manifests/code-1/conversions', null);
    expect(made.status).toBe(201);
    expect((await call('POST', '/app-manifests/code-1/conversions', null)).status).toBe(404);
    gh.installApp(made.json.id, 'acme');
    const madeJwt = `Bearer ${signedJwt(made.json.id, made.json.pem)}`;
    expect((await call('GET', '/repos/acme/app/installation', madeJwt)).status).toBe(200);

    const served = gh.routeList().filter((r) => !r.outsideRestApi);
    const covered = new Set(gh.responses.filter((r) => r.status < 400).map((r) => `${r.method} ${r.route}`));
    expect(served.map((r) => `${r.method} ${r.template}`).filter((r) => !covered.has(r))).toEqual([]);
    const problems = gh.responses.flatMap((r) => responseProblems(r));
    expect(problems).toEqual([]);
  }, 30_000);

  it('the checker itself catches a missing required property, a wrong type and a missing Location', () => {
    const spec = openApiSpec();
    const schema = spec.components['schemas']!['issue-comment']!;
    const errors = schemaIssues(schema, { id: 'x', node_id: 'n' }).map((i) => describeIssue(i, 'c'));
    expect(errors).toContain('c.user: required but missing');
    expect(errors).toContain('c.id: expected integer, got string');
    const redirect = {
      method: 'GET',
      route: '/repos/{owner}/{repo}/actions/jobs/{job_id}/logs',
      status: 302,
      body: '',
      headers: {},
      outsideRestApi: false,
    };
    expect(responseProblems(redirect)).toEqual([
      'GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs 302 lacks its Location header',
    ]);
    expect(responseProblems({ ...redirect, route: '/repos/{owner}/{repo}/nope' })).toHaveLength(1);
  });

  it('refuses calls without the right credentials', async () => {
    expect((await call('GET', '/repos/acme/app', 'token nope')).status).toBe(401);
    expect(
      (await call('POST', `/app/installations/${gh.installationId}/access_tokens`, 'token nope')).status,
    ).toBe(401);
    // A private repository does not exist for someone who is not signed in.
    expect((await call('GET', '/repos/acme/app', null)).status).toBe(404);
    expect((await call('POST', '/graphql', null, { query: '{ viewer { login } }' })).status).toBe(401);
  });
});
