/**
 * A fake GitHub for tests: the REST endpoints devbot calls, GraphQL review threads, with state in
 * memory, plus real git over smart HTTP (`git http-backend`) against bare repositories in a temp
 * directory.
 *
 * Routes are written as GitHub's OpenAPI path templates so every logged response can be checked
 * against `@octokit/openapi` (tests/unit/github-fake-openapi*.test.ts), and request bodies are
 * checked against the same description before a handler sees them, as GitHub does.
 *
 * This file holds the server, the state and the test-side helpers; the routes live by area in
 * the `routes-*.ts` files next to it and reach the state through the public methods below.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  type AppRecord,
  type Auth,
  appFromJwt,
  authorizeRepo,
  githubError,
  type InstallationRecord,
  type Permission,
  type PersonalToken,
  type PersonalTokenSpec,
  publicKeyOf,
} from './fake-github-auth.js';
import type {
  CheckSuiteModel,
  CommitInfo,
  HookModel,
  StatusModel,
  WorkflowRunModel,
} from './fake-github-ci-models.js';
import type { Reply, RouteDef } from './fake-github-http.js';
import {
  type AppModel,
  type AuthorAssociation,
  type CheckRunModel,
  type CommentModel,
  commentJson,
  type FakeUser,
  type IssueModel,
  issueJson,
  NOW,
  type PullModel,
  pullJson,
  type ReactionModel,
  type RepoModel,
  type ReviewCommentModel,
  type ReviewModel,
  repoJson,
  reviewCommentJson,
  userJson,
} from './fake-github-models.js';
import { serveGitCgi } from './git-http-backend.js';
import { githubSchemaMessage, requestBodySchema, schemaIssues } from './openapi-schema.js';
import { closePull, createPull, type PushInput, pushBranch, refreshPull } from './pull-requests.js';
import { actionsRoutes, addWorkflowRun, type WorkflowRunInput } from './routes-actions.js';
import { appRoutes, type ManifestInput } from './routes-apps.js';
import { checksRoutes } from './routes-checks.js';
import { coreRoutes } from './routes-core.js';
import { graphqlRoutes } from './routes-graphql.js';
import { type HookDelivery, hookRoutes, sendToRepoHooks } from './routes-hooks.js';
import { oauthRoutes } from './routes-oauth.js';
import {
  addReply,
  newReview,
  reviewRoutes,
  type SeedReviewInput,
  seedReview,
  threadOutdated,
} from './routes-reviews.js';
import { statusRoutes } from './routes-statuses.js';

const execFileP = promisify(execFile);

export type { Permission, PermissionSet, PersonalTokenSpec } from './fake-github-auth.js';

export interface FakeRepoState {
  model: RepoModel;
  issues: Map<number, IssueModel>;
  comments: CommentModel[];
  pulls: PullModel[];
  reviews: ReviewModel[];
  reviewComments: ReviewCommentModel[];
  /** Resolved review threads: the thread's first comment id -> who resolved it (GraphQL only). */
  resolvedThreads: Map<number, FakeUser>;
  reactions: ReactionModel[];
  checkSuites: CheckSuiteModel[];
  checkRuns: CheckRunModel[];
  workflowRuns: WorkflowRunModel[];
  statuses: StatusModel[];
  hooks: HookModel[];
  permissions: Map<string, Permission>;
  nextNumber: number;
}

export interface LoggedResponse {
  method: string;
  /** The OpenAPI path template that matched, e.g. /repos/{owner}/{repo}. */
  route: string;
  path: string;
  status: number;
  body: unknown;
  headers: Record<string, string>;
  /** Not part of GitHub's REST description (GraphQL, web pages, downloads): skipped by shape checks. */
  outsideRestApi: boolean;
}

export interface FakeGithubOptions {
  appId?: number;
  appSlug?: string;
  installationId?: number;
  /** The default App's permissions (GitHub's App permission names). */
  appPermissions?: Record<string, string>;
}

/** What the default test App may do: what devbot's App asks for. */
export const DEFAULT_APP_PERMISSIONS: Record<string, string> = {
  actions: 'read',
  checks: 'write',
  contents: 'write',
  issues: 'write',
  metadata: 'read',
  pull_requests: 'write',
  statuses: 'write',
};
const DEFAULT_APP_EVENTS = [
  'check_suite',
  'issues',
  'issue_comment',
  'pull_request',
  'pull_request_review',
  'pull_request_review_comment',
  'workflow_run',
];

interface InstallationToken {
  app: AppRecord;
  installation: InstallationRecord;
}

