/**
 * The fake GitHub's review context behaves like GitHub's: inline comments sit on lines of the
 * real PR diff with the hunk down to that line, replies thread on the first comment, a review and
 * its comments are made together or not at all, resolution is only in GraphQL, and PRs come from
 * the same repository or from forks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';

let gh: FakeGithub;
let app: string;
let pr: number;

const FILE = Array.from({ length: 12 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';

async function call(method: string, path: string, auth: string | null, body?: unknown) {
  const res = await fetch(`${gh.url}${path}`, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

interface Thread {
  id: string;
  isResolved: boolean;
  isOutdated: boolean;
  path: string;
  line: number | null;
  startLine: number | null;
  comments: { nodes: Array<{ databaseId: number; author: { login: string } }> };
}

// biome-ignore lint/suspicious/noExplicitAny: a GraphQL answer's shape follows its query
type Answer = any;

async function graphql(
  auth: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Answer> {
  return (await call('POST', '/graphql', auth, { query, variables })).json;
}

/** In an answer to THREADS: the thread whose first comment is `commentId`. */
function threadOf(answer: Answer, commentId: number): Thread {
  const nodes = answer.data.repository.pullRequest.reviewThreads.nodes as Thread[];
  const found = nodes.find((t) => t.comments.nodes[0]?.databaseId === commentId);
  if (!found) throw new Error(`no thread starting with ${commentId}`);
  return found;
}

const THREADS = `query Threads($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 50) {
        nodes {
          id isResolved isOutdated path line startLine
          comments(first: 50) { nodes { databaseId body author { login } path line diffHunk } }
        }
      }
    }
  }
}`;

beforeAll(async () => {
  gh = await startFakeGithub();
  await gh.createRepo({ owner: 'acme', name: 'app', files: { 'src/a.ts': FILE, 'README.md': '# app\n' } });
  gh.setPermission('acme', 'app', 'mia', 'write');
  gh.setPermission('acme', 'app', 'rex', 'read');
  const minted = await fetch(`${gh.url}/app/installations/${gh.installationId}/access_tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer e30.${Buffer.from('{"iss":12345}').toString('base64url')}.sig` },
  });
  app = `token ${((await minted.json()) as { token: string }).token}`;
  // devbot's PR: line 6 changed, a line added after line 10.
  const changed = FILE.replace('line 6\n', 'line six\n').replace('line 10\n', 'line 10\nline 10b\n');
  await gh.pushBranch('acme', 'app', { branch: 'devbot/fix', files: { 'src/a.ts': changed } });
  const created = await call('POST', '/repos/acme/app/pulls', app, {
    title: 'Fix',
    head: 'devbot/fix',
    base: 'main',
  });
  pr = created.json.number;
});
afterAll(async () => {
  await gh?.close();
});

