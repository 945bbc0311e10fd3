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
import { LINK_NOTICES_PER_MINUTE } from '../../src/github/github-app.js';
import { SqlChatRepoLinks } from '../../src/store/sql-chat-repo-links.js';
import { SqlSubjectAccess } from '../../src/store/sql-subject-access.js';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import {
  type Delivery,
  issueCommentCreated,
  issueLabeled,
  pullRequestClosed,
  pullRequestOpened,
  reviewSubmitted,
  workflowRunCompleted,
} from '../fakes/github/webhook-payloads.js';
import { FakeTelegramServer, type StoredMessage } from '../fakes/telegram/index.js';
import { githubAppEnv } from '../helpers/github-fixtures.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { taskEnded, waitFor } from '../helpers/test-env.js';

const OWNER = 'acme';
const REPO = 'shop';
const SECRET = `whsec-${randomBytes(12).toString('hex')}`;

let gh: FakeGithub;
let tg: FakeTelegramServer;
const ALICE = 1001;
/** On the allowlist, but linked to no GitHub login and granted nothing (at first). */
const BOB = 1002;
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
  // The sticky comment's final edit follows the task's end.
  await waitFor(
    () =>
      gh
        .repo(OWNER, REPO)
        .comments.some(
          (c) => c.body.includes(`task=${done.id}`) && /^[✅❌🚫]/mu.test(c.body.split('\n')[1] ?? ''),
        ),
    'the final sticky comment',
  );
  return done;
}

const byDevbot = (c: { user: { login: string } }) => c.user.login === 'devbot[bot]';

beforeAll(async () => {
  [gh, tg] = await Promise.all([
    startFakeGithub({ appId: 12345, appSlug: 'devbot' }),
    new FakeTelegramServer().start(),
  ]);
  await gh.createRepo({
    owner: OWNER,
    name: REPO,
    files: { 'a.js': 'one\ntwo\nthree\n', 'b.js': 'uno\ndos\n' },
  });
  gh.setPermission(OWNER, REPO, 'alice', 'write');
  gh.setPermission(OWNER, REPO, 'rita', 'read');
  devbot = await startTestDevbot({
    env: {
      ...githubAppEnv(gh, SECRET),
      DEVBOT_PUBLIC_URL: 'http://devbot.test',
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_ALLOWED_USER_IDS: `${ALICE},${BOB}`,
    },
    github: { minEditIntervalMs: 20, throttle: false },
    telegram: {
      outbox: { intervalMs: () => 20, backoffMs: 20, maxRetryAfterMs: 2000 },
      pollingTimeoutSeconds: 1,
      retryDelayMs: { initial: 50, max: 500 },
      flushMs: 2000,
    },
    agents: { runAgent: (ctx, sandbox, repo) => runAgent(ctx, sandbox, repo) },
  });
  if (!devbot.app.modules.github) throw new Error('github module not enabled');
  mod = devbot.app.modules.github;
  await new SqlSubjectAccess(devbot.app.runtime.sql).link(`tg:${ALICE}`, 'alice');
  await devbot.app.modules.telegram?.bot.ready();
}, 60_000);

