/**
 * Runs one git command on the host and returns its stdout. A plain child process: the exit code
 * decides success, stdout and stderr are read to the end, and the child's environment is built
 * here (PATH, HOME and the caller's extra keys only), so the gateway's secrets never reach git.
 *
 * Why not simple-git: it waits an extra 50 ms after every command that prints nothing (its
 * completion detection), and most of a task's git commands are quiet (fetch --quiet, worktree
 * add, apply, commit -q). That was about a third of a task's git time (bench/task-overhead).
 */
import { spawn } from 'node:child_process';

export interface RunGitOptions {
  /** Working directory (a worktree or a bare mirror). */
  cwd: string;
  /** Extra environment for this one process (credentials through GIT_CONFIG_*). */
  env?: Record<string, string>;
  /** Kill the command after this long (default 10 minutes: a first clone of a large repo). */
  timeoutMs?: number;
  /** Fail when stdout grows past this (default 64 MiB). */
  maxOutputBytes?: number;
}

export class GitCommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'GitCommandError';
  }
}

const STDERR_KEEP = 8 * 1024;

/** The environment every host git command starts from; nothing else of ours is inherited. */
export function baseGitEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C',
  };
  if (process.env['GIT_SSL_CAINFO']) env['GIT_SSL_CAINFO'] = process.env['GIT_SSL_CAINFO'];
  return env;
}

export function runGit(args: readonly string[], options: RunGitOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const maxOutput = options.maxOutputBytes ?? 64 * 1024 * 1024;
  // Name the subcommand only: arguments can hold commit messages or paths, never worth logging.
  const what = `git ${args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? ''}`.trim();
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: { ...baseGitEnv(), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a timeout also stops the helpers git started (remote-https,
      // hooks, aliases), which would otherwise hold the pipes open.
      detached: true,
    });
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let failure: GitCommandError | null = null;
    const timer = setTimeout(() => {
      failure = new GitCommandError(`${what} took longer than ${timeoutMs} ms and was stopped`, null, stderr);
      killGroup();
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxOutput) {
        failure ??= new GitCommandError(`${what} printed more than ${maxOutput} bytes`, null, stderr);
        killGroup();
        return;
      }
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_KEEP) stderr += chunk.toString('utf8').slice(0, STDERR_KEEP - stderr.length);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(
        new GitCommandError(
          `${what} could not start in ${options.cwd}: ${err.message} (is git installed, and does the directory exist?)`,
          null,
          '',
        ),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else
        reject(
          new GitCommandError(`${what} failed (exit ${code}): ${stderr.trim() || 'no output'}`, code, stderr),
        );
    });
  });
}
