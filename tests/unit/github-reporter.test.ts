/**
 * The GitHub reporter against the fake GitHub, event by event: one sticky comment edited in place
 * and a `devbot` check run created `in_progress` on the pushed head, then completed with the
 * result. When the end arrives before the throttled write for the push (a fast task), the check
 * run is created already completed: one write instead of two, and never left in progress.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task, TaskEvent, TaskIngress } from '../../src/core/index.js';
import type { GithubApp } from '../../src/github/github-app.js';
import { GithubReporter } from '../../src/github/github-reporter.js';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import { makeTask } from '../fakes/llm/recording-context.js';
import { testGithubApp } from '../helpers/github-fixtures.js';
import { captureLogger } from '../helpers/test-env.js';

let gh: FakeGithub;
let app: GithubApp;
let headSha: string;

beforeAll(async () => {
  gh = await startFakeGithub({ appId: 778 });
  await gh.createRepo({ owner: 'acme', name: 'web', files: { 'a.txt': 'a\n' } });
  headSha = (await gh.gitLog('acme', 'web', 'main', '%H'))[0]!;
  const ingress: TaskIngress = {
    submit: () => Promise.reject(new Error('not used')),
    cancel: async () => null,
  };
  app = testGithubApp(gh, { ingress });
});
afterAll(async () => {
  await gh?.close();
});

function setup(minEditIntervalMs: number) {
  const issue = gh.createIssue('acme', 'web', { title: 'Work', body: 'b', user: 'alice' });
  let task = makeTask({ source: 'github' }) as Task;
  task = {
    ...task,
    origin: { owner: 'acme', repo: 'web', installationId: gh.installationId, issueNumber: issue.number },
  };
  const store = {
    getTask: async () => task,
    patchTask: async (_id: string, patch: Partial<Task>) => {
      task = { ...task, ...patch } as Task;
      return task;
    },
  };
  const reporter = new GithubReporter({
    octokit: (id) => app.installationOctokit(id),
    store,
    logger: captureLogger().logger,
    minEditIntervalMs,
  });
  let seq = 0;
  const event = (type: TaskEvent['type'], data: Record<string, unknown> = {}): TaskEvent =>
    ({
      taskId: task.id,
      seq: ++seq,
      type,
      data,
      at: new Date(),
    }) as TaskEvent;
  const send = (type: TaskEvent['type'], data?: Record<string, unknown>) =>
    reporter.onEvent(task, event(type, data));
  return {
    issue,
    reporter,
    send,
    taskId: () => task.id,
    setStatus: (s: Task['status']) => (task = { ...task, status: s }),
  };
}

describe('GithubReporter', () => {
  it('creates the check run in_progress on the pushed head, then completes it', async () => {
    const { issue, reporter, send, taskId, setStatus } = setup(0);
    await send('task.started');
    await send('git', { action: 'pushed', sha: headSha, branch: 'devbot/1-work' });
    await new Promise((r) => setTimeout(r, 20));
    await reporter.idle(taskId());
    const runs = () => gh.repo('acme', 'web').checkRuns.filter((r) => r.externalId === taskId());
    expect(runs()).toHaveLength(1);
    expect(runs()[0]).toMatchObject({ name: 'devbot', headSha, status: 'in_progress' });

    setStatus('succeeded');
    await send('task.succeeded', { summary: 'done' });
    expect(runs()).toHaveLength(1);
    expect(runs()[0]).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(runs()[0]!.history.map((h) => h.status)).toEqual(['in_progress', 'completed']);
    // One sticky comment, edited in place, ending with the result.
    const comments = gh.comments('acme', 'web', issue.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain('done');
  });

  it('creates the check run already completed when the task ends before the throttled write', async () => {
    const { reporter, send, taskId, setStatus } = setup(60_000);
    await send('task.started');
    await send('git', { action: 'pushed', sha: headSha, branch: 'devbot/2-work' });
    setStatus('succeeded');
    await send('task.succeeded', { summary: 'quick' });
    await reporter.idle(taskId());
    const runs = gh.repo('acme', 'web').checkRuns.filter((r) => r.externalId === taskId());
    expect(runs).toHaveLength(1);
    expect(runs[0]!.history.map((h) => h.status)).toEqual(['completed']);
    expect(runs[0]).toMatchObject({ status: 'completed', conclusion: 'success' });
  });
});
