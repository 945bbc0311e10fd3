/**
 * Host-side git for repo tasks (DESIGN.md §4): a bare mirror cache per repository, fetched before
 * each task so a second task on the same repo does not clone again, and a detached worktree per
 * task. Worktrees never create local branches: commits are pushed as `HEAD:refs/heads/<branch>`,
 * so concurrent tasks and mirror fetches never fight over refs.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type CommitIdentity,
  type CommitOptions,
  DevbotError,
  NotFoundError,
  type PrepareWorkspace,
  type StagedChange,
  type TaskWorkspace,
  type Workspaces,
} from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import { withDirLock } from './dir-lock.js';
import { gitAuthEnv } from './git-auth.js';
import { baseGitEnv, runGit } from './run-git.js';

export type { CommitIdentity, CommitOptions };

/** The repository a checkout belongs to. */
interface RepoRef {
  owner: string;
  repo: string;
  /** Clone URL without credentials. */
  cloneUrl: string;
}

export class GitError extends DevbotError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('git', message, options);
  }
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
export class Workspace implements TaskWorkspace {
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
    return (await runGit(['rev-parse', 'HEAD'], { cwd: this.dir })).trim();
  }

  async exportSeed(): Promise<string> {
    const target = `${this.dir}.seed`;
    await rm(target, { recursive: true, force: true });
    await this.exportTo(target);
    return target;
  }

  async readTrustedFile(branch: string, path: string, maxBytes: number): Promise<string | null> {
    // ls-tree names the entry's mode and type: only a regular file (100644 or 100755) is read,
    // never a symlink (120000) or a submodule, so nothing can point the host at another file.
    const entry = await runGit(['ls-tree', '-z', `refs/remotes/origin/${branch}`, '--', path], {
      cwd: this.mirrorDir,
    }).catch(() => '');
    const [, mode, type, oid] = /^(\d{6}) (\w+) ([0-9a-f]{40,64})\t/.exec(entry) ?? [];
    if (type !== 'blob' || !oid || !['100644', '100755'].includes(mode ?? '')) return null;
    const size = Number((await runGit(['cat-file', '-s', oid], { cwd: this.mirrorDir })).trim());
    if (!Number.isFinite(size) || size > maxBytes)
      throw new GitError(`${path} is larger than ${maxBytes} bytes`);
    return runGit(['cat-file', 'blob', oid], { cwd: this.mirrorDir });
  }

  /** Writes `git archive HEAD` into `target` (no .git). */
  async exportTo(target: string): Promise<void> {
    await mkdir(target, { recursive: true });
    await new Promise<void>((resolve, reject) => {
      const archive = spawn('git', ['archive', '--format=tar', 'HEAD'], { cwd: this.dir, env: baseGitEnv() });
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
      await runGit(['apply', '--index', '--binary', '--whitespace=nowarn', file], { cwd: this.dir });
    } catch (err) {
      throw new GitError(`the sandbox's changes do not apply to ${this.ref.owner}/${this.ref.repo}`, {
        cause: err,
      });
    } finally {
      await rm(file, { force: true });
    }
    return this.stagedPaths();
  }

  async stagedChanges(): Promise<StagedChange[]> {
    // `:old new oldsha newsha status\0path\0` per entry.
    const out = await runGit(['diff', '--cached', '--raw', '--no-renames', '-z', '--abbrev=64'], {
      cwd: this.dir,
    });
    const fields = out.split('\0');
    const changes: StagedChange[] = [];
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const [, mode = '', , oid = ''] = (fields[i] ?? '').slice(1).split(' ');
      const path = fields[i + 1] ?? '';
      if (!path) continue;
      const change: StagedChange = { path, mode };
      if (mode === '120000')
        change.linkTarget = (
          await runGit(['cat-file', 'blob', oid], { cwd: this.dir, maxOutputBytes: 4096 })
        ).trimEnd();
      changes.push(change);
    }
    return changes;
  }

  async stagedPaths(): Promise<string[]> {
    const out = await runGit(['diff', '--cached', '--name-only', '--no-renames', '-z'], { cwd: this.dir });
    return out.split('\0').filter(Boolean);
  }

  /** Commits what is staged; returns the new sha, or null when nothing is staged. */
  async commit(options: CommitOptions): Promise<string | null> {
    if ((await this.stagedPaths()).length === 0) return null;
    const trailers = options.trailers?.length ? `\n\n${options.trailers.join('\n')}` : '';
    await runGit(
      [
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
      ],
      { cwd: this.dir },
    );
    return this.headSha();
  }

  /** Pushes HEAD to `refs/heads/<branch>` with the token in this process's env only. */
  async push(branch: string, token: string | undefined): Promise<void> {
    try {
      await runGit(['push', '--porcelain', this.ref.cloneUrl, `HEAD:refs/heads/${branch}`], {
        cwd: this.dir,
        env: gitAuthEnv(token),
      });
    } catch (err) {
      throw new GitError(`pushing ${branch} to ${this.ref.owner}/${this.ref.repo} failed`, {
        cause: scrubGitError(err, token),
      });
    }
  }
}

