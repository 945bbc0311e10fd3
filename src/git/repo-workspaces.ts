/**
 * Host-side git for repo tasks (DESIGN.md §4): a bare mirror cache per repository, fetched before
 * each task so a second task on the same repo does not clone again, and a detached worktree per
 * task. Worktrees never create local branches: commits are pushed as `HEAD:refs/heads/<branch>`,
 * so concurrent tasks and mirror fetches never fight over refs.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type SimpleGit, simpleGit } from 'simple-git';
import { DevbotError, NotFoundError } from '../core/errors.js';
import type { Logger } from '../observability/logger.js';
import { GIT_AUTH_ENV_KEYS, gitAuthEnv } from './git-auth.js';

export interface RepoRef {
  owner: string;
  repo: string;
  /** HTTPS clone URL without credentials (GitHub's `clone_url`). */
  cloneUrl: string;
}

export interface PrepareOptions extends RepoRef {
  taskId: string;
  /** Installation token for fetch; used for this process only, never stored. */
  token: string;
  /** Branch to start from (the default branch, or the PR branch for a follow-up). */
  baseBranch: string;
  /** Prefer this branch when it exists on the remote (a re-run of the same issue continues it). */
  preferBranch?: string;
}

export interface CommitIdentity {
  name: string;
  email: string;
}

export interface CommitOptions {
  message: string;
  author: CommitIdentity;
  /** Trailer lines appended to the message (e.g. `Co-authored-by: ...`). */
  trailers?: string[];
}

export class GitError extends DevbotError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('git', message, options);
  }
}

const BASE_ENV = (): Record<string, string> => {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C',
  };
  if (process.env['GIT_SSL_CAINFO']) env['GIT_SSL_CAINFO'] = process.env['GIT_SSL_CAINFO'];
  return env;
};

function gitAt(dir: string, env: Record<string, string> = {}): SimpleGit {
  return simpleGit({
    baseDir: dir,
    allowEnvironment: [...GIT_AUTH_ENV_KEYS, 'GIT_TERMINAL_PROMPT', 'GIT_SSL_CAINFO'],
    unsafe: { allowUnsafeConfigEnvCount: true },
  }).env({ ...BASE_ENV(), ...env });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A task's checkout: apply the sandbox's diff, commit, push. */
export class Workspace {
  constructor(
    readonly dir: string,
    readonly mirrorDir: string,
    readonly ref: RepoRef,
    /** The commit the task started from. */
    readonly baseSha: string,
    /** The remote branch the worktree was based on. */
    readonly baseBranch: string,
  ) {}

  async headSha(): Promise<string> {
    return (await gitAt(this.dir).revparse(['HEAD'])).trim();
  }

  /** Writes `git archive HEAD` into `target` (no .git): what the sandbox gets. */
  async exportTo(target: string): Promise<void> {
    await mkdir(target, { recursive: true });
    await new Promise<void>((resolve, reject) => {
      const archive = spawn('git', ['archive', '--format=tar', 'HEAD'], { cwd: this.dir, env: BASE_ENV() });
      const tar = spawn('tar', ['-x', '-C', target], { stdio: ['pipe', 'ignore', 'pipe'] });
      archive.stdout.pipe(tar.stdin);
      let stderr = '';
      tar.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      archive.on('error', reject);
      tar.on('error', reject);
      tar.on('close', (code) =>
        code === 0 ? resolve() : reject(new GitError(`exporting the worktree failed: ${stderr}`)),
      );
    });
  }

  /**
   * Applies a `git diff --binary` patch to the index and worktree; returns the changed paths.
   * An empty patch changes nothing.
   */
  async applyPatch(patch: string): Promise<string[]> {
    if (patch.trim() === '') return [];
    const file = `${this.dir}.patch`;
    await writeFile(file, patch.endsWith('\n') ? patch : `${patch}\n`);
    try {
      await gitAt(this.dir).raw(['apply', '--index', '--binary', '--whitespace=nowarn', file]);
    } catch (err) {
      throw new GitError(`the sandbox's changes do not apply to ${this.ref.owner}/${this.ref.repo}`, {
        cause: err,
      });
    } finally {
      await rm(file, { force: true });
    }
    return this.stagedPaths();
  }

  async stagedPaths(): Promise<string[]> {
    const out = await gitAt(this.dir).raw(['diff', '--cached', '--name-only', '--no-renames', '-z']);
    return out.split('\0').filter(Boolean);
  }

  /** Commits what is staged; returns the new sha, or null when nothing is staged. */
  async commit(options: CommitOptions): Promise<string | null> {
    if ((await this.stagedPaths()).length === 0) return null;
    const trailers = options.trailers?.length ? `\n\n${options.trailers.join('\n')}` : '';
    const g = gitAt(this.dir, {});
    await g.raw([
      '-c',
      `user.name=${options.author.name}`,
      '-c',
      `user.email=${options.author.email}`,
      '-c',
      'commit.gpgsign=false',
      'commit',
      '-q',
      '--no-verify',
      '-m',
      options.message + trailers,
    ]);
    return this.headSha();
  }

  /** Pushes HEAD to `refs/heads/<branch>` with the token in this process's env only. */
  async push(branch: string, token: string): Promise<void> {
    try {
      await gitAt(this.dir, gitAuthEnv(token)).raw([
        'push',
        '--porcelain',
        this.ref.cloneUrl,
        `HEAD:refs/heads/${branch}`,
      ]);
    } catch (err) {
      throw new GitError(`pushing ${branch} to ${this.ref.owner}/${this.ref.repo} failed`, {
        cause: scrubGitError(err, token),
      });
    }
  }
}

/** git error texts can quote the remote's answer; keep the token out of them all the same. */
function scrubGitError(err: unknown, token: string): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(message.split(token).join('[redacted]'));
}

