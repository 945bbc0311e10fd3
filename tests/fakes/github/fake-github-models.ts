/**
 * Builders for the JSON objects the fake GitHub returns. Each has every property GitHub's OpenAPI
 * description marks as required (checked by tests/unit/github-fake-openapi.test.ts), with the
 * values that matter to devbot taken from the fake's state.
 */

export interface FakeUser {
  login: string;
  id: number;
  type: 'User' | 'Bot' | 'Organization';
}

const NOW = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export function nodeId(kind: string, id: number): string {
  return Buffer.from(`${kind}:${id}`).toString('base64');
}

export function userJson(api: string, web: string, user: FakeUser): Record<string, unknown> {
  const u = `${api}/users/${user.login}`;
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId('User', user.id),
    avatar_url: `${web}/avatars/${user.id}`,
    gravatar_id: '',
    url: u,
    html_url: `${web}/${user.login}`,
    followers_url: `${u}/followers`,
    following_url: `${u}/following{/other_user}`,
    gists_url: `${u}/gists{/gist_id}`,
    starred_url: `${u}/starred{/owner}{/repo}`,
    subscriptions_url: `${u}/subscriptions`,
    organizations_url: `${u}/orgs`,
    repos_url: `${u}/repos`,
    events_url: `${u}/events{/privacy}`,
    received_events_url: `${u}/received_events`,
    type: user.type,
    site_admin: false,
    user_view_type: 'public',
  };
}

const REPO_URL_SUFFIXES: Record<string, string> = {
  archive_url: '/{archive_format}{/ref}',
  assignees_url: '/assignees{/user}',
  blobs_url: '/git/blobs{/sha}',
  branches_url: '/branches{/branch}',
  collaborators_url: '/collaborators{/collaborator}',
  comments_url: '/comments{/number}',
  commits_url: '/commits{/sha}',
  compare_url: '/compare/{base}...{head}',
  contents_url: '/contents/{+path}',
  contributors_url: '/contributors',
  deployments_url: '/deployments',
  downloads_url: '/downloads',
  events_url: '/events',
  forks_url: '/forks',
  git_commits_url: '/git/commits{/sha}',
  git_refs_url: '/git/refs{/sha}',
  git_tags_url: '/git/tags{/sha}',
  hooks_url: '/hooks',
  issue_comment_url: '/issues/comments{/number}',
  issue_events_url: '/issues/events{/number}',
  issues_url: '/issues{/number}',
  keys_url: '/keys{/key_id}',
  labels_url: '/labels{/name}',
  languages_url: '/languages',
  merges_url: '/merges',
  milestones_url: '/milestones{/number}',
  notifications_url: '/notifications{?since,all,participating}',
  pulls_url: '/pulls{/number}',
  releases_url: '/releases{/id}',
  stargazers_url: '/stargazers',
  statuses_url: '/statuses/{sha}',
  subscribers_url: '/subscribers',
  subscription_url: '/subscription',
  tags_url: '/tags',
  teams_url: '/teams',
  trees_url: '/git/trees{/sha}',
};

export interface RepoModel {
  id: number;
  owner: FakeUser;
  name: string;
  private: boolean;
  defaultBranch: string;
  createdAt: string;
}

/** `repository` (the short form, inside PR head/base) when full=false; `full-repository` otherwise. */
export function repoJson(
  api: string,
  web: string,
  gitBase: string,
  repo: RepoModel,
  full: boolean,
): Record<string, unknown> {
  const fullName = `${repo.owner.login}/${repo.name}`;
  const url = `${api}/repos/${fullName}`;
  const urls: Record<string, string> = {};
  for (const [key, suffix] of Object.entries(REPO_URL_SUFFIXES)) urls[key] = url + suffix;
  const base: Record<string, unknown> = {
    id: repo.id,
    node_id: nodeId('Repository', repo.id),
    name: repo.name,
    full_name: fullName,
    owner: userJson(api, web, repo.owner),
    private: repo.private,
    html_url: `${web}/${fullName}`,
    description: null,
    fork: false,
    url,
    ...urls,
    clone_url: `${gitBase}/${fullName}.git`,
    git_url: `${gitBase}/${fullName}.git`,
    ssh_url: `git@localhost:${fullName}.git`,
    svn_url: `${web}/${fullName}`,
    mirror_url: null,
    homepage: null,
    language: null,
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    size: 0,
    default_branch: repo.defaultBranch,
    open_issues: 0,
    open_issues_count: 0,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: repo.private ? 'private' : 'public',
    pushed_at: repo.createdAt,
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
    license: null,
    allow_forking: true,
    web_commit_signoff_required: false,
  };
  if (full) {
    base['network_count'] = 0;
    base['subscribers_count'] = 0;
  }
  return base;
}

export interface IssueModel {
  id: number;
  number: number;
  title: string;
  body: string | null;
  user: FakeUser;
  state: 'open' | 'closed';
  labels: string[];
  isPull: boolean;
  comments: number;
  createdAt: string;
  updatedAt: string;
}

