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
  /** The repository this one was forked from (GitHub's `parent`), null for an original. */
  parent: RepoModel | null;
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
    fork: repo.parent !== null,
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
    if (repo.parent) {
      let source = repo.parent;
      while (source.parent) source = source.parent;
      base['parent'] = repoJson(api, web, gitBase, repo.parent, false);
      base['source'] = repoJson(api, web, gitBase, source, false);
    }
  }
  return base;
}

/** GitHub's word for how a comment's author relates to the repository. */
export type AuthorAssociation = 'OWNER' | 'MEMBER' | 'COLLABORATOR' | 'CONTRIBUTOR' | 'NONE';

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
  closedAt?: string | null;
  mergedAt?: string | null;
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
  association: AuthorAssociation = 'OWNER',
  reactions: ReactionModel[] = [],
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
    closed_at: issue.closedAt ?? null,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    author_association: association,
    performed_via_github_app: null,
    reactions: reactionRollup(`${url}/reactions`, reactions),
  };
  if (issue.isPull) {
    json['pull_request'] = {
      url: `${api}/repos/${fullName}/pulls/${issue.number}`,
      html_url: `${web}/${fullName}/pull/${issue.number}`,
      diff_url: `${web}/${fullName}/pull/${issue.number}.diff`,
      patch_url: `${web}/${fullName}/pull/${issue.number}.patch`,
      merged_at: issue.mergedAt ?? null,
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
  association: AuthorAssociation = 'OWNER',
  reactions: ReactionModel[] = [],
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
    author_association: association,
    performed_via_github_app: null,
    reactions: reactionRollup(`${api}/repos/${fullName}/issues/comments/${c.id}/reactions`, reactions),
  };
}