describe('fake GitHub reviews', () => {
  it('seeds a review whose inline comments carry the real hunk down to their line', async () => {
    const seeded = await gh.seedReview('acme', 'app', pr, {
      user: 'mia',
      state: 'CHANGES_REQUESTED',
      body: 'Two things',
      comments: [
        { path: 'src/a.ts', line: 6, body: 'spell it as a digit' },
        { path: 'src/a.ts', line: 11, body: 'why 10b?' },
      ],
    });
    const list = await call('GET', `/repos/acme/app/pulls/${pr}/comments`, app);
    expect(list.json).toHaveLength(2);
    const [first, second] = list.json as Array<Record<string, unknown>>;
    expect(first).toMatchObject({
      path: 'src/a.ts',
      line: 6,
      side: 'RIGHT',
      pull_request_review_id: seeded.review.id,
    });
    const hunk = String(first!['diff_hunk']).split('\n');
    expect(hunk[0]).toMatch(/^@@ -\d+,\d+ \+\d+,\d+ @@/);
    expect(hunk.at(-1)).toBe('+line six');
    expect(String(second!['diff_hunk']).split('\n').at(-1)).toBe('+line 10b');
    // REST says nothing about resolution.
    expect(Object.keys(first!).some((k) => k.includes('resolv'))).toBe(false);
    const reviews = await call('GET', `/repos/acme/app/pulls/${pr}/reviews`, app);
    expect(reviews.json).toEqual([
      expect.objectContaining({ id: seeded.review.id, state: 'CHANGES_REQUESTED' }),
    ]);
    const ofReview = await call(
      'GET',
      `/repos/acme/app/pulls/${pr}/reviews/${seeded.review.id}/comments`,
      app,
    );
    expect((ofReview.json as Array<{ id: number }>).map((c) => c.id)).toEqual(
      seeded.comments.map((c) => c.id),
    );
    await expect(
      gh.seedReview('acme', 'app', pr, {
        user: 'mia',
        comments: [{ path: 'src/a.ts', line: 1, body: 'not in diff' }],
      }),
    ).rejects.toThrow(/not in the diff/);
  });

  it('threads replies on the first comment and refuses replies to replies', async () => {
    const { comments } = await gh.seedReview('acme', 'app', pr, {
      user: 'mia',
      comments: [{ path: 'src/a.ts', line: 7, body: 'context line comment' }],
    });
    const root = comments[0]!;
    const viaReplies = await call('POST', `/repos/acme/app/pulls/${pr}/comments/${root.id}/replies`, app, {
      body: 'fixed',
    });
    const viaComments = await call('POST', `/repos/acme/app/pulls/${pr}/comments`, app, {
      body: 'also',
      in_reply_to: root.id,
    });
    expect(viaReplies.status).toBe(201);
    expect(viaReplies.json).toMatchObject({
      in_reply_to_id: root.id,
      line: 7,
      path: 'src/a.ts',
      diff_hunk: root.diffHunk,
    });
    expect(viaComments.json.in_reply_to_id).toBe(root.id);
    expect(viaReplies.json.user.login).toBe('devbot[bot]');
    // Each reply outside a review is a COMMENTED review of its own.
    expect(viaReplies.json.pull_request_review_id).not.toBe(root.reviewId);
    const again = await call(
      'POST',
      `/repos/acme/app/pulls/${pr}/comments/${viaReplies.json.id}/replies`,
      app,
      {
        body: 'nested',
      },
    );
    expect(again.status).toBe(422);
    expect(
      (await call('POST', `/repos/acme/app/pulls/${pr}/comments/999999/replies`, app, { body: 'x' })).status,
    ).toBe(404);
  });

  it('creates one review with its inline comments, or nothing when a line is off the diff', async () => {
    const mia = `token ${gh.registerPersonalToken({ login: 'mia', scopes: ['repo'] })}`;
    const before = gh.repo('acme', 'app').reviews.length;
    const bad = await call('POST', `/repos/acme/app/pulls/${pr}/reviews`, mia, {
      event: 'REQUEST_CHANGES',
      body: 'b',
      comments: [
        { path: 'src/a.ts', line: 6, body: 'fine' },
        { path: 'src/a.ts', line: 1, body: 'line 1 is not in the diff' },
      ],
    });
    expect(bad.status).toBe(422);
    expect(bad.json).toMatchObject({
      message: 'Unprocessable Entity',
      errors: ['Line could not be resolved'],
    });
    expect(gh.repo('acme', 'app').reviews).toHaveLength(before);
    const good = await call('POST', `/repos/acme/app/pulls/${pr}/reviews`, mia, {
      event: 'REQUEST_CHANGES',
      body: 'please',
      comments: [
        { path: 'src/a.ts', line: 6, side: 'RIGHT', body: 'digit' },
        { path: 'src/a.ts', line: 6, side: 'LEFT', body: 'the old line' },
      ],
    });
    expect(good.status).toBe(200);
    expect(good.json).toMatchObject({
      state: 'CHANGES_REQUESTED',
      user: { login: 'mia' },
      submitted_at: expect.any(String),
    });
    const made = gh.repo('acme', 'app').reviewComments.filter((c) => c.reviewId === good.json.id);
    expect(made.map((c) => [c.side, c.line, c.diffHunk.split('\n').at(-1)])).toEqual([
      ['RIGHT', 6, '+line six'],
      ['LEFT', 6, '-line 6'],
    ]);
    // devbot cannot request changes on its own PR; a read-only user may still comment.
    const own = await call('POST', `/repos/acme/app/pulls/${pr}/reviews`, app, {
      event: 'REQUEST_CHANGES',
      body: 'x',
    });
    expect(own.status).toBe(422);
    const rex = `token ${gh.registerPersonalToken({ login: 'rex', scopes: ['repo'] })}`;
    expect(
      (await call('POST', `/repos/acme/app/pulls/${pr}/reviews`, rex, { event: 'COMMENT', body: 'hi' }))
        .status,
    ).toBe(200);
  });

  it('keeps a pending review to its author', async () => {
    const mia = `token ${gh.registerPersonalToken({ login: 'mia', scopes: ['repo'] })}`;
    const pending = await call('POST', `/repos/acme/app/pulls/${pr}/reviews`, mia, {
      comments: [{ path: 'src/a.ts', line: 11, body: 'draft thought' }],
    });
    expect(pending.json.state).toBe('PENDING');
    expect(pending.json.submitted_at).toBeUndefined();
    const seenBy = async (auth: string) =>
      (
        (await call('GET', `/repos/acme/app/pulls/${pr}/comments`, auth)).json as Array<{ body: string }>
      ).some((c) => c.body === 'draft thought');
    expect(await seenBy(mia)).toBe(true);
    expect(await seenBy(app)).toBe(false);
    const second = await call('POST', `/repos/acme/app/pulls/${pr}/reviews`, mia, { body: 'another draft' });
    expect(second.status).toBe(422);
  });
});

