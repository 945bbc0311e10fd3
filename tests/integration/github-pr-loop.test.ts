/**
 * The pull-request loop through the real pipeline (fake GitHub with real git, local sandboxes, a
 * scripted agent): review threads in the follow-up's prompt and answered after the push, `/devbot`
 * on pull requests people opened (same repository, fork, read-only requester).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GithubModule } from '../../src/app/modules/github-module.js';
import type { RunAgent } from '../../src/core/agent-runner.js';
import type { Task } from '../../src/core/index.js';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import { type Delivery, issueCommentCreated, reviewSubmitted } from '../fakes/github/webhook-payloads.js';
import { githubAppEnv } from '../helpers/github-fixtures.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { taskEnded } from '../helpers/test-env.js';

const OWNER = 'acme';
const REPO = 'shop';
const SECRET = `whsec-${randomBytes(12).toString('hex')}`;

let gh: FakeGithub;
let devbot: TestDevbot;
let mod: GithubModule;
/** The prompt each task's agent was given, by task id. */
const prompts = new Map<string, string>();
/** What the next agent run does, set by each test. */
let script: RunAgent = async () => ({ summary: 'nothing' });

const runAgent: RunAgent = async (ctx, sandbox, repo) => {
  prompts.set(ctx.task.id, ctx.task.prompt);
  return script(ctx, sandbox, repo);
};

async function run(delivery: Delivery): Promise<Task> {
  const res = await mod.app.handleGithubEvent(delivery);
  if (!res.task) throw new Error(`no task: ${res.reason}`);
  const done = await taskEnded(devbot.app.runtime.store, res.task.id, 30_000);
  await mod.reporter.idle(done.id);
  return done;
}

const byDevbot = (c: { user: { login: string } }) => c.user.login === 'devbot[bot]';

beforeAll(async () => {
  gh = await startFakeGithub({ appId: 12345, appSlug: 'devbot' });
  await gh.createRepo({
    owner: OWNER,
    name: REPO,
    files: { 'a.js': 'one\ntwo\nthree\n', 'b.js': 'uno\ndos\n' },
  });
  gh.setPermission(OWNER, REPO, 'alice', 'write');
  gh.setPermission(OWNER, REPO, 'rita', 'read');
  devbot = await startTestDevbot({
    env: githubAppEnv(gh, SECRET),
    github: { minEditIntervalMs: 20, throttle: false },
    agents: { runAgent: (ctx, sandbox, repo) => runAgent(ctx, sandbox, repo) },
  });
  if (!devbot.app.modules.github) throw new Error('github module not enabled');
  mod = devbot.app.modules.github;
}, 60_000);

afterAll(async () => {
  await devbot?.stop();
  await gh?.close();
});

describe('review context', () => {
  let pr = 0;
  let threads: number[] = [];

  it('a changes-requested review: the unresolved threads are in the prompt with path and line, each gets a reply after the push', async () => {
    await gh.pushBranch(OWNER, REPO, {
      branch: 'devbot/7-shop',
      files: { 'a.js': 'ONE\nTWO\nthree\n', 'b.js': 'UNO\ndos\n' },
      author: 'devbot[bot]',
    });
    pr = (
      await gh.openPullRequest(OWNER, REPO, { title: 'Shout', head: 'devbot/7-shop', user: 'devbot[bot]' })
    ).number;
    const seeded = await gh.seedReview(OWNER, REPO, pr, {
      user: 'alice',
      state: 'CHANGES_REQUESTED',
      body: 'A few things.',
      comments: [
        { path: 'a.js', line: 1, body: 'ONE should be One' },
        { path: 'b.js', line: 1, body: 'UNO should be Uno' },
        { path: 'a.js', line: 2, body: 'TWO is fine, resolved already' },
      ],
      resolved: [2],
    });
    threads = seeded.comments.map((c) => c.id);
    script = async (_ctx, sandbox) => {
      await sandbox.exec("sed -i 's/ONE/One/' a.js && sed -i 's/UNO/Uno/' b.js");
      return { summary: 'Capitalised as asked.', reply: 'Capitalised it.' };
    };
    const done = await run(await reviewSubmitted(gh, OWNER, REPO, pr, { review: seeded.review }));
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');

    const prompt = prompts.get(done.id)!;
    expect(prompt).toContain('a.js:1');
    expect(prompt).toContain('b.js:1');
    expect(prompt).toContain('ONE should be One');
    expect(prompt).toContain('UNO should be Uno');
    expect(prompt).not.toContain('resolved already');
    expect(prompt).toContain('1 resolved thread(s) left out');
    // Fenced with the prompt's one nonce.
    const nonces = new Set([...prompt.matchAll(/<untrusted-([0-9a-f]{8}) /g)].map((m) => m[1]));
    expect(nonces.size).toBe(1);
    expect(prompt).toMatch(/source="github-review-threads"/);

    const head = (await gh.gitLog(OWNER, REPO, 'devbot/7-shop'))[0]!.split(' ')[0]!;
    const replies = gh.repo(OWNER, REPO).reviewComments.filter((c) => c.inReplyTo !== null && byDevbot(c));
    expect(replies.map((c) => c.inReplyTo).sort()).toEqual([threads[0], threads[1]].sort());
    for (const r of replies) {
      expect(r.body).toContain('Capitalised it.');
      expect(r.body).toContain(`/commits/${head}`);
    }
    // Nothing was left, so no list of threads left.
    expect(gh.comments(OWNER, REPO, pr).filter((c) => c.body.includes('devbot:threads'))).toHaveLength(0);
  });

  it('a /devbot PR comment: threads the agent did not address are listed in one PR comment, with why', async () => {
    script = async (_ctx, sandbox) => {
      await sandbox.exec("sed -i 's/three/Three/' a.js");
      return {
        summary: 'Capitalised three.',
        threads: [
          { id: threads[0]!, addressed: true, note: 'Also capitalised three.' },
          { id: threads[1]!, addressed: false, note: 'Uno is a product name; left for the reviewer.' },
        ],
      };
    };
    const comment = gh.addComment(OWNER, REPO, pr, '/devbot also capitalise three', 'alice');
    const done = await run(issueCommentCreated(gh, OWNER, REPO, comment));
    expect(done.status).toBe('succeeded');
    expect(prompts.get(done.id)).toContain('also capitalise three');
    expect(prompts.get(done.id)).toContain('b.js:1');
    const left = gh.comments(OWNER, REPO, pr).filter((c) => c.body.includes('devbot:threads'));
    expect(left).toHaveLength(1);
    expect(left[0]!.body).toContain('b.js:1');
    expect(left[0]!.body).toContain('Uno is a product name');
    expect(left[0]!.body).not.toContain('a.js:1');
    const replies = gh
      .repo(OWNER, REPO)
      .reviewComments.filter((c) => c.inReplyTo === threads[0] && byDevbot(c));
    expect(replies.at(-1)!.body).toContain('Also capitalised three.');
    expect(await gh.gitShow(OWNER, REPO, 'devbot/7-shop:a.js')).toBe('One\nTWO\nThree\n');
  });
});
