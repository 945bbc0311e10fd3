/**
 * Repositories, collaborators, issues, issue comments, reactions and pull requests on the fake
 * GitHub, plus `GET /user` for personal tokens.
 */
import type { FakeGithub, FakeRepoState } from './fake-github.js';
import {
  type Ctx,
  forbidden,
  notFound,
  type RouteDef,
  read,
  route,
  str,
  validationFailed,
  write,
} from './fake-github-http.js';
import { NOW, type ReactionModel, reactionJson, repoJson, userJson } from './fake-github-models.js';
import { createPull } from './pull-requests.js';

/** GitHub's `permissions` object for a role (repositories and collaborators alike). */
function rolePermissions(role: string) {
  return {
    pull: role !== 'none',
    triage: ['triage', 'write', 'maintain', 'admin'].includes(role),
    push: ['write', 'maintain', 'admin'].includes(role),
    maintain: ['maintain', 'admin'].includes(role),
    admin: role === 'admin',
  };
}

const REACTIONS = ['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes'];

export function coreRoutes(gh: FakeGithub): RouteDef[] {
  const api = () => gh.url;
  const web = () => gh.webUrl;
  const repoOf = (ctx: Ctx): FakeRepoState => ctx.repo!;

  const react = (target: (ctx: Ctx, r: FakeRepoState) => string | null) => (ctx: Ctx) => {
    const r = repoOf(ctx);
    const t = target(ctx, r);
    if (!t) return notFound;
    const content = String(ctx.body['content'] ?? '');
    if (!REACTIONS.includes(content))
      return validationFailed('Reaction', 'invalid reaction', { field: 'content' });
    const user = gh.callerOf(ctx.auth);
    const existing = r.reactions.find(
      (x) => x.target === t && x.content === content && x.user.login === user.login,
    );
    if (existing) return { status: 200, body: reactionJson(api(), web(), existing) };
    const reaction: ReactionModel = { id: gh.nextId(), content, user, createdAt: NOW(), target: t };
    r.reactions.push(reaction);
    return { status: 201, body: reactionJson(api(), web(), reaction) };
  };

  return [
    route('GET', '/user', { kind: 'user' }, (ctx) => {
      const login = ctx.auth.kind === 'user' ? ctx.auth.token.login : '';
      const u = gh.user(login);
      return {
        status: 200,
        body: {
          ...userJson(api(), web(), u),
          name: login,
          company: null,
          blog: '',
          location: null,
          email: null,
          hireable: null,
          bio: null,
          public_repos: 0,
          public_gists: 0,
          followers: 0,
          following: 0,
          created_at: '2024-01-01T00:00:00Z',
          updated_at: '2024-01-01T00:00:00Z',
        },
      };
    }),

    route('GET', '/repos/{owner}/{repo}', read('metadata'), (ctx) => {
      const r = repoOf(ctx);
      const body = repoJson(api(), web(), gh.gitUrl, r.model, true);
      // For a person's token GitHub says what that person's role allows here.
      if (ctx.auth.kind === 'user') body['permissions'] = rolePermissions(gh.roleOf(r, ctx.auth.token.login));
      return { status: 200, body };
    }),

    route('GET', '/repos/{owner}/{repo}/collaborators/{username}/permission', read('metadata'), (ctx) => {
      const r = repoOf(ctx);
      const login = ctx.params['username'] ?? '';
      const role = r.permissions.get(login) ?? 'none';
      const legacy = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
      const user = gh.user(login);
      return {
        status: 200,
        body: {
          permission: legacy,
          role_name: role,
          user: {
            ...userJson(api(), web(), user),
            permissions: rolePermissions(role),
            role_name: role,
          },
        },
      };
    }),

    route('POST', '/repos/{owner}/{repo}/issues', write('issues'), (ctx) => {
      const r = repoOf(ctx);
      const title = str(ctx.body, 'title');
      if (!title)
        return validationFailed('Issue', 'title is required', { field: 'title', code: 'missing_field' });
      const issue = gh.createIssue(r.model.owner.login, r.model.name, {
        title,
        body: str(ctx.body, 'body') ?? '',
        user: gh.callerOf(ctx.auth).login,
      });
      return {
        status: 201,
        body: gh.issueView(r, issue),
      };
    }),

    route('GET', '/repos/{owner}/{repo}/issues/{issue_number}', read('issues'), (ctx) => {
      const r = repoOf(ctx);
      const issue = r.issues.get(Number(ctx.params['issue_number']));
      if (!issue) return notFound;
      return {
        status: 200,
        body: gh.issueView(r, issue),
      };
    }),

    route('GET', '/repos/{owner}/{repo}/issues/{issue_number}/comments', read('issues'), (ctx) => {
      const r = repoOf(ctx);
      const n = Number(ctx.params['issue_number']);
      const list = r.comments.filter((c) => c.issueNumber === n);
      return {
        status: 200,
        body: list.map((c) => gh.commentView(r, c)),
      };
    }),

    route('POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments', write('issues'), (ctx) => {
      const r = repoOf(ctx);
      const n = Number(ctx.params['issue_number']);
      if (!r.issues.has(n)) return notFound;
      const body = str(ctx.body, 'body');
      if (body === null) return validationFailed('IssueComment', 'body is required', { field: 'body' });
      const c = gh.addIssueComment(r, n, body, gh.callerOf(ctx.auth));
      return { status: 201, body: gh.commentView(r, c) };
    }),

    route('GET', '/repos/{owner}/{repo}/issues/comments/{comment_id}', read('issues'), (ctx) => {
      const r = repoOf(ctx);
      const c = r.comments.find((x) => x.id === Number(ctx.params['comment_id']));
      if (!c) return notFound;
      return { status: 200, body: gh.commentView(r, c) };
    }),

    route('PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}', write('issues'), (ctx) => {
      const r = repoOf(ctx);
      const c = r.comments.find((x) => x.id === Number(ctx.params['comment_id']));
      if (!c) return notFound;
      const body = str(ctx.body, 'body');
      if (body === null) return validationFailed('IssueComment', 'body is required', { field: 'body' });
      if (c.user.login !== gh.callerOf(ctx.auth).login) return forbidden('Forbidden');
      c.body = body;
      c.updatedAt = NOW();
      return { status: 200, body: gh.commentView(r, c) };
    }),

    route(
      'POST',
      '/repos/{owner}/{repo}/issues/{issue_number}/reactions',
      write('issues'),
      react((ctx, r) =>
        r.issues.has(Number(ctx.params['issue_number'])) ? `issue:${ctx.params['issue_number']}` : null,
      ),
    ),
    route(
      'POST',
      '/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions',
      write('issues'),
      react((ctx, r) =>
        r.comments.some((c) => c.id === Number(ctx.params['comment_id']))
          ? `comment:${ctx.params['comment_id']}`
          : null,
      ),
    ),
    route(
      'POST',
      '/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions',
      write('pull_requests'),
      react((ctx, r) =>
        r.reviewComments.some((c) => c.id === Number(ctx.params['comment_id']))
          ? `review-comment:${ctx.params['comment_id']}`
          : null,
      ),
    ),

    route('GET', '/repos/{owner}/{repo}/pulls', read('pull_requests'), async (ctx) => {
      const r = repoOf(ctx);
      const state = ctx.query.get('state') ?? 'open';
      const head = ctx.query.get('head');
      let list = r.pulls.filter((p) => state === 'all' || p.state === state);
      // `head` is `owner:branch`; the owner is the fork's for a PR from a fork.
      if (head) list = list.filter((p) => `${p.headRepo.owner.login}:${p.head}` === head);
      for (const p of list) await gh.refreshPull(r, p);
      return { status: 200, body: list.map((p) => gh.pullView(r, p, false)) };
    }),

    route('POST', '/repos/{owner}/{repo}/pulls', write('pull_requests'), async (ctx) => {
      const r = repoOf(ctx);
      const title = str(ctx.body, 'title');
      const head = str(ctx.body, 'head');
      const base = str(ctx.body, 'base');
      if (!title || !head || !base)
        return validationFailed('PullRequest', 'title, head and base are required', {
          code: 'missing_field',
        });
      const pull = await createPull(gh, r, {
        title,
        head,
        base,
        body: str(ctx.body, 'body'),
        draft: ctx.body['draft'] === true,
        user: gh.callerOf(ctx.auth),
      });
      if (typeof pull === 'string') return validationFailed('PullRequest', pull);
      return { status: 201, body: gh.pullView(r, pull, true) };
    }),

    route('GET', '/repos/{owner}/{repo}/pulls/{pull_number}', read('pull_requests'), async (ctx) => {
      const r = repoOf(ctx);
      const p = r.pulls.find((x) => x.number === Number(ctx.params['pull_number']));
      if (!p) return notFound;
      await gh.refreshPull(r, p);
      return { status: 200, body: gh.pullView(r, p, true) };
    }),
  ];
}
