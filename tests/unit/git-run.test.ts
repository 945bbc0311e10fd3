import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitCommandError, runGit } from '../../src/git/run-git.js';
import { removeDir, tempDir } from '../helpers/test-env.js';

let dir: string;
beforeAll(async () => {
  dir = tempDir('devbot-run-git-');
  await runGit(['init', '--quiet'], { cwd: dir });
});
afterAll(() => removeDir(dir));

describe('runGit', () => {
  it('returns stdout of a command that succeeds, and empty output of a quiet one at once', async () => {
    expect((await runGit(['rev-parse', '--is-inside-work-tree'], { cwd: dir })).trim()).toBe('true');
    expect(await runGit(['config', 'devbot.test', 'yes'], { cwd: dir })).toBe('');
  });

  it('rejects a failing command with its exit code and stderr, naming only the subcommand', async () => {
    const err = await runGit(['rev-parse', '--verify', 'no-such-ref', '-m', 'private words'], {
      cwd: dir,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitCommandError);
    const e = err as GitCommandError;
    expect(e.exitCode).not.toBe(0);
    expect(e.message).toMatch(/^git rev-parse failed \(exit \d+\)/);
    expect(e.message).not.toContain('private words');
  });

  it('passes only a minimal environment plus the extra keys to git', async () => {
    process.env['DEVBOT_RUN_GIT_SECRET'] = 'do-not-leak';
    try {
      const env = await runGit(['-c', 'alias.showenv=!env', 'showenv'], {
        cwd: dir,
        env: { GIT_CONFIG_COUNT: '0' },
      });
      expect(env).not.toContain('do-not-leak');
      expect(env).toContain('GIT_CONFIG_COUNT=0');
      expect(env).toContain('GIT_TERMINAL_PROMPT=0');
    } finally {
      delete process.env['DEVBOT_RUN_GIT_SECRET'];
    }
  });

  it('stops a command that never ends, helpers included, and says so', async () => {
    const started = Date.now();
    const err = await runGit(['-c', 'alias.hang=!sleep 30', 'hang'], { cwd: dir, timeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GitCommandError);
    expect((err as Error).message).toMatch(/took longer than 300 ms and was stopped/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('stops a command that floods stdout past the limit', async () => {
    const err = await runGit(['-c', 'alias.flood=!yes', 'flood'], {
      cwd: dir,
      maxOutputBytes: 64 * 1024,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitCommandError);
    expect((err as Error).message).toMatch(/printed more than 65536 bytes/);
  });

  it('says when it cannot run at all', async () => {
    const err = await runGit(['status'], { cwd: `${dir}/missing` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitCommandError);
    expect((err as Error).message).toMatch(/could not start/);
  });
});
