/**
 * Only people with write access to a repository can make devbot change it, whatever door they came
 * in by. A GitHub user (`gh:<login>`) is checked directly; a Telegram user or API subject is checked
 * through the GitHub login an operator linked it to, or passes on a grant of the repository.
 */
import {
  ForbiddenError,
  grantMatches,
  type HostedRepo,
  type RepoHost,
  type SubjectAccess,
} from '../core/index.js';

export interface RepoAuthorizerDeps {
  access: SubjectAccess;
  /** Where repositories live; null when none is configured (only grants can pass then). */
  host: RepoHost | null;
}

export class RepoAuthorizer {
  #deps: RepoAuthorizerDeps;

  constructor(deps: RepoAuthorizerDeps) {
    this.#deps = deps;
  }

  /** A repository host set up while devbot runs (GitHub through /setup). */
  useHost(host: RepoHost): void {
    this.#deps = { ...this.#deps, host };
  }

  /**
   * Resolves when `subject` may make devbot change `repo` (`owner/name`); else ForbiddenError.
   * A caller that opened the repository already passes it, so the host is not asked for it again.
   */
  async assertMayChange(
    subject: string,
    repo: string,
    opened?: { installationId?: number | undefined; hosted?: HostedRepo },
  ): Promise<void> {
    const githubLogin = subject.startsWith('gh:') ? subject.slice(3) : null;
    const record = githubLogin ? null : await this.#deps.access.get(subject);
    if (record?.grants.some((pattern) => grantMatches(pattern, repo))) return;
    const login = githubLogin ?? record?.login ?? null;
    if (!login) throw new ForbiddenError(howToGetAccess(subject, repo));
    const host = this.#deps.host;
    if (!host)
      throw new ForbiddenError(
        `${subject} is linked to @${login}, but no repository host is configured to check @${login}'s access to ${repo}; ` +
          `an operator can grant it instead: devbot users grant ${subject} ${repo}`,
      );
    const [owner = '', name = ''] = repo.split('/');
    const installationId = opened?.installationId;
    const hosted =
      opened?.hosted ??
      (await host.open({ owner, name, ...(installationId !== undefined ? { installationId } : {}) }));
    const verdict = await hosted.permissionOf(login);
    if (!verdict.allowed)
      throw new ForbiddenError(
        `@${login} has ${verdict.role} access to ${repo}; devbot changes a repository only for people with write access`,
      );
  }
}

function howToGetAccess(subject: string, repo: string): string {
  return (
    `${subject} may not make devbot change ${repo}. Ask an operator to link you to your GitHub login ` +
    `(devbot users link ${subject} <github-login>; your write access is then checked) or to grant you ` +
    `the repository (devbot users grant ${subject} ${repo})` +
    (subject.startsWith('tg:')
      ? ', or, where signing in with GitHub is set up, send /login to the bot in a private chat'
      : '')
  );
}