afterAll(async () => {
  await devbot?.stop();
  await Promise.all([gh?.close(), tg?.close()]);
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

describe('/devbot on any pull request', () => {
  it('on a PR a person opened from a same-repo branch: the commit lands on that branch, no new PR', async () => {
    await gh.pushBranch(OWNER, REPO, {
      branch: 'alice/tidy',
      files: { 'b.js': 'uno\ndos\ntres\n' },
      author: 'alice',
    });
    const pr = await gh.openPullRequest(OWNER, REPO, { title: 'Tidy', head: 'alice/tidy', user: 'alice' });
    const pulls = gh.repo(OWNER, REPO).pulls.length;
    script = async (_ctx, sandbox) => {
      await sandbox.exec('printf "cuatro\\n" >> b.js');
      return { summary: 'Added cuatro.' };
    };
    const comment = gh.addComment(OWNER, REPO, pr.number, '/devbot add cuatro', 'alice');
    const done = await run(issueCommentCreated(gh, OWNER, REPO, comment));
    expect(done.error).toBeNull();
    expect(done.branch).toBe('alice/tidy');
    expect(await gh.gitShow(OWNER, REPO, 'alice/tidy:b.js')).toBe('uno\ndos\ntres\ncuatro\n');
    expect(gh.repo(OWNER, REPO).pulls).toHaveLength(pulls);
  });

  it("on a fork's PR: an answer that says so, and no push anywhere", async () => {
    await gh.forkRepo(OWNER, REPO, 'zoe');
    const forkSha = await gh.pushBranch('zoe', REPO, {
      branch: 'typo',
      files: { 'a.js': 'one!\n' },
      author: 'zoe',
    });
    const pr = await gh.openPullRequest(OWNER, REPO, { title: 'Typo', head: 'zoe:typo', user: 'zoe' });
    const pulls = gh.repo(OWNER, REPO).pulls.length;
    const pushesBefore = gh.gitRequests.filter((r) => r.service === 'receive-pack').length;
    script = async (_ctx, sandbox) => {
      await sandbox.exec('printf "changed\\n" > a.js');
      return { summary: 'Rename it in a.js, line 1.' };
    };
    const comment = gh.addComment(OWNER, REPO, pr.number, '/devbot rename it', 'alice');
    const done = await run(issueCommentCreated(gh, OWNER, REPO, comment));
    expect(done.status).toBe('succeeded');
    expect(done.branch).toBeNull();
    expect(prompts.get(done.id)).toContain('comes from a fork');
    expect(gh.gitRequests.filter((r) => r.service === 'receive-pack')).toHaveLength(pushesBefore);
    expect((await gh.gitLog('zoe', REPO, 'typo'))[0]).toContain(forkSha);
    expect(gh.repo(OWNER, REPO).pulls).toHaveLength(pulls);
    const sticky = gh.comments(OWNER, REPO, pr.number).filter(byDevbot);
    expect(sticky).toHaveLength(1);
    expect(sticky[0]!.body).toContain('comes from a fork');
    expect(sticky[0]!.body).toContain('Rename it in a.js, line 1.');
  });

  it('by a read-only user: one polite refusal and nothing else', async () => {
    const pr = gh.repo(OWNER, REPO).pulls.find((p) => p.head === 'alice/tidy')!;
    const before = (await devbot.app.runtime.store.listTasks({ source: 'github' })).length;
    const comment = gh.addComment(OWNER, REPO, pr.number, '/devbot delete everything', 'rita');
    const before2 = gh.comments(OWNER, REPO, pr.number).filter(byDevbot).length;
    const res = await mod.app.handleGithubEvent(issueCommentCreated(gh, OWNER, REPO, comment));
    expect(res.task).toBeNull();
    expect((await devbot.app.runtime.store.listTasks({ source: 'github' })).length).toBe(before);
    const mine = gh.comments(OWNER, REPO, pr.number).filter(byDevbot);
    expect(mine).toHaveLength(before2 + 1);
    expect(mine.at(-1)!.body).toContain('@rita');
    expect(mine.at(-1)!.body).toContain('write access');
  });
});

describe('asking without changing code', () => {
  it('/devbot explain on an issue: one answer comment, no branch, no PR, nothing pushed', async () => {
    const issue = gh.createIssue(OWNER, REPO, { title: 'What is b.js?', user: 'alice' });
    const pulls = gh.repo(OWNER, REPO).pulls.length;
    const pushesBefore = gh.gitRequests.filter((r) => r.service === 'receive-pack').length;
    script = async (_ctx, sandbox, repo) => {
      expect(repo.mode).toBe('answer');
      await sandbox.exec('printf "oops\\n" > b.js');
      return { summary: 'b.js lists numbers in Spanish.' };
    };
    const comment = gh.addComment(OWNER, REPO, issue.number, '/devbot explain what b.js does', 'alice');
    const done = await run(issueCommentCreated(gh, OWNER, REPO, comment));
    expect(done.status).toBe('succeeded');
    expect(done.branch).toBeNull();
    expect(done.prUrl).toBeNull();
    expect(prompts.get(done.id)).toContain('Do not change files');
    expect(gh.repo(OWNER, REPO).pulls).toHaveLength(pulls);
    expect(gh.gitRequests.filter((r) => r.service === 'receive-pack')).toHaveLength(pushesBefore);
    const mine = gh.comments(OWNER, REPO, issue.number).filter(byDevbot);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.body).toContain('b.js lists numbers in Spanish.');
  });

  it('/devbot review on a PR: one review with inline comments', async () => {
    const pr = gh.repo(OWNER, REPO).pulls.find((p) => p.head === 'alice/tidy')!;
    const reviews = gh.repo(OWNER, REPO).reviews.length;
    script = async (_ctx, _sandbox, repo) => {
      expect(repo.mode).toBe('review');
      return {
        summary: 'Two findings.',
        review: {
          body: 'Two findings.',
          comments: [
            { path: 'b.js', line: 3, body: 'tres needs a test' },
            { path: 'b.js', line: 4, body: 'cuatro too' },
          ],
        },
      };
    };
    const comment = gh.addComment(OWNER, REPO, pr.number, '/devbot review', 'alice');
    const done = await run(issueCommentCreated(gh, OWNER, REPO, comment));
    expect(done.error).toBeNull();
    const added = gh.repo(OWNER, REPO).reviews.slice(reviews);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ state: 'COMMENTED', body: 'Two findings.' });
    expect(added[0]!.user.login).toBe('devbot[bot]');
    const inline = gh.repo(OWNER, REPO).reviewComments.filter((c) => c.reviewId === added[0]!.id);
    expect(inline.map((c) => [c.path, c.line, c.body])).toEqual([
      ['b.js', 3, 'tres needs a test'],
      ['b.js', 4, 'cuatro too'],
    ]);
  });

  it('/devbot stop cancels the running task on the issue', async () => {
    const issue = gh.createIssue(OWNER, REPO, { title: 'Long one', user: 'alice' });
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    script = (ctx) =>
      new Promise((_resolve, reject) => {
        started();
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
      });
    const ask = gh.addComment(OWNER, REPO, issue.number, '/devbot do the long thing', 'alice');
    const res = await mod.app.handleGithubEvent(issueCommentCreated(gh, OWNER, REPO, ask));
    await running;
    const stop = gh.addComment(OWNER, REPO, issue.number, '/devbot stop', 'alice');
    const stopped = await mod.app.handleGithubEvent(issueCommentCreated(gh, OWNER, REPO, stop));
    expect(stopped.task).toBeNull();
    const done = await taskEnded(devbot.app.runtime.store, res.task!.id, 30_000);
    expect(done.status).toBe('cancelled');
    expect(
      gh.comments(OWNER, REPO, issue.number).some((c) => byDevbot(c) && c.body.includes('Stopped')),
    ).toBe(true);
  });
});