export class FakeGithub {
  readonly app: AppModel;
  readonly installationId: number;
  readonly botUser: FakeUser;
  /** Every REST response sent, for assertions and the OpenAPI shape check. */
  readonly responses: LoggedResponse[] = [];
  /** Every installation token minted (tests check none leaked). */
  readonly issuedTokens: string[] = [];
  /** Git requests seen: service and whether they were authenticated. */
  readonly gitRequests: Array<{ path: string; service: string; user: string | null }> = [];
  /** Deliveries the fake made to repository webhooks (pings included). */
  readonly hookDeliveries: HookDelivery[] = [];
  /** The person signed in to the fake's web pages (who creates Apps with the manifest form). */
  signedInUser = 'devbot-maker';
  /** Who approved which OAuth client on the authorize page, in order. */
  readonly oauthAuthorizations: { clientId: string; login: string }[] = [];
  #server: Server | null = null;
  #root = '';
  #url = '';
  #nextId = 1000;
  readonly #users = new Map<string, FakeUser>();
  readonly #repos = new Map<string, FakeRepoState>();
  readonly #apps = new Map<number, AppRecord>();
  readonly #installationTokens = new Map<string, InstallationToken>();
  readonly #personalTokens = new Map<string, PersonalToken>();
  readonly #manifestCodes = new Map<string, ManifestInput>();
  /** Signed, short-lived download links (job logs) -> their text and expiry. */
  readonly #downloads = new Map<string, { text: string; expiresAt: number }>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #routes: RouteDef[];