/** GitHub's `reactions` summary on issues and comments: counts per content. */
export function reactionRollup(url: string, reactions: ReactionModel[]): Record<string, unknown> {
  const count = (content: string) => reactions.filter((r) => r.content === content).length;
  return {
    url,
    total_count: reactions.length,
    '+1': count('+1'),
    '-1': count('-1'),
    laugh: count('laugh'),
    confused: count('confused'),
    heart: count('heart'),
    hooray: count('hooray'),
    eyes: count('eyes'),
    rocket: count('rocket'),
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
  /** The repository holding the head branch: this one, or a fork for a PR from a fork. */
  headRepo: RepoModel;
  base: string;
  baseSha: string;
  draft: boolean;
  user: FakeUser;
  state: 'open' | 'closed';
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  mergedBy: FakeUser | null;
  mergeCommitSha: string | null;
}

export interface PullCounts {
  comments: number;
  reviewComments: number;
}

export function pullJson(
  api: string,
  web: string,
  gitBase: string,
  repo: RepoModel,
  p: PullModel,
  full: boolean,
  association: AuthorAssociation = 'NONE',
  counts: PullCounts = { comments: 0, reviewComments: 0 },
): Record<string, unknown> {
  const fullName = `${repo.owner.login}/${repo.name}`;
  const url = `${api}/repos/${fullName}/pulls/${p.number}`;
  const html = `${web}/${fullName}/pull/${p.number}`;
  const issueUrl = `${api}/repos/${fullName}/issues/${p.number}`;
  const branch = (side: RepoModel, ref: string, sha: string) => ({
    label: `${side.owner.login}:${ref}`,
    ref,
    sha,
    user: userJson(api, web, side.owner),
    repo: repoJson(api, web, gitBase, side, false),
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
    closed_at: p.closedAt,
    merged_at: p.mergedAt,
    merge_commit_sha: p.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: branch(p.headRepo, p.head, p.headSha),
    base: branch(repo, p.base, p.baseSha),
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
    author_association: association,
    auto_merge: null,
    draft: p.draft,
  };
  if (full) {
    const merged = p.mergedAt !== null;
    Object.assign(json, {
      merged,
      mergeable: p.state === 'open' ? true : null,
      rebaseable: p.state === 'open' ? true : null,
      mergeable_state: p.state === 'open' ? 'clean' : 'unknown',
      merged_by: p.mergedBy ? userJson(api, web, p.mergedBy) : null,
      comments: counts.comments,
      review_comments: counts.reviewComments,
      maintainer_can_modify: false,
      commits: 1,
      additions: 0,
      deletions: 0,
      changed_files: 0,
    });
  }
  return json;
}

/** The short PR form inside check suites, check runs and workflow runs. */
export function pullMinimalJson(api: string, repo: RepoModel, p: PullModel): Record<string, unknown> {
  const side = (r: RepoModel, ref: string, sha: string) => ({
    ref,
    sha,
    repo: { id: r.id, url: `${api}/repos/${r.owner.login}/${r.name}`, name: r.name },
  });
  return {
    id: p.id,
    number: p.number,
    url: `${api}/repos/${repo.owner.login}/${repo.name}/pulls/${p.number}`,
    head: side(p.headRepo, p.head, p.headSha),
    base: side(repo, p.base, p.baseSha),
  };
}

export interface ReviewCommentModel {
  id: number;
  pullNumber: number;
  reviewId: number | null;
  /** The thread's first comment; GitHub threads replies on it, never on a reply. */
  inReplyTo: number | null;
  body: string;
  path: string;
  /** The head the comment was made on (GitHub moves commit_id along; original_commit_id stays). */
  commitId: string;
  originalCommitId: string;
  line: number | null;
  startLine: number | null;
  side: 'LEFT' | 'RIGHT';
  startSide: 'LEFT' | 'RIGHT' | null;
  subjectType: 'line' | 'file';
  diffHunk: string;
  position: number | null;
  user: FakeUser;
  createdAt: string;
  updatedAt: string;
}

export interface ReviewCommentView {
  association: AuthorAssociation;
  /** The line is no longer in the PR's diff at its head (GitHub then drops line and position). */
  outdated: boolean;
  /** `pull-request-review-comment` (PR listings) or `review-comment` (a review's comments). */
  schema: 'pull' | 'review';
  reactions?: ReactionModel[];
}

export function reviewCommentJson(
  api: string,
  web: string,
  fullName: string,
  c: ReviewCommentModel,
  view: ReviewCommentView = { association: 'NONE', outdated: false, schema: 'pull' },
): Record<string, unknown> {
  const url = `${api}/repos/${fullName}/pulls/comments/${c.id}`;
  const html = `${web}/${fullName}/pull/${c.pullNumber}#discussion_r${c.id}`;
  const pr = `${api}/repos/${fullName}/pulls/${c.pullNumber}`;
  const json: Record<string, unknown> = {
    url,
    id: c.id,
    node_id: nodeId('PullRequestReviewComment', c.id),
    pull_request_review_id: c.reviewId,
    diff_hunk: c.diffHunk,
    path: c.path,
    commit_id: c.commitId,
    original_commit_id: c.originalCommitId,
    user: userJson(api, web, c.user),
    body: c.body,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    html_url: html,
    pull_request_url: pr,
    author_association: view.association,
    _links: { self: { href: url }, html: { href: html }, pull_request: { href: pr } },
    subject_type: c.subjectType,
    start_line: c.startLine,
    original_start_line: c.startLine,
    start_side: c.startSide,
    side: c.side,
    reactions: reactionRollup(`${url}/reactions`, view.reactions ?? []),
  };
  if (c.position !== null) json['original_position'] = c.position;
  if (c.line !== null) json['original_line'] = c.line;
  // GitHub answers an outdated comment with `line: null, position: null`; its own description
  // says integer for both in PR listings, so the fake leaves them out there.
  if (!view.outdated) {
    if (c.line !== null) json['line'] = c.line;
    if (c.position !== null) json['position'] = c.position;
  }
  if (view.schema === 'review' && !('position' in json)) json['position'] = null;
  if (view.schema === 'review' && !('original_position' in json)) json['original_position'] = 0;
  if (c.inReplyTo !== null) json['in_reply_to_id'] = c.inReplyTo;
  return json;
}

export type ReviewState = 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'PENDING' | 'DISMISSED';

export interface ReviewModel {
  id: number;
  pullNumber: number;
  user: FakeUser;
  body: string;
  state: ReviewState;
  commitId: string;
  submittedAt: string | null;
}

export function reviewJson(
  api: string,
  web: string,
  fullName: string,
  r: ReviewModel,
  association: AuthorAssociation = 'NONE',
): Record<string, unknown> {
  const html = `${web}/${fullName}/pull/${r.pullNumber}#pullrequestreview-${r.id}`;
  const pr = `${api}/repos/${fullName}/pulls/${r.pullNumber}`;
  const json: Record<string, unknown> = {
    id: r.id,
    node_id: nodeId('PullRequestReview', r.id),
    user: userJson(api, web, r.user),
    body: r.body,
    state: r.state,
    html_url: html,
    pull_request_url: pr,
    _links: { html: { href: html }, pull_request: { href: pr } },
    commit_id: r.commitId,
    author_association: association,
  };
  // A pending review has not been submitted: GitHub leaves submitted_at out.
  if (r.submittedAt) json['submitted_at'] = r.submittedAt;
  return json;
}

export interface AppModel {
  id: number;
  slug: string;
  name: string;
  owner: FakeUser;
  clientId: string;
  description: string | null;
  externalUrl: string;
  permissions: Record<string, string>;
  events: string[];
  createdAt: string;
}

export function appJson(api: string, web: string, app: AppModel): Record<string, unknown> {
  return {
    id: app.id,
    slug: app.slug,
    node_id: nodeId('App', app.id),
    client_id: app.clientId,
    owner: userJson(api, web, app.owner),
    name: app.name,
    description: app.description,
    external_url: app.externalUrl,
    html_url: `${web}/apps/${app.slug}`,
    created_at: app.createdAt,
    updated_at: app.createdAt,
    permissions: app.permissions,
    events: app.events,
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
    permissions: app.permissions,
    events: app.events,
    created_at: app.createdAt,
    updated_at: app.createdAt,
    single_file_name: null,
    suspended_by: null,
    suspended_at: null,
  };
}

export interface AnnotationModel {
  path: string;
  startLine: number;
  endLine: number;
  startColumn: number | null;
  endColumn: number | null;
  level: 'notice' | 'warning' | 'failure';
  title: string | null;
  message: string;
  rawDetails: string | null;
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
  /** The suite of this App on this commit (GitHub groups an App's runs on a sha into one). */
  checkSuiteId: number;
  app: AppModel;
  annotations: AnnotationModel[];
}

export function checkRunJson(
  api: string,
  web: string,
  fullName: string,
  run: CheckRunModel,
  pullRequests: Array<Record<string, unknown>> = [],
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
      annotations_count: run.annotations.length,
      annotations_url: `${url}/annotations`,
    },
    name: run.name,
    check_suite: { id: run.checkSuiteId },
    app: appJson(api, web, run.app),
    pull_requests: pullRequests,
  };
}

export function annotationJson(web: string, fullName: string, sha: string, a: AnnotationModel) {
  return {
    path: a.path,
    blob_href: `${web}/${fullName}/blob/${sha}/${a.path}`,
    start_line: a.startLine,
    end_line: a.endLine,
    start_column: a.startColumn,
    end_column: a.endColumn,
    annotation_level: a.level,
    title: a.title,
    message: a.message,
    raw_details: a.rawDetails,
  };
}

export { NOW };