export function labelJson(api: string, fullName: string, name: string, id: number): Record<string, unknown> {
  return {
    id,
    node_id: nodeId('Label', id),
    url: `${api}/repos/${fullName}/labels/${encodeURIComponent(name)}`,
    name,
    description: null,
    color: 'ededed',
    default: false,
  };
}

export function issueJson(
  api: string,
  web: string,
  fullName: string,
  issue: IssueModel,
): Record<string, unknown> {
  const url = `${api}/repos/${fullName}/issues/${issue.number}`;
  const json: Record<string, unknown> = {
    id: issue.id,
    node_id: nodeId('Issue', issue.id),
    url,
    repository_url: `${api}/repos/${fullName}`,
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: `${web}/${fullName}/${issue.isPull ? 'pull' : 'issues'}/${issue.number}`,
    number: issue.number,
    state: issue.state,
    title: issue.title,
    body: issue.body,
    user: userJson(api, web, issue.user),
    labels: issue.labels.map((name, i) => labelJson(api, fullName, name, issue.id * 100 + i)),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments: issue.comments,
    closed_at: null,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    author_association: 'OWNER',
  };
  if (issue.isPull) {
    json['pull_request'] = {
      url: `${api}/repos/${fullName}/pulls/${issue.number}`,
      html_url: `${web}/${fullName}/pull/${issue.number}`,
      diff_url: `${web}/${fullName}/pull/${issue.number}.diff`,
      patch_url: `${web}/${fullName}/pull/${issue.number}.patch`,
      merged_at: null,
    };
  }
  return json;
}

export interface CommentModel {
  id: number;
  issueNumber: number;
  body: string;
  user: FakeUser;
  createdAt: string;
  updatedAt: string;
}

export function commentJson(
  api: string,
  web: string,
  fullName: string,
  c: CommentModel,
): Record<string, unknown> {
  return {
    id: c.id,
    node_id: nodeId('IssueComment', c.id),
    url: `${api}/repos/${fullName}/issues/comments/${c.id}`,
    html_url: `${web}/${fullName}/issues/${c.issueNumber}#issuecomment-${c.id}`,
    issue_url: `${api}/repos/${fullName}/issues/${c.issueNumber}`,
    body: c.body,
    user: userJson(api, web, c.user),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    author_association: 'OWNER',
  };
}

export interface ReactionModel {
  id: number;
  content: string;
  user: FakeUser;
  createdAt: string;
  /** 'issue' | 'comment' | 'review-comment', and the target id (issue number or comment id). */
  target: string;
}

export function reactionJson(api: string, web: string, r: ReactionModel): Record<string, unknown> {
  return {
    id: r.id,
    node_id: nodeId('Reaction', r.id),
    user: userJson(api, web, r.user),
    content: r.content,
    created_at: r.createdAt,
  };
}

export interface PullModel {
  id: number;
  number: number;
  title: string;
  body: string | null;
  head: string;
  headSha: string;
  base: string;
  baseSha: string;
  draft: boolean;
  user: FakeUser;
  state: 'open' | 'closed';
  createdAt: string;
  updatedAt: string;
}

