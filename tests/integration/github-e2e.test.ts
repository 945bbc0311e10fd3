/**
 * The GitHub front door end to end: signed webhooks into a whole devbot (real Redis, PGlite),
 * the repo pipeline against the fake GitHub's real git repositories and real local (bubblewrap)
 * sandboxes, progress back on GitHub.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GithubModule } from '../../src/app/modules/github-module.js';
import { defaultSandboxProvider } from '../../src/app/modules/sandbox-module.js';
import type { RunAgent } from '../../src/core/agent-runner.js';
import type { ExecOptions, Sandbox, SandboxProvider, Task } from '../../src/core/index.js';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import {
  deliver,
  issueCommentCreated,
  issueLabeled,
  reviewSubmitted,
} from '../fakes/github/webhook-payloads.js';
import { githubAppEnv } from '../helpers/github-fixtures.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { captureLogger, taskEnded } from '../helpers/test-env.js';

const OWNER = 'acme';
const REPO = 'app';
const SECRET = `whsec-${randomBytes(12).toString('hex')}`;

let gh: FakeGithub;
let devbot: TestDevbot;
let mod: GithubModule;
let hookUrl: string;
const log = captureLogger(() => devbot?.app.runtime.secrets.values() ?? []);
/** Anything token-like the agent found inside a sandbox (must stay empty). */
const leaks: string[] = [];
/** Every sandbox the pipeline used, and every command and env it gave them. */
const used = new Map<string, { provider: string; commands: string[] }>();

/** The real local provider, with each sandbox's commands and environment recorded. */
function recording(provider: SandboxProvider): SandboxProvider {
  const wrap = (sandbox: Sandbox): Sandbox => {
    const seen = { provider: sandbox.provider, commands: [] as string[] };
    used.set(sandbox.id, seen);
    const note = (command: string, options?: ExecOptions) =>
      seen.commands.push(`${command} ${JSON.stringify(options?.env ?? {})}`);
    return {
      id: sandbox.id,
      provider: sandbox.provider,
      workdir: sandbox.workdir,
      exec: (command, options) => {
        note(command, options);
        return sandbox.exec(command, options);
      },
      execBackground: (command, options) => {
        note(command, options);
        return sandbox.execBackground(command, options);
      },
      readFile: (path) => sandbox.readFile(path),
      writeFile: (path, content) => sandbox.writeFile(path, content),
      listFiles: (path) => sandbox.listFiles(path),
      exposePort: (port) => sandbox.exposePort(port),
      close: () => sandbox.close(),
    };
  };
  return {
    name: provider.name,
    create: async (options) => wrap(await provider.create(options)),
    check: () => provider.check(),
    close: () => provider.close(),
  };
}

/** Every file of a local sandbox as the host sees it (workspace with .git, /tmp, run dir). */
async function sandboxFiles(id: string): Promise<string> {
  const root = join(devbot.config.dataDir, 'sandboxes', id);
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(
    entries
      .filter((e) => e.isFile())
      .map((e) => readFile(join(e.parentPath, e.name), 'latin1').catch(() => '')),
  );
  return texts.join('\n');
}

/** Scripted work in the sandbox, chosen by the request text; also looks for leaked tokens. */
const runAgent: RunAgent = async (ctx, sandbox, repo) => {
  const env = await sandbox.exec('env; cat /proc/self/environ');
  const files = await sandboxFiles(sandbox.id);
  if (!files.includes('console.log(1);')) leaks.push(`the repository is not in sandbox ${sandbox.id}`);
  for (const token of gh.issuedTokens) {
    if (env.stdout.includes(token)) leaks.push(`token in the env of sandbox ${sandbox.id}`);
    if (files.includes(token)) leaks.push(`token in the files of sandbox ${sandbox.id}`);
  }
  if (files.includes('x-access-token')) leaks.push('credential helper text in sandbox');
  const prompt = ctx.task.prompt;
  if (repo.kind === 'followup') {
    await sandbox.exec('printf "second line\\n" >> hello.txt');
    return { summary: 'Added the second line the review asked for.', reply: 'Done: added the second line.' };
  }
  if (prompt.includes('touch the workflow')) {
    await sandbox.exec('mkdir -p .github/workflows && printf "on: push\\n" > .github/workflows/evil.yml');
    return { summary: 'changed CI' };
  }
  if (prompt.includes('nothing to do')) return { summary: 'Nothing needed changing.' };
  await sandbox.exec('printf "hello from devbot\\n" > hello.txt');
  return {
    summary: 'Added hello.txt with a greeting.',
    prTitle: 'Add a greeting file',
    prBody: 'This adds `hello.txt`.',
  };
};

