/**
 * The `devbot` command line, run for real: `node bin/devbot.js ...` in a child process, as a user
 * types it. Help and version, usage errors (exit 2, with the usage), runtime errors (one line
 * saying what to fix, exit 1, a stack trace only with LOG_LEVEL=debug), .env files, `devbot token`
 * refusing to invent a secret, and `devbot start` itself: loopback by default, a summary of what
 * is on, readable logs on request, a clean stop on SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, REPO_ROOT, runCli, startCli, stopAllCli } from '../helpers/cli-process.js';
import { removeDir, TEST_REDIS_URL, tempDir, uniquePrefix } from '../helpers/test-env.js';

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
const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
const STACK = /^\s+at /m;

describe('devbot help and usage', () => {
  it('prints help for the program and for each command, and the version, without running anything', async () => {
    const top = await runCli(['--help'], { cwd: empty });
    expect(top).toMatchObject({ code: 0, stderr: '' });
    for (const command of ['start', 'migrate', 'token', 'doctor', 'memory'])
      expect(top.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));

    for (const [args, shows] of [
      [['start', '--help'], /--role <role>/],
      [
        ['token', '--help'],
        /--user <name>[\s\S]*--ttl <duration>[\s\S]*--admin[\s\S]*--list[\s\S]*--revoke <id>/,
      ],
      [['migrate', '--help'], /apply database migrations/],
      [['doctor', '--help'], /--json[\s\S]*--role <role>/],
      [['memory', '--help'], /list[\s\S]*search[\s\S]*forget/],
      [['memory', 'search', '--help'], /<query\.\.\.>/],
      [['help', 'token'], /--user <name>/],
    ] as const) {
      const res = await runCli(args, { cwd: empty });
      expect(res.code, args.join(' ')).toBe(0);
      expect(res.stdout, args.join(' ')).toMatch(shows);
      expect(res.stderr, args.join(' ')).toBe('');
    }
    // `migrate --help` used to apply the migrations: nothing may have been created.
    expect(existsSync(join(empty, '.devbot'))).toBe(false);

    for (const flag of ['--version', '-v']) {
      const res = await runCli([flag], { cwd: empty });
      expect(res).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  }, 90_000);

  it('answers a wrong command line with what is wrong and the usage, exit 2', async () => {
    for (const [args, says] of [
      [[], /Usage: devbot/],
      [['nope'], /unknown command 'nope'/],
      [['start', '--role', 'nope'], /--role <role>' argument 'nope' is invalid/],
      [['start', 'extra'], /too many arguments/],
      [['token'], /give one of --user NAME, --list or --revoke ID/],
      [['token', '--user', 'a b'], /--user must be/],
      [['token', '--user', 'alice', '--ttl', 'soon'], /must be seconds \(3600\), 90m, 12h, 30d/],
      [['doctor', '--role', 'nope'], /Allowed choices are all, gateway, worker, bot/],
      [['memory'], /Usage: devbot memory/],
      [['memory', 'list', '--kind', 'nope'], /--kind must be a memory kind/],
      [['memory', 'forget'], /forget needs --id, --repo or --task/],
    ] as const) {
      const res = await runCli(args, { cwd: empty });
      const what = `devbot ${args.join(' ')}`;
      expect(res.code, what).toBe(2);
      expect(res.stdout, what).toBe('');
      expect(res.stderr, what).toMatch(says);
      expect(res.stderr, what).toMatch(/Usage: devbot/);
      expect(res.stderr, what).not.toMatch(STACK);
    }
  }, 120_000);
});

describe('bin/devbot.js', () => {
  /** A copy of the launcher next to a src/main.ts and a dist/src/main.js that say which ran. */
  function layout(options: { checkout: boolean; tsx: boolean; build: boolean }): string {
    const root = dir('devbot-launcher-');
    mkdirSync(join(root, 'bin'));
    writeFileSync(join(root, 'bin', 'devbot.js'), readFileSync(join(REPO_ROOT, 'bin', 'devbot.js')));
    writeFileSync(join(root, 'package.json'), '{"type":"module"}');
    mkdirSync(join(root, 'src'));
    // Type annotations: only tsx can run this file.
    writeFileSync(join(root, 'src', 'main.ts'), "const ran: string = 'sources';\nconsole.log(ran);\n");
    if (options.checkout) writeFileSync(join(root, 'tsconfig.json'), '{}');
    if (options.build) {
      mkdirSync(join(root, 'dist', 'src'), { recursive: true });
      writeFileSync(join(root, 'dist', 'src', 'main.js'), "console.log('build');\n");
    }
    if (options.tsx) symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
    return join(root, 'bin', 'devbot.js');
  }

  it('runs the sources in a checkout even when a build exists, and the build when installed', async () => {
    // A checkout with an old build lying around: the sources win, so an edit is never ignored.
    const checkout = await runCli([], {
      bin: layout({ checkout: true, tsx: true, build: true }),
      cwd: empty,
    });
    expect(checkout).toMatchObject({ code: 0, stdout: 'sources\n', stderr: '' });
    // An installed package (no tsconfig.json): the build.
    const installed = await runCli([], {
      bin: layout({ checkout: false, tsx: true, build: true }),
      cwd: empty,
    });
    expect(installed).toMatchObject({ code: 0, stdout: 'build\n', stderr: '' });
    // A checkout installed without dev dependencies: the build it has, and a note why.
    const noTsx = await runCli([], { bin: layout({ checkout: true, tsx: false, build: true }), cwd: empty });
    expect(noTsx).toMatchObject({ code: 0, stdout: 'build\n' });
    expect(noTsx.stderr).toMatch(/running the build in dist\/ because tsx is not installed/);
    // Nothing it can run: one line saying what to do.
    const nothing = await runCli([], {
      bin: layout({ checkout: true, tsx: false, build: false }),
      cwd: empty,
    });
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/^devbot: cannot run: .*run `npm install`/);
  }, 60_000);
});

