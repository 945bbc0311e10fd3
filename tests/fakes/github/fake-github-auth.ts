/**
 * Who is calling the fake GitHub and what they may do, decided the way GitHub decides it:
 * - an App authenticates with a JWT (RS256, `iss` = app id or client id) and mints installation
 *   tokens; an installation token carries the App's permissions and reaches the repositories of
 *   the account the App is installed on;
 * - a classic personal token carries OAuth scopes (sent back in `x-oauth-scopes` on every call) and
 *   the user's own role on the repository; a scope the endpoint does not accept gives 404, as
 *   GitHub hides private resources rather than admitting they exist;
 * - a fine-grained personal token carries per-repository permissions: a repository it was not
 *   granted is a 404, a missing permission a 403 "Resource not accessible by personal access token".
 * Personal tokens are refused outright where GitHub only admits Apps (creating check runs).
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { AppModel, FakeUser } from './fake-github-models.js';

export type Permission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';
export type RepoPermission =
  | 'metadata'
  | 'contents'
  | 'issues'
  | 'pull_requests'
  | 'checks'
  | 'statuses'
  | 'actions'
  | 'repository_hooks'
  | 'administration';
export type Access = 'read' | 'write';
export type PermissionSet = Partial<Record<RepoPermission, Access>>;

/** A classic token (`scopes`) or a fine-grained one (`permissions`, optionally limited repositories). */
export type PersonalTokenSpec =
  | { login: string; scopes: string[]; token?: string }
  | { login: string; permissions: PermissionSet; repositories?: 'all' | string[]; token?: string };

export interface PersonalToken {
  value: string;
  login: string;
  kind: 'classic' | 'fine-grained';
  scopes: string[];
  permissions: PermissionSet;
  /** `owner/name` of the repositories a fine-grained token was granted, or 'all'. */
  repositories: 'all' | string[];
}

export interface InstallationRecord {
  id: number;
  account: FakeUser;
  /** The default test installation reaches every repository of the fake, whoever owns it. */
  everyAccount: boolean;
}

export interface AppRecord {
  model: AppModel;
  permissions: Record<string, string>;
  events: string[];
  clientId: string;
  clientSecret: string;
  webhookSecret: string | null;
  /** Set for Apps made by the manifest flow: their JWTs are verified against it. */
  publicKey: KeyObject | null;
  installations: Map<number, InstallationRecord>;
}

export type Auth =
  | { kind: 'none' }
  /** Credentials were sent but mean nothing to GitHub. */
  | { kind: 'bad'; message: string }
  | { kind: 'app'; app: AppRecord }
  | { kind: 'installation'; app: AppRecord; installation: InstallationRecord }
  | { kind: 'user'; token: PersonalToken };

/** What a repository route needs from its caller. */
export interface RepoNeeds {
  permission: RepoPermission;
  access: Access;
  /** Only Apps may call it (the Checks API): personal tokens get a 403. */
  appOnly?: boolean;
  /** The least role the user behind a personal token must hold; derived from the permission if unset. */
  minRole?: Permission;
  /** Classic scopes accepted instead of the default ones for this permission. */
  scopes?: string[];
}

export interface RepoTarget {
  fullName: string;
  ownerLogin: string;
  private: boolean;
  roleOf(login: string): Permission;
}

export interface Verdict {
  /** Set when the call is refused. */
  refusal?: { status: number; body: Record<string, unknown> };
  headers: Record<string, string>;
}

const ROLE_LEVEL: Record<Permission, number> = {
  none: 0,
  read: 1,
  triage: 2,
  write: 3,
  maintain: 4,
  admin: 5,
};
const DOCS = 'https://docs.github.com/rest';

export function githubError(status: number, message: string, documentationUrl = DOCS) {
  return { status, body: { message, documentation_url: documentationUrl, status: String(status) } };
}

function hasAccess(granted: string | undefined, wanted: Access): boolean {
  if (granted === 'write' || granted === 'admin') return true;
  return granted === 'read' && wanted === 'read';
}

function defaultMinRole(needs: RepoNeeds): Permission {
  if (needs.permission === 'repository_hooks' || needs.permission === 'administration') return 'admin';
  if (needs.access === 'read') return 'read';
  // Anyone who can see a repository may comment, review and open pull requests.
  if (needs.permission === 'issues' || needs.permission === 'pull_requests') return 'read';
  return 'write';
}

