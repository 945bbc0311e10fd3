/**
 * Repositories on the devbot host itself, under DEVBOT_REPOS_DIR: `local/<name>` is the git
 * repository `<DEVBOT_REPOS_DIR>/<name>`. devbot's work lands on a branch `devbot/…` of that
 * repository — pushed there like to any remote, so its checked-out branch, index and working tree
 * are never touched. There are no pull requests: the branch is the deliverable.
 */
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import {
  BadInputError,
  type CommitIdentity,
  type HostedRepo,
  NotFoundError,
  type PermissionVerdict,
  type RepoHost,
  type RepoRef,
} from '../core/index.js';
import { runGit } from './run-git.js';

/** The owner that names a local repository: `local/<name>`. */
export const LOCAL_OWNER = 'local';

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

export class LocalRepoHost implements RepoHost {
  readonly name = 'local';
  readonly #author: CommitIdentity = { name: 'devbot', email: 'devbot@localhost' };

  constructor(private readonly reposDir: string) {}

  async open(ref: RepoRef): Promise<HostedRepo> {
    const path = await this.resolve(ref);
    // The branch the repository has checked out is where devbot starts from and what it leaves alone.
    const head = (
      await runGit(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: path }).catch(() => '')
    ).trim();
    if (!head) throw new BadInputError(`local/${ref.name} has no branch checked out (a detached HEAD)`);
    return {
      fullName: `${LOCAL_OWNER}/${ref.name}`,
      commitAuthor: this.#author,
      defaultBranch: head,
      cloneUrl: path,
      pushToken: async () => undefined,
      branchHint: (branch, base) => `git -C ${path} log -p ${base}..${branch}`,
      async replyInThread() {},
      // Local repositories have no accounts: people reach them through an operator's grant.
      permissionOf: async (): Promise<PermissionVerdict> => ({ allowed: false, role: 'none' }),
    };
  }

  async check(ref: RepoRef): Promise<void> {
    await this.resolve(ref);
  }

  /**
   * `<reposDir>/<name>`, refused when the name could leave the directory (`..`, a slash), when a
   * symlink leads out of it, or when it is not a git repository.
   */
  async resolve(ref: RepoRef): Promise<string> {
    if (ref.owner !== LOCAL_OWNER)
      throw new BadInputError(`${ref.owner}/${ref.name} is not a local repository`);
    if (!NAME.test(ref.name) || ref.name === '.' || ref.name === '..' || ref.name.includes('..'))
      throw new BadInputError(`"${ref.name}" is not a repository name: letters, digits, . _ - and no ..`);
    const root = await realpath(this.reposDir).catch(() => {
      throw new NotFoundError(`DEVBOT_REPOS_DIR (${this.reposDir}) does not exist`);
    });
    const path = await realpath(join(root, ref.name)).catch(() => {
      throw new NotFoundError(`there is no repository local/${ref.name} in DEVBOT_REPOS_DIR (${root})`);
    });
    if (!path.startsWith(`${root}${sep}`))
      throw new BadInputError(`local/${ref.name} leads outside DEVBOT_REPOS_DIR (a symlink?): refused`);
    const isRepo =
      (await stat(join(path, '.git')).catch(() => null)) !== null ||
      (await stat(join(path, 'HEAD')).catch(() => null)) !== null;
    if (!isRepo) throw new BadInputError(`local/${ref.name} is not a git repository`);
    return path;
  }
}
