/**
 * Commit statuses on the fake GitHub: what a personal token can report where it may not create
 * check runs. Posting a context again adds a status; the combined status takes each context's
 * latest.
 */
import type { FakeGithub, FakeRepoState } from './fake-github.js';
import { githubError } from './fake-github-auth.js';
import { combinedState, type StatusModel, statusJson } from './fake-github-ci-models.js';
import {
  type RouteDef,
  read,
  route,
  str,
  unprocessableMessage,
  validationFailed,
  write,
} from './fake-github-http.js';
import { NOW, repoJson } from './fake-github-models.js';

/** Newest first. */
function statusesOf(r: FakeRepoState, sha: string): StatusModel[] {
  return r.statuses.filter((s) => s.sha === sha).sort((a, b) => b.id - a.id);
}

export function statusRoutes(gh: FakeGithub): RouteDef[] {
  const api = () => gh.url;
  const web = () => gh.webUrl;

  return [
    route('POST', '/repos/{owner}/{repo}/statuses/{sha}', write('statuses'), async (ctx) => {
      const r = ctx.repo!;
      const sha = ctx.params['sha'] ?? '';
      // GitHub wants the full sha of a commit here, not a branch or a short sha.
      if (!/^[0-9a-f]{40}$/.test(sha) || (await gh.resolveCommit(r, sha)) !== sha)
        return unprocessableMessage(`No commit found for SHA: ${sha}`);
      const description = str(ctx.body, 'description');
      if (description !== null && description.length > 140)
        return validationFailed('Status', 'description is too long (maximum is 140 characters)', {
          field: 'description',
        });
      const status: StatusModel = {
        id: gh.nextId(),
        sha,
        state: ctx.body['state'] as StatusModel['state'],
        targetUrl: str(ctx.body, 'target_url'),
        description,
        context: str(ctx.body, 'context') ?? 'default',
        creator: gh.callerOf(ctx.auth),
        createdAt: NOW(),
      };
      r.statuses.push(status);
      return { status: 201, body: statusJson(api(), web(), gh.fullName(r), status, true) };
    }),

    route('GET', '/repos/{owner}/{repo}/commits/{ref}/status', read('statuses'), async (ctx) => {
      const r = ctx.repo!;
      const ref = ctx.params['ref'] ?? '';
      const sha = await gh.resolveCommit(r, ref);
      if (!sha) return githubError(404, `No commit found for SHA: ${ref}`);
      const latest: StatusModel[] = [];
      for (const s of statusesOf(r, sha)) if (!latest.some((x) => x.context === s.context)) latest.push(s);
      return {
        status: 200,
        body: {
          state: combinedState(latest),
          statuses: latest.map((s) => statusJson(api(), web(), gh.fullName(r), s, false)),
          sha,
          total_count: latest.length,
          repository: repoJson(api(), web(), gh.gitUrl, r.model, false),
          commit_url: `${api()}/repos/${gh.fullName(r)}/commits/${sha}`,
          url: `${api()}/repos/${gh.fullName(r)}/commits/${sha}/status`,
        },
      };
    }),

    route('GET', '/repos/{owner}/{repo}/commits/{ref}/statuses', read('statuses'), async (ctx) => {
      const r = ctx.repo!;
      const ref = ctx.params['ref'] ?? '';
      const sha = await gh.resolveCommit(r, ref);
      if (!sha) return githubError(404, `No commit found for SHA: ${ref}`);
      return {
        status: 200,
        body: statusesOf(r, sha).map((s) => statusJson(api(), web(), gh.fullName(r), s, true)),
      };
    }),
  ];
}
