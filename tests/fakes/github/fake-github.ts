/**
 * A fake GitHub for tests: the REST endpoints devbot calls, with state in memory, plus real git
 * over smart HTTP (`git http-backend`) against bare repositories in a temp directory.
 *
 * Routes are written as GitHub's OpenAPI path templates so every logged response can be checked
 * against `@octokit/openapi` (tests/unit/github-fake-openapi.test.ts).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  type AppModel,
  appJson,
  type CheckRunModel,
  type CommentModel,
  checkRunJson,
  commentJson,
  type FakeUser,
  type IssueModel,
  installationJson,
  issueJson,
  NOW,
  type PullModel,
  pullJson,
  type ReactionModel,
  type RepoModel,
  type ReviewCommentModel,
  reactionJson,
  repoJson,
  reviewCommentJson,
  userJson,
} from './fake-github-models.js';
import { serveGitCgi } from './git-http-backend.js';

const execFileP = promisify(execFile);

export type Permission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface FakeRepoState {
  model: RepoModel;
  issues: Map<number, IssueModel>;
  comments: CommentModel[];
  pulls: PullModel[];
  reviewComments: ReviewCommentModel[];
  reactions: ReactionModel[];
  checkRuns: CheckRunModel[];
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
}

interface Ctx {
  req: IncomingMessage;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** The caller: the app (JWT), an installation (token) or nobody. */
  auth: { kind: 'app' } | { kind: 'installation'; installationId: number } | { kind: 'none' };
}

type Reply = { status: number; body?: unknown };
type RouteHandler = (ctx: Ctx) => Promise<Reply> | Reply;

interface Route {
  method: string;
  template: string;
  regex: RegExp;
  keys: string[];
  auth: 'app' | 'installation';
  handler: RouteHandler;
}

export interface FakeGithubOptions {
  appId?: number;
  appSlug?: string;
  installationId?: number;
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
  #server: Server | null = null;
  #root = '';
  #url = '';
  #nextId = 1000;
  readonly #users = new Map<string, FakeUser>();
  readonly #repos = new Map<string, FakeRepoState>();
  readonly #tokens = new Map<string, number>();
  readonly #routes: Route[] = [];

  constructor(options: FakeGithubOptions = {}) {
    const slug = options.appSlug ?? 'devbot';
    this.installationId = options.installationId ?? 4242;
    const owner = this.user('devbot-maker');
    this.app = { id: options.appId ?? 12345, slug, name: slug, owner };
    this.botUser = this.user(`${slug}[bot]`, 'Bot');
    this.#defineRoutes();
  }

  /** API base URL (what GITHUB_API_URL is set to). */
  get url(): string {
    return this.#url;
  }
  /** Base for web links. */
  get webUrl(): string {
    return `${this.#url}/web`;
  }
  get gitUrl(): string {
    return `${this.#url}/git`;
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
    const server = this.#server;
    this.#server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (this.#root) await rm(this.#root, { recursive: true, force: true });
  }

  // ---- test-side client ---------------------------------------------------------------------

