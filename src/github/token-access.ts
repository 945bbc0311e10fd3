/**
 * What a personal access token may do on one repository, checked before devbot relies on it
 * (`devbot github add-repo`, `devbot doctor`), so a missing permission is named up front instead
 * of failing a task halfway.
 *
 * How, by token kind (GitHub has no endpoint that lists a fine-grained token's permissions):
 * - classic token: GitHub sends its scopes in `x-oauth-scopes` on every answer; `repo` covers
 *   everything devbot does, a public repository also works with `public_repo` plus
 *   `admin:repo_hook` (or `write:repo_hook`);
 * - fine-grained token: each permission is probed with a request that cannot change anything.
 *   Reads are plain GETs. Writes are sent with an incomplete body: GitHub checks permission before
 *   it validates, so 403 means the permission is missing and 422 (the body refused) means it is
 *   there. Contents write is probed the way git pushes: the receive-pack advertisement
 *   (`info/refs?service=git-receive-pack`), which GitHub refuses without push access.
 * Either kind: the token's user needs the admin role on the repository to add a webhook, and
 * write (push) to open branches: read from the repository's `permissions`.
 */
import { UnavailableError } from '../core/errors.js';
import type { RestClient } from './rest-client.js';

export interface TokenAccess {
  kind: 'classic' | 'fine-grained';
  login: string;
  /** What is missing, each named as GitHub's settings page names it. Empty: all there. */
  missing: string[];
  /** Missing but optional (devbot works without, with less). */
  optional: string[];
}

export interface TokenAccessOptions {
  /** Also needs webhook administration (add-repo), default true. */
  hooks?: boolean;
  fetch?: typeof fetch;
}

/** The fine-grained permissions token mode needs, as GitHub's token settings page names them. */
const FINE_GRAINED = {
  metadata: 'Metadata: Read-only',
  contents: 'Contents: Read and write',
  issues: 'Issues: Read and write',
  pullRequests: 'Pull requests: Read and write',
  statuses: 'Commit statuses: Read and write',
  hooks: 'Webhooks: Read and write',
  actions: 'Actions: Read-only (CI follow-ups read failed job logs)',
} as const;

const ZERO_SHA = '0'.repeat(40);

function statusOf(err: unknown): number {
  return typeof (err as { status?: unknown })?.status === 'number' ? (err as { status: number }).status : 0;
}

/** true: allowed; false: refused (401/403/404); anything else is thrown. */
async function probe(call: () => Promise<unknown>, allowedOn: number[] = []): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (err) {
    const status = statusOf(err);
    if (allowedOn.includes(status)) return true;
    if (status === 403 || status === 404 || status === 401) return false;
    throw err;
  }
}

/** The token cannot be used at all (refused, or blind to the repository). */
export class TokenAccessError extends UnavailableError {}

export async function checkTokenAccess(
  client: RestClient,
  token: string,
  owner: string,
  repo: string,
  options: TokenAccessOptions = {},
): Promise<TokenAccess> {
  const hooks = options.hooks !== false;
  let login: string;
  let scopesHeader: string | undefined;
  try {
    const me = await client.rest.users.getAuthenticated();
    login = me.data.login;
    scopesHeader = me.headers['x-oauth-scopes'];
  } catch (err) {
    if (statusOf(err) === 401)
      throw new TokenAccessError(
        'GITHUB_TOKEN: GitHub does not accept this token (401 Bad credentials): create a new one',
      );
    throw err;
  }
  const kind = scopesHeader === undefined ? 'fine-grained' : 'classic';
  let repoData: { private: boolean; clone_url: string; permissions?: { admin?: boolean; push?: boolean } };
  try {
    repoData = (await client.rest.repos.get({ owner, repo })).data;
  } catch (err) {
    if (statusOf(err) === 404 || statusOf(err) === 403)
      throw new TokenAccessError(
        kind === 'fine-grained'
          ? `the token cannot see ${owner}/${repo}: add it to the token's "Repository access" (and grant ${FINE_GRAINED.metadata})`
          : `the token cannot see ${owner}/${repo}: check the name, and that ${login} has access (a private repository needs the "repo" scope)`,
      );
    throw err;
  }
  const missing: string[] = [];
  const optional: string[] = [];
  const role = repoData.permissions;
  if (role && !role.push) missing.push(`the write (push) role on ${owner}/${repo} for ${login}`);
  if (hooks && role && !role.admin)
    missing.push(`the admin role on ${owner}/${repo} for ${login} (to add a webhook)`);

  if (kind === 'classic') {
    const scopes = (scopesHeader ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!scopes.includes('repo')) {
      if (repoData.private) missing.push('scope repo (the repository is private)');
      else {
        if (!scopes.includes('public_repo')) missing.push('scope repo (or public_repo)');
        if (hooks && !scopes.some((s) => s === 'admin:repo_hook' || s === 'write:repo_hook'))
          missing.push('scope admin:repo_hook (or write:repo_hook, or repo)');
      }
    }
    return { kind, login, missing, optional };
  }

  // Incomplete bodies on purpose (see the top of the file): a 422 proves the permission, nothing is written.
  const params = { owner, repo };
  const checks: Array<[string, Promise<boolean>, boolean]> = [
    [FINE_GRAINED.contents, canPush(repoData.clone_url, token, options.fetch ?? fetch), true],
    [
      FINE_GRAINED.issues,
      probe(() => client.request('POST /repos/{owner}/{repo}/issues', params as never), [422]),
      true,
    ],
    [
      FINE_GRAINED.pullRequests,
      probe(() => client.request('POST /repos/{owner}/{repo}/pulls', params as never), [422]),
      true,
    ],
    [
      FINE_GRAINED.statuses,
      probe(
        () =>
          client.request('POST /repos/{owner}/{repo}/statuses/{sha}', { ...params, sha: ZERO_SHA } as never),
        [422],
      ),
      true,
    ],
    [
      FINE_GRAINED.actions,
      probe(() => client.rest.actions.listWorkflowRunsForRepo({ ...params, per_page: 1 })),
      false,
    ],
  ];
  if (hooks) {
    checks.push([
      FINE_GRAINED.hooks,
      probe(
        () => client.request('POST /repos/{owner}/{repo}/hooks', { ...params, config: { url: '' } } as never),
        [422],
      ),
      true,
    ]);
  }
  const results = await Promise.all(checks.map(([, p]) => p));
  checks.forEach(([name, , required], i) => {
    if (results[i]) return;
    (required ? missing : optional).push(name);
  });
  return { kind, login, missing, optional };
}

/** Whether git may push: the receive-pack advertisement needs push access. */
async function canPush(cloneUrl: string, token: string, fetchFn: typeof fetch): Promise<boolean> {
  const url = `${cloneUrl.replace(/\/+$/, '')}/info/refs?service=git-receive-pack`;
  const res = await fetchFn(url, {
    headers: {
      authorization: `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
      'user-agent': 'git/2.0 (devbot)',
    },
    signal: AbortSignal.timeout(20_000),
  });
  await res.arrayBuffer().catch(() => undefined);
  return res.ok;
}