export interface RepoWorkspacesOptions {
  /** `<dataDir>/git`: mirrors/ and worktrees/ live below it. */
  root: string;
  logger?: Logger;
}

export class RepoWorkspaces {
  readonly #locks = new Map<string, Promise<unknown>>();
  constructor(private readonly options: RepoWorkspacesOptions) {}

  mirrorPath(owner: string, repo: string): string {
    return join(this.options.root, 'mirrors', safeSegment(owner), `${safeSegment(repo)}.git`);
  }

  worktreePath(taskId: string): string {
    return join(this.options.root, 'worktrees', safeSegment(taskId));
  }

  /** Mirror (clone once, fetch after) then a fresh detached worktree for the task. */
  async prepare(options: PrepareOptions): Promise<Workspace> {
    const mirror = this.mirrorPath(options.owner, options.repo);
    const dir = this.worktreePath(options.taskId);
    return this.#serialized(mirror, async () => {
      await this.#syncMirror(mirror, options);
      const g = gitAt(mirror);
      let base = options.baseBranch;
      if (options.preferBranch && (await this.#hasRemoteBranch(g, options.preferBranch)))
        base = options.preferBranch;
      if (!(await this.#hasRemoteBranch(g, base)))
        throw new NotFoundError(`branch ${base} does not exist in ${options.owner}/${options.repo}`);
      // A previous attempt of the same task may have left its worktree behind.
      if (await exists(dir)) await this.#removeWorktree(mirror, dir);
      await mkdir(dirname(dir), { recursive: true });
      await g.raw(['worktree', 'add', '--detach', '--quiet', dir, `refs/remotes/origin/${base}`]);
      const baseSha = (await gitAt(dir).revparse(['HEAD'])).trim();
      return new Workspace(dir, mirror, options, baseSha, base);
    });
  }

  async remoteBranchExists(owner: string, repo: string, branch: string): Promise<boolean> {
    return this.#hasRemoteBranch(gitAt(this.mirrorPath(owner, repo)), branch);
  }

  async dispose(workspace: Workspace): Promise<void> {
    await this.#serialized(workspace.mirrorDir, () =>
      this.#removeWorktree(workspace.mirrorDir, workspace.dir),
    );
  }

  async #removeWorktree(mirror: string, dir: string): Promise<void> {
    try {
      await gitAt(mirror).raw(['worktree', 'remove', '--force', dir]);
    } catch {
      await rm(dir, { recursive: true, force: true });
      await gitAt(mirror)
        .raw(['worktree', 'prune'])
        .catch(() => {});
    }
  }

  async #hasRemoteBranch(g: SimpleGit, branch: string): Promise<boolean> {
    // simple-git resolves a failing command that printed nothing, so look at the output.
    const out = await g
      .raw(['rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch}^{commit}`])
      .catch(() => '');
    return /^[0-9a-f]{40,64}$/.test(out.trim());
  }

  async #syncMirror(mirror: string, options: PrepareOptions): Promise<void> {
    const started = performance.now();
    const fresh = !(await exists(join(mirror, 'HEAD')));
    if (fresh) {
      await mkdir(mirror, { recursive: true });
      await gitAt(mirror).raw(['init', '--bare', '--quiet']);
      // Remote-tracking refs only: local branches (none) are never pruned under a worktree.
      await gitAt(mirror).raw(['remote', 'add', 'origin', options.cloneUrl]);
      await gitAt(mirror).raw(['config', 'remote.origin.fetch', '+refs/heads/*:refs/remotes/origin/*']);
    } else {
      // The clone URL may change (repo renamed, GHES host moved); it never holds credentials.
      await gitAt(mirror).raw(['remote', 'set-url', 'origin', options.cloneUrl]);
    }
    try {
      await gitAt(mirror, gitAuthEnv(options.token)).raw(['fetch', '--quiet', '--prune', 'origin']);
    } catch (err) {
      if (fresh) await rm(mirror, { recursive: true, force: true });
      throw new GitError(`fetching ${options.owner}/${options.repo} failed`, {
        cause: scrubGitError(err, options.token),
      });
    }
    this.options.logger?.debug(
      { repo: `${options.owner}/${options.repo}`, fresh, ms: Math.round(performance.now() - started) },
      fresh ? 'mirror cloned' : 'mirror fetched',
    );
  }

  /** One git operation at a time per mirror in this process (fetch and worktree add share refs). */
  #serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(fn);
    const tail = run.catch(() => {});
    this.#locks.set(key, tail);
    void tail.then(() => {
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    });
    return run;
  }
}

function safeSegment(value: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(value) || value === '.' || value === '..')
    throw new GitError(`unsafe path segment: ${JSON.stringify(value)}`);
  return value;
}