  user(login: string, type: FakeUser['type'] = 'User'): FakeUser {
    let u = this.#users.get(login);
    if (!u) {
      u = { login, id: this.#id(), type };
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
    const state: FakeRepoState = {
      model: {
        id: this.#id(),
        owner: this.user(input.owner),
        name: input.name,
        private: input.private ?? true,
        defaultBranch,
        createdAt: NOW(),
      },
      issues: new Map(),
      comments: [],
      pulls: [],
      reviewComments: [],
      reactions: [],
      checkRuns: [],
      permissions: new Map([[input.owner, 'admin']]),
      nextNumber: 1,
    };
    this.#repos.set(`${input.owner}/${input.name}`, state);
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
      id: this.#id(),
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
    return this.#addComment(this.repo(owner, name), issueNumber, body, this.user(login));
  }

  addReviewComment(
    owner: string,
    name: string,
    pullNumber: number,
    input: { body: string; user: string; path?: string; reviewId?: number },
  ): ReviewCommentModel {
    const r = this.repo(owner, name);
    const pull = r.pulls.find((p) => p.number === pullNumber);
    if (!pull) throw new Error(`fake github: no pull #${pullNumber}`);
    const c: ReviewCommentModel = {
      id: this.#id(),
      pullNumber,
      reviewId: input.reviewId ?? this.#id(),
      inReplyTo: null,
      body: input.body,
      path: input.path ?? 'README.md',
      commitId: pull.headSha,
      user: this.user(input.user),
      createdAt: NOW(),
    };
    r.reviewComments.push(c);
    return c;
  }

  comments(owner: string, name: string, issueNumber?: number): CommentModel[] {
    const all = this.repo(owner, name).comments;
    return issueNumber === undefined ? all : all.filter((c) => c.issueNumber === issueNumber);
  }

  /** JSON of objects as the API would return them (for building webhook payloads). */
  issueJson(owner: string, name: string, number: number): Record<string, unknown> {
    const r = this.repo(owner, name);
    const issue = r.issues.get(number);
    if (!issue) throw new Error(`fake github: no issue #${number}`);
    return issueJson(this.#url, this.webUrl, `${owner}/${name}`, issue);
  }
  repoJson(owner: string, name: string): Record<string, unknown> {
    return repoJson(this.#url, this.webUrl, this.gitUrl, this.repo(owner, name).model, false);
  }
  userJson(login: string): Record<string, unknown> {
    return userJson(this.#url, this.webUrl, this.user(login));
  }
  commentJson(owner: string, name: string, comment: CommentModel): Record<string, unknown> {
    return commentJson(this.#url, this.webUrl, `${owner}/${name}`, comment);
  }
  reviewCommentJson(owner: string, name: string, comment: ReviewCommentModel): Record<string, unknown> {
    return reviewCommentJson(this.#url, this.webUrl, `${owner}/${name}`, comment);
  }
  async pullJson(owner: string, name: string, number: number): Promise<Record<string, unknown>> {
    const r = this.repo(owner, name);
    const p = r.pulls.find((x) => x.number === number);
    if (!p) throw new Error(`fake github: no pull #${number}`);
    await this.#refreshPull(r, p);
    return pullJson(this.#url, this.webUrl, this.gitUrl, r.model, p, true);
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

  // ---- HTTP ----------------------------------------------------------------------------------

  #id(): number {
    return this.#nextId++;
  }

  #addComment(r: FakeRepoState, issueNumber: number, body: string, user: FakeUser): CommentModel {
    const c: CommentModel = {
      id: this.#id(),
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

  async #dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/git/')) return this.#git(req, res, url);
    const method = req.method ?? 'GET';
    for (const route of this.#routes) {
      if (route.method !== method) continue;
      const m = route.regex.exec(url.pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((k, i) => {
        params[k] = decodeURIComponent(m[i + 1] ?? '');
      });
      const auth = this.#auth(req);
      let reply: Reply;
      if (route.auth === 'app' && auth.kind !== 'app') {
        reply = { status: 401, body: { message: 'A JSON web token could not be decoded' } };
      } else if (route.auth === 'installation' && auth.kind !== 'installation') {
        reply = { status: 401, body: { message: 'Bad credentials' } };
      } else {
        const raw = await readBody(req);
        const body = raw.length > 0 ? (JSON.parse(raw) as Record<string, unknown>) : {};
        reply = await route.handler({ req, params, query: url.searchParams, body, auth });
      }
      this.responses.push({
        method,
        route: route.template,
        path: url.pathname,
        status: reply.status,
        body: reply.body,
      });
      res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: 'Not Found', path: url.pathname }));
  }

  #auth(req: IncomingMessage): Ctx['auth'] {
    const header = req.headers.authorization ?? '';
    const [scheme, value = ''] = header.split(' ');
    if (scheme?.toLowerCase() === 'bearer' && value.split('.').length === 3) {
      // A JWT signed by the app's key: we check its issuer, not the signature (the key pair is
      // the test's own).
      try {
        const payload = JSON.parse(Buffer.from(value.split('.')[1] ?? '', 'base64url').toString()) as {
          iss?: unknown;
        };
        if (String(payload.iss) === String(this.app.id)) return { kind: 'app' };
      } catch {
        return { kind: 'none' };
      }
    }
    if (scheme?.toLowerCase() === 'token' || scheme?.toLowerCase() === 'bearer') {
      const installationId = this.#tokens.get(value);
      if (installationId !== undefined) return { kind: 'installation', installationId };
    }
    return { kind: 'none' };
  }

  async #git(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const pathInfo = url.pathname.slice('/git'.length);
    const service =
      url.searchParams.get('service') ?? (pathInfo.endsWith('git-receive-pack') ? 'git-receive-pack' : '');
    const isPush = service === 'git-receive-pack' || pathInfo.endsWith('/git-receive-pack');
    let user: string | null = null;
    const header = req.headers.authorization ?? '';
    if (header.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString();
      const password = decoded.slice(decoded.indexOf(':') + 1);
      if (this.#tokens.has(password)) user = decoded.slice(0, decoded.indexOf(':')) || 'x-access-token';
    }
    this.gitRequests.push({ path: pathInfo, service: isPush ? 'receive-pack' : 'upload-pack', user });
    const match = /^\/([^/]+)\/([^/]+)\.git\//.exec(pathInfo);
    const repo = match ? this.#repos.get(`${match[1]}/${match[2]}`) : undefined;
    if (!repo) {
      res.writeHead(404).end('Repository not found.');
      return;
    }
    // Private repositories need the token for any access; pushes always do.
    if (user === null && (isPush || repo.model.private)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' }).end('authentication required');
      return;
    }
    const pathForBackend = pathInfo;
    const options = {
      projectRoot: join(this.#root, 'repos'),
      pathInfo: pathForBackend,
      query: url.search.slice(1),
    };
    await serveGitCgi(req, res, user ? { ...options, remoteUser: user } : options);
  }

  async #refreshPull(r: FakeRepoState, p: PullModel): Promise<void> {
    const sha = await this.#refSha(r, p.head);
    if (sha) p.headSha = sha;
  }

  async #refSha(r: FakeRepoState, branch: string): Promise<string | null> {
    try {
      const { stdout } = await execFileP('git', ['rev-parse', '--verify', `refs/heads/${branch}`], {
        cwd: this.barePath(r.model.owner.login, r.model.name),
      });
      return stdout.trim();
    } catch {
      return null;
    }
  }

  #route(method: string, template: string, auth: Route['auth'], handler: RouteHandler): void {
    const keys: string[] = [];
    const pattern = template.replace(/\{([a-z_]+)\}/g, (_m, key: string) => {
      keys.push(key);
      return '([^/]+)';
    });
    this.#routes.push({ method, template, regex: new RegExp(`^${pattern}$`), keys, auth, handler });
  }

  #repoOf(ctx: Ctx): FakeRepoState | null {
    return this.#repos.get(`${ctx.params['owner']}/${ctx.params['repo']}`) ?? null;
  }

  #caller(ctx: Ctx): FakeUser {
    return ctx.auth.kind === 'installation' ? this.botUser : this.app.owner;
  }

  #defineRoutes(): void {
    const api = () => this.#url;
    const web = () => this.webUrl;
    const notFound: Reply = {
      status: 404,
      body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' },
    };
    const invalid = (message: string): Reply => ({
      status: 422,
      body: { message: 'Validation Failed', errors: [{ message, resource: 'Issue', code: 'custom' }] },
    });

    this.#route('GET', '/app', 'app', () => ({ status: 200, body: appJson(api(), web(), this.app) }));

    this.#route('POST', '/app/installations/{installation_id}/access_tokens', 'app', (ctx) => {
      if (Number(ctx.params['installation_id']) !== this.installationId) return notFound;
      const token = `ghs_${randomBytes(18).toString('hex')}`;
      this.#tokens.set(token, this.installationId);
      this.issuedTokens.push(token);
      return {
        status: 201,
        body: {
          token,
          expires_at: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          permissions: { contents: 'write', pull_requests: 'write', issues: 'write', checks: 'write' },
          repository_selection: 'all',
        },
      };
    });

