/**
 * The `devbot` command line, run for real: `node bin/devbot.js ...` in a child process, as a user
 * types it. Help and version, usage errors (exit 2, with the usage), runtime errors (one line
 * saying what to fix, exit 1, a stack trace only with LOG_LEVEL=debug), .env files, `devbot token`
 * refusing to invent a secret, and `devbot start` itself: loopback by default, a summary of what
 * is on, readable logs on request, a clean stop on SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, REPO_ROOT, runCli, stopAllCli } from '../helpers/cli-process.js';
import { removeDir, tempDir } from '../helpers/test-env.js';

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