export function pullJson(
  api: string,
  web: string,
  gitBase: string,
  repo: RepoModel,
  p: PullModel,
  full: boolean,
): Record<string, unknown> {
  const fullName = `${repo.owner.login}/${repo.name}`;
  const url = `${api}/repos/${fullName}/pulls/${p.number}`;
  const html = `${web}/${fullName}/pull/${p.number}`;
  const issueUrl = `${api}/repos/${fullName}/issues/${p.number}`;
  const repoShort = repoJson(api, web, gitBase, repo, false);
  const branch = (ref: string, sha: string) => ({
    label: `${repo.owner.login}:${ref}`,
    ref,
    sha,
    user: userJson(api, web, repo.owner),
    repo: repoShort,
  });
  const json: Record<string, unknown> = {
    url,
    id: p.id,
    node_id: nodeId('PullRequest', p.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issueUrl,
    commits_url: `${url}/commits`,
    review_comments_url: `${url}/comments`,
    review_comment_url: `${api}/repos/${fullName}/pulls/comments{/number}`,
    comments_url: `${issueUrl}/comments`,
    statuses_url: `${api}/repos/${fullName}/statuses/${p.headSha}`,
    number: p.number,
    state: p.state,
    locked: false,
    title: p.title,
    user: userJson(api, web, p.user),
    body: p.body,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    closed_at: null,
    merged_at: null,
    merge_commit_sha: null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: branch(p.head, p.headSha),
    base: branch(p.base, p.baseSha),
    _links: {
      self: { href: url },
      html: { href: html },
      issue: { href: issueUrl },
      comments: { href: `${issueUrl}/comments` },
      review_comments: { href: `${url}/comments` },
      review_comment: { href: `${api}/repos/${fullName}/pulls/comments{/number}` },
      commits: { href: `${url}/commits` },
      statuses: { href: `${api}/repos/${fullName}/statuses/${p.headSha}` },
    },
    author_association: 'NONE',
    auto_merge: null,
    draft: p.draft,
  };
  if (full) {
    Object.assign(json, {
      merged: false,
      mergeable: true,
      rebaseable: true,
      mergeable_state: 'clean',
      merged_by: null,
      comments: 0,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: 1,
      additions: 0,
      deletions: 0,
      changed_files: 0,
    });
  }
  return json;
}

export interface ReviewCommentModel {
  id: number;
  pullNumber: number;
  reviewId: number | null;
  inReplyTo: number | null;
  body: string;
  path: string;
  commitId: string;
  user: FakeUser;
  createdAt: string;
}

export function reviewCommentJson(
  api: string,
  web: string,
  fullName: string,
  c: ReviewCommentModel,
): Record<string, unknown> {
  const url = `${api}/repos/${fullName}/pulls/comments/${c.id}`;
  const html = `${web}/${fullName}/pull/${c.pullNumber}#discussion_r${c.id}`;
  const pr = `${api}/repos/${fullName}/pulls/${c.pullNumber}`;
  const json: Record<string, unknown> = {
    url,
    id: c.id,
    node_id: nodeId('PullRequestReviewComment', c.id),
    pull_request_review_id: c.reviewId,
    diff_hunk: '@@ -1 +1 @@',
    path: c.path,
    commit_id: c.commitId,
    original_commit_id: c.commitId,
    user: userJson(api, web, c.user),
    body: c.body,
    created_at: c.createdAt,
    updated_at: c.createdAt,
    html_url: html,
    pull_request_url: pr,
    author_association: 'NONE',
    _links: { self: { href: url }, html: { href: html }, pull_request: { href: pr } },
  };
  if (c.inReplyTo !== null) json['in_reply_to_id'] = c.inReplyTo;
  return json;
}

export interface AppModel {
  id: number;
  slug: string;
  name: string;
  owner: FakeUser;
}

const APP_PERMISSIONS = {
  contents: 'write',
  pull_requests: 'write',
  issues: 'write',
  checks: 'write',
  metadata: 'read',
};
const APP_EVENTS = ['issues', 'issue_comment', 'pull_request_review', 'pull_request_review_comment'];

export function appJson(api: string, web: string, app: AppModel): Record<string, unknown> {
  return {
    id: app.id,
    slug: app.slug,
    node_id: nodeId('App', app.id),
    client_id: `Iv1.${app.id}`,
    owner: userJson(api, web, app.owner),
    name: app.name,
    description: 'devbot test app',
    external_url: `${web}/apps/${app.slug}`,
    html_url: `${web}/apps/${app.slug}`,
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
    permissions: APP_PERMISSIONS,
    events: APP_EVENTS,
  };
}

export function installationJson(
  api: string,
  web: string,
  app: AppModel,
  installationId: number,
  account: FakeUser,
): Record<string, unknown> {
  return {
    id: installationId,
    account: userJson(api, web, account),
    repository_selection: 'all',
    access_tokens_url: `${api}/app/installations/${installationId}/access_tokens`,
    repositories_url: `${api}/installation/repositories`,
    html_url: `${web}/settings/installations/${installationId}`,
    app_id: app.id,
    app_slug: app.slug,
    target_id: account.id,
    target_type: account.type === 'Organization' ? 'Organization' : 'User',
    permissions: APP_PERMISSIONS,
    events: APP_EVENTS,
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
    single_file_name: null,
    suspended_by: null,
    suspended_at: null,
  };
}

export interface CheckRunModel {
  id: number;
  name: string;
  headSha: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  title: string | null;
  summary: string | null;
  text: string | null;
  detailsUrl: string | null;
  externalId: string | null;
  startedAt: string;
  completedAt: string | null;
  /** Every state the run went through (status/conclusion/summary), for tests. */
  history: Array<{ status: string; conclusion: string | null; summary: string | null }>;
}

export function checkRunJson(
  api: string,
  web: string,
  fullName: string,
  app: AppModel,
  run: CheckRunModel,
): Record<string, unknown> {
  const url = `${api}/repos/${fullName}/check-runs/${run.id}`;
  return {
    id: run.id,
    node_id: nodeId('CheckRun', run.id),
    head_sha: run.headSha,
    external_id: run.externalId,
    url,
    html_url: `${web}/${fullName}/runs/${run.id}`,
    details_url: run.detailsUrl,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: {
      title: run.title,
      summary: run.summary,
      text: run.text,
      annotations_count: 0,
      annotations_url: `${url}/annotations`,
    },
    name: run.name,
    check_suite: { id: run.id + 1_000_000 },
    app: appJson(api, web, app),
    pull_requests: [],
  };
}

export { NOW };