/** git error texts can quote the remote's answer; keep the token out of them all the same. */
function scrubGitError(err: unknown, token: string | undefined): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(token ? message.split(token).join('[redacted]') : message);
}

export interface RepoWorkspacesOptions {
  /** `<dataDir>/git`: mirrors/ and worktrees/ live below it. */
  root: string;
  logger?: Logger;
}

export class RepoWorkspaces implements Workspaces {
  readonly #locks = new Map<string, Promise<unknown>>();
  constructor(private readonly options: RepoWorkspacesOptions) {}

  mirrorPath(owner: string, repo: string): string {
    return join(this.options.root, 'mirrors', safeSegment(owner), `${safeSegment(repo)}.git`);
  }

  worktreePath(taskId: string): string {
    return join(this.options.root, 'worktrees', safeSegment(taskId));
  }

  /** Mirror (clone once, fetch after) then a fresh detached worktree for the task. */
  async prepare(options: PrepareWorkspace): Promise<Workspace> {
    const mirror = this.mirrorPath(options.owner, options.repo);
    const dir = this.worktreePath(options.taskId);
    return this.#serialized(mirror, async () => {
      await this.#syncMirror(mirror, options);
      let base = options.baseBranch;
      if (options.preferBranch && (await this.#hasRemoteBranch(mirror, options.preferBranch)))
        base = options.preferBranch;
      if (!(await this.#hasRemoteBranch(mirror, base)))
        throw new NotFoundError(`branch ${base} does not exist in ${options.owner}/${options.repo}`);
      // A previous attempt of the same task may have left its worktree behind.
      if (await exists(dir)) await this.#removeWorktree(mirror, dir);
      await mkdir(dirname(dir), { recursive: true });
      let start = `refs/remotes/origin/${base}`;
      if (options.commit !== undefined) {
        if (!/^[0-9a-f]{7,64}$/.test(options.commit))
          throw new NotFoundError(`not a commit: ${options.commit}`);
        const ok = await runGit(['cat-file', '-e', `${options.commit}^{commit}`], { cwd: mirror }).then(
          () => true,
          () => false,
        );
        if (!ok)
          throw new NotFoundError(`commit ${options.commit} is not in ${options.owner}/${options.repo}`);
        start = options.commit;
      }
      await runGit(['worktree', 'add', '--detach', '--quiet', dir, start], { cwd: mirror });
      const baseSha = (await runGit(['rev-parse', 'HEAD'], { cwd: dir })).trim();
      return new Workspace(dir, mirror, options, baseSha, base);
    });
  }

  async remoteBranchExists(owner: string, repo: string, branch: string): Promise<boolean> {
    return this.#hasRemoteBranch(this.mirrorPath(owner, repo), branch);
  }

  async dispose(workspace: TaskWorkspace): Promise<void> {
    if (!(workspace instanceof Workspace)) throw new GitError('not a workspace of this RepoWorkspaces');
    await this.#serialized(workspace.mirrorDir, () =>
      this.#removeWorktree(workspace.mirrorDir, workspace.dir),
    );
  }

  async #removeWorktree(mirror: string, dir: string): Promise<void> {
    try {
      await runGit(['worktree', 'remove', '--force', dir], { cwd: mirror });
    } catch {
      await rm(dir, { recursive: true, force: true });
      await runGit(['worktree', 'prune'], { cwd: mirror }).catch(() => {});
    }
  }

  async #hasRemoteBranch(mirror: string, branch: string): Promise<boolean> {
    const out = await runGit(['rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch}^{commit}`], {
      cwd: mirror,
    }).catch(() => '');
    return /^[0-9a-f]{40,64}$/.test(out.trim());
  }

  async #syncMirror(mirror: string, options: PrepareWorkspace): Promise<void> {
    const started = performance.now();
    const fresh = !(await exists(join(mirror, 'HEAD')));
    if (fresh) {
      await mkdir(mirror, { recursive: true });
      await runGit(['init', '--bare', '--quiet'], { cwd: mirror });
      // Remote-tracking refs only: local branches (none) are never pruned under a worktree.
      await runGit(['remote', 'add', 'origin', options.cloneUrl], { cwd: mirror });
      await runGit(['config', 'remote.origin.fetch', '+refs/heads/*:refs/remotes/origin/*'], { cwd: mirror });
    } else {
      // The clone URL may change (repo renamed, GHES host moved); it never holds credentials.
      await runGit(['remote', 'set-url', 'origin', options.cloneUrl], { cwd: mirror });
    }
    try {
      await runGit(['fetch', '--quiet', '--prune', 'origin'], {
        cwd: mirror,
        env: gitAuthEnv(options.token),
      });
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

  /**
   * One git operation at a time per mirror (fetch and worktree add share refs): queued in this
   * process, and locked against the other devbot processes on this host sharing the data dir.
   */
  #serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const run = previous
      .catch(() => {})
      .then(async () => {
        await mkdir(dirname(key), { recursive: true });
        return withDirLock(`${key}.lock`, fn);
      });
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