  constructor(options: FakeGithubOptions = {}) {
    const slug = options.appSlug ?? 'devbot';
    this.installationId = options.installationId ?? 4242;
    const owner = this.user('devbot-maker');
    const id = options.appId ?? 12345;
    this.app = {
      id,
      slug,
      name: slug,
      owner,
      clientId: `Iv1.${id}`,
      description: 'devbot test app',
      externalUrl: `http://localhost/apps/${slug}`,
      permissions: options.appPermissions ?? DEFAULT_APP_PERMISSIONS,
      events: DEFAULT_APP_EVENTS,
      createdAt: '2024-01-01T00:00:00Z',
    };
    this.botUser = this.user(`${slug}[bot]`, 'Bot');
    this.#apps.set(id, {
      model: this.app,
      permissions: this.app.permissions,
      events: this.app.events,
      clientId: this.app.clientId,
      clientSecret: randomBytes(20).toString('hex'),
      webhookSecret: null,
      publicKey: null,
      installations: new Map([
        [this.installationId, { id: this.installationId, account: owner, everyAccount: true }],
      ]),
    });
    this.#routes = [
      ...appRoutes(this),
      ...coreRoutes(this),
      ...oauthRoutes(this),
      ...reviewRoutes(this),
      ...graphqlRoutes(this),
      ...checksRoutes(this),
      ...actionsRoutes(this),
      ...statusRoutes(this),
      ...hookRoutes(this),
    ];
  }

  /** API base URL (what GITHUB_API_URL is set to). */
  get url(): string {
    return this.#url;
  }
  /** Base for web links (github.com's pages: the App manifest form lives here too). */
  get webUrl(): string {
    return `${this.#url}/web`;
  }
  get gitUrl(): string {
    return `${this.#url}/git`;
  }
  /** GraphQL endpoint (`POST`), what octokit derives from the API base URL. */
  get graphqlUrl(): string {
    return `${this.#url}/graphql`;
  }

  async start(): Promise<this> {
    this.#root = await mkdtemp(join(tmpdir(), 'fake-github-'));
    this.#server = createServer((req, res) => {
      this.#dispatch(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(JSON.stringify({ message: String(err) }));
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.#url = `http://127.0.0.1:${port}`;
    return this;
  }

  async close(): Promise<void> {
    await this.settled();
    const server = this.#server;
    this.#server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (this.#root) await rm(this.#root, { recursive: true, force: true });
  }

  /** Resolves once every delivery the fake started on its own (hook pings) has finished. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  // ---- test-side client: users, repositories, issues ----------------------------------------

  user(login: string, type: FakeUser['type'] = 'User'): FakeUser {
    let u = this.#users.get(login);
    if (!u) {
      u = { login, id: this.nextId(), type };
      this.#users.set(login, u);
    }
    return u;
  }

  /** Creates a repository with one commit holding `files` on the default branch. */
  async createRepo(input: {
    owner: string;
    name: string;
    files?: Record<string, string>;
    defaultBranch?: string;
    private?: boolean;
  }): Promise<FakeRepoState> {
    const defaultBranch = input.defaultBranch ?? 'main';
    const bare = this.barePath(input.owner, input.name);
    await mkdir(dirname(bare), { recursive: true });
    await git(['init', '-q', '--bare', `--initial-branch=${defaultBranch}`, bare]);
    const work = await mkdtemp(join(tmpdir(), 'fake-github-seed-'));
    try {
      await git(['init', '-q', `--initial-branch=${defaultBranch}`, work]);
      const files = input.files ?? { 'README.md': `# ${input.name}\n` };
      for (const [path, content] of Object.entries(files)) {
        await mkdir(dirname(join(work, path)), { recursive: true });
        await writeFile(join(work, path), content);
      }
      await git(['add', '-A'], work);
      await git(
        ['-c', 'user.name=Seed', '-c', 'user.email=seed@example.com', 'commit', '-q', '-m', 'initial commit'],
        work,
      );
      await git(['push', '-q', bare, `HEAD:refs/heads/${defaultBranch}`], work);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return this.#addRepoState(
      {
        id: this.nextId(),
        owner: this.user(input.owner),
        name: input.name,
        private: input.private ?? true,
        defaultBranch,
        createdAt: NOW(),
        parent: null,
      },
      input.owner,
    );
  }

  /** Forks `owner/name` into `forkOwner`'s account (all branches), as GitHub's fork button does. */
  async forkRepo(owner: string, name: string, forkOwner: string): Promise<FakeRepoState> {
    const parent = this.repo(owner, name);
    const bare = this.barePath(forkOwner, name);
    await mkdir(dirname(bare), { recursive: true });
    await git(['clone', '-q', '--bare', this.barePath(owner, name), bare]);
    return this.#addRepoState(
      {
        id: this.nextId(),
        owner: this.user(forkOwner),
        name,
        private: parent.model.private,
        defaultBranch: parent.model.defaultBranch,
        createdAt: NOW(),
        parent: parent.model,
      },
      forkOwner,
    );
  }

  #addRepoState(model: RepoModel, admin: string): FakeRepoState {
    const state: FakeRepoState = {
      model,
      issues: new Map(),
      comments: [],
      pulls: [],
      reviews: [],
      reviewComments: [],
      resolvedThreads: new Map(),
      reactions: [],
      checkSuites: [],
      checkRuns: [],
      workflowRuns: [],
      statuses: [],
      hooks: [],
      permissions: new Map([[admin, 'admin']]),
      nextNumber: 1,
    };
    this.#repos.set(`${model.owner.login}/${model.name}`, state);
    return state;
  }

  repo(owner: string, name: string): FakeRepoState {
    const r = this.#repos.get(`${owner}/${name}`);
    if (!r) throw new Error(`fake github: no repo ${owner}/${name}`);
    return r;
  }

  barePath(owner: string, name: string): string {
    return join(this.#root, 'repos', owner, `${name}.git`);
  }

  /** A user's role on a repository (what `GET .../collaborators/{u}/permission` answers). */
  setPermission(owner: string, name: string, login: string, permission: Permission): void {
    this.user(login);
    this.repo(owner, name).permissions.set(login, permission);
  }

  createIssue(
    owner: string,
    name: string,
    input: { title: string; body?: string; user?: string; labels?: string[] },
  ): IssueModel {
    const r = this.repo(owner, name);
    const issue: IssueModel = {
      id: this.nextId(),
      number: r.nextNumber++,
      title: input.title,
      body: input.body ?? null,
      user: this.user(input.user ?? owner),
      state: 'open',
      labels: input.labels ?? [],
      isPull: false,
      comments: 0,
      createdAt: NOW(),
      updatedAt: NOW(),
    };
    r.issues.set(issue.number, issue);
    return issue;
  }

  addComment(owner: string, name: string, issueNumber: number, body: string, login: string): CommentModel {
    return this.addIssueComment(this.repo(owner, name), issueNumber, body, this.user(login));
  }

  comments(owner: string, name: string, issueNumber?: number): CommentModel[] {
    const all = this.repo(owner, name).comments;
    return issueNumber === undefined ? all : all.filter((c) => c.issueNumber === issueNumber);
  }

  // ---- test-side client: branches and pull requests -----------------------------------------

  /**
   * Commits `files` (path -> content, null deletes) on top of `from` (default: the branch itself
   * if it exists, else the default branch) and moves `branch` there, as a person's push would.
   * Returns the new commit's sha.
   */
  pushBranch(owner: string, name: string, input: PushInput): Promise<string> {
    return pushBranch(this, this.repo(owner, name), input);
  }

  /**
   * Opens a pull request the way a person does on GitHub: `head` is a branch of this repository,
   * or `forkOwner:branch` for a branch of a fork. GitHub also publishes the head as
   * `refs/pull/<n>/head` in the base repository; so does the fake (that is how a fork's commits
   * become fetchable from the base).
   */
  async openPullRequest(
    owner: string,
    name: string,
    input: { title: string; head: string; base?: string; body?: string; user: string; draft?: boolean },
  ): Promise<PullModel> {
    const r = this.repo(owner, name);
    const opened = await createPull(this, r, {
      title: input.title,
      head: input.head,
      base: input.base ?? r.model.defaultBranch,
      body: input.body ?? null,
      draft: input.draft ?? false,
      user: this.user(input.user),
    });
    if (typeof opened === 'string') throw new Error(`fake github: ${opened}`);
    return opened;
  }

  /** Closes a pull request; `merged` first merges it into its base with a real merge commit. */
  closePull(
    owner: string,
    name: string,
    number: number,
    input: { merged: boolean; by: string },
  ): Promise<PullModel> {
    const r = this.repo(owner, name);
    return closePull(this, r, this.pullOf(r, number), this.user(input.by), input.merged);
  }

  // ---- test-side client: review context -----------------------------------------------------

  /**
   * A single review comment (a thread's first comment, or a reply with `inReplyTo`). Lines,
   * hunk and position are taken as given; `seedReview` computes them from the PR's diff.
   */
  addReviewComment(
    owner: string,
    name: string,
    pullNumber: number,
    input: {
      body: string;
      user: string;
      path?: string;
      line?: number;
      side?: 'LEFT' | 'RIGHT';
      diffHunk?: string;
      reviewId?: number;
      inReplyTo?: number;
    },
  ): ReviewCommentModel {
    const r = this.repo(owner, name);
    const pull = this.pullOf(r, pullNumber);
    if (input.inReplyTo !== undefined)
      return addReply(this, r, pull, input.inReplyTo, input.body, this.user(input.user));
    const line = input.line ?? 1;
    const c: ReviewCommentModel = {
      id: this.nextId(),
      pullNumber,
      reviewId: input.reviewId ?? newReview(this, r, pull, this.user(input.user), 'COMMENTED', '').id,
      inReplyTo: null,
      body: input.body,
      path: input.path ?? 'README.md',
      commitId: pull.headSha,
      originalCommitId: pull.headSha,
      line,
      startLine: null,
      side: input.side ?? 'RIGHT',
      startSide: null,
      subjectType: 'line',
      diffHunk: input.diffHunk ?? `@@ -${line} +${line} @@`,
      position: 1,
      user: this.user(input.user),
      createdAt: NOW(),
      updatedAt: NOW(),
    };
    r.reviewComments.push(c);
    return c;
  }

  /**
   * A submitted review with inline comments on files and lines of the PR's diff (each comment's
   * `diff_hunk` and `position` come from the real diff unless given), each starting a thread;
   * `replies` add comments to those threads.
   */
  seedReview(owner: string, name: string, pullNumber: number, input: SeedReviewInput) {
    return seedReview(this, this.repo(owner, name), pullNumber, input);
  }

  /** Records a submitted review without inline comments (what `reviewSubmitted` delivers). */
  submitReview(
    owner: string,
    name: string,
    pullNumber: number,
    input: { state: 'changes_requested' | 'approved' | 'commented'; body: string; user: string },
  ): ReviewModel {
    const r = this.repo(owner, name);
    const state = input.state.toUpperCase() as ReviewModel['state'];
    return newReview(this, r, this.pullOf(r, pullNumber), this.user(input.user), state, input.body);
  }

  /** Marks the thread of a review comment resolved (by `by`) or unresolved; any comment of it will do. */
  resolveThread(owner: string, name: string, commentId: number, by: string | null): void {
    const r = this.repo(owner, name);
    const c = r.reviewComments.find((x) => x.id === commentId);
    if (!c) throw new Error(`fake github: no review comment ${commentId}`);
    const root = c.inReplyTo ?? c.id;
    if (by === null) r.resolvedThreads.delete(root);
    else r.resolvedThreads.set(root, this.user(by));
  }

  /** Whether a review comment's thread is outdated at the PR's current head. */
  async isThreadOutdated(owner: string, name: string, commentId: number): Promise<boolean> {
    const r = this.repo(owner, name);
    const c = r.reviewComments.find((x) => x.id === commentId);
    if (!c) throw new Error(`fake github: no review comment ${commentId}`);
    return threadOutdated(this, r, c);
  }

  // ---- test-side client: CI -----------------------------------------------------------------

  /**
   * A GitHub Actions run on a branch's head (or `headSha`): one check suite of the GitHub
   * Actions App, one check run per job (same id as the job), steps, a timestamped log per job.
   */
  addWorkflowRun(owner: string, name: string, input: WorkflowRunInput): Promise<WorkflowRunModel> {
    return addWorkflowRun(this, this.repo(owner, name), input);
  }

  // ---- test-side client: tokens, Apps, hooks ------------------------------------------------

  /**
   * Registers a personal access token for `login`: classic (`scopes`, echoed in `x-oauth-scopes`)
   * or fine-grained (`permissions`, optionally limited to `repositories` as `owner/name`).
   */
  registerPersonalToken(spec: PersonalTokenSpec): string {
    this.user(spec.login);
    const classic = 'scopes' in spec;
    const value =
      spec.token ??
      (classic ? `ghp_${randomBytes(18).toString('hex')}` : `github_pat_${randomBytes(30).toString('hex')}`);
    this.#personalTokens.set(value, {
      value,
      login: spec.login,
      kind: classic ? 'classic' : 'fine-grained',
      scopes: classic ? spec.scopes : [],
      permissions: classic ? {} : spec.permissions,
      repositories: classic ? 'all' : (spec.repositories ?? 'all'),
    });
    return value;
  }

  /**
   * A one-time code for the App manifest flow, as GitHub hands to the manifest's `redirect_url`
   * after a person confirms the new App. `POST /app-manifests/{code}/conversions` redeems it.
   */
  registerManifestCode(code: string, manifest: ManifestInput['manifest'], owner = 'devbot-maker'): void {
    this.#manifestCodes.set(code, { manifest, owner, expiresAt: Date.now() + 3600_000 });
  }

  /** Takes a manifest code out (codes work once, for an hour). */
  takeManifestCode(code: string): ManifestInput | null {
    const entry = this.#manifestCodes.get(code);
    this.#manifestCodes.delete(code);
    return entry && entry.expiresAt > Date.now() ? entry : null;
  }

  /** Registers an App created by the manifest flow; returns it with its new private key (PKCS#1 PEM). */
  createApp(input: Omit<AppModel, 'id' | 'clientId' | 'createdAt'> & { webhookSecret: string | null }): {
    record: AppRecord;
    pem: string;
  } {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      // GitHub hands out PKCS#1 keys ("BEGIN RSA PRIVATE KEY").
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const id = this.nextId();
    const model: AppModel = {
      ...input,
      id,
      clientId: `Iv23li${randomBytes(7).toString('hex')}`,
      createdAt: NOW(),
    };
    const record: AppRecord = {
      model,
      permissions: model.permissions,
      events: model.events,
      clientId: model.clientId,
      clientSecret: randomBytes(20).toString('hex'),
      webhookSecret: input.webhookSecret,
      publicKey: publicKeyOf(privateKey),
      installations: new Map(),
    };
    this.#apps.set(id, record);
    return { record, pem: privateKey };
  }

  /** Installs an App on an account (all its repositories); returns the installation id. */
  installApp(appId: number, account: string): number {
    const app = this.#apps.get(appId);
    if (!app) throw new Error(`fake github: no app ${appId}`);
    const id = this.nextId();
    app.installations.set(id, { id, account: this.user(account), everyAccount: false });
    return id;
  }

  appBySlug(slug: string): AppRecord | undefined {
    return [...this.#apps.values()].find((a) => a.model.slug === slug);
  }

  allRepos(): FakeRepoState[] {
    return [...this.#repos.values()];
  }

  appRecord(idOrClientId: string | number): AppRecord | undefined {
    const byId = this.#apps.get(Number(idOrClientId));
    if (byId) return byId;
    return [...this.#apps.values()].find((a) => a.clientId === String(idOrClientId));
  }

  /** The installation of an App that reaches `owner`'s repositories. */
  installationFor(app: AppRecord, owner: string): InstallationRecord | undefined {
    return [...app.installations.values()].find((i) => i.everyAccount || i.account.login === owner);
  }

  /** Mints an installation token (what `POST /app/installations/{id}/access_tokens` does). */
  mintInstallationToken(app: AppRecord, installation: InstallationRecord): string {
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    this.#installationTokens.set(token, { app, installation });
    this.issuedTokens.push(token);
    return token;
  }

  /** Delivers an event to the repository's active webhooks subscribed to it, signed with each secret. */
  deliverToRepoHooks(
    owner: string,
    name: string,
    delivery: { id: string; name: string; payload: Record<string, unknown> },
  ): Promise<HookDelivery[]> {
    return sendToRepoHooks(this, this.repo(owner, name), delivery);
  }

  /** Keeps a promise the fake started on its own, so `settled()` and `close()` can wait for it. */
  track(promise: Promise<unknown>): void {
    this.#pending.add(promise);
    void promise.finally(() => this.#pending.delete(promise));
  }

  /** A signed link to `text` that works without credentials for a minute (GitHub's log downloads). */
  signedDownload(text: string): string {
    const key = randomBytes(16).toString('hex');
    this.#downloads.set(key, { text, expiresAt: Date.now() + 60_000 });
    return `${this.#url}/_blobs/${key}?sig=${randomBytes(12).toString('base64url')}`;
  }

  download(key: string): string | null {
    const entry = this.#downloads.get(key);
    return entry && entry.expiresAt > Date.now() ? entry.text : null;
  }

  // ---- JSON of objects as the API returns them (for webhook payloads) -----------------------

  issueJson(owner: string, name: string, number: number): Record<string, unknown> {
    const r = this.repo(owner, name);
    const issue = r.issues.get(number);
    if (!issue) throw new Error(`fake github: no issue #${number}`);
    return this.issueView(r, issue);
  }
  repoJson(owner: string, name: string): Record<string, unknown> {
    return repoJson(this.#url, this.webUrl, this.gitUrl, this.repo(owner, name).model, false);
  }
  userJson(login: string): Record<string, unknown> {
    return userJson(this.#url, this.webUrl, this.user(login));
  }
  commentJson(owner: string, name: string, comment: CommentModel): Record<string, unknown> {
    return this.commentView(this.repo(owner, name), comment);
  }
  reviewCommentJson(owner: string, name: string, comment: ReviewCommentModel): Record<string, unknown> {
    return this.reviewCommentView(this.repo(owner, name), comment, { outdated: false, schema: 'pull' });
  }
  async pullJson(owner: string, name: string, number: number): Promise<Record<string, unknown>> {
    const r = this.repo(owner, name);
    const p = this.pullOf(r, number);
    await this.refreshPull(r, p);
    return this.pullView(r, p, true);
  }

  /** `git log` of a ref in the fake's bare repository: one line per commit, `sha subject`. */
  async gitLog(owner: string, name: string, ref: string, format = '%H %s'): Promise<string[]> {
    const { stdout } = await execFileP('git', ['log', `--format=${format}`, ref], {
      cwd: this.barePath(owner, name),
    });
    return stdout.split('\n').filter(Boolean);
  }

  async gitShow(owner: string, name: string, spec: string): Promise<string> {
    const { stdout } = await execFileP('git', ['show', spec], { cwd: this.barePath(owner, name) });
    return stdout;
  }

  /** Every route the fake serves (`outsideRestApi`: GraphQL, web pages, downloads). */
  routeList(): Array<{ method: string; template: string; outsideRestApi: boolean }> {
    return this.#routes.map((r) => ({
      method: r.method,
      template: r.template,
      outsideRestApi: r.outsideRestApi === true,
    }));
  }

  // ---- for the route modules ----------------------------------------------------------------

  nextId(): number {
    return this.#nextId++;
  }

  findRepo(owner: string, name: string): FakeRepoState | null {
    return this.#repos.get(`${owner}/${name}`) ?? null;
  }

  fullName(r: FakeRepoState): string {
    return `${r.model.owner.login}/${r.model.name}`;
  }

  pullOf(r: FakeRepoState, number: number): PullModel {
    const p = r.pulls.find((x) => x.number === number);
    if (!p) throw new Error(`fake github: no pull #${number} in ${this.fullName(r)}`);
    return p;
  }

  /** Who a call acts as: the App's bot for installation tokens, the user for personal tokens. */
  callerOf(auth: Auth): FakeUser {
    if (auth.kind === 'installation') return this.user(`${auth.app.model.slug}[bot]`, 'Bot');
    if (auth.kind === 'user') return this.user(auth.token.login);
    return this.app.owner;
  }

  roleOf(r: FakeRepoState, login: string): Permission {
    return r.permissions.get(login) ?? (r.model.private ? 'none' : 'read');
  }

  association(r: FakeRepoState, user: FakeUser): AuthorAssociation {
    if (user.login === r.model.owner.login) return 'OWNER';
    const role = r.permissions.get(user.login);
    if (role && role !== 'none') return 'COLLABORATOR';
    if (r.pulls.some((p) => p.user.login === user.login && p.mergedAt !== null)) return 'CONTRIBUTOR';
    return 'NONE';
  }

  issueView(r: FakeRepoState, issue: IssueModel): Record<string, unknown> {
    const reactions = r.reactions.filter((x) => x.target === `issue:${issue.number}`);
    return issueJson(
      this.#url,
      this.webUrl,
      this.fullName(r),
      issue,
      this.association(r, issue.user),
      reactions,
    );
  }

  commentView(r: FakeRepoState, c: CommentModel): Record<string, unknown> {
    const reactions = r.reactions.filter((x) => x.target === `comment:${c.id}`);
    return commentJson(this.#url, this.webUrl, this.fullName(r), c, this.association(r, c.user), reactions);
  }

  reviewCommentView(
    r: FakeRepoState,
    c: ReviewCommentModel,
    view: { outdated: boolean; schema: 'pull' | 'review' },
  ): Record<string, unknown> {
    return reviewCommentJson(this.#url, this.webUrl, this.fullName(r), c, {
      ...view,
      association: this.association(r, c.user),
      reactions: r.reactions.filter((x) => x.target === `review-comment:${c.id}`),
    });
  }

  pullView(r: FakeRepoState, p: PullModel, full: boolean): Record<string, unknown> {
    const counts = {
      comments: r.comments.filter((c) => c.issueNumber === p.number).length,
      reviewComments: r.reviewComments.filter((c) => c.pullNumber === p.number).length,
    };
    return pullJson(
      this.#url,
      this.webUrl,
      this.gitUrl,
      r.model,
      p,
      full,
      this.association(r, p.user),
      counts,
    );
  }

  addIssueComment(r: FakeRepoState, issueNumber: number, body: string, user: FakeUser): CommentModel {
    const c: CommentModel = {
      id: this.nextId(),
      issueNumber,
      body,
      user,
      createdAt: NOW(),
      updatedAt: NOW(),
    };
    r.comments.push(c);
    const issue = r.issues.get(issueNumber);
    if (issue) issue.comments++;
    return c;
  }

  /** Runs git in a repository's bare directory; returns trimmed stdout. */
  async git(
    r: FakeRepoState,
    args: string[],
    env: Record<string, string> = {},
    input?: string,
  ): Promise<string> {
    const cwd = this.barePath(r.model.owner.login, r.model.name);
    const child = execFileP('git', args, {
      cwd,
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    const { stdout } = await child;
    return stdout.trim();
  }

  /** The commit a ref (sha, branch, tag) names, or null. */
  async resolveCommit(r: FakeRepoState, ref: string): Promise<string | null> {
    if (!/^[\w./-]+$/.test(ref) || ref.startsWith('-')) return null;
    return this.git(r, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).catch(() => null);
  }

  async commitInfo(r: FakeRepoState, sha: string): Promise<CommitInfo> {
    const out = await this.git(r, ['show', '-s', '--format=%T%n%an%n%ae%n%cn%n%ce%n%cI%n%B', sha]);
    const [tree = '', an = '', ae = '', cn = '', ce = '', at = '', ...message] = out.split('\n');
    return {
      sha,
      treeSha: tree,
      author: { name: an, email: ae },
      committer: { name: cn, email: ce },
      timestamp: at.replace(/\+00:00$/, 'Z'),
      message: message.join('\n').trim(),
    };
  }

  /** Follows the PR's head branch (in its fork, maybe) and keeps `refs/pull/<n>/head` on it. */
  refreshPull(r: FakeRepoState, p: PullModel): Promise<void> {
    return refreshPull(this, r, p);
  }

  async refSha(r: FakeRepoState, branch: string): Promise<string | null> {
    return this.git(r, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]).catch(() => null);
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  async #dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/git/')) return this.#git(req, res, url);
    const method = req.method ?? 'GET';
    for (const route of this.#routes) {
      if (route.method !== method) continue;
      const params = matchTemplate(route.template, url.pathname);
      if (!params) continue;
      const auth = this.#auth(req);
      const reply = await this.#handle(route, req, url, params, auth);
      const headers: Record<string, string> = { ...reply.headers };
      if (auth.kind === 'user' && auth.token.kind === 'classic')
        headers['x-oauth-scopes'] ??= auth.token.scopes.join(', ');
      this.responses.push({
        method,
        route: route.template,
        path: url.pathname,
        status: reply.status,
        body: reply.text ?? reply.body,
        headers,
        outsideRestApi: route.outsideRestApi === true,
      });
      if (reply.text !== undefined) {
        res.writeHead(reply.status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
        res.end(reply.text);
        return;
      }
      res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }));
  }

  async #handle(
    route: RouteDef,
    req: IncomingMessage,
    url: URL,
    params: Record<string, string>,
    auth: Auth,
  ): Promise<Reply> {
    const access = route.access;
    let repo: FakeRepoState | null = null;
    let headers: Record<string, string> = {};
    if (access.kind === 'app' && auth.kind !== 'app')
      return githubError(401, auth.kind === 'bad' ? auth.message : 'A JSON web token could not be decoded');
    if (access.kind === 'user') {
      if (auth.kind === 'installation') return githubError(403, 'Resource not accessible by integration');
      if (auth.kind !== 'user')
        return githubError(401, auth.kind === 'bad' ? auth.message : 'Requires authentication');
    }
    if (access.kind === 'token' && auth.kind !== 'user' && auth.kind !== 'installation')
      return githubError(
        401,
        auth.kind === 'bad' ? auth.message : 'This endpoint requires you to be authenticated.',
      );
    if (access.kind === 'repo') {
      repo = this.findRepo(params['owner'] ?? '', params['repo'] ?? '');
      if (!repo) return githubError(404, 'Not Found');
      const r = repo;
      const verdict = authorizeRepo(
        auth,
        {
          fullName: this.fullName(r),
          ownerLogin: r.model.owner.login,
          private: r.model.private,
          roleOf: (login) => this.roleOf(r, login),
        },
        access,
      );
      if (verdict.refusal) return { ...verdict.refusal, headers: verdict.headers };
      headers = verdict.headers;
    }
    const rawBody = await readBody(req);
    let body: Record<string, unknown> = {};
    const type = req.headers['content-type'] ?? '';
    if (rawBody.length > 0 && !type.startsWith('application/x-www-form-urlencoded')) {
      try {
        body = JSON.parse(rawBody) as Record<string, unknown>;
      } catch {
        return { ...githubError(400, 'Problems parsing JSON'), headers };
      }
    }
    if (!route.outsideRestApi && !route.acceptsOffSchema?.(body)) {
      const schema = requestBodySchema(route.method, route.template);
      const issue = schema ? schemaIssues(schema, body)[0] : undefined;
      if (issue) return { ...githubError(422, githubSchemaMessage(issue)), headers };
    }
    const reply = await route.handler({
      req,
      url,
      params,
      query: url.searchParams,
      body,
      rawBody,
      auth,
      repo,
    });
    return { ...reply, headers: { ...headers, ...reply.headers } };
  }

  #auth(req: IncomingMessage): Auth {
    const header = req.headers.authorization ?? '';
    if (!header) return { kind: 'none' };
    const [scheme = '', value = ''] = header.split(' ');
    const lower = scheme.toLowerCase();
    if (lower !== 'bearer' && lower !== 'token') return { kind: 'bad', message: 'Bad credentials' };
    if (lower === 'bearer') {
      const jwt = appFromJwt(value, (iss) => this.appRecord(iss));
      if (jwt) return jwt;
    }
    const installation = this.#installationTokens.get(value);
    if (installation) return { kind: 'installation', ...installation };
    const personal = this.#personalTokens.get(value);
    if (personal) return { kind: 'user', token: personal };
    return { kind: 'bad', message: 'Bad credentials' };
  }

  async #git(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const pathInfo = url.pathname.slice('/git'.length);
    const service =
      url.searchParams.get('service') ?? (pathInfo.endsWith('git-receive-pack') ? 'git-receive-pack' : '');
    const isPush = service === 'git-receive-pack' || pathInfo.endsWith('/git-receive-pack');
    let user: string | null = null;
    let auth: Auth = { kind: 'none' };
    const header = req.headers.authorization ?? '';
    if (header.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString();
      const password = decoded.slice(decoded.indexOf(':') + 1);
      const installation = this.#installationTokens.get(password);
      const personal = this.#personalTokens.get(password);
      if (installation) auth = { kind: 'installation', ...installation };
      else if (personal) auth = { kind: 'user', token: personal };
      if (auth.kind !== 'none') user = decoded.slice(0, decoded.indexOf(':')) || 'x-access-token';
    }
    this.gitRequests.push({ path: pathInfo, service: isPush ? 'receive-pack' : 'upload-pack', user });
    const match = /^\/([^/]+)\/([^/]+)\.git\//.exec(pathInfo);
    const repo = match ? this.#repos.get(`${match[1]}/${match[2]}`) : undefined;
    if (!repo) {
      res.writeHead(404).end('Repository not found.');
      return;
    }
    // Private repositories need a token for any access; pushes always do.
    if (user === null && (isPush || repo.model.private)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' }).end('authentication required');
      return;
    }
    if (auth.kind !== 'none') {
      const verdict = authorizeRepo(
        auth,
        {
          fullName: this.fullName(repo),
          ownerLogin: repo.model.owner.login,
          private: repo.model.private,
          roleOf: (login) => this.roleOf(repo, login),
        },
        { permission: 'contents', access: isPush ? 'write' : 'read', minRole: isPush ? 'write' : 'read' },
      );
      if (verdict.refusal) {
        res
          .writeHead(verdict.refusal.status === 404 ? 404 : 403)
          .end(
            verdict.refusal.status === 404
              ? 'Repository not found.'
              : `Permission to ${this.fullName(repo)}.git denied to ${user}.`,
          );
        return;
      }
    }
    const options = {
      projectRoot: join(this.#root, 'repos'),
      pathInfo,
      query: url.search.slice(1),
    };
    await serveGitCgi(req, res, user ? { ...options, remoteUser: user } : options);
  }
}

/** Matches a path against an OpenAPI template; returns its parameters or null. */
function matchTemplate(template: string, path: string): Record<string, string> | null {
  const keys: string[] = [];
  const pattern = template.replace(/\{([a-z_]+)\}/g, (_m, key: string) => {
    keys.push(key);
    return '([^/]+)';
  });
  const m = new RegExp(`^${pattern}$`).exec(path);
  if (!m) return null;
  const params: Record<string, string> = {};
  keys.forEach((k, i) => {
    params[k] = decodeURIComponent(m[i + 1] ?? '');
  });
  return params;
}

async function git(args: string[], cwd?: string): Promise<void> {
  await execFileP('git', args, cwd ? { cwd } : {});
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFakeGithub(options: FakeGithubOptions = {}): Promise<FakeGithub> {
  return new FakeGithub(options).start();
}