    this.#route('GET', '/repos/{owner}/{repo}/installation', 'app', (ctx) => {
      const r = this.#repoOf(ctx);
      if (!r) return notFound;
      return {
        status: 200,
        body: installationJson(api(), web(), this.app, this.installationId, r.model.owner),
      };
    });

    this.#route('GET', '/repos/{owner}/{repo}', 'installation', (ctx) => {
      const r = this.#repoOf(ctx);
      if (!r) return notFound;
      return { status: 200, body: repoJson(api(), web(), this.gitUrl, r.model, true) };
    });

    this.#route('GET', '/repos/{owner}/{repo}/collaborators/{username}/permission', 'installation', (ctx) => {
      const r = this.#repoOf(ctx);
      if (!r) return notFound;
      const login = ctx.params['username'] ?? '';
      const role = r.permissions.get(login) ?? 'none';
      const legacy = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
      const user = this.user(login);
      return {
        status: 200,
        body: {
          permission: legacy,
          role_name: role,
          user: {
            ...userJson(api(), web(), user),
            permissions: {
              pull: role !== 'none',
              triage: ['triage', 'write', 'maintain', 'admin'].includes(role),
              push: ['write', 'maintain', 'admin'].includes(role),
              maintain: ['maintain', 'admin'].includes(role),
              admin: role === 'admin',
            },
            role_name: role,
          },
        },
      };
    });

    this.#route('POST', '/repos/{owner}/{repo}/issues', 'installation', (ctx) => {
      const r = this.#repoOf(ctx);
      if (!r) return notFound;
      if (typeof ctx.body['title'] !== 'string') return invalid('title is required');
      const issue = this.createIssue(r.model.owner.login, r.model.name, {
        title: ctx.body['title'],
        body: typeof ctx.body['body'] === 'string' ? ctx.body['body'] : '',
        user: this.botUser.login,
      });
      return { status: 201, body: issueJson(api(), web(), fullName(r), issue) };
    });

    this.#route('GET', '/repos/{owner}/{repo}/issues/{issue_number}', 'installation', (ctx) => {
      const r = this.#repoOf(ctx);
      const issue = r?.issues.get(Number(ctx.params['issue_number']));
      if (!r || !issue) return notFound;
      return { status: 200, body: issueJson(api(), web(), fullName(r), issue) };
    });

    this.#route('GET', '/repos/{owner}/{repo}/issues/{issue_number}/comments', 'installation', (ctx) => {
      const r = this.#repoOf(ctx);
      if (!r) return notFound;
      const n = Number(ctx.params['issue_number']);
      const list = r.comments.filter((c) => c.issueNumber === n);
      return { status: 200, body: list.map((c) => commentJson(api(), web(), fullName(r), c)) };
    });

    this.#route('POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments', 'installation', (ctx) => {
      const r = this.#repoOf(ctx);
      const n = Number(ctx.params['issue_number']);
      if (!r?.issues.has(n)) return notFound;
      if (typeof ctx.body['body'] !== 'string') return invalid('body is required');
      const c = this.#addComment(r, n, ctx.body['body'], this.#caller(ctx));
      return { status: 201, body: commentJson(api(), web(), fullName(r), c) };
    });

    this.#route('GET', '/repos/{owner}/{repo}/issues/comments/{comment_id}', 'installation', (ctx) => {
      const r = this.#repoOf(ctx);
      const c = r?.comments.find((x) => x.id === Number(ctx.params['comment_id']));
      if (!r || !c) return notFound;
      return { status: 200, body: commentJson(api(), web(), fullName(r), c) };
    });

    this.#route('PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}', 'installation', (ctx) => {
      const r = this.#repoOf(ctx);
      const c = r?.comments.find((x) => x.id === Number(ctx.params['comment_id']));
      if (!r || !c) return notFound;
      if (typeof ctx.body['body'] !== 'string') return invalid('body is required');
      if (c.user.login !== this.#caller(ctx).login) return { status: 403, body: { message: 'Forbidden' } };
      c.body = ctx.body['body'];
      c.updatedAt = NOW();
      return { status: 200, body: commentJson(api(), web(), fullName(r), c) };
    });

    const react = (target: (ctx: Ctx, r: FakeRepoState) => string | null) => (ctx: Ctx) => {
      const r = this.#repoOf(ctx);
      if (!r) return notFound;
      const t = target(ctx, r);
      if (!t) return notFound;
      const content = String(ctx.body['content'] ?? '');
      if (!['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes'].includes(content))
        return invalid('invalid reaction');
      const user = this.#caller(ctx);
      const existing = r.reactions.find(
        (x) => x.target === t && x.content === content && x.user.login === user.login,
      );
      if (existing) return { status: 200, body: reactionJson(api(), web(), existing) };
      const reaction: ReactionModel = { id: this.#id(), content, user, createdAt: NOW(), target: t };
      r.reactions.push(reaction);
      return { status: 201, body: reactionJson(api(), web(), reaction) };
    };
    this.#route(
      'POST',
      '/repos/{owner}/{repo}/issues/{issue_number}/reactions',
      'installation',
      react((ctx, r) =>
        r.issues.has(Number(ctx.params['issue_number'])) ? `issue:${ctx.params['issue_number']}` : null,
      ),
    );
    this.#route(
      'POST',
      '/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions',
      'installation',
      react((ctx, r) =>
        r.comments.some((c) => c.id === Number(ctx.params['comment_id']))
          ? `comment:${ctx.params['comment_id']}`
          : null,
      ),
    );
    this.#route(
      'POST',
      '/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions',
      'installation',
      react((ctx, r) =>
        r.reviewComments.some((c) => c.id === Number(ctx.params['comment_id']))
          ? `review-comment:${ctx.params['comment_id']}`
          : null,
      ),
    );

    this.#route('GET', '/repos/{owner}/{repo}/pulls', 'installation', async (ctx) => {
      const r = this.#repoOf(ctx);
      if (!r) return notFound;
      const state = ctx.query.get('state') ?? 'open';
      const head = ctx.query.get('head');
      let list = r.pulls.filter((p) => state === 'all' || p.state === state);
      if (head) list = list.filter((p) => `${r.model.owner.login}:${p.head}` === head);
      for (const p of list) await this.#refreshPull(r, p);
      return { status: 200, body: list.map((p) => pullJson(api(), web(), this.gitUrl, r.model, p, false)) };
    });

    this.#route('POST', '/repos/{owner}/{repo}/pulls', 'installation', async (ctx) => {
      const r = this.#repoOf(ctx);
      if (!r) return notFound;
      const head = String(ctx.body['head'] ?? '').replace(/^[^:]+:/, '');
      const base = String(ctx.body['base'] ?? '');
      const title = ctx.body['title'];
      if (typeof title !== 'string' || !head || !base) return invalid('title, head and base are required');
      const headSha = await this.#refSha(r, head);
      const baseSha = await this.#refSha(r, base);
      if (!headSha) return invalid(`head ${head} does not exist`);
      if (!baseSha) return invalid(`base ${base} does not exist`);
      if (r.pulls.some((p) => p.state === 'open' && p.head === head))
        return invalid(`A pull request already exists for ${r.model.owner.login}:${head}.`);
      const number = r.nextNumber++;
      const pull: PullModel = {
        id: this.#id(),
        number,
        title,
        body: typeof ctx.body['body'] === 'string' ? ctx.body['body'] : null,
        head,
        headSha,
        base,
        baseSha,
        draft: ctx.body['draft'] === true,
        user: this.#caller(ctx),
        state: 'open',
        createdAt: NOW(),
        updatedAt: NOW(),
      };
      r.pulls.push(pull);
      r.issues.set(number, {
        id: this.#id(),
        number,
        title,
        body: pull.body,
        user: pull.user,
        state: 'open',
        labels: [],
        isPull: true,
        comments: 0,
        createdAt: pull.createdAt,
        updatedAt: pull.updatedAt,
      });
      return { status: 201, body: pullJson(api(), web(), this.gitUrl, r.model, pull, true) };
    });

    this.#route('GET', '/repos/{owner}/{repo}/pulls/{pull_number}', 'installation', async (ctx) => {
      const r = this.#repoOf(ctx);
      const p = r?.pulls.find((x) => x.number === Number(ctx.params['pull_number']));
      if (!r || !p) return notFound;
      await this.#refreshPull(r, p);
      return { status: 200, body: pullJson(api(), web(), this.gitUrl, r.model, p, true) };
    });

    this.#route(
      'POST',
      '/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies',
      'installation',
      (ctx) => {
        const r = this.#repoOf(ctx);
        const n = Number(ctx.params['pull_number']);
        const parent = r?.reviewComments.find((c) => c.id === Number(ctx.params['comment_id']));
        if (!r || !parent || parent.pullNumber !== n) return notFound;
        if (typeof ctx.body['body'] !== 'string') return invalid('body is required');
        const c: ReviewCommentModel = {
          ...parent,
          id: this.#id(),
          inReplyTo: parent.id,
          body: ctx.body['body'],
          user: this.#caller(ctx),
          createdAt: NOW(),
        };
        r.reviewComments.push(c);
        return { status: 201, body: reviewCommentJson(api(), web(), fullName(r), c) };
      },
    );

    this.#route('POST', '/repos/{owner}/{repo}/check-runs', 'installation', (ctx) => {
      const r = this.#repoOf(ctx);
      if (!r) return notFound;
      const name = ctx.body['name'];
      const headSha = ctx.body['head_sha'];
      if (typeof name !== 'string' || typeof headSha !== 'string')
        return invalid('name and head_sha are required');
      const output = (ctx.body['output'] ?? {}) as Record<string, unknown>;
      const status = (ctx.body['status'] as CheckRunModel['status'] | undefined) ?? 'queued';
      const run: CheckRunModel = {
        id: this.#id(),
        name,
        headSha,
        status: ctx.body['conclusion'] ? 'completed' : status,
        conclusion: typeof ctx.body['conclusion'] === 'string' ? ctx.body['conclusion'] : null,
        title: typeof output['title'] === 'string' ? output['title'] : null,
        summary: typeof output['summary'] === 'string' ? output['summary'] : null,
        text: typeof output['text'] === 'string' ? output['text'] : null,
        detailsUrl: typeof ctx.body['details_url'] === 'string' ? ctx.body['details_url'] : null,
        externalId: typeof ctx.body['external_id'] === 'string' ? ctx.body['external_id'] : null,
        startedAt: NOW(),
        completedAt: ctx.body['conclusion'] ? NOW() : null,
        history: [],
      };
      run.history.push({ status: run.status, conclusion: run.conclusion, summary: run.summary });
      r.checkRuns.push(run);
      return { status: 201, body: checkRunJson(api(), web(), fullName(r), this.app, run) };
    });

    this.#route('PATCH', '/repos/{owner}/{repo}/check-runs/{check_run_id}', 'installation', (ctx) => {
      const r = this.#repoOf(ctx);
      const run = r?.checkRuns.find((x) => x.id === Number(ctx.params['check_run_id']));
      if (!r || !run) return notFound;
      const output = ctx.body['output'] as Record<string, unknown> | undefined;
      if (typeof ctx.body['status'] === 'string') run.status = ctx.body['status'] as CheckRunModel['status'];
      if (typeof ctx.body['conclusion'] === 'string') {
        run.conclusion = ctx.body['conclusion'];
        run.status = 'completed';
        run.completedAt = NOW();
      }
      if (output) {
        if (typeof output['title'] === 'string') run.title = output['title'];
        if (typeof output['summary'] === 'string') run.summary = output['summary'];
        if (typeof output['text'] === 'string') run.text = output['text'];
      }
      if (typeof ctx.body['details_url'] === 'string') run.detailsUrl = ctx.body['details_url'];
      run.history.push({ status: run.status, conclusion: run.conclusion, summary: run.summary });
      return { status: 200, body: checkRunJson(api(), web(), fullName(r), this.app, run) };
    });
  }
}

function fullName(r: FakeRepoState): string {
  return `${r.model.owner.login}/${r.model.name}`;
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