describe('fake GitHub GraphQL review threads', () => {
  it('answers the reviewThreads query with exactly the fields asked, resolution included', async () => {
    const { comments, replies } = await gh.seedReview('acme', 'app', pr, {
      user: 'mia',
      comments: [
        { path: 'src/a.ts', line: 5, body: 'resolved one' },
        { path: 'src/a.ts', line: 8, body: 'open one' },
      ],
      replies: [{ to: 1, user: 'devbot[bot]', body: 'on it' }],
      resolved: [0],
    });
    gh.user('devbot[bot]', 'Bot');
    const answer = await graphql(app, THREADS, { owner: 'acme', name: 'app', number: pr });
    expect(answer.errors).toBeUndefined();
    const resolved = threadOf(answer, comments[0]!.id);
    const open = threadOf(answer, comments[1]!.id);
    expect(resolved).toMatchObject({
      isResolved: true,
      isOutdated: false,
      path: 'src/a.ts',
      line: 5,
      startLine: null,
    });
    expect(Object.keys(resolved).sort()).toEqual([
      'comments',
      'id',
      'isOutdated',
      'isResolved',
      'line',
      'path',
      'startLine',
    ]);
    expect(open.isResolved).toBe(false);
    expect(open.comments.nodes).toEqual([
      {
        databaseId: comments[1]!.id,
        body: 'open one',
        author: { login: 'mia' },
        path: 'src/a.ts',
        line: 8,
        diffHunk: comments[1]!.diffHunk,
      },
      // GraphQL names a bot without REST's [bot] suffix.
      expect.objectContaining({ databaseId: replies[0]!.id, author: { login: 'devbot' } }),
    ]);
    gh.resolveThread('acme', 'app', replies[0]!.id, 'mia');
    const again = await graphql(app, THREADS, { owner: 'acme', name: 'app', number: pr });
    const reopened = threadOf(again, comments[1]!.id);
    expect(reopened.isResolved).toBe(true);
  });

  it('marks a thread outdated once the head changes its file, and drops its line', async () => {
    const { comments } = await gh.seedReview('acme', 'app', pr, {
      user: 'mia',
      comments: [{ path: 'src/a.ts', line: 9, body: 'will be outdated' }],
    });
    const before = await graphql(app, THREADS, { owner: 'acme', name: 'app', number: pr });
    const find = (a: Answer) => threadOf(a, comments[0]!.id);
    expect(find(before)).toMatchObject({ isOutdated: false, line: 9 });
    const next = FILE.replace('line 6\n', 'line 6!\n').replace('line 10\n', 'line 10\nline 10b\n');
    await gh.pushBranch('acme', 'app', { branch: 'devbot/fix', files: { 'src/a.ts': next } });
    const after = await graphql(app, THREADS, { owner: 'acme', name: 'app', number: pr });
    expect(find(after)).toMatchObject({ isOutdated: true, line: null });
    expect(await gh.isThreadOutdated('acme', 'app', comments[0]!.id)).toBe(true);
    const rest = await call('GET', `/repos/acme/app/pulls/comments/${comments[0]!.id}`, app);
    expect(rest.json.line).toBeUndefined();
    expect(rest.json.original_line).toBe(9);
  });

  it('pages threads with first/after and refuses a connection without first or last', async () => {
    const page = `query($n: Int!, $after: String) { repository(owner: "acme", name: "app") { pullRequest(number: $n) {
      reviewThreads(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } } } }`;
    const one = (await graphql(app, page, { n: pr })).data.repository.pullRequest.reviewThreads;
    expect(one.nodes).toHaveLength(2);
    expect(one.pageInfo.hasNextPage).toBe(true);
    const two = (await graphql(app, page, { n: pr, after: one.pageInfo.endCursor })).data.repository
      .pullRequest.reviewThreads;
    expect(two.nodes[0].id).not.toBe(one.nodes[1].id);
    const unbounded = await graphql(
      app,
      `{ repository(owner: "acme", name: "app") { pullRequest(number: ${pr}) { reviewThreads { nodes { id } } } } }`,
    );
    expect(unbounded.data.repository.pullRequest.reviewThreads).toBeNull();
    expect(unbounded.errors[0]).toMatchObject({
      type: 'MISSING_PAGINATION_BOUNDARIES',
      path: ['repository', 'pullRequest', 'reviewThreads'],
    });
  });

  it('answers {errors} for what it does not know, and NOT_FOUND with data for what is missing', async () => {
    const unknown = await graphql(
      app,
      '{ repository(owner: "acme", name: "app") { pullRequest(number: 1) { mergeQueueEntry { id } } } }',
    );
    expect(unknown.data).toBeUndefined();
    expect(unknown.errors[0]).toMatchObject({
      message: "Field 'mergeQueueEntry' doesn't exist on type 'PullRequest'",
      extensions: { code: 'undefinedField', typeName: 'PullRequest', fieldName: 'mergeQueueEntry' },
    });
    const syntax = await graphql(app, '{ repository(owner: "acme" { id } }');
    expect(syntax.errors[0].message).toMatch(/Parse error/);
    const missing = await graphql(
      app,
      '{ repository(owner: "acme", name: "app") { pullRequest(number: 999) { id } } }',
    );
    expect(missing).toEqual({
      data: { repository: { pullRequest: null } },
      errors: [expect.objectContaining({ type: 'NOT_FOUND', path: ['repository', 'pullRequest'] })],
    });
    const noRepo = await graphql(app, '{ repository(owner: "acme", name: "nope") { id } }');
    expect(noRepo.data.repository).toBeNull();
    expect(noRepo.errors[0].message).toBe("Could not resolve to a Repository with the name 'acme/nope'.");
  });

  it('resolves a thread by mutation for a writer, not for a reader', async () => {
    const { comments } = await gh.seedReview('acme', 'app', pr, {
      user: 'mia',
      comments: [{ path: 'src/a.ts', line: 12, body: 'resolve me' }],
    });
    const answer = await graphql(app, THREADS, { owner: 'acme', name: 'app', number: pr });
    const threadId = threadOf(answer, comments[0]!.id).id;
    const mutation =
      'mutation($id: ID!) { resolveReviewThread(input: {threadId: $id}) { thread { isResolved } } }';
    const rex = `token ${gh.registerPersonalToken({ login: 'rex', scopes: ['repo'] })}`;
    const refused = await graphql(rex, mutation, { id: threadId });
    expect(refused.errors[0].type).toBe('FORBIDDEN');
    expect(gh.repo('acme', 'app').resolvedThreads.has(comments[0]!.id)).toBe(false);
    const done = await graphql(app, mutation, { id: threadId });
    expect(done.data.resolveReviewThread.thread.isResolved).toBe(true);
    expect(gh.repo('acme', 'app').resolvedThreads.get(comments[0]!.id)?.login).toBe('devbot[bot]');
  });
});

