/**
 * The repository hosts of a deployment behind one RepoHost: `local/<name>` on the local host
 * (DEVBOT_REPOS_DIR), everything else on GitHub. A repository whose host is not configured is
 * refused with what to set.
 */
import { BadInputError, type HostedRepo, NotFoundError, type RepoHost, type RepoRef } from '../core/index.js';

export class RepoHosts implements RepoHost {
  readonly name = 'hosts';

  readonly #hosts: { local: RepoHost | null; github: RepoHost | null };

  constructor(hosts: { local: RepoHost | null; github: RepoHost | null }) {
    this.#hosts = { ...hosts };
  }

  /** GitHub set up while devbot runs (the manifest flow at /setup). */
  attachGithub(host: RepoHost): void {
    if (this.#hosts.github) throw new Error('a GitHub host is already attached');
    this.#hosts.github = host;
  }

  /**
   * Checks a repository name before a task is accepted, where that costs nothing remote: a local
   * repository must exist inside DEVBOT_REPOS_DIR (no `..`, no symlink out). Throws BadInputError.
   */
  async check(ref: RepoRef): Promise<void> {
    if (ref.owner !== 'local') return;
    if (!this.#hosts.local)
      throw new BadInputError('local repositories need DEVBOT_REPOS_DIR (a directory of git repositories)');
    await this.#hosts.local.check?.(ref).catch((err: unknown) => {
      throw err instanceof NotFoundError ? new BadInputError(err.message) : err;
    });
  }

  open(ref: RepoRef): Promise<HostedRepo> {
    if (ref.owner === 'local') {
      if (!this.#hosts.local)
        throw new BadInputError('local repositories need DEVBOT_REPOS_DIR (a directory of git repositories)');
      return this.#hosts.local.open(ref);
    }
    if (!this.#hosts.github)
      throw new BadInputError(
        `${ref.owner}/${ref.name} is on GitHub, and GitHub is not configured: set GITHUB_TOKEN and GITHUB_WEBHOOK_SECRET (token mode), or a GitHub App (GITHUB_APP_ID, GITHUB_PRIVATE_KEY, GITHUB_WEBHOOK_SECRET, or /setup)`,
      );
    return this.#hosts.github.open(ref);
  }
}
