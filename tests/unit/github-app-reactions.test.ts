/**
 * The 👀 reaction is cosmetic and shares the installation's write throttle (one write a second)
 * with progress comments and check runs: in a burst of deliveries every task is still created,
 * but only a bounded number of reactions wait, so they never queue minutes ahead of the reports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewTask, Task, TaskIngress } from '../../src/core/index.js';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import { issueCommentCreated } from '../fakes/github/webhook-payloads.js';
import { makeTask } from '../fakes/llm/recording-context.js';
import { testGithubApp } from '../helpers/github-fixtures.js';
import { captureLogger } from '../helpers/test-env.js';

let gh: FakeGithub;
beforeAll(async () => {
  gh = await startFakeGithub({ appId: 777 });
  await gh.createRepo({ owner: 'acme', name: 'app' });
  gh.setPermission('acme', 'app', 'alice', 'write');
});
afterAll(async () => {
  await gh?.close();
});

describe('GithubApp reactions', () => {
  it('creates every task of a burst but lets only the backlog of reactions wait', async () => {
    const submitted: NewTask[] = [];
    const ingress: TaskIngress = {
      submit: async (input) => {
        submitted.push(input);
        return { task: makeTask({ prompt: input.prompt, source: 'github' }) as Task, created: true };
      },
      cancel: async () => null,
    };
    const { logger, lines } = captureLogger();
    const app = testGithubApp(gh, { ingress, logger, throttle: true, reactionBacklog: 2 });
    const issue = gh.createIssue('acme', 'app', { title: 'Burst', body: 'b', user: 'alice' });
    const comments = Array.from({ length: 5 }, (_, i) =>
      gh.addComment('acme', 'app', issue.number, `/devbot step ${i}`, 'alice'),
    );
    const results = await Promise.all(
      comments.map((c) => app.handleGithubEvent(issueCommentCreated(gh, 'acme', 'app', c))),
    );
    expect(results.every((r) => r.created)).toBe(true);
    expect(submitted).toHaveLength(5);
    await app.settled();
    // Two wait at most at any moment; one may finish while the burst is still arriving.
    const reacted = gh.repo('acme', 'app').reactions.filter((r) => r.content === 'eyes').length;
    expect(reacted).toBeGreaterThanOrEqual(2);
    expect(reacted).toBeLessThan(5);
    expect(lines.some((l) => l.includes('too many reactions are already waiting'))).toBe(true);

    // Once the backlog has drained, the next delivery gets its reaction again.
    const later = gh.addComment('acme', 'app', issue.number, '/devbot one more', 'alice');
    await app.handleGithubEvent(issueCommentCreated(gh, 'acme', 'app', later));
    await app.settled();
    expect(gh.repo('acme', 'app').reactions.filter((r) => r.content === 'eyes')).toHaveLength(reacted + 1);
  }, 20_000);
});
