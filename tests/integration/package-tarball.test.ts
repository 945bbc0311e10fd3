/**
 * The package as a user gets it: `npm pack` (which builds through `prepack`), the tarball
 * installed into a fresh prefix without dev dependencies, and the installed `devbot` run for real:
 * --help, migrate on a fresh PGlite data directory, start, a token, one shell task through the API,
 * then SIGTERM. Installing needs the npm registry (the tarball's dependencies); the test is skipped,
 * saying so, when the registry cannot be reached.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cleanEnv,
  freePort,
  REPO_ROOT,
  type RunningCli,
  runCli,
  startCli,
  stopAllCli,
} from '../helpers/cli-process.js';
import { removeDir, TEST_REDIS_URL, tempDir, uniquePrefix } from '../helpers/test-env.js';

const exec = promisify(execFile);
const npmEnv = cleanEnv();

async function registryReachable(): Promise<string | null> {
  try {
    const { stdout } = await exec('npm', ['config', 'get', 'registry'], { env: npmEnv, timeout: 15_000 });
    const registry = stdout.trim();
    const res = await fetch(registry, { signal: AbortSignal.timeout(5000) });
    return res.ok ? null : `the npm registry ${registry} answered ${res.status}`;
  } catch (err) {
    return `the npm registry cannot be reached (${(err as Error).message})`;
  }
}

const unreachable = await registryReachable();
const dirs: string[] = [];
afterAll(async () => {
  await stopAllCli();
  for (const dir of dirs) removeDir(dir);
});

describe.skipIf(unreachable !== null)(
  `the packed tarball${unreachable ? ` (skipped: ${unreachable})` : ''}`,
  () => {
    it('installs without dev dependencies and runs --help, migrate, start and a shell task', async () => {
      const packDir = tempDir('devbot-pack-');
      const prefix = tempDir('devbot-prefix-');
      const dataDir = tempDir('devbot-pkg-data-');
      dirs.push(packDir, prefix, dataDir);

      // npm pack runs prepack (the build) and writes devbot-<version>.tgz.
      await exec('npm', ['pack', '--pack-destination', packDir], {
        cwd: REPO_ROOT,
        env: npmEnv,
        timeout: 120_000,
      });
      const tarball = readdirSync(packDir).find((f) => f.endsWith('.tgz'));
      expect(tarball).toBeDefined();
      const tarballPath = join(packDir, tarball ?? '');
      const { stdout: listing } = await exec('tar', ['tzf', tarballPath]);
      const files = listing.split('\n').filter(Boolean);
      // The build with its assets; no tests, benches or TypeScript sources.
      expect(files).toEqual(
        expect.arrayContaining([
          'package/bin/devbot.js',
          'package/dist/src/main.js',
          'package/dist/src/store/migrations/001_tasks.sql',
          // The embedded database's worker thread: plain JavaScript, copied by the build.
          'package/dist/src/store/pglite-worker.mjs',
          'package/dist/agents/prompts/coder.md',
          'package/.env.example',
        ]),
      );
      expect(files.filter((f) => /^package\/(tests|bench|src|scripts)\//.test(f))).toEqual([]);
      expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);

      await exec(
        'npm',
        [
          'install',
          '--prefix',
          prefix,
          tarballPath,
          '--omit=dev',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
        ],
        { cwd: prefix, env: npmEnv, timeout: 120_000 },
      );
      const bin = join(prefix, 'node_modules', '.bin', 'devbot');
      // Proof that nothing runs through tsx: the dev dependency is not there.
      expect(existsSync(join(prefix, 'node_modules', 'tsx'))).toBe(false);

      const help = await runCli(['--help'], { bin, cwd: prefix, env: cleanEnv() });
      expect(help.stderr).toBe('');
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/start/);
      expect(help.stdout).toMatch(/migrate/);

      const port = await freePort();
      const env = cleanEnv({
        DEVBOT_DATA_DIR: dataDir,
        REDIS_URL: TEST_REDIS_URL,
        DEVBOT_QUEUE_PREFIX: uniquePrefix(),
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_FORMAT: 'json',
      });
      const migrated = await runCli(['migrate'], { bin, cwd: prefix, env });
      expect(migrated.stderr).toBe('');
      expect(migrated.code).toBe(0);
      expect(migrated.stdout).toMatch(/migrations: \d+ applied/);

      const devbot: RunningCli = startCli(['start'], { bin, cwd: prefix, env });
      const [, url] = await devbot.waitFor(/listening on (http:\/\/\S+)/, 60_000);

      const token = await runCli(['token', '--user', 'alice'], { bin, cwd: prefix, env });
      expect(token.code).toBe(0);
      const auth = { authorization: `Bearer ${token.stdout.trim()}`, 'content-type': 'application/json' };
      const created = await fetch(`${url}/tasks`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ kind: 'shell', command: 'echo hi' }),
      });
      expect(created.status).toBe(202);
      const { id } = (await created.json()) as { id: string };
      let task: { status: string; events: { type: string; data: { text?: string } }[] } | undefined;
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const res = await fetch(`${url}/tasks/${id}`, { headers: auth });
        task = (await res.json()) as NonNullable<typeof task>;
        if (['succeeded', 'failed', 'cancelled'].includes(task.status)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(task?.status, JSON.stringify(task)).toBe('succeeded');
      const output = task?.events
        .filter((e) => e.type === 'output')
        .map((e) => e.data.text)
        .join('');
      expect(output).toContain('hi');

      const ended = await devbot.stop(15_000);
      expect(ended).toEqual({ code: 0, signal: null });
    }, 240_000);
  },
);