describe('fake GitHub pull requests from people', () => {
  it('opens a PR from a same-repo branch and one from a fork, with refs/pull/N/head', async () => {
    await gh.pushBranch('acme', 'app', {
      branch: 'mia/docs',
      files: { 'README.md': '# app\ndocs\n' },
      author: 'mia',
    });
    const same = await gh.openPullRequest('acme', 'app', { title: 'Docs', head: 'mia/docs', user: 'mia' });
    await gh.forkRepo('acme', 'app', 'zoe');
    const forkSha = await gh.pushBranch('zoe', 'app', {
      branch: 'typo',
      files: { 'README.md': '# App\n' },
      author: 'zoe',
    });
    const fork = await gh.openPullRequest('acme', 'app', { title: 'Typo', head: 'zoe:typo', user: 'zoe' });
    const sameJson = (await call('GET', `/repos/acme/app/pulls/${same.number}`, app)).json;
    const forkJson = (await call('GET', `/repos/acme/app/pulls/${fork.number}`, app)).json;
    expect(sameJson.head).toMatchObject({ ref: 'mia/docs', repo: { full_name: 'acme/app', fork: false } });
    expect(sameJson.user.login).toBe('mia');
    expect(sameJson.author_association).toBe('COLLABORATOR');
    expect(forkJson.head).toMatchObject({
      label: 'zoe:typo',
      ref: 'typo',
      sha: forkSha,
      repo: { full_name: 'zoe/app', fork: true },
    });
    expect(forkJson.base.repo.full_name).toBe('acme/app');
    expect(forkJson.author_association).toBe('NONE');
    expect((await gh.gitLog('acme', 'app', `refs/pull/${fork.number}/head`, '%H'))[0]).toBe(forkSha);
    const listed = await call('GET', '/repos/acme/app/pulls?head=zoe:typo', app);
    expect((listed.json as Array<{ number: number }>).map((p) => p.number)).toEqual([fork.number]);
    // A new push to the fork moves the PR's head and its ref in the base repository.
    const newer = await gh.pushBranch('zoe', 'app', { branch: 'typo', files: { 'NOTES.md': 'n\n' } });
    expect((await call('GET', `/repos/acme/app/pulls/${fork.number}`, app)).json.head.sha).toBe(newer);
    expect((await gh.gitLog('acme', 'app', `refs/pull/${fork.number}/head`, '%H'))[0]).toBe(newer);
    const forkRepo = (
      await call(
        'GET',
        '/repos/zoe/app',
        `token ${gh.registerPersonalToken({ login: 'zoe', scopes: ['repo'] })}`,
      )
    ).json;
    expect(forkRepo).toMatchObject({
      fork: true,
      parent: { full_name: 'acme/app' },
      source: { full_name: 'acme/app' },
    });
  });

  it('answers permission levels admin/write/read/none', async () => {
    gh.setPermission('acme', 'app', 'ada', 'admin');
    const levels: Record<string, string> = {};
    for (const login of ['ada', 'mia', 'rex', 'zoe']) {
      const res = await call('GET', `/repos/acme/app/collaborators/${login}/permission`, app);
      levels[login] = res.json.permission;
    }
    expect(levels).toEqual({ ada: 'admin', mia: 'write', rex: 'read', zoe: 'none' });
  });
});
