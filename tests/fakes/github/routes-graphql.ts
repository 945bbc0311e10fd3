/**
 * `POST /graphql` on the fake GitHub: the part of GitHub's schema a PR loop reads — a pull
 * request's review threads (resolution and outdatedness live only here, not in REST) with their
 * comments, its reviews — and the mutations that resolve a thread. Answers have GitHub's shape:
 * `{data}` with exactly the fields asked for, `{errors}` (no data) for a query that names a field
 * or argument the schema lacks, `{data, errors}` for things not found, 200 in every case but
 * missing credentials.
 */
import type { FakeGithub, FakeRepoState } from './fake-github.js';
import { type Auth, authorizeRepo, type RepoNeeds } from './fake-github-auth.js';
import { type RouteDef, route } from './fake-github-http.js';
import {
  type FakeUser,
  nodeId,
  type PullModel,
  type ReviewCommentModel,
  type ReviewModel,
} from './fake-github-models.js';
import { argValue, type FieldNode, GraphqlSyntaxError, parseDocument } from './graphql-document.js';
import { threadOutdated } from './routes-reviews.js';

interface ExecCtx {
  gh: FakeGithub;
  auth: Auth;
  variables: Record<string, unknown>;
  errors: GraphqlError[];
}

interface GraphqlError {
  message: string;
  type?: string;
  path?: Array<string | number>;
  locations?: Array<{ line: number; column: number }>;
  extensions?: Record<string, unknown>;
}