describe('devbot token', () => {
  it('refuses to invent a secret where there is no data directory, and says where it looked', async () => {
    const res = await runCli(['token', '--user', 'alice'], { cwd: empty });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain(`no devbot data directory at ${join(empty, '.devbot')}`);
    expect(res.stderr).toMatch(/set DEVBOT_DATA_DIR/);
    // Nothing was generated: the next devbot started here is not handed a secret nobody uses.
    expect(existsSync(join(empty, '.devbot'))).toBe(false);

    const withSecret = await runCli(['token', '--user', 'alice', '--admin', '--ttl', '60'], {
      cwd: empty,
      env: cleanEnv({ DEVBOT_JWT_SECRET: randomBytes(32).toString('hex') }),
    });
    expect(withSecret.code).toBe(0);
    expect(withSecret.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  }, 30_000);
});

describe('.env', () => {
  // `devbot token` fails fast and names the data directory it looked at: a cheap probe of which
  // settings won.
  const lookedAt = (stderr: string) => /no devbot data directory at (\S+),/.exec(stderr)?.[1];

  it('reads .env from the working directory; the environment wins; DEVBOT_ENV_FILE names another file', async () => {
    const cwd = dir('devbot-cli-env-');
    writeFileSync(
      join(cwd, '.env'),
      '# devbot settings\nexport DEVBOT_DATA_DIR=/nonexistent/from-dotenv   # a comment\n\nLOG_LEVEL="info"\n',
    );
    writeFileSync(join(cwd, 'other.env'), "DEVBOT_DATA_DIR='/nonexistent/from-other'\n");

    expect(lookedAt((await runCli(['token', '--user', 'a'], { cwd })).stderr)).toBe(
      '/nonexistent/from-dotenv',
    );
    const envWins = await runCli(['token', '--user', 'a'], {
      cwd,
      env: cleanEnv({ DEVBOT_DATA_DIR: '/nonexistent/from-env' }),
    });
    expect(lookedAt(envWins.stderr)).toBe('/nonexistent/from-env');
    const other = await runCli(['token', '--user', 'a'], {
      cwd,
      env: cleanEnv({ DEVBOT_ENV_FILE: 'other.env' }),
    });
    expect(lookedAt(other.stderr)).toBe('/nonexistent/from-other');

    const missing = await runCli(['token', '--user', 'a'], {
      cwd,
      env: cleanEnv({ DEVBOT_ENV_FILE: 'missing.env' }),
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/DEVBOT_ENV_FILE: .*missing\.env does not exist/);
  }, 60_000);

  it('stops at a malformed line, naming its number and never its content', async () => {
    const cwd = dir('devbot-cli-env-bad-');
    writeFileSync(join(cwd, '.env'), 'PORT=3000\n\nthis line is a secret-looking mistake\nHOST=127.0.0.1\n');
    const res = await runCli(['start'], { cwd });
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/\.env line 3: expected NAME=value/);
    expect(res.stderr).not.toContain('secret-looking');
    // Help still works with a broken .env: it is what explains how to fix it.
    expect((await runCli(['start', '--help'], { cwd })).code).toBe(0);
  }, 30_000);
});

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
      // A sandbox that cannot work here: the gateway does not care.
      env: env({ PATH: '/nonexistent' }),
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