async function githubTasks(): Promise<Task[]> {
  return devbot.app.runtime.store.listTasks({ source: 'github' });
}

function finished(id: string): Promise<Task> {
  return taskEnded(devbot.app.runtime.store, id, 30_000);
}

beforeAll(async () => {
  gh = await startFakeGithub({ appId: 12345, appSlug: 'devbot' });
  await gh.createRepo({
    owner: OWNER,
    name: REPO,
    files: { 'README.md': '# app\n', 'src/index.js': 'console.log(1);\n' },
  });
  gh.setPermission(OWNER, REPO, 'alice', 'write');
  gh.setPermission(OWNER, REPO, 'rita', 'read');
  devbot = await startTestDevbot({
    env: {
      ...githubAppEnv(gh, SECRET),
      LOG_LEVEL: 'debug',
    },
    logger: log.logger,
    sandboxes: (ctx) => recording(defaultSandboxProvider(ctx)),
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

describe('GitHub end to end', () => {
  let prNumber = 0;
  let branch = '';

  it('labeled issue -> task -> sandbox change -> pushed branch -> PR (Closes #N) -> check run -> final sticky comment', async () => {
    const issue = gh.createIssue(OWNER, REPO, {
      title: 'Add a greeting',
      body: 'Please add hello.txt',
      user: 'alice',
      labels: ['devbot'],
    });
    const res = await deliver(
      hookUrl,
      SECRET,
      issueLabeled(gh, OWNER, REPO, issue.number, 'devbot', 'alice'),
    );
    expect(res.status).toBe(200);
    const [task] = await githubTasks();
    await mod.app.settled();
    expect(task).toMatchObject({
      kind: 'dev',
      requester: 'gh:alice',
      repo: 'acme/app',
      origin: { owner: OWNER, repo: REPO, installationId: gh.installationId, issueNumber: issue.number },
    });
    expect(gh.repo(OWNER, REPO).reactions).toContainEqual(
      expect.objectContaining({ content: 'eyes', target: `issue:${issue.number}` }),
    );
    const done = await finished(task!.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    branch = done.branch!;
    expect(branch).toBe(`devbot/${issue.number}-add-a-greeting`);

    // Real git on the fake's bare repository.
    const log = await gh.gitLog(
      OWNER,
      REPO,
      branch,
      '%H%x09%an <%ae>%x09%s%x09%(trailers:key=Co-authored-by,valueonly)',
    );
    expect(log).toHaveLength(2);
    const [sha, author, subject, coauthor] = log[0]!.split('\t');
    expect(author).toBe('devbot[bot] <devbot[bot]@users.noreply.github.com>');
    expect(subject).toBe('Add a greeting file');
    expect(coauthor).toContain('alice <alice@users.noreply.github.com>');
    expect(await gh.gitShow(OWNER, REPO, `${branch}:hello.txt`)).toBe('hello from devbot\n');

    const pulls = gh.repo(OWNER, REPO).pulls;
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({
      head: branch,
      base: 'main',
      draft: false,
      title: 'Add a greeting file',
    });
    expect(pulls[0]!.body).toContain(`Closes #${issue.number}`);
    expect(pulls[0]!.user.login).toBe('devbot[bot]');
    prNumber = pulls[0]!.number;
    expect(done.prUrl).toBe(`${gh.webUrl}/acme/app/pull/${prNumber}`);

    await mod.reporter.idle(done.id);
    // The live check run starts on the base commit and moves to the pushed head.
    const all = gh.repo(OWNER, REPO).checkRuns;
    expect(all.filter((r) => r.headSha !== sha).map((r) => r.conclusion)).toEqual(['neutral']);
    const runs = all.filter((r) => r.headSha === sha);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      name: 'devbot',
      headSha: sha,
      status: 'completed',
      conclusion: 'success',
    });
    // in_progress first unless the task ended within one throttled edit of the push (then the run
    // is created completed; tests/unit/github-reporter.test.ts covers both orders).
    expect(['in_progress', 'completed']).toContain(runs[0]!.history[0]!.status);
    expect(runs[0]!.summary).toContain('Added hello.txt');

    const sticky = gh.comments(OWNER, REPO, issue.number).filter((c) => c.user.login === 'devbot[bot]');
    expect(sticky).toHaveLength(1);
    expect(sticky[0]!.body).toContain(`<!-- devbot:progress task=${done.id} -->`);
    expect(sticky[0]!.body).toContain('✅');
    expect(sticky[0]!.body).toContain('Added hello.txt with a greeting.');
    expect(sticky[0]!.body).toContain(done.prUrl!);
    // One formatDuration for every surface: "time 340 ms", "time 1.2 s", "time 2 min 5 s".
    expect(sticky[0]!.body).toMatch(/time \d+(\.\d)? (ms|s|min)/);
  });

  it('a changes_requested review -> a second commit on the same branch, no second PR', async () => {
    const review = await reviewSubmitted(gh, OWNER, REPO, prNumber, {
      state: 'changes_requested',
      body: 'Please add a second line.',
      user: 'alice',
    });
    expect((await deliver(hookUrl, SECRET, review)).status).toBe(200);
    const followup = (await githubTasks()).find((t) => t.kind === 'followup');
    expect(followup).toBeDefined();
    expect(followup!.origin).toMatchObject({ prNumber, branch });
    const done = await finished(followup!.id);
    expect(done.error).toBeNull();
    expect(done.branch).toBe(branch);
    const log = await gh.gitLog(OWNER, REPO, branch);
    expect(log).toHaveLength(3);
    expect(await gh.gitShow(OWNER, REPO, `${branch}:hello.txt`)).toBe('hello from devbot\nsecond line\n');
    expect(gh.repo(OWNER, REPO).pulls).toHaveLength(1);
    expect(done.prUrl).toContain(`/pull/${prNumber}`);
    await mod.reporter.idle(done.id);
    const runs = gh.repo(OWNER, REPO).checkRuns.filter((r) => r.conclusion !== 'neutral');
    expect(runs).toHaveLength(2);
    expect(runs[1]).toMatchObject({ headSha: log[0]!.split(' ')[0], conclusion: 'success' });
    const onPr = gh.comments(OWNER, REPO, prNumber).filter((c) => c.user.login === 'devbot[bot]');
    expect(onPr).toHaveLength(1);
    expect(onPr[0]!.body).toContain('Added the second line');
  });

  it('a redelivered webhook makes one task', async () => {
    const issue = gh.createIssue(OWNER, REPO, {
      title: 'Nothing here',
      body: 'nothing to do',
      user: 'alice',
    });
    const comment = gh.addComment(OWNER, REPO, issue.number, '/devbot have a look', 'alice');
    const delivery = issueCommentCreated(gh, OWNER, REPO, comment);
    const before = (await githubTasks()).length;
    const [a, b] = await Promise.all([
      deliver(hookUrl, SECRET, delivery),
      deliver(hookUrl, SECRET, delivery),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect((await deliver(hookUrl, SECRET, { ...delivery, id: 'another-delivery-id' })).status).toBe(200);
    const tasks = (await githubTasks()).filter((t) => t.idempotencyKey === `gh:comment:${comment.id}`);
    expect(tasks).toHaveLength(1);
    expect((await githubTasks()).length).toBe(before + 1);
    const done = await finished(tasks[0]!.id);
    expect(done.status).toBe('succeeded');
    expect(done.prUrl).toBeNull();
    await mod.app.settled();
    expect(gh.repo(OWNER, REPO).reactions.filter((r) => r.target === `comment:${comment.id}`)).toHaveLength(
      1,
    );
  });

  it('a commenter with read permission gets one polite reply and no task', async () => {
    const issue = gh.createIssue(OWNER, REPO, { title: 'Please', body: 'x', user: 'rita' });
    const comment = gh.addComment(OWNER, REPO, issue.number, '/devbot do it', 'rita');
    const delivery = issueCommentCreated(gh, OWNER, REPO, comment);
    const before = (await githubTasks()).length;
    expect((await deliver(hookUrl, SECRET, delivery)).status).toBe(200);
    expect((await deliver(hookUrl, SECRET, delivery)).status).toBe(200);
    expect((await githubTasks()).length).toBe(before);
    const replies = gh.comments(OWNER, REPO, issue.number).filter((c) => c.user.login === 'devbot[bot]');
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body).toContain('@rita');
    expect(replies[0]!.body).toContain('write access');
  });

  it('an outsider commenting again and again gets one refusal per issue and day, even across a restart', async () => {
    const issue = gh.createIssue(OWNER, REPO, { title: 'Spam', body: 'x', user: 'rita' });
    for (let i = 0; i < 3; i++) {
      const comment = gh.addComment(OWNER, REPO, issue.number, `/devbot do it ${i}`, 'rita');
      expect((await deliver(hookUrl, SECRET, issueCommentCreated(gh, OWNER, REPO, comment))).status).toBe(
        200,
      );
    }
    // The record is in the database, so a second process (a restart) does not answer again either.
    const { createGithubModule } = await import('../../src/app/modules/github-module.js');
    const again = createGithubModule(devbot.app.runtime, { throttle: false });
    const comment = gh.addComment(OWNER, REPO, issue.number, '/devbot please', 'rita');
    const result = await again?.app.handleGithubEvent({
      id: 'd-restart',
      name: 'issue_comment',
      payload: issueCommentCreated(gh, OWNER, REPO, comment).payload,
    } as never);
    expect(result?.task).toBeNull();
    const replies = gh.comments(OWNER, REPO, issue.number).filter((c) => c.user.login === 'devbot[bot]');
    expect(replies).toHaveLength(1);
  });

  it('a bad or missing signature is refused and nothing is enqueued', async () => {
    const issue = gh.createIssue(OWNER, REPO, { title: 'Forged', user: 'alice', labels: ['devbot'] });
    const delivery = issueLabeled(gh, OWNER, REPO, issue.number, 'devbot', 'alice');
    const before = (await githubTasks()).length;
    const bad = await deliver(hookUrl, SECRET, delivery, { signature: `sha256=${'0'.repeat(64)}` });
    expect([400, 401]).toContain(bad.status);
    const wrongKey = await deliver(hookUrl, 'not-the-secret', delivery);
    expect([400, 401]).toContain(wrongKey.status);
    const missing = await fetch(hookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': 'x' },
      body: JSON.stringify(delivery.payload),
    });
    expect([400, 401]).toContain(missing.status);
    expect((await githubTasks()).length).toBe(before);
  });

  it("devbot's own comment is ignored", async () => {
    const issue = gh.createIssue(OWNER, REPO, { title: 'Loop?', user: 'alice' });
    const comment = gh.addComment(OWNER, REPO, issue.number, '/devbot again and again', 'devbot[bot]');
    const before = (await githubTasks()).length;
    expect((await deliver(hookUrl, SECRET, issueCommentCreated(gh, OWNER, REPO, comment))).status).toBe(200);
    expect((await githubTasks()).length).toBe(before);
    expect(gh.comments(OWNER, REPO, issue.number)).toHaveLength(1);
  });

  it('changes to .github/workflows are refused: the task fails and nothing is pushed', async () => {
    const issue = gh.createIssue(OWNER, REPO, {
      title: 'CI',
      body: 'touch the workflow',
      user: 'alice',
      labels: ['devbot'],
    });
    await deliver(hookUrl, SECRET, issueLabeled(gh, OWNER, REPO, issue.number, 'devbot', 'alice'));
    const task = (await githubTasks()).find((t) => t.origin['issueNumber'] === issue.number);
    const done = await finished(task!.id);
    expect(done.status).toBe('failed');
    expect(done.error).toContain('allow_workflow_changes');
    await expect(gh.gitLog(OWNER, REPO, `devbot/${issue.number}-ci`)).rejects.toThrow();
    await mod.reporter.idle(done.id);
    const sticky = gh.comments(OWNER, REPO, issue.number).filter((c) => c.user.login === 'devbot[bot]');
    expect(sticky).toHaveLength(1);
    expect(sticky[0]!.body).toContain('❌');
  });

  it('the installation token never reaches the sandbox, task events, comments, logs or disk config', async () => {
    expect(gh.issuedTokens.length).toBeGreaterThan(0);
    expect(leaks).toEqual([]);
    expect(used.size).toBeGreaterThanOrEqual(3);
    expect([...used.values()].every((s) => s.provider === 'local')).toBe(true);
    const events = [];
    for (const t of await githubTasks()) events.push(...(await devbot.app.runtime.store.listEvents(t.id)));
    const eventText = JSON.stringify(events);
    const taskText = JSON.stringify(await githubTasks());
    const commentText = JSON.stringify(gh.repo(OWNER, REPO).comments);
    const logText = log.lines.join('');
    const mirrorConfig = await readFile(
      join(devbot.config.dataDir, 'git/mirrors/acme/app.git/config'),
      'utf8',
    );
    expect(logText.length).toBeGreaterThan(0);
    expect(eventText).toContain('"pushed"');
    for (const token of gh.issuedTokens) {
      const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
      for (const [where, text] of Object.entries({
        eventText,
        taskText,
        commentText,
        logText,
        mirrorConfig,
      })) {
        expect(text.includes(token), `token in ${where}`).toBe(false);
        expect(text.includes(basic), `basic credential in ${where}`).toBe(false);
      }
    }
    const commands = [...used.values()].flatMap((s) => s.commands).join('\n');
    expect(commands).toContain('git init');
    for (const token of gh.issuedTokens) expect(commands).not.toContain(token);
    expect(commands).not.toContain('ghs_');
    // Pushes really were authenticated (the fake refuses anonymous receive-pack).
    expect(gh.gitRequests.some((r) => r.service === 'receive-pack' && r.user === 'x-access-token')).toBe(
      true,
    );
  });
});
