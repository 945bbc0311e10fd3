import type { SubjectAccess, SubjectRecord } from '../core/subject-access.js';
import type { RunningDevbotApi } from './running-devbot.js';

/** The running devbot's `/users` routes, for `devbot users` while it holds the embedded database. */
export class HttpSubjectAccess implements Omit<SubjectAccess, 'get'> {
  constructor(private readonly api: RunningDevbotApi) {}

  async link(subject: string, login: string): Promise<void> {
    await this.api.call('PUT', `${this.#path(subject)}/login`, { login });
  }

  async unlink(subject: string): Promise<boolean> {
    return (await this.api.call<{ removed: boolean }>('DELETE', `${this.#path(subject)}/login`)).removed;
  }

  async grant(subject: string, pattern: string): Promise<void> {
    await this.api.call('POST', `${this.#path(subject)}/grants`, { pattern });
  }

  async revoke(subject: string, pattern: string): Promise<boolean> {
    const path = `${this.#path(subject)}/grants?${new URLSearchParams({ pattern })}`;
    return (await this.api.call<{ removed: boolean }>('DELETE', path)).removed;
  }

  async list(): Promise<SubjectRecord[]> {
    return (await this.api.call<{ users: SubjectRecord[] }>('GET', '/users')).users;
  }

  #path(subject: string): string {
    return `/users/${encodeURIComponent(subject)}`;
  }
}