/** Classic scopes that admit a call (`x-accepted-oauth-scopes`); empty: no scope needed. */
export function acceptedScopes(needs: RepoNeeds, isPrivate: boolean): string[] {
  if (needs.scopes) return needs.scopes;
  if (needs.permission === 'repository_hooks') {
    // GitHub's `repo` scope includes repository webhooks; the *:repo_hook scopes grant only them.
    return needs.access === 'read'
      ? ['repo', 'read:repo_hook', 'write:repo_hook', 'admin:repo_hook']
      : ['repo', 'write:repo_hook', 'admin:repo_hook'];
  }
  if (needs.permission === 'statuses') {
    if (!isPrivate && needs.access === 'read') return [];
    return isPrivate ? ['repo', 'repo:status'] : ['repo', 'repo:status', 'public_repo'];
  }
  if (isPrivate) return ['repo'];
  return needs.access === 'read' ? [] : ['repo', 'public_repo'];
}

export function authorizeRepo(auth: Auth, repo: RepoTarget, needs: RepoNeeds): Verdict {
  const headers: Record<string, string> = {};
  const refuse = (status: number, message: string): Verdict => ({
    refusal: githubError(status, message),
    headers,
  });
  if (auth.kind !== 'none' && auth.kind !== 'bad')
    headers['x-accepted-github-permissions'] = `${needs.permission}=${needs.access}`;
  switch (auth.kind) {
    case 'bad':
      return refuse(401, auth.message);
    case 'app':
      // An App's JWT only reaches the /app endpoints; repositories need an installation token.
      return refuse(401, 'Bad credentials');
    case 'none':
      if (repo.private) return refuse(404, 'Not Found');
      if (needs.access === 'write' || needs.appOnly) return refuse(401, 'Requires authentication');
      return { headers };
    case 'installation': {
      const inst = auth.installation;
      if (!inst.everyAccount && inst.account.login !== repo.ownerLogin) return refuse(404, 'Not Found');
      const granted = needs.permission === 'metadata' ? 'read' : auth.app.permissions[needs.permission];
      if (!hasAccess(granted, needs.access)) return refuse(403, 'Resource not accessible by integration');
      return { headers };
    }
    case 'user': {
      const token = auth.token;
      if (token.kind === 'classic') headers['x-oauth-scopes'] = token.scopes.join(', ');
      if (needs.appOnly) {
        // The Checks API is for Apps only, whatever a personal token's scopes or permissions.
        return {
          refusal: githubError(
            403,
            'You must authenticate via a GitHub App.',
            'https://docs.github.com/rest/checks/runs#create-a-check-run',
          ),
          headers,
        };
      }
      const role = repo.roleOf(token.login);
      if (token.kind === 'classic') {
        const accepted = acceptedScopes(needs, repo.private);
        headers['x-accepted-oauth-scopes'] = accepted.join(', ');
        if (accepted.length > 0 && !token.scopes.some((s) => accepted.includes(s)))
          return refuse(404, 'Not Found');
      } else {
        if (token.repositories !== 'all' && !token.repositories.includes(repo.fullName))
          return refuse(404, 'Not Found');
        const granted = needs.permission === 'metadata' ? 'read' : token.permissions[needs.permission];
        if (!hasAccess(granted, needs.access))
          return refuse(403, 'Resource not accessible by personal access token');
      }
      const min = needs.minRole ?? defaultMinRole(needs);
      if (ROLE_LEVEL[role] >= ROLE_LEVEL[min]) return { headers };
      if (role === 'none' || min === 'admin') return refuse(404, 'Not Found');
      return refuse(403, 'Must have push access to repository');
    }
  }
}

/** Whether `role` reaches `min` on GitHub's scale: read < triage < write < maintain < admin. */
export function roleAtLeast(role: Permission, min: Permission): boolean {
  return ROLE_LEVEL[role] >= ROLE_LEVEL[min];
}

/**
 * Reads an App JWT. Apps made by the manifest flow have their public key here and their JWTs are
 * verified (signature, expiry) like GitHub does; the default test App's key belongs to the tests,
 * so for it the issuer alone is trusted.
 */
export function appFromJwt(jwt: string, findApp: (iss: string) => AppRecord | undefined): Auth | null {
  const parts = jwt.split('.');
  if (parts.length !== 3) return null;
  let claims: { iss?: unknown; exp?: unknown; iat?: unknown };
  try {
    claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString()) as typeof claims;
  } catch {
    return { kind: 'bad', message: 'A JSON web token could not be decoded' };
  }
  const app = findApp(String(claims.iss));
  if (!app) return { kind: 'bad', message: 'A JSON web token could not be decoded' };
  if (app.publicKey) {
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    const signature = Buffer.from(parts[2] ?? '', 'base64url');
    if (!verify('sha256', signed, app.publicKey, signature))
      return { kind: 'bad', message: 'A JSON web token could not be decoded' };
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp < now)
      return {
        kind: 'bad',
        message:
          "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
      };
    if (claims.exp - now > 600)
      return { kind: 'bad', message: "'Expiration time' claim ('exp') is too far in the future" };
  }
  return { kind: 'app', app };
}

export function publicKeyOf(privateKeyPem: string): KeyObject {
  return createPublicKey(privateKeyPem);
}