describe("CI failures on devbot's pull requests, and their fate", () => {
  let devTask: Task;
  let runsAtStart: Array<{ sha: string; status: string }> = [];
  let startSha = '';
  let pr = 0;
  let branch = '';
  const failingRun = (headBranch: string, output = 'AssertionError: expected 2 to be 3 (sum.test.js:4)') =>
    gh.addWorkflowRun(OWNER, REPO, {
      headBranch,
      jobs: [
        { name: 'lint', conclusion: 'success' },
        { name: 'test', conclusion: 'failure', steps: [{ name: 'npm test', conclusion: 'failure', output }] },
      ],
    });

  beforeAll(async () => {
    const issue = gh.createIssue(OWNER, REPO, { title: 'Add sum', user: 'alice', labels: ['devbot'] });
    script = async (ctx, sandbox, repo) => {
      // The check run is there before the crew starts.
      runsAtStart = gh
        .repo(OWNER, REPO)
        .checkRuns.filter((r) => r.externalId === ctx.task.id)
        .map((r) => ({ sha: r.headSha, status: r.status }));
      startSha = repo.baseSha;
      await sandbox.exec('printf "module.exports = (a, b) => a - b;\\n" > sum.js');
      await ctx.emit('llm', {
        role: 'coder',
        model: 'm',
        tokensIn: 1,
        tokensOut: 1,
        costUsd: 0.0123,
        durationMs: 1,
      });
      return {
        summary: 'Added sum.js.',
        prTitle: 'Add sum',
        preview: { url: 'http://devbot.test/preview/sum-preview/', port: 8000 },
      };
    };
    devTask = await run(issueLabeled(gh, OWNER, REPO, issue.number, 'devbot', 'alice'));
    expect(devTask.error).toBeNull();
    branch = devTask.branch!;
    pr = gh.repo(OWNER, REPO).pulls.find((p) => p.head === branch)!.number;
    await mod.app.handleGithubEvent(await pullRequestOpened(gh, OWNER, REPO, pr));
  }, 60_000);

  it('the live check run: in_progress on the start commit before the crew, moved to the head after the push, completed with the preview and cost', async () => {
    expect(runsAtStart).toEqual([{ sha: startSha, status: 'in_progress' }]);
    const head = (await gh.gitLog(OWNER, REPO, branch))[0]!.split(' ')[0]!;
    await waitFor(
      () =>
        gh
          .repo(OWNER, REPO)
          .checkRuns.find(
            (r) => r.externalId === devTask.id && r.headSha === head && r.status === 'completed',
          ),
      'the completed check run',
    );
    const runs = gh.repo(OWNER, REPO).checkRuns.filter((r) => r.externalId === devTask.id);
    expect(runs.map((r) => [r.headSha, r.status, r.conclusion])).toEqual([
      [startSha, 'completed', 'neutral'],
      [head, 'completed', 'success'],
    ]);
    expect(runs[1]!.summary).toContain('/preview/sum-preview/');
    expect(runs[1]!.summary).toContain('cost $0.0123');
    // The details link is the task's read-only share page on the dashboard.
    expect(runs[1]!.detailsUrl).toMatch(/^http:\/\/devbot\.test\/ui\/t\/[\w-]{20,}$/);
    const shareUrl = await devbot.app.runtime.shareLinks.urlFor(devTask.id);
    expect(runs[1]!.detailsUrl).toBe(shareUrl);
    // The sticky comment links to the same page.
    const sticky = gh.repo(OWNER, REPO).comments.find((c) => c.body.includes(`task=${devTask.id}`));
    expect(sticky?.body).toContain(`[Task page](${shareUrl})`);
  });

  it('a check that fails on the base branch too: no attempt', async () => {
    await failingRun('main');
    const run = await failingRun(branch);
    const res = await mod.app.handleGithubEvent(workflowRunCompleted(gh, OWNER, REPO, run));
    expect(res.task).toBeNull();
    expect(res.reason).toMatch(/fails on main too/);
  });

  it('a failing workflow run on the head: a fix commit on the same branch, the log tail in the prompt, the attempt in the sticky comment', async () => {
    await gh.addWorkflowRun(OWNER, REPO, {
      headBranch: 'main',
      jobs: [{ name: 'test', conclusion: 'success' }],
    });
    const before = (await gh.gitLog(OWNER, REPO, branch)).length;
    script = async (_ctx, sandbox) => {
      await sandbox.exec("sed -i 's/a - b/a + b/' sum.js");
      return { summary: 'Fixed the sign in sum.js.' };
    };
    const done = await run(workflowRunCompleted(gh, OWNER, REPO, await failingRun(branch)));
    expect(done.error).toBeNull();
    expect(done.requester).toBe('gh:alice');
    const prompt = prompts.get(done.id)!;
    expect(prompt).toContain('AssertionError: expected 2 to be 3 (sum.test.js:4)');
    expect(prompt).toContain('failed steps: npm test');
    expect(prompt).toMatch(/<untrusted-[0-9a-f]{8} source="ci-log">/);
    expect(prompt).not.toContain('## lint');
    expect(await gh.gitLog(OWNER, REPO, branch)).toHaveLength(before + 1);
    expect(await gh.gitShow(OWNER, REPO, `${branch}:sum.js`)).toContain('a + b');
    const sticky = gh.comments(OWNER, REPO, pr).find((c) => c.body.includes(`task=${done.id}`))!;
    expect(sticky.body).toContain('CI fix attempt 1 of 2');
  });

  it('after two attempts a third failure makes no attempt, and says why', async () => {
    script = async (_ctx, sandbox) => {
      await sandbox.exec('printf "// still\\n" >> sum.js');
      return { summary: 'Tried again.' };
    };
    const second = await run(workflowRunCompleted(gh, OWNER, REPO, await failingRun(branch)));
    expect(second.status).toBe('succeeded');
    const tasks = (await devbot.app.runtime.store.listTasks({ source: 'github' })).length;
    const third = await mod.app.handleGithubEvent(
      workflowRunCompleted(gh, OWNER, REPO, await failingRun(branch)),
    );
    expect(third.task).toBeNull();
    expect(third.reason).toBe('limit');
    expect((await devbot.app.runtime.store.listTasks({ source: 'github' })).length).toBe(tasks);
    const notice = gh.comments(OWNER, REPO, pr).filter((c) => c.body.includes('devbot:ci-fix'));
    expect(notice).toHaveLength(1);
    expect(notice[0]!.body).toContain('already made 2 attempts');
  });

  it('/devbot autofix off stops attempts on the PR', async () => {
    const off = gh.addComment(OWNER, REPO, pr, '/devbot autofix off', 'alice');
    expect((await mod.app.handleGithubEvent(issueCommentCreated(gh, OWNER, REPO, off))).task).toBeNull();
    expect((await mod.app.pullRequests.get(`${OWNER}/${REPO}`, pr))?.autofix).toBe(false);
    const res = await mod.app.handleGithubEvent(
      workflowRunCompleted(gh, OWNER, REPO, await failingRun(branch)),
    );
    expect(res.reason).toBe('autofix-off');
    await mod.app.pullRequests.setAutofix(`${OWNER}/${REPO}`, pr, true);
  });

  it('the merge is recorded: GET /tasks/:id and the devbot_pull_requests metric show it', async () => {
    await gh.closePull(OWNER, REPO, pr, { merged: true, by: 'alice' });
    await mod.app.handleGithubEvent(await pullRequestClosed(gh, OWNER, REPO, pr, 'alice'));
    const alice = await devbot.client('gh:alice');
    const res = await alice.getTask(devTask.id);
    expect(res.body.pullRequests).toEqual([
      {
        repo: `${OWNER}/${REPO}`,
        number: pr,
        taskId: devTask.id,
        outcome: 'merged',
        reviewRounds: 0,
        ciFixAttempts: 2,
        autofix: true,
      },
    ]);
    const metrics = await (await fetch(`${devbot.app.url}/metrics`)).text();
    expect(metrics).toMatch(/devbot_pull_requests\{outcome="merged"\} 1/);
  });
});

