/**
 * The fake GitHub's webhook deliveries carry what GitHub's would: every payload builder's output
 * is checked against the event's schema in GitHub's OpenAPI description (`x-webhooks`), and the
 * facts a PR loop acts on (merged or not, head sha and branch, the PRs of a CI run) come from the
 * fake's state.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import { describeIssue, schemaIssues, webhookSchema } from '../fakes/github/openapi-schema.js';
import {
  checkSuiteCompleted,
  type Delivery,
  deliver,
  issueCommentCreated,
  issueLabeled,
  issueOpened,
  pullRequestClosed,
  pullRequestOpened,
  reviewCommentCreated,
  reviewSubmitted,
  workflowRunCompleted,
} from '../fakes/github/webhook-payloads.js';

let gh: FakeGithub;

function problems(d: Delivery): string[] {
  const action = d.payload['action'] as string | undefined;
  const schema = webhookSchema(d.name, action);
  if (!schema) return [`no schema for ${d.name}.${action}`];
  return schemaIssues(schema, d.payload).map((i) => describeIssue(i, `${d.name}.${action}`));
}

beforeAll(async () => {
  gh = await startFakeGithub();
  await gh.createRepo({ owner: 'acme', name: 'app', files: { 'a.txt': 'one\ntwo\n' } });
  gh.setPermission('acme', 'app', 'mia', 'write');
  await gh.pushBranch('acme', 'app', { branch: 'feature', files: { 'a.txt': 'one\nTWO\n' }, author: 'mia' });
  await gh.openPullRequest('acme', 'app', { title: 'Feature', head: 'feature', user: 'mia' });
  await gh.pushBranch('acme', 'app', { branch: 'other', files: { 'b.txt': 'b\n' } });
  await gh.openPullRequest('acme', 'app', { title: 'Other', head: 'other', user: 'mia' });
});
afterAll(async () => {
  await gh?.close();
});

describe('fake GitHub webhook payloads', () => {
  it('issues, comments and reviews match their schemas', async () => {
    const issue = gh.createIssue('acme', 'app', { title: 'Bug', user: 'mia', labels: ['devbot'] });
    const comment = gh.addComment('acme', 'app', issue.number, '/devbot fix it', 'mia');
    const seeded = await gh.seedReview('acme', 'app', 1, {
      user: 'mia',
      state: 'CHANGES_REQUESTED',
      body: 'see inline',
      comments: [{ path: 'a.txt', line: 2, body: 'lower case please' }],
    });
    const deliveries = [
      issueLabeled(gh, 'acme', 'app', issue.number, 'devbot', 'mia'),
      issueOpened(gh, 'acme', 'app', issue.number, 'mia'),
      issueCommentCreated(gh, 'acme', 'app', comment),
      await reviewSubmitted(gh, 'acme', 'app', 1, { review: seeded.review }),
      await reviewSubmitted(gh, 'acme', 'app', 1, { state: 'commented', body: 'looks fine', user: 'mia' }),
      await reviewCommentCreated(gh, 'acme', 'app', seeded.comments[0]!),
    ];
    expect(deliveries.flatMap(problems)).toEqual([]);
    const review = deliveries[3]!.payload['review'] as Record<string, unknown>;
    expect(review['state']).toBe('changes_requested');
    expect(review['id']).toBe(seeded.review.id);
    // A review delivered without a seeded one is recorded, so the API knows it too.
    const recorded = (deliveries[4]!.payload['review'] as { id: number }).id;
    expect(gh.repo('acme', 'app').reviews.some((r) => r.id === recorded && r.state === 'COMMENTED')).toBe(
      true,
    );
  });

  it('pull_request opened and closed (merged or not) match their schemas and the state', async () => {
    const opened = await pullRequestOpened(gh, 'acme', 'app', 2);
    await gh.closePull('acme', 'app', 2, { merged: false, by: 'mia' });
    const closed = await pullRequestClosed(gh, 'acme', 'app', 2, 'mia');
    await gh.closePull('acme', 'app', 1, { merged: true, by: 'acme' });
    const merged = await pullRequestClosed(gh, 'acme', 'app', 1, 'acme');
    expect([opened, closed, merged].flatMap(problems)).toEqual([]);
    const pr = (d: Delivery) => d.payload['pull_request'] as Record<string, unknown>;
    expect(pr(closed)['merged']).toBe(false);
    expect(pr(closed)['merged_at']).toBeNull();
    expect(pr(merged)['merged']).toBe(true);
    expect((pr(merged)['merged_by'] as { login: string }).login).toBe('acme');
    const mergeSha = pr(merged)['merge_commit_sha'] as string;
    // The merge is a real two-parent commit on the base branch.
    expect(await gh.gitLog('acme', 'app', 'main', '%H %P')).toContainEqual(
      expect.stringMatching(new RegExp(`^${mergeSha} \\w+ \\w+$`)),
    );
    await expect(pullRequestClosed(gh, 'acme', 'app', 99, 'mia')).rejects.toThrow();
  });

  it('check_suite and workflow_run completed match their schemas and carry the run', async () => {
    const sha = await gh.pushBranch('acme', 'app', { branch: 'ci', files: { 'c.txt': 'c\n' } });
    const pr = await gh.openPullRequest('acme', 'app', { title: 'CI', head: 'ci', user: 'mia' });
    const run = await gh.addWorkflowRun('acme', 'app', {
      headBranch: 'ci',
      jobs: [{ name: 'test', conclusion: 'failure' }],
    });
    const suite = checkSuiteCompleted(gh, 'acme', 'app', run.checkSuiteId);
    const completed = workflowRunCompleted(gh, 'acme', 'app', run);
    expect([suite, completed].flatMap(problems)).toEqual([]);
    const wr = completed.payload['workflow_run'] as Record<string, unknown>;
    expect(wr).toMatchObject({
      head_sha: sha,
      head_branch: 'ci',
      conclusion: 'failure',
      status: 'completed',
    });
    expect(wr['pull_requests']).toEqual([expect.objectContaining({ number: pr.number })]);
    const cs = suite.payload['check_suite'] as Record<string, unknown>;
    expect(cs).toMatchObject({ head_sha: sha, head_branch: 'ci', conclusion: 'failure' });
    expect((cs['app'] as { slug: string }).slug).toBe('github-actions');
    expect(cs['pull_requests']).toEqual([expect.objectContaining({ number: pr.number })]);
  });

  it('deliver() signs like GitHub: the receiver verifies X-Hub-Signature-256', async () => {
    const seen: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const issue = gh.createIssue('acme', 'app', { title: 'Signed', user: 'mia' });
      await deliver(url, 'shh', issueOpened(gh, 'acme', 'app', issue.number, 'mia'));
      const got = seen[0]!;
      expect(got.headers['x-github-event']).toBe('issues');
      // GitHub's documented scheme: sha256= and the hex HMAC-SHA256 of the exact body.
      const expected = `sha256=${createHmac('sha256', 'shh').update(got.body).digest('hex')}`;
      expect(got.headers['x-hub-signature-256']).toBe(expected);
      expect(JSON.parse(got.body)).toMatchObject({ action: 'opened', issue: { number: issue.number } });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
