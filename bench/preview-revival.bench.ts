/**
 * Revived preview (DESIGN.md §7: within 2x its raw baseline): from opening an expired dev-task
 * preview link to its page being served (rebuilt from the commit: mirror fetch, worktree, sandbox,
 * preview command, port) against a fresh shell-task preview of the same command (POST /tasks to
 * the page being served), on one devbot with local repositories, in the same run.
 *
 *   npx tsx bench/preview-revival.bench.ts
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type AgentResult, type RunAgent, waitForPort } from '../src/core/index.js';
import { SqlSubjectAccess } from '../src/store/sql-subject-access.js';
import { startTestDevbot } from '../tests/helpers/test-devbot.js';
import { taskEnded, waitFor } from '../tests/helpers/test-env.js';
import type { BenchResult } from './lib.js';

const execFileP = promisify(execFile);
const PREVIEW = 'python3 -m http.server 8000';
const ROUNDS = Number(process.env['DEVBOT_BENCH_ITERATIONS'] ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const agentWithPreview: RunAgent = async (ctx, sandbox): Promise<AgentResult> => {
  const proc = await sandbox.execBackground(PREVIEW, { cwd: sandbox.workdir });
  if ((await waitForPort(sandbox, 8000, { process: proc, timeoutMs: 15_000 })) !== 'open')
    throw new Error('the preview did not come up');
  const url = await sandbox.exposePort(8000);
  await ctx.emit('preview_ready', { url, port: 8000 });
  await sandbox.exec(`echo ${ctx.task.id} > changed.txt`, { cwd: sandbox.workdir });
  return { summary: 'changed', preview: { url, port: 8000, command: PREVIEW } };
};

export async function run(): Promise<BenchResult[]> {
  const reposDir = mkdtempSync(join(tmpdir(), 'devbot-bench-preview-'));
  const site = join(reposDir, 'site');
  mkdirSync(site);
  const git = (...args: string[]) => execFileP('git', ['-C', site, ...args]);
  await git('init', '-q', '-b', 'main');
  writeFileSync(join(site, 'index.html'), 'hello\n');
  await git('add', '.');
  await git('-c', 'user.name=Me', '-c', 'user.email=me@example.com', 'commit', '-qm', 'first');
  const devbot = await startTestDevbot({
    env: { DEVBOT_REPOS_DIR: reposDir, DEVBOT_PREVIEW_TTL: '1' },
    agents: { runAgent: agentWithPreview },
  });
  try {
    await new SqlSubjectAccess(devbot.app.runtime.sql).grant('alice', 'local/*');
    const served = (url: string) =>
      waitFor(async () => (await fetch(url).catch(() => null))?.status === 200, 'the preview', 60_000);
    const revived: number[] = [];
    const fresh: number[] = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      const res = await devbot.api.createTask({ kind: 'dev', repo: 'local/site', prompt: `change ${i}` });
      const done = await taskEnded(devbot.app.runtime.store, res.body.id as string, 60_000);
      if (done.status !== 'succeeded' || !done.previewUrl) throw new Error(`dev task: ${done.error}`);
      const url = done.previewUrl;
      await waitFor(async () => (await fetch(url)).status !== 200, 'the preview to expire', 30_000);
      let started = performance.now();
      await served(url);
      revived.push(performance.now() - started);

      started = performance.now();
      const shell = await devbot.api.createTask({ kind: 'shell', command: PREVIEW, preview: { port: 8000 } });
      const previewUrl = await waitFor(
        async () => (await devbot.api.getTask(shell.body.id)).body.previewUrl as string | null,
        'the shell preview',
        60_000,
      );
      await served(previewUrl);
      fresh.push(performance.now() - started);
    }
    const value = median(revived);
    const baseline = median(fresh);
    return [
      {
        name: 'revived preview: expired link opened -> page served',
        unit: 'ms',
        value: Math.round(value),
        baseline: Math.round(baseline),
        ratio: Math.round((value / baseline) * 100) / 100,
        target: '<= 2x a fresh shell-task preview',
        pass: value <= 2 * baseline,
        details: { rounds: ROUNDS, revived: revived.map(Math.round), fresh: fresh.map(Math.round) },
      },
    ];
  } finally {
    await devbot.stop();
    rmSync(reposDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify(await run(), null, 2)}\n`);
}