describe('one conversation across GitHub and Telegram', () => {
  const isResult = (m: StoredMessage) => /^(✅|❌|🚫) (Done|Failed|Cancelled) ·/.test(m.text);

  it("a review on a PR a chat started: the follow-up's progress and result go to that chat, replying to the first result", async () => {
    tg.sendUserMessage({ from: ALICE, text: `/repo ${OWNER}/${REPO}` });
    await tg.waitForMessage((m) => m.text.includes(`${OWNER}/${REPO}`), { chatId: ALICE });
    // The chat is also linked to the repository: it still hears about its own PR once per event.
    tg.sendUserMessage({ from: ALICE, text: `/link ${OWNER}/${REPO}` });
    const linked = await tg.waitForMessage((m) => m.text.startsWith('🔗 Linked'), { chatId: ALICE });
    expect(linked.text).not.toContain('Everyone in this chat'); // a private chat
    script = async (_ctx, sandbox) => {
      await sandbox.exec('printf "hola\\n" > hello.txt');
      return { summary: 'Added hello.txt.', prTitle: 'Say hola' };
    };
    tg.sendUserMessage({ from: ALICE, text: '/new_task add a greeting' });
    const first = await tg.waitForMessage(isResult, { chatId: ALICE });
    const chatTask = (await devbot.app.runtime.store.listTasks({ source: 'telegram' })).find((t) => t.prUrl)!;
    expect(chatTask.status).toBe('succeeded');
    const pr = gh.repo(OWNER, REPO).pulls.find((p) => chatTask.prUrl!.endsWith(`/pull/${p.number}`))!;
    await mod.app.handleGithubEvent(await pullRequestOpened(gh, OWNER, REPO, pr.number));

    script = async (_ctx, sandbox) => {
      await sandbox.exec('printf "adios\\n" >> hello.txt');
      return { summary: 'Added the goodbye.' };
    };
    const followup = await run(
      await reviewSubmitted(gh, OWNER, REPO, pr.number, {
        state: 'changes_requested',
        body: 'Say goodbye too.',
        user: 'alice',
      }),
    );
    expect(followup.status).toBe('succeeded');
    expect(followup.origin).toMatchObject({ chatId: ALICE, messageId: first.messageId });
    const result = await tg.waitForMessage((m) => isResult(m) && m.text.includes('Added the goodbye.'), {
      chatId: ALICE,
    });
    expect(result.replyToMessageId).toBe(first.messageId);
    // Its status message announced the follow-up on the PR, in the same thread.
    const status = tg
      .botMessages(ALICE)
      .find(
        (m) => m.replyToMessageId === first.messageId && m.text.includes(`${OWNER}/${REPO}#${pr.number}`),
      );
    expect(status).toBeDefined();
    expect(await gh.gitShow(OWNER, REPO, `${pr.head}:hello.txt`)).toBe('hola\nadios\n');

    // A reply to the first result message is a follow-up on the same PR, not a new task.
    const pulls = gh.repo(OWNER, REPO).pulls.length;
    script = async (_ctx, sandbox, repo) => {
      expect(repo.kind).toBe('followup');
      await sandbox.exec('printf "chao\\n" >> hello.txt');
      return { summary: 'Added chao.' };
    };
    tg.sendUserMessage({ from: ALICE, text: 'and chao at the end', replyTo: first.messageId });
    await tg.waitForMessage((m) => isResult(m) && m.text.includes('Added chao.'), { chatId: ALICE });
    const replyTask = (await devbot.app.runtime.store.listTasks({ source: 'telegram' })).find(
      (t) => t.prompt === 'and chao at the end',
    )!;
    expect(replyTask).toMatchObject({
      kind: 'followup',
      status: 'succeeded',
      input: { prNumber: pr.number },
    });
    expect(await gh.gitShow(OWNER, REPO, `${pr.head}:hello.txt`)).toBe('hola\nadios\nchao\n');
    expect(gh.repo(OWNER, REPO).pulls).toHaveLength(pulls);

    // The merge is announced in the chat, with the PR's link.
    await gh.closePull(OWNER, REPO, pr.number, { merged: true, by: 'alice' });
    await mod.app.handleGithubEvent(await pullRequestClosed(gh, OWNER, REPO, pr.number, 'alice'));
    const merged = await tg.waitForMessage((m) => m.text.includes('was merged'), { chatId: ALICE });
    expect(merged.text).toContain(`#${pr.number}`);
    expect(merged.replyToMessageId).toBe(first.messageId);
    // No duplicates from the link: no notice of the opening (the result message has the PR), of
    // the review (the follow-up's own messages tell it) or of the merge (announced above).
    await mod.app.settled();
    const aboutPr = tg.botMessages(ALICE).filter((m) => m.text.includes(`#${pr.number}`));
    expect(aboutPr.filter((m) => /^(🆕|📝|🎉)/u.test(m.text))).toEqual([]);
    expect(aboutPr.filter((m) => /merged/i.test(m.text))).toHaveLength(1);
    tg.sendUserMessage({ from: ALICE, text: '/unlink' });
    const unlinked = await tg.waitForMessage((m) => m.text.startsWith('Unlinked'), { chatId: ALICE });
    expect(unlinked.text).toContain(`${OWNER}/${REPO}`);
  });
});

