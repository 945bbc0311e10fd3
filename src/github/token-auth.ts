/**
 * Token mode's credential: a personal access token (classic or fine-grained) instead of a GitHub
 * App. One client for every repository, no installations (tasks carry installation id 0), and the
 * token's user as devbot's identity: it authors the commits and opens the pull requests.
 */
import type { RestClient } from './rest-client.js';

/** Repository webhooks carry no installation: token-mode tasks get this id. */
export const TOKEN_INSTALLATION_ID = 0;

export interface TokenUser {
  login: string;
  id: number;
  name: string | null;
}

export class TokenAuth {
  #user: Promise<TokenUser> | null = null;

  constructor(
    readonly token: string,
    readonly client: RestClient,
  ) {}

  /** The token's user (`GET /user`), asked once; a failed answer is asked again next time. */
  user(): Promise<TokenUser> {
    this.#user ??= this.client.rest.users.getAuthenticated().then(
      ({ data }) => ({ login: data.login, id: data.id, name: data.name ?? null }),
      (err: unknown) => {
        this.#user = null;
        throw err;
      },
    );
    return this.#user;
  }

  /** The commit identity of the token's user: GitHub's no-reply address attributes it to them. */
  async commitAuthor(): Promise<{ name: string; email: string }> {
    const u = await this.user();
    return { name: u.name || u.login, email: `${u.id}+${u.login}@users.noreply.github.com` };
  }
}
