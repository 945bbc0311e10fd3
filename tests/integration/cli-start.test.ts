/**
 * (Split from cli.test.ts so the two halves run in parallel.) The `devbot` command line, run for real: `node bin/devbot.js ...` in a child process, as a user
 * types it. Help and version, usage errors (exit 2, with the usage), runtime errors (one line
 * saying what to fix, exit 1, a stack trace only with LOG_LEVEL=debug), .env files, `devbot token`
 * refusing to invent a secret, and `devbot start` itself: loopback by default, a summary of what
 * is on, readable logs on request, a clean stop on SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, runCli, startCli, stopAllCli } from '../helpers/cli-process.js';
import { removeDir, TEST_DATABASE_URL, TEST_REDIS_URL, tempDir, uniquePrefix } from '../helpers/test-env.js';

const dirs: string[] = [];
const dir = (prefix: string) => {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
};
afterAll(async () => {
  await stopAllCli();
  for (const d of dirs) removeDir(d);
});

/** A working directory with nothing in it: no .env, no data directory. */
const empty = dir('devbot-cli-cwd-');
const STACK = /^\s+at /m;

describe('devbot start, migrate and doctor', () => {
  const dataDir = dir('devbot-cli-data-');
  const prefix = uniquePrefix();
  const env = (extra: Record<string, string> = {}) =>
    cleanEnv({
      DEVBOT_DATA_DIR: dataDir,
      REDIS_URL: TEST_REDIS_URL,
      DEVBOT_QUEUE_PREFIX: prefix,
      LOG_FORMAT: 'json',
      ...extra,
    });

  beforeAll(async () => {
    const res = await runCli(['migrate'], { cwd: empty, env: env() });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^migrations: \d+ applied/);
  }, 90_000);

  it('says in one line what to fix when it cannot start: bad port, port in use, no database', async () => {
    // Split roles on the embedded database: refused before anything opens, naming DATABASE_URL.
    const split = await runCli(['start', '--role', 'worker'], { cwd: empty, env: env() });
    expect(split.code).toBe(1);
    expect(split.stderr).toMatch(/^devbot: --role worker needs DATABASE_URL \(a PostgreSQL .*\n$/);
    expect(split.stderr.trim().split('\n')).toHaveLength(1);

    const badPort = await runCli(['start'], { cwd: empty, env: env({ PORT: '99999' }) });
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toBe(
      'devbot: invalid configuration: PORT: must be a port number (0-65535); see .env.example\n',
    );

    const closed = await freePort();
    const noDb = await runCli(['start'], {
      cwd: empty,
      env: env({ DATABASE_URL: `postgres://postgres@127.0.0.1:${closed}/devbot` }),
    });
    expect(noDb.code).toBe(1);
    expect(noDb.stderr.trim().split('\n')).toHaveLength(1);
    expect(noDb.stderr).toMatch(
      new RegExp(`^devbot: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${closed}/devbot: .*fix DATABASE_URL`),
    );
    // The same failure with LOG_LEVEL=debug also prints where it came from.
    const debug = await runCli(['migrate'], {
      cwd: empty,
      env: env({ DATABASE_URL: `postgres://postgres@127.0.0.1:${closed}/devbot`, LOG_LEVEL: 'debug' }),
    });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/cannot reach PostgreSQL/);
    expect(debug.stderr).toMatch(STACK);

    const taken: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const inUse = await runCli(['start'], { cwd: empty, env: env({ PORT: String(port) }) });
      expect(inUse.code).toBe(1);
      expect(inUse.stderr).toBe(
        `devbot: cannot listen: 127.0.0.1:${port} is already in use (another devbot?): stop what listens there or set PORT to a free port\n`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 120_000);

  it('listens on loopback with no HOST, logs what is on, accepts its own tokens only, and stops on SIGTERM', async () => {
    const port = await freePort();
    const devbot = startCli(['start'], { cwd: empty, env: env({ PORT: String(port) }) });
    const [, url] = await devbot.waitFor(/is listening on (http:\/\/\S+)/);
    expect(url).toBe(`http://127.0.0.1:${port}`);

    // The summary: one JSON log line with each part named.
    const summary = await devbot.waitFor(/^\{.*"summary".*\}$/m);
    const line = JSON.parse(summary[0]) as { msg: string; summary: Record<string, string> };
    expect(line.summary).toMatchObject({
      store: `PGlite in ${dataDir}/pglite`,
      sandbox: 'local bubblewrap, network off',
      llm: 'off: set OPENAI_API_KEY or OPENAI_BASE_URL',
      telegram: 'off: set TELEGRAM_BOT_TOKEN',
    });
    expect(line.summary['github']).toMatch(/^off: set GITHUB_TOKEN \(token mode\) or GITHUB_APP_ID/);
    // External, or a private redis-server when the shared one is slow to answer on a busy machine.
    expect(line.summary['queue']).toMatch(
      /^redis:\/\/127\.0\.0\.1:\d+ \((external|private redis-server started by devbot)\), prefix \{t\w+\}$/,
    );
    expect(line.msg).toMatch(/^listening on .* \| store: PGlite .* \| public URL: /);

    // A token from this data directory works; one from another devbot's does not, and the
    // answer says why.
    // The running devbot holds the embedded database: the CLI records the token through its API.
    const good = await runCli(['token', '--user', 'alice'], { cwd: empty, env: env({ PORT: String(port) }) });
    expect(good.code).toBe(0);
    const id = /^token (\S+) for alice, expires (\S+);/.exec(good.stderr)?.[1];
    expect(id, good.stderr).toBeDefined();
    const otherDir = dir('devbot-cli-other-');
    mkdirSync(otherDir, { recursive: true });
    writeFileSync(join(otherDir, 'jwt-secret'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    const foreign = await runCli(['token', '--user', 'alice'], {
      cwd: empty,
      env: env({ DEVBOT_DATA_DIR: otherDir }),
    });
    expect(foreign.code).toBe(0);
    const get = (token: string) =>
      fetch(`${url}/tasks`, { headers: { authorization: `Bearer ${token.trim()}` } });
    expect((await get(good.stdout)).status).toBe(200);
    const rejected = await get(foreign.stdout);
    expect(rejected.status).toBe(401);
    expect(((await rejected.json()) as { message: string }).message).toMatch(
      /another DEVBOT_DATA_DIR or DEVBOT_JWT_SECRET/,
    );

    // Listed by id (never the token itself), then revoked: refused at the next request.
    const listed = await runCli(['token', '--list'], { cwd: empty, env: env({ PORT: String(port) }) });
    expect(listed.code, listed.stderr).toBe(0);
    const listedRow = listed.stdout.split('\n').find((line) => line.startsWith(`${id}\t`));
    expect(listedRow?.split('\t'), listed.stdout).toEqual([
      id,
      'alice',
      'tasks:read,tasks:write',
      expect.any(String),
      'valid',
    ]);
    expect(listed.stdout).not.toContain(good.stdout.trim());
    const revoked = await runCli(['token', '--revoke', id as string], {
      cwd: empty,
      env: env({ PORT: String(port) }),
    });
    expect(revoked.stdout).toMatch(/^revoked token /);
    // devbot users and devbot memory go through the running devbot's admin API too.
    const granted = await runCli(['users', 'grant', 'alice', 'acme/*'], {
      cwd: empty,
      env: env({ PORT: String(port) }),
    });
    expect(granted, granted.stderr).toMatchObject({
      code: 0,
      stdout: 'alice may now make devbot change acme/*\n',
    });
    const users = await runCli(['users', 'list'], { cwd: empty, env: env({ PORT: String(port) }) });
    expect(users, users.stderr).toMatchObject({ code: 0, stdout: 'alice\t-\tacme/*\n' });
    const forgot = await runCli(['memory', 'forget', '--repo', 'acme/web'], {
      cwd: empty,
      env: env({ PORT: String(port) }),
    });
    expect(forgot, forgot.stderr).toMatchObject({ code: 0, stdout: 'forgot 0 memories\n' });
    const refused = await get(good.stdout);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { message: string }).message).toMatch(/the token was revoked/);
    // Without the devbot's port the CLI says where it looked instead of hanging.
    const lost = await runCli(['token', '--list'], {
      cwd: empty,
      env: env({ PORT: String(await freePort()) }),
    });
    expect(lost.code).toBe(1);
    expect(lost.stderr).toMatch(
      /holds the embedded database in .* did not answer at http:\/\/127\.0\.0\.1:\d+/,
    );

    expect(await devbot.stop()).toEqual({ code: 0, signal: null });
    expect(devbot.output().stderr).toBe('');
  }, 120_000);

  it('logs readable lines with LOG_FORMAT=pretty', async () => {
    const port = await freePort();
    const devbot = startCli(['start'], {
      cwd: empty,
      env: env({ PORT: String(port), LOG_FORMAT: 'pretty' }),
    });
    await devbot.waitFor(/is listening on/);
    expect(devbot.output().stdout).toMatch(
      /INFO.*listening on http:\/\/127\.0\.0\.1:\d+ as all \| store: PGlite/,
    );
    expect(await devbot.stop()).toEqual({ code: 0, signal: null });
    const lines = devbot.output().stdout.split('\n').filter(Boolean);
    expect(lines.some((l) => l.startsWith('{'))).toBe(false);
    expect(lines.some((l) => /\bINFO\b.*devbot started/.test(l))).toBe(true);
  }, 120_000);

  it('memory list and search read the same data directory', async () => {
    const list = await runCli(['memory', 'list'], { cwd: empty, env: env() });
    expect(list).toMatchObject({ code: 0, stdout: 'no memories\n', stderr: '' });
    const search = await runCli(['memory', 'search', 'how', 'to', 'test', '--json'], {
      cwd: empty,
      env: env(),
    });
    expect(search).toMatchObject({ code: 0, stdout: '', stderr: '' });
  }, 60_000);

  it('doctor --role gateway skips what only a worker needs', async () => {
    const res = await runCli(['doctor', '--json', '--role', 'gateway'], {
      cwd: empty,
      // A sandbox that cannot work here: the gateway does not care. (Split roles share PostgreSQL.)
      env: env({ PATH: '/nonexistent', DATABASE_URL: TEST_DATABASE_URL }),
    });
    const report = JSON.parse(res.stdout) as {
      ok: boolean;
      role: string;
      checks: { name: string; status: string }[];
    };
    expect(report.role).toBe('gateway');
    expect(report.checks.find((c) => c.name === 'sandbox')?.status).toBe('skip');
    expect(report.checks.find((c) => c.name === 'git')?.status).toBe('skip');
    expect(report.ok).toBe(true);
    expect(res.code).toBe(0);

    const worker = await runCli(['doctor', '--role', 'worker'], {
      cwd: empty,
      env: env({ PATH: '/nonexistent' }),
    });
    expect(worker.code).toBe(1);
    expect(worker.stdout).toMatch(/\[FAIL\] sandbox\.bwrap\s+bubblewrap \(bwrap\) is not installed/);
  }, 60_000);
});