describe('chats linked to a repository with /link', () => {
  const GROUP = -100;
  let prNumber = 0;
  const links = () => new SqlChatRepoLinks(devbot.app.runtime.sql);
  /** Messages the group had before the last command: answers are looked for after it. */
  let mark = 0;
  const inGroup = (from: number, text: string) => {
    mark = Math.max(0, ...tg.botMessages(GROUP).map((m) => m.messageId));
    const [command, ...rest] = text.split(' ');
    tg.sendUserMessage({ from, chat: 'group', text: [`${command}@${tg.bot.username}`, ...rest].join(' ') });
  };
  const groupSays = (match: (text: string) => boolean) =>
    tg.waitForMessage((m) => m.messageId > mark && match(m.text), { chatId: GROUP });

  it('a user who may not make devbot act on the repository is refused, and nothing is stored', async () => {
    inGroup(BOB, `/link ${OWNER}/${REPO}`);
    const refused = await groupSays((t) => t.startsWith('⛔'));
    expect(refused.text).toContain(`devbot users link tg:${BOB}`);
    expect(refused.text).toContain(`devbot users grant tg:${BOB} ${OWNER}/${REPO}`);
    expect(await links().list(GROUP)).toEqual([]);
    inGroup(ALICE, '/link acme/no-such-repo');
    expect((await groupSays((t) => t.includes('no-such-repo'))).text).toMatch(/^❌ devbot cannot see/);
    inGroup(ALICE, '/link ../etc');
    expect((await groupSays((t) => t.includes('../etc'))).text).toContain('is not a repository name');
    expect(await links().list(GROUP)).toEqual([]);
  });

  it("a linked group hears of devbot's PR from an issue: opened, review, comment, CI failure; /unlink stops it", async () => {
    inGroup(ALICE, `/link ${OWNER}/${REPO}`);
    const ok = await groupSays((t) => t.startsWith('🔗 Linked'));
    expect(ok.text).toContain('Everyone in this chat will see');
    inGroup(ALICE, '/link');
    expect((await groupSays((t) => t.includes('hears about devbot’s pull requests in'))).text).toContain(
      `${OWNER}/${REPO}`,
    );

    const issue = gh.createIssue(OWNER, REPO, { title: 'Add a readme', user: 'alice', labels: ['devbot'] });
    script = async (_ctx, sandbox) => {
      await sandbox.exec('printf "# shop\\n" > README.md');
      return { summary: 'Added a readme.', prTitle: 'Add a <readme>' };
    };
    const done = await run(issueLabeled(gh, OWNER, REPO, issue.number, 'devbot', 'alice'));
    const pr = gh.repo(OWNER, REPO).pulls.find((p) => p.head === done.branch)!;
    prNumber = pr.number;
    const about = (icon: string) => (t: string) => t.startsWith(icon) && t.includes(`#${pr.number}`);
    await mod.app.handleGithubEvent(await pullRequestOpened(gh, OWNER, REPO, pr.number));
    expect((await groupSays(about('🆕'))).text).toContain('Add a <readme>');

    // A review by a read-only user: its text shown as text, cut to size, nobody pinged.
    const body = `<b>looks</b> fine @bob ${'x'.repeat(2000)}`;
    const tasks = (await devbot.app.runtime.store.listTasks({})).length;
    await mod.app.handleGithubEvent(
      await reviewSubmitted(gh, OWNER, REPO, pr.number, { state: 'approved', body, user: 'rita' }),
    );
    const review = await groupSays(about('📝'));
    expect(review.text).toContain('rita approved:');
    expect(review.text).toContain('<b>looks</b> fine @\u2060bob');
    expect(review.text.length).toBeLessThan(1000);
    const comment = gh.addComment(OWNER, REPO, pr.number, 'Ship it?', 'rita');
    await mod.app.handleGithubEvent(issueCommentCreated(gh, OWNER, REPO, comment));
    expect((await groupSays(about('💬'))).text).toContain('rita commented:\nShip it?');
    expect((await devbot.app.runtime.store.listTasks({})).length).toBe(tasks);

    // CI fails on the PR's head with autofix off: the chat hears it, and why nothing is tried.
    await mod.app.pullRequests.setAutofix(`${OWNER}/${REPO}`, pr.number, false);
    const failing = await gh.addWorkflowRun(OWNER, REPO, {
      headBranch: pr.head,
      jobs: [{ name: 'build', conclusion: 'failure', steps: [{ name: 'make', conclusion: 'failure' }] }],
    });
    await mod.app.handleGithubEvent(workflowRunCompleted(gh, OWNER, REPO, failing));
    expect((await groupSays(about('❌'))).text).toMatch(
      /CI failed: .+No new fix attempt: CI autofix is off/s,
    );

    // A flood of comments from anyone: the chat gets a bounded number, the last says they pause.
    for (let i = 0; i < LINK_NOTICES_PER_MINUTE + 5; i++) {
      const spam = gh.addComment(OWNER, REPO, pr.number, `spam ${i}`, 'mallory');
      await mod.app.handleGithubEvent(issueCommentCreated(gh, OWNER, REPO, spam));
    }
    await mod.app.settled();
    const spam = tg.botMessages(GROUP).filter((m) => m.text.includes('spam '));
    expect(spam.length).toBeGreaterThan(0);
    expect(spam.length).toBeLessThan(LINK_NOTICES_PER_MINUTE);
    expect(spam.at(-1)!.text).toContain('further notices in this chat pause for a minute');

    inGroup(BOB, `/unlink ${OWNER}/${REPO}`);
    await groupSays((t) => t.startsWith('Unlinked'));
    expect(await links().list(GROUP)).toEqual([]);
    const before = tg.botMessages(GROUP).length;
    const later = gh.addComment(OWNER, REPO, pr.number, 'Anyone?', 'rita');
    await mod.app.handleGithubEvent(issueCommentCreated(gh, OWNER, REPO, later));
    await gh.closePull(OWNER, REPO, pr.number, { merged: true, by: 'alice' });
    await mod.app.handleGithubEvent(await pullRequestClosed(gh, OWNER, REPO, pr.number, 'alice'));
    await mod.app.settled();
    expect(tg.botMessages(GROUP).length).toBe(before);
  });

  it('a link lapses when whoever made it may no longer act on the repository', async () => {
    const access = new SqlSubjectAccess(devbot.app.runtime.sql);
    await access.grant(`tg:${BOB}`, `${OWNER}/${REPO}`);
    inGroup(BOB, `/link ${OWNER}/${REPO}`);
    await groupSays((t) => t.startsWith('🔗 Linked'));
    await access.revoke(`tg:${BOB}`, `${OWNER}/${REPO}`);
    const before = tg.botMessages(GROUP).length;
    const comment = gh.addComment(OWNER, REPO, prNumber, 'Still there?', 'rita');
    await mod.app.handleGithubEvent(issueCommentCreated(gh, OWNER, REPO, comment));
    const lapsed = await groupSays((t) => t.startsWith('🔗 Unlinked'));
    expect(lapsed.text).toContain('may no longer make devbot act on it');
    await mod.app.settled();
    expect(
      tg
        .botMessages(GROUP)
        .slice(before)
        .map((m) => m.text),
    ).toEqual([lapsed.text]);
    expect(await links().list(GROUP)).toEqual([]);
  });
});
