import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RepoWorkspaces } from '../../src/git/repo-workspaces.js';
import { collectSandboxDiff, recordSandboxBaseline } from '../../src/worker/handlers/sandbox-diff.js';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import { createDirSandbox } from '../fakes/llm/dir-sandbox.js';
import { captureLogger, removeDir, tempDir } from '../helpers/test-env.js';

let gh: FakeGithub;
let token: string;
let root: string;
const cloneUrl = () => `${gh.gitUrl}/acme/lib.git`;

beforeAll(async () => {
  gh = await startFakeGithub({ appId: 12345 });
  await gh.createRepo({
    owner: 'acme',
    name: 'lib',
    files: { 'a.txt': 'a\n', 'bin/run.sh': '#!/bin/sh\necho hi\n' },
  });
  const jwt = ['e30', Buffer.from(JSON.stringify({ iss: 12345 })).toString('base64url'), 's'].join('.');
  const res = await fetch(`${gh.url}/app/installations/${gh.installationId}/access_tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt}` },
  });
  token = ((await res.json()) as { token: string }).token;
  root = tempDir('devbot-git-');
});
afterAll(async () => {
  await gh?.close();
  removeDir(root);
});

describe('RepoWorkspaces', () => {
  it('clones a mirror once and only fetches for the next task; the token is never stored', async () => {
    const { logger, lines } = captureLogger();
    const workspaces = new RepoWorkspaces({ root, logger });
    const base = { owner: 'acme', repo: 'lib', cloneUrl: cloneUrl(), token, baseBranch: 'main' };
    const first = await workspaces.prepare({ ...base, taskId: 't1' });
    const second = await workspaces.prepare({ ...base, taskId: 't2' });
    expect(first.dir).not.toBe(second.dir);
    expect(first.baseSha).toBe(second.baseSha);
    const messages = lines.map((l) => JSON.parse(l).msg);
    expect(messages.filter((m) => m === 'mirror cloned')).toHaveLength(1);
    expect(messages.filter((m) => m === 'mirror fetched')).toHaveLength(1);
    const config = await readFile(join(workspaces.mirrorPath('acme', 'lib'), 'config'), 'utf8');
    expect(config).toContain(cloneUrl());
    expect(config).not.toContain(token);
    await workspaces.dispose(first);
    await workspaces.dispose(second);
  });

  it('two workers on one data dir take turns on a mirror (the lock is on disk, not in memory)', async () => {
    const shared = tempDir('devbot-git-shared-');
    const a = new RepoWorkspaces({ root: shared });
    const b = new RepoWorkspaces({ root: shared });
    const base = { owner: 'acme', repo: 'lib', cloneUrl: cloneUrl(), token, baseBranch: 'main' };
    const made = await Promise.all([
      a.prepare({ ...base, taskId: 'w1' }),
      b.prepare({ ...base, taskId: 'w2' }),
      a.prepare({ ...base, taskId: 'w3' }),
      b.prepare({ ...base, taskId: 'w4' }),
    ]);
    expect(new Set(made.map((w) => w.baseSha)).size).toBe(1);
    expect(existsSync(`${a.mirrorPath('acme', 'lib')}.lock`)).toBe(false);
    await Promise.all(made.map((w, i) => (i % 2 === 0 ? a : b).dispose(w)));
    removeDir(shared);
  });

  it('fails to fetch without a valid token (the fake requires it)', async () => {
    const workspaces = new RepoWorkspaces({ root: tempDir('devbot-git-') });
    await expect(
      workspaces.prepare({
        owner: 'acme',
        repo: 'lib',
        cloneUrl: cloneUrl(),
        token: `ghs_${randomBytes(8).toString('hex')}`,
        baseBranch: 'main',
        taskId: 'x',
      }),
    ).rejects.toThrow(/fetching acme\/lib failed/);
  });

  it('round trip: export to a sandbox, change files there, apply the diff, commit, push', async () => {
    const workspaces = new RepoWorkspaces({ root });
    const ws = await workspaces.prepare({
      owner: 'acme',
      repo: 'lib',
      cloneUrl: cloneUrl(),
      token,
      baseBranch: 'main',
      taskId: 't3',
    });
    const seed = `${ws.dir}.seed`;
    await ws.exportTo(seed);
    const sandbox = await createDirSandbox(seed);
    removeDir(seed);
    try {
      const baseline = await recordSandboxBaseline(sandbox);
      await sandbox.exec(
        'rm a.txt && printf "new\\n" > b.txt && printf "\\000\\001\\002" > blob.bin && chmod +x bin/run.sh && git add -A && git -c user.name=x -c user.email=x@y commit -qm agent-commit',
      );
      await sandbox.exec('printf "more\\n" >> b.txt');
      const diff = await collectSandboxDiff(sandbox, baseline);
      const changed = await ws.applyPatch(diff);
      expect(changed.sort()).toEqual(['a.txt', 'b.txt', 'bin/run.sh', 'blob.bin']);
    } finally {
      await sandbox.close();
    }
    const sha = await ws.commit({
      message: 'Change things',
      author: { name: 'devbot[bot]', email: 'devbot[bot]@users.noreply.github.com' },
      trailers: ['Co-authored-by: alice <alice@users.noreply.github.com>'],
    });
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    await ws.push('devbot/t3-change', token);
    const log = await gh.gitLog('acme', 'lib', 'devbot/t3-change', '%H %an %s');
    expect(log[0]).toBe(`${sha} devbot[bot] Change things`);
    expect(await gh.gitShow('acme', 'lib', 'devbot/t3-change:b.txt')).toBe('new\nmore\n');
    expect(await gh.gitShow('acme', 'lib', 'devbot/t3-change:blob.bin')).toBe('\u0000\u0001\u0002');
    const tree = execFileSync('git', ['ls-tree', 'devbot/t3-change', 'bin/run.sh'], {
      cwd: gh.barePath('acme', 'lib'),
      encoding: 'utf8',
    });
    expect(tree.startsWith('100755 ')).toBe(true);
    await expect(ws.push('devbot/other', 'ghs_wrong_token_value')).rejects.toThrow(/pushing devbot\/other/);
    await workspaces.dispose(ws);
  });

  it('an empty diff changes nothing and commits nothing', async () => {
    const workspaces = new RepoWorkspaces({ root });
    const ws = await workspaces.prepare({
      owner: 'acme',
      repo: 'lib',
      cloneUrl: cloneUrl(),
      token,
      baseBranch: 'main',
      taskId: 't4',
    });
    expect(await ws.applyPatch('')).toEqual([]);
    expect(await ws.commit({ message: 'x', author: { name: 'a', email: 'a@b' } })).toBeNull();
    await workspaces.dispose(ws);
  });
});
