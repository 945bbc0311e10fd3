/**
 * Time to a ready worktree for a repo task: the first task on a repository (mirror clone +
 * worktree) vs the second (mirror fetch + worktree), against the fake GitHub's git smart HTTP.
 * The mirror cache is at work when the second is clearly cheaper. Also reported: a plain
 * `git clone` of the same repository, what every task would pay without the cache.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gitAuthEnv } from '../src/git/git-auth.js';
import { RepoWorkspaces } from '../src/git/repo-workspaces.js';
import { startFakeGithub } from '../tests/fakes/github/fake-github.js';
import { type BenchResult, percentile } from './lib.js';

const execFileP = promisify(execFile);
const ROUNDS = Number(process.env['BENCH_MIRROR_ROUNDS'] ?? 5);

export async function run(): Promise<BenchResult> {
  const gh = await startFakeGithub({ appId: 1 });
  const files: Record<string, string> = {};
  for (let i = 0; i < 400; i++) files[`src/module-${i}.ts`] = `export const v${i} = ${i};\n`.repeat(40);
  await gh.createRepo({ owner: 'bench', name: 'repo', files });
  const jwt = ['e30', Buffer.from(JSON.stringify({ iss: 1 })).toString('base64url'), 's'].join('.');
  const res = await fetch(`${gh.url}/app/installations/${gh.installationId}/access_tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt}` },
  });
  const { token } = (await res.json()) as { token: string };
  const cloneUrl = `${gh.gitUrl}/bench/repo.git`;
  const first: number[] = [];
  const second: number[] = [];
  const plain: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const root = await mkdtemp(join(tmpdir(), 'devbot-mirror-bench-'));
      try {
        const workspaces = new RepoWorkspaces({ root });
        const base = { owner: 'bench', repo: 'repo', cloneUrl, token, baseBranch: 'main' };
        let t = performance.now();
        const a = await workspaces.prepare({ ...base, taskId: `a${round}` });
        first.push(performance.now() - t);
        t = performance.now();
        const b = await workspaces.prepare({ ...base, taskId: `b${round}` });
        second.push(performance.now() - t);
        await workspaces.dispose(a);
        await workspaces.dispose(b);
        t = performance.now();
        await execFileP('git', ['clone', '--quiet', cloneUrl, join(root, 'plain')], {
          env: { ...process.env, ...gitAuthEnv(token), GIT_TERMINAL_PROMPT: '0' },
        });
        plain.push(performance.now() - t);
        await writeFile(join(root, 'done'), '');
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    }
  } finally {
    await gh.close();
  }
  const median = (xs: number[]) =>
    percentile(
      [...xs].sort((x, y) => x - y),
      50,
    );
  const firstMs = median(first);
  const secondMs = median(second);
  const ratio = secondMs / firstMs;
  return {
    name: 'repo worktree ready: second task (mirror fetch) vs first task (mirror clone)',
    unit: 'ms (median)',
    value: Math.round(secondMs),
    baseline: Math.round(firstMs),
    ratio: Number(ratio.toFixed(3)),
    target: 'second < first (the mirror cache avoids a clone)',
    pass: ratio < 1,
    details: {
      rounds: ROUNDS,
      files: Object.keys(files).length,
      firstMs: first.map(Math.round),
      secondMs: second.map(Math.round),
      plainGitCloneMs: Math.round(median(plain)),
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await run(), null, 2));
}
