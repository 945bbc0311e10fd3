/**
 * Local repositories (DEVBOT_REPOS_DIR): a dev task on `local/widgets` commits on a `devbot/…`
 * branch of that repository while its checked-out branch, index and an uncommitted change stay as
 * they were; a follow-up adds a commit; names that could leave the directory are refused.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlSubjectAccess } from '../../src/store/sql-subject-access.js';
import { SHELL_COMMAND_AGENT_INPUT, shellCommandAgent } from '../helpers/shell-command-agent.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { taskEnded } from '../helpers/test-env.js';

const run = promisify(execFile);
const reposDir = mkdtempSync(join(tmpdir(), 'devbot-repos-'));
const outside = mkdtempSync(join(tmpdir(), 'devbot-outside-'));
const widgets = join(reposDir, 'widgets');
let devbot: TestDevbot;

const git = async (...args: string[]) => (await run('git', ['-C', widgets, ...args])).stdout.trim();

beforeAll(async () => {
  mkdirSync(widgets);
  await git('init', '-q', '-b', 'main');
  writeFileSync(join(widgets, 'README.md'), '# widgets\n');
  writeFileSync(join(widgets, 'app.js'), 'export const a = 1;\n');
  await git('add', '.');
  await git('-c', 'user.name=Me', '-c', 'user.email=me@example.com', 'commit', '-qm', 'first');
  // Work in progress the owner has not committed: devbot must leave all of it alone.
  writeFileSync(join(widgets, 'app.js'), 'export const a = 2; // not committed\n');
  writeFileSync(join(widgets, 'staged.txt'), 'staged\n');
  await git('add', 'staged.txt');
  // A repository outside the directory, reachable only through a symlink.
  await run('git', ['init', '-q', '-b', 'main', outside]);
  symlinkSync(outside, join(reposDir, 'escape'));
  devbot = await startTestDevbot({
    env: { DEVBOT_REPOS_DIR: reposDir },
    agents: { runAgent: shellCommandAgent(), agentInput: SHELL_COMMAND_AGENT_INPUT },
  });
  await new SqlSubjectAccess(devbot.app.runtime.sql).grant('alice', 'local/*');
}, 60_000);

afterAll(async () => {
  await devbot?.stop();
  rmSync(reposDir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

async function dev(command: string, extra: Record<string, unknown> = {}) {
  const res = await devbot.api.createTask({
    kind: 'dev',
    repo: 'local/widgets',
    prompt: 'add a file',
    input: { command },
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return taskEnded(devbot.app.runtime.store, res.body.id as string, 30_000);
}

describe('local repositories', () => {
  it('commits on a devbot/ branch and leaves the checked-out branch, index and work tree alone', async () => {
    const headBefore = await git('rev-parse', 'HEAD');
    const statusBefore = await git('status', '--porcelain');
    const done = await dev('echo hello > hello.txt');
    expect(done.status, done.error ?? '').toBe('succeeded');
    expect(done.branch).toMatch(/^devbot\//);
    expect(done.prUrl).toBeNull();
    expect(done.resultSummary).toContain(`git -C ${widgets} log -p main..${done.branch}`);
    expect(await git('show', `${done.branch}:hello.txt`)).toBe('hello');
    expect(await git('symbolic-ref', '--short', 'HEAD')).toBe('main');
    expect(await git('rev-parse', 'HEAD')).toBe(headBefore);
    expect(await git('status', '--porcelain')).toBe(statusBefore);

    // A follow-up adds a commit to the same branch.
    const tip = await git('rev-parse', done.branch as string);
    const more = await devbot.api.createTask({
      kind: 'followup',
      repo: 'local/widgets',
      prompt: 'and one more',
      input: { branch: done.branch, command: 'echo more > more.txt' },
    });
    const followed = await taskEnded(devbot.app.runtime.store, more.body.id as string, 30_000);
    expect(followed.status, followed.error ?? '').toBe('succeeded');
    expect(await git('rev-parse', `${done.branch}~1`)).toBe(tip);
    expect(await git('show', `${done.branch}:more.txt`)).toBe('more');
  });

  it('two tasks on the repository at once land on their own branches', async () => {
    const [a, b] = await Promise.all([dev('echo a > a.txt'), dev('echo b > b.txt')]);
    expect([a.status, b.status]).toEqual(['succeeded', 'succeeded']);
    expect(a.branch).not.toBe(b.branch);
    expect(await git('show', `${a.branch}:a.txt`)).toBe('a');
    expect(await git('show', `${b.branch}:b.txt`)).toBe('b');
  });

  it('refuses names that leave the directory, symlinks out of it, and unknown repositories, with 400', async () => {
    for (const [repo, message] of [
      ['local/..', /cannot be \. or \.\./],
      ['local/escape', /leads outside DEVBOT_REPOS_DIR/],
      ['local/nope', /no repository local\/nope/],
      ['local/wid..gets', /not a repository name/],
    ] as const) {
      const res = await devbot.api.createTask({ kind: 'dev', repo, prompt: 'x', input: { command: 'true' } });
      expect(res.status, repo).toBe(400);
      expect(res.body.message).toMatch(message);
    }
  });

  it("a follow-up pushes only to devbot's own branches", async () => {
    const res = await devbot.api.createTask({
      kind: 'followup',
      repo: 'local/widgets',
      prompt: 'x',
      input: { branch: 'main', command: 'echo evil > evil.txt' },
    });
    // Refused at the door (the handler refuses it again before any push).
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/input\.branch: must be a branch devbot made/);
  });
});
