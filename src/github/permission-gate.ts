/**
 * Only people who can push to a repository may start work there. GitHub's answer is cached for a
 * short while, so a burst of comments does not cost one API call each.
 */
import type { RestClient } from './rest-client.js';

export const WRITE_ROLES = ['admin', 'maintain', 'write'] as const;

export interface PermissionVerdict {
  allowed: boolean;
  /** GitHub's role name (admin, maintain, write, triage, read, none). */
  role: string;
}

/** write, maintain and admin may start work (role_name is precise; `permission` is the legacy field). */
export function canStartWork(permission: string, roleName: string | undefined): boolean {
  const roles: readonly string[] = WRITE_ROLES;
  return roles.includes(roleName ?? '') || permission === 'admin' || permission === 'write';
}

export class PermissionGate {
  readonly #cache = new Map<string, { verdict: PermissionVerdict; until: number }>();
  constructor(private readonly ttlMs = 60_000) {}

  async check(
    octokit: RestClient,
    owner: string,
    repo: string,
    username: string,
  ): Promise<PermissionVerdict> {
    const key = `${owner}/${repo}/${username}`.toLowerCase();
    const hit = this.#cache.get(key);
    if (hit && hit.until > Date.now()) return hit.verdict;
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username });
    const role = data.role_name || data.permission;
    const verdict = { allowed: canStartWork(data.permission, data.role_name), role };
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(key, { verdict, until: Date.now() + this.ttlMs });
    return verdict;
  }
}