/** A field failed at run time: it becomes null and an error names it. */
class FieldError extends Error {
  constructor(
    message: string,
    readonly type: string,
  ) {
    super(message);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: resolvers take the parent object their type declares
type Parent = any;

interface FieldDef {
  type: string;
  list?: boolean;
  args?: string[];
  resolve: (parent: Parent, args: Record<string, unknown>, ctx: ExecCtx) => unknown;
}

type TypeDef = Record<string, FieldDef>;

const SCALARS = new Set(['String', 'Int', 'Boolean', 'ID', 'DateTime', 'URI', 'GitObjectID', 'Enum']);

/** Interfaces and unions: which concrete type a value is. */
const ABSTRACT: Record<string, (value: Parent) => string> = {
  Actor: (u: FakeUser) => (u.type === 'Bot' ? 'Bot' : 'User'),
};

interface ThreadValue {
  r: FakeRepoState;
  p: PullModel;
  root: ReviewCommentModel;
  comments: ReviewCommentModel[];
  outdated: boolean;
}

interface CommentValue {
  r: FakeRepoState;
  c: ReviewCommentModel;
  outdated: boolean;
}

const f = (type: string, resolve: FieldDef['resolve'], extra: Partial<FieldDef> = {}): FieldDef => ({
  type,
  resolve,
  ...extra,
});

/** A GitHub connection (`first`/`last`/`after`/`before`, nodes, edges, pageInfo, totalCount). */
function paginate(items: unknown[], args: Record<string, unknown>, name: string) {
  const first = args['first'];
  const last = args['last'];
  if (typeof first !== 'number' && typeof last !== 'number')
    throw new FieldError(
      `You must provide a \`first\` or \`last\` value to properly paginate the \`${name}\` connection.`,
      'MISSING_PAGINATION_BOUNDARIES',
    );
  for (const [key, n] of [
    ['first', first],
    ['last', last],
  ] as const) {
    if (typeof n === 'number' && (n < 0 || n > 100))
      throw new FieldError(
        `Requesting ${n} records on the \`${name}\` connection exceeds the \`${key}\` limit of 100 records.`,
        'EXCESSIVE_PAGINATION',
      );
  }
  const cursorIndex = (c: unknown) =>
    Number(Buffer.from(String(c), 'base64').toString().replace('cursor:v2:', ''));
  let start = typeof args['after'] === 'string' ? cursorIndex(args['after']) + 1 : 0;
  let end = typeof args['before'] === 'string' ? cursorIndex(args['before']) : items.length;
  if (typeof first === 'number') end = Math.min(end, start + first);
  if (typeof last === 'number') start = Math.max(start, end - last);
  const cursor = (i: number) => Buffer.from(`cursor:v2:${i}`).toString('base64');
  const slice = items.slice(start, end);
  return {
    nodes: slice,
    edges: slice.map((node, i) => ({ node, cursor: cursor(start + i) })),
    totalCount: items.length,
    pageInfo: {
      hasNextPage: end < items.length,
      hasPreviousPage: start > 0,
      startCursor: slice.length > 0 ? cursor(start) : null,
      endCursor: slice.length > 0 ? cursor(end - 1) : null,
    },
  };
}

function connectionTypes(node: string): Record<string, TypeDef> {
  return {
    [`${node}Connection`]: {
      nodes: f(node, (c) => c.nodes, { list: true }),
      edges: f(`${node}Edge`, (c) => c.edges, { list: true }),
      totalCount: f('Int', (c) => c.totalCount),
      pageInfo: f('PageInfo', (c) => c.pageInfo),
    },
    [`${node}Edge`]: { node: f(node, (e) => e.node), cursor: f('String', (e) => e.cursor) },
  };
}

const PAGE_ARGS = ['first', 'last', 'after', 'before'];

/** GraphQL calls bots by their bare name: REST's `devbot[bot]` is `devbot` here. */
const graphqlLogin = (u: FakeUser) => (u.type === 'Bot' ? u.login.replace(/\[bot\]$/, '') : u.login);

function repoAllows(ctx: ExecCtx, r: FakeRepoState, needs: RepoNeeds): string | null {
  const verdict = authorizeRepo(
    ctx.auth,
    {
      fullName: ctx.gh.fullName(r),
      ownerLogin: r.model.owner.login,
      private: r.model.private,
      roleOf: (login) => ctx.gh.roleOf(r, login),
    },
    needs,
  );
  if (!verdict.refusal) return null;
  return String((verdict.refusal.body as { message: string }).message);
}

async function threadsOf(
  gh: FakeGithub,
  r: FakeRepoState,
  p: PullModel,
  viewer: FakeUser,
): Promise<ThreadValue[]> {
  const visible = (c: ReviewCommentModel) => {
    const review = r.reviews.find((x) => x.id === c.reviewId);
    return review?.state !== 'PENDING' || review.user.login === viewer.login;
  };
  const mine = r.reviewComments.filter((c) => c.pullNumber === p.number && visible(c));
  const roots = mine.filter((c) => c.inReplyTo === null);
  const threads: ThreadValue[] = [];
  for (const root of roots) {
    threads.push({
      r,
      p,
      root,
      comments: mine.filter((c) => c.id === root.id || c.inReplyTo === root.id),
      outdated: await threadOutdated(gh, r, root),
    });
  }
  return threads;
}

function findThread(
  gh: FakeGithub,
  threadId: unknown,
): { r: FakeRepoState; root: ReviewCommentModel } | null {
  const decoded = Buffer.from(String(threadId), 'base64').toString();
  const m = /^PullRequestReviewThread:(\d+)$/.exec(decoded);
  if (!m) return null;
  for (const r of gh.allRepos()) {
    const root = r.reviewComments.find((c) => c.id === Number(m[1]) && c.inReplyTo === null);
    if (root) return { r, root };
  }
  return null;
}

function schema(gh: FakeGithub): Record<string, TypeDef> {
  const web = () => gh.webUrl;
  const actor: TypeDef = {
    login: f('String', (u: FakeUser) => graphqlLogin(u)),
    url: f('URI', (u: FakeUser) => `${web()}/${u.login}`),
    avatarUrl: f('URI', (u: FakeUser) => `${web()}/avatars/${u.id}`, { args: ['size'] }),
    databaseId: f('Int', (u: FakeUser) => u.id),
    id: f('ID', (u: FakeUser) => nodeId(u.type === 'Bot' ? 'Bot' : 'User', u.id)),
  };
  const comment = (v: CommentValue) => v.c;
  const threadMutation = (resolved: boolean) =>
    f(
      `${resolved ? 'Resolve' : 'Unresolve'}ReviewThreadPayload`,
      async (_root, args, ctx) => {
        const input = (args['input'] ?? {}) as Record<string, unknown>;
        const found = findThread(gh, input['threadId']);
        if (!found)
          throw new FieldError(
            `Could not resolve to a node with the global id of '${String(input['threadId'])}'`,
            'NOT_FOUND',
          );
        const { r, root } = found;
        const p = gh.pullOf(r, root.pullNumber);
        const viewer = gh.callerOf(ctx.auth);
        // Who may resolve: people with write access, and the PR's author.
        const refusal =
          viewer.login === p.user.login
            ? null
            : repoAllows(ctx, r, { permission: 'pull_requests', access: 'write', minRole: 'write' });
        if (refusal) throw new FieldError(refusal, 'FORBIDDEN');
        if (resolved) r.resolvedThreads.set(root.id, viewer);
        else r.resolvedThreads.delete(root.id);
        const thread = (await threadsOf(gh, r, p, viewer)).find((t) => t.root.id === root.id);
        return { thread, clientMutationId: input['clientMutationId'] ?? null };
      },
      { args: ['input'] },
    );

  return {
    Query: {
      repository: f(
        'Repository',
        (_root, args, ctx) => {
          const r = gh.findRepo(String(args['owner']), String(args['name']));
          if (!r || repoAllows(ctx, r, { permission: 'metadata', access: 'read' }))
            throw new FieldError(
              `Could not resolve to a Repository with the name '${String(args['owner'])}/${String(args['name'])}'.`,
              'NOT_FOUND',
            );
          return r;
        },
        { args: ['owner', 'name', 'followRenames'] },
      ),
      viewer: f('User', (_root, _args, ctx) => gh.callerOf(ctx.auth)),
    },
    Mutation: {
      resolveReviewThread: threadMutation(true),
      unresolveReviewThread: threadMutation(false),
    },
    ResolveReviewThreadPayload: {
      thread: f('PullRequestReviewThread', (v) => v.thread),
      clientMutationId: f('String', (v) => v.clientMutationId),
    },
    UnresolveReviewThreadPayload: {
      thread: f('PullRequestReviewThread', (v) => v.thread),
      clientMutationId: f('String', (v) => v.clientMutationId),
    },
    Repository: {
      id: f('ID', (r: FakeRepoState) => nodeId('Repository', r.model.id)),
      databaseId: f('Int', (r: FakeRepoState) => r.model.id),
      name: f('String', (r: FakeRepoState) => r.model.name),
      nameWithOwner: f('String', (r: FakeRepoState) => gh.fullName(r)),
      owner: f('Actor', (r: FakeRepoState) => r.model.owner),
      url: f('URI', (r: FakeRepoState) => `${web()}/${gh.fullName(r)}`),
      isPrivate: f('Boolean', (r: FakeRepoState) => r.model.private),
      isFork: f('Boolean', (r: FakeRepoState) => r.model.parent !== null),
      pullRequest: f(
        'PullRequest',
        (r: FakeRepoState, args, ctx) => {
          const p = r.pulls.find((x) => x.number === args['number']);
          if (!p)
            throw new FieldError(
              `Could not resolve to a PullRequest with the number of ${String(args['number'])}.`,
              'NOT_FOUND',
            );
          const refusal = repoAllows(ctx, r, { permission: 'pull_requests', access: 'read' });
          if (refusal) throw new FieldError(refusal, 'FORBIDDEN');
          return { r, p };
        },
        { args: ['number'] },
      ),
    },
    PullRequest: {
      id: f('ID', ({ p }) => nodeId('PullRequest', p.id)),
      databaseId: f('Int', ({ p }) => p.id),
      number: f('Int', ({ p }) => p.number),
      title: f('String', ({ p }) => p.title),
      body: f('String', ({ p }) => p.body ?? ''),
      url: f('URI', ({ r, p }) => `${web()}/${gh.fullName(r)}/pull/${p.number}`),
      state: f('Enum', ({ p }) => (p.mergedAt ? 'MERGED' : p.state === 'open' ? 'OPEN' : 'CLOSED')),
      merged: f('Boolean', ({ p }) => p.mergedAt !== null),
      isDraft: f('Boolean', ({ p }) => p.draft),
      author: f('Actor', ({ p }) => p.user),
      headRefName: f('String', ({ p }) => p.head),
      headRefOid: f('GitObjectID', async ({ r, p }) => {
        await gh.refreshPull(r, p);
        return p.headSha;
      }),
      baseRefName: f('String', ({ p }) => p.base),
      isCrossRepository: f('Boolean', ({ r, p }) => p.headRepo.id !== r.model.id),
      reviewThreads: f(
        'PullRequestReviewThreadConnection',
        async ({ r, p }, args, ctx) =>
          paginate(await threadsOf(gh, r, p, gh.callerOf(ctx.auth)), args, 'reviewThreads'),
        { args: PAGE_ARGS },
      ),
      reviews: f(
        'PullRequestReviewConnection',
        ({ r, p }, args, ctx) => {
          const viewer = gh.callerOf(ctx.auth);
          const states = args['states'] as string[] | undefined;
          const list = (r as FakeRepoState).reviews
            .filter((x) => x.pullNumber === p.number)
            .filter((x) => x.state !== 'PENDING' || x.user.login === viewer.login)
            .filter((x) => !states || states.includes(x.state))
            .map((review) => ({ r, review }));
          return paginate(list, args, 'reviews');
        },
        { args: [...PAGE_ARGS, 'states', 'author'] },
      ),
    },
    PullRequestReviewThread: {
      id: f('ID', (t: ThreadValue) => nodeId('PullRequestReviewThread', t.root.id)),
      isResolved: f('Boolean', (t: ThreadValue) => t.r.resolvedThreads.has(t.root.id)),
      isOutdated: f('Boolean', (t: ThreadValue) => t.outdated),
      isCollapsed: f('Boolean', (t: ThreadValue) => t.r.resolvedThreads.has(t.root.id)),
      path: f('String', (t: ThreadValue) => t.root.path),
      line: f('Int', (t: ThreadValue) => (t.outdated ? null : t.root.line)),
      originalLine: f('Int', (t: ThreadValue) => t.root.line),
      startLine: f('Int', (t: ThreadValue) => (t.outdated ? null : t.root.startLine)),
      originalStartLine: f('Int', (t: ThreadValue) => t.root.startLine),
      diffSide: f('Enum', (t: ThreadValue) => t.root.side),
      startDiffSide: f('Enum', (t: ThreadValue) => t.root.startSide),
      subjectType: f('Enum', (t: ThreadValue) => (t.root.subjectType === 'file' ? 'FILE' : 'LINE')),
      resolvedBy: f('User', (t: ThreadValue) => t.r.resolvedThreads.get(t.root.id) ?? null),
      viewerCanResolve: f(
        'Boolean',
        (t: ThreadValue, _a, ctx) =>
          !t.r.resolvedThreads.has(t.root.id) &&
          !repoAllows(ctx, t.r, { permission: 'pull_requests', access: 'write', minRole: 'write' }),
      ),
      viewerCanUnresolve: f(
        'Boolean',
        (t: ThreadValue, _a, ctx) =>
          t.r.resolvedThreads.has(t.root.id) &&
          !repoAllows(ctx, t.r, { permission: 'pull_requests', access: 'write', minRole: 'write' }),
      ),
      viewerCanReply: f('Boolean', () => true),
      pullRequest: f('PullRequest', (t: ThreadValue) => ({ r: t.r, p: t.p })),
      comments: f(
        'PullRequestReviewCommentConnection',
        (t: ThreadValue, args) =>
          paginate(
            t.comments.map((c) => ({ r: t.r, c, outdated: t.outdated })),
            args,
            'comments',
          ),
        { args: [...PAGE_ARGS, 'skip'] },
      ),
    },
    PullRequestReviewComment: {
      id: f('ID', (v: CommentValue) => nodeId('PullRequestReviewComment', comment(v).id)),
      databaseId: f('Int', (v: CommentValue) => v.c.id),
      body: f('String', (v: CommentValue) => v.c.body),
      bodyText: f('String', (v: CommentValue) => v.c.body),
      author: f('Actor', (v: CommentValue) => v.c.user),
      authorAssociation: f('Enum', (v: CommentValue) => gh.association(v.r, v.c.user)),
      path: f('String', (v: CommentValue) => v.c.path),
      line: f('Int', (v: CommentValue) => (v.outdated ? null : v.c.line)),
      originalLine: f('Int', (v: CommentValue) => v.c.line),
      startLine: f('Int', (v: CommentValue) => (v.outdated ? null : v.c.startLine)),
      originalStartLine: f('Int', (v: CommentValue) => v.c.startLine),
      position: f('Int', (v: CommentValue) => (v.outdated ? null : v.c.position)),
      originalPosition: f('Int', (v: CommentValue) => v.c.position ?? 0),
      diffHunk: f('String', (v: CommentValue) => v.c.diffHunk),
      outdated: f('Boolean', (v: CommentValue) => v.outdated),
      isMinimized: f('Boolean', () => false),
      state: f('Enum', (v: CommentValue) =>
        v.r.reviews.find((x) => x.id === v.c.reviewId)?.state === 'PENDING' ? 'PENDING' : 'SUBMITTED',
      ),
      createdAt: f('DateTime', (v: CommentValue) => v.c.createdAt),
      updatedAt: f('DateTime', (v: CommentValue) => v.c.updatedAt),
      url: f(
        'URI',
        (v: CommentValue) => `${web()}/${gh.fullName(v.r)}/pull/${v.c.pullNumber}#discussion_r${v.c.id}`,
      ),
      replyTo: f('PullRequestReviewComment', (v: CommentValue) => {
        const parent = v.r.reviewComments.find((x) => x.id === v.c.inReplyTo);
        return parent ? { r: v.r, c: parent, outdated: v.outdated } : null;
      }),
      pullRequestReview: f('PullRequestReview', (v: CommentValue) => {
        const review = v.r.reviews.find((x) => x.id === v.c.reviewId);
        return review ? { r: v.r, review } : null;
      }),
      commit: f('Commit', (v: CommentValue) => ({ oid: v.c.commitId })),
      originalCommit: f('Commit', (v: CommentValue) => ({ oid: v.c.originalCommitId })),
    },
    PullRequestReview: {
      id: f('ID', ({ review }: { review: ReviewModel }) => nodeId('PullRequestReview', review.id)),
      databaseId: f('Int', ({ review }: { review: ReviewModel }) => review.id),
      state: f('Enum', ({ review }: { review: ReviewModel }) => review.state),
      body: f('String', ({ review }: { review: ReviewModel }) => review.body),
      author: f('Actor', ({ review }: { review: ReviewModel }) => review.user),
      submittedAt: f('DateTime', ({ review }: { review: ReviewModel }) => review.submittedAt),
      url: f(
        'URI',
        ({ r, review }: { r: FakeRepoState; review: ReviewModel }) =>
          `${web()}/${gh.fullName(r)}/pull/${review.pullNumber}#pullrequestreview-${review.id}`,
      ),
      commit: f('Commit', ({ review }: { review: ReviewModel }) => ({ oid: review.commitId })),
      comments: f(
        'PullRequestReviewCommentConnection',
        ({ r, review }: { r: FakeRepoState; review: ReviewModel }, args) =>
          paginate(
            r.reviewComments.filter((c) => c.reviewId === review.id).map((c) => ({ r, c, outdated: false })),
            args,
            'comments',
          ),
        { args: PAGE_ARGS },
      ),
    },
    Commit: { oid: f('GitObjectID', (c) => c.oid) },
    PageInfo: {
      hasNextPage: f('Boolean', (p) => p.hasNextPage),
      hasPreviousPage: f('Boolean', (p) => p.hasPreviousPage),
      startCursor: f('String', (p) => p.startCursor),
      endCursor: f('String', (p) => p.endCursor),
    },
    Actor: actor,
    User: { ...actor, name: f('String', (u: FakeUser) => u.login) },
    Bot: actor,
    ...connectionTypes('PullRequestReviewThread'),
    ...connectionTypes('PullRequestReviewComment'),
    ...connectionTypes('PullRequestReview'),
  };
}

/** Static checks GitHub makes before running anything: fields, arguments, selections. */
function validate(
  types: Record<string, TypeDef>,
  type: string,
  fields: FieldNode[],
  path: string[],
): GraphqlError[] {
  const errors: GraphqlError[] = [];
  const def = types[type];
  for (const field of fields) {
    const here = [...path, field.alias ?? field.name];
    const locations = [{ line: field.line, column: field.column }];
    if (field.name === '__typename') continue;
    const fd = def?.[field.name];
    if (!fd) {
      errors.push({
        path: here,
        extensions: { code: 'undefinedField', typeName: type, fieldName: field.name },
        locations,
        message: `Field '${field.name}' doesn't exist on type '${type}'`,
      });
      continue;
    }
    for (const arg of Object.keys(field.args))
      if (!(fd.args ?? []).includes(arg))
        errors.push({
          path: here,
          extensions: { code: 'argumentNotAccepted', name: field.name, typeName: 'Field', argumentName: arg },
          locations,
          message: `Field '${field.name}' doesn't accept argument '${arg}'`,
        });
    const scalar = SCALARS.has(fd.type);
    if (scalar && field.selections)
      errors.push({
        path: here,
        extensions: { code: 'selectionMismatch', nodeName: `field '${field.name}'`, typeName: fd.type },
        locations,
        message: `Selections can't be made on scalars (field '${field.name}' returns ${fd.type} but has selections [${field.selections.map((s) => s.name).join(', ')}])`,
      });
    if (!scalar && !field.selections)
      errors.push({
        path: here,
        extensions: { code: 'selectionMismatch', nodeName: `field '${field.name}'`, typeName: fd.type },
        locations,
        message: `Field must have selections (field '${field.name}' returns ${fd.type} but has no selections. Did you mean '${field.name} { ... }'?)`,
      });
    if (!scalar && field.selections) errors.push(...validate(types, fd.type, field.selections, here));
  }
  return errors;
}

async function execute(
  types: Record<string, TypeDef>,
  type: string,
  value: Parent,
  fields: FieldNode[],
  path: Array<string | number>,
  ctx: ExecCtx,
): Promise<Record<string, unknown>> {
  const concrete = ABSTRACT[type]?.(value) ?? type;
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const key = field.alias ?? field.name;
    if (field.name === '__typename') {
      out[key] = concrete;
      continue;
    }
    const fd = types[concrete]?.[field.name] ?? types[type]![field.name]!;
    const args = Object.fromEntries(
      Object.entries(field.args).map(([k, v]) => [k, argValue(v, ctx.variables)]),
    );
    const here = [...path, key];
    try {
      const resolved = await fd.resolve(value, args, ctx);
      out[key] = await complete(types, fd, resolved, field, here, ctx);
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      ctx.errors.push({
        type: err.type,
        path: here,
        locations: [{ line: field.line, column: field.column }],
        message: err.message,
      });
      out[key] = null;
    }
  }
  return out;
}

async function complete(
  types: Record<string, TypeDef>,
  fd: FieldDef,
  resolved: unknown,
  field: FieldNode,
  path: Array<string | number>,
  ctx: ExecCtx,
): Promise<unknown> {
  if (resolved === null || resolved === undefined) return null;
  if (SCALARS.has(fd.type) || !field.selections) return resolved;
  if (fd.list) {
    const items = resolved as unknown[];
    const out: unknown[] = [];
    for (const [i, item] of items.entries())
      out.push(
        item === null ? null : await execute(types, fd.type, item, field.selections, [...path, i], ctx),
      );
    return out;
  }
  return execute(types, fd.type, resolved, field.selections, path, ctx);
}

export function graphqlRoutes(gh: FakeGithub): RouteDef[] {
  const types = schema(gh);
  return [
    route(
      'POST',
      '/graphql',
      { kind: 'token' },
      async (ctx) => {
        const query = ctx.body['query'];
        if (typeof query !== 'string')
          return {
            status: 200,
            body: { errors: [{ message: 'A query attribute must be specified and must be a string.' }] },
          };
        let operations: ReturnType<typeof parseDocument>;
        try {
          operations = parseDocument(query);
        } catch (err) {
          if (!(err instanceof GraphqlSyntaxError)) throw err;
          return {
            status: 200,
            body: { errors: [{ message: err.message, locations: [{ line: err.line, column: err.column }] }] },
          };
        }
        const wanted = ctx.body['operationName'];
        const op = typeof wanted === 'string' ? operations.find((o) => o.name === wanted) : operations[0];
        if (!op || (operations.length > 1 && typeof wanted !== 'string'))
          return {
            status: 200,
            body: {
              errors: [{ message: 'An operation name is required when the document has several operations' }],
            },
          };
        if (op.type === 'subscription')
          return { status: 200, body: { errors: [{ message: 'Subscriptions are not supported' }] } };
        const rootType = op.type === 'mutation' ? 'Mutation' : 'Query';
        const label = op.name ? `${op.type} ${op.name}` : op.type;
        const errors = validate(types, rootType, op.selections, [label]);
        if (errors.length > 0) return { status: 200, body: { errors } };
        const variables: Record<string, unknown> = {};
        for (const [name, def] of Object.entries(op.defaults)) if (def) variables[name] = argValue(def, {});
        Object.assign(variables, (ctx.body['variables'] as Record<string, unknown> | null) ?? {});
        const exec: ExecCtx = { gh, auth: ctx.auth, variables, errors: [] };
        const data = await execute(types, rootType, {}, op.selections, [], exec);
        return { status: 200, body: exec.errors.length > 0 ? { data, errors: exec.errors } : { data } };
      },
      { outsideRestApi: true },
    ),
  ];
}
