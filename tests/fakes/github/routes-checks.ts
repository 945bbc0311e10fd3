/**
 * The Checks API on the fake GitHub. Only Apps create and update check runs (a personal token
 * gets GitHub's 403 "You must authenticate via a GitHub App."); an App's runs on a commit share
 * one check suite, whose status follows its runs. Runs and suites list the pull requests whose
 * head is that commit in this repository — never a fork's PR, as on GitHub.
 */
import type { FakeGithub, FakeRepoState } from './fake-github.js';
import { githubError } from './fake-github-auth.js';
import type { CheckSuiteModel } from './fake-github-ci-models.js';
import { checkSuiteJson } from './fake-github-ci-models.js';
import {
  type Ctx,
  notFound,
  type RouteDef,
  read,
  route,
  str,
  unprocessableMessage,
  write,
} from './fake-github-http.js';
import {
  type AnnotationModel,
  type AppModel,
  annotationJson,
  type CheckRunModel,
  checkRunJson,
  NOW,
  pullMinimalJson,
} from './fake-github-models.js';

/** Open PRs of this repository (not of forks) whose head is `sha`. */
export function pullsForSha(gh: FakeGithub, r: FakeRepoState, sha: string): Array<Record<string, unknown>> {
  return r.pulls
    .filter((p) => p.state === 'open' && p.headSha === sha && p.headRepo.id === r.model.id)
    .map((p) => pullMinimalJson(gh.url, r.model, p));
}

/** The App's suite on a commit, made on first use (`commitIn`: where the commit lives, a fork maybe). */
export async function suiteFor(
  gh: FakeGithub,
  r: FakeRepoState,
  app: AppModel,
  sha: string,
  branch: string | null,
  commitIn: FakeRepoState = r,
): Promise<CheckSuiteModel> {
  const existing = r.checkSuites.find((s) => s.app.id === app.id && s.headSha === sha);
  if (existing) return existing;
  const suite: CheckSuiteModel = {
    id: gh.nextId(),
    app,
    headSha: sha,
    headBranch: branch,
    headCommit: await gh.commitInfo(commitIn, sha),
    status: 'queued',
    conclusion: null,
    createdAt: NOW(),
    updatedAt: NOW(),
  };
  r.checkSuites.push(suite);
  return suite;
}

/** Worst first: a suite concludes with the worst conclusion among its runs. */
const CONCLUSION_ORDER = [
  'action_required',
  'cancelled',
  'timed_out',
  'failure',
  'stale',
  'neutral',
  'success',
  'skipped',
];

export function refreshSuite(r: FakeRepoState, suite: CheckSuiteModel): void {
  const runs = r.checkRuns.filter((x) => x.checkSuiteId === suite.id);
  suite.updatedAt = NOW();
  if (runs.length === 0 || runs.some((x) => x.status !== 'completed')) {
    suite.status = runs.some((x) => x.status !== 'queued') ? 'in_progress' : 'queued';
    suite.conclusion = null;
    return;
  }
  suite.status = 'completed';
  const conclusions = runs.map((x) => x.conclusion ?? 'neutral');
  suite.conclusion = CONCLUSION_ORDER.find((c) => conclusions.includes(c)) ?? 'neutral';
}

function annotationsOf(output: Record<string, unknown>): AnnotationModel[] {
  const list = (output['annotations'] as Array<Record<string, unknown>> | undefined) ?? [];
  return list.map((a) => ({
    path: String(a['path']),
    startLine: Number(a['start_line']),
    endLine: Number(a['end_line']),
    startColumn: typeof a['start_column'] === 'number' ? a['start_column'] : null,
    endColumn: typeof a['end_column'] === 'number' ? a['end_column'] : null,
    level: a['annotation_level'] as AnnotationModel['level'],
    title: typeof a['title'] === 'string' ? a['title'] : null,
    message: String(a['message']),
    rawDetails: typeof a['raw_details'] === 'string' ? a['raw_details'] : null,
  }));
}

export function checksRoutes(gh: FakeGithub): RouteDef[] {
  const api = () => gh.url;
  const web = () => gh.webUrl;
  const runJson = (r: FakeRepoState, run: CheckRunModel) =>
    checkRunJson(api(), web(), gh.fullName(r), run, pullsForSha(gh, r, run.headSha));
  const runOf = (ctx: Ctx) => ctx.repo!.checkRuns.find((x) => x.id === Number(ctx.params['check_run_id']));
  const suiteOf = (ctx: Ctx) =>
    ctx.repo!.checkSuites.find((x) => x.id === Number(ctx.params['check_suite_id']));
  const suiteJson = (r: FakeRepoState, s: CheckSuiteModel) =>
    checkSuiteJson(
      api(),
      web(),
      gh.gitUrl,
      r.model,
      s,
      r.checkRuns.filter((x) => x.checkSuiteId === s.id).length,
      pullsForSha(gh, r, s.headSha),
    );

  /** GitHub's default `filter=latest`: the newest run per App and name. */
  const listRuns = (ctx: Ctx, runs: CheckRunModel[]) => {
    const r = ctx.repo!;
    const name = ctx.query.get('check_name');
    const status = ctx.query.get('status');
    const appId = ctx.query.get('app_id');
    let list = runs.filter(
      (x) =>
        (!name || x.name === name) &&
        (!status || x.status === status) &&
        (!appId || String(x.app.id) === appId),
    );
    if (ctx.query.get('filter') !== 'all')
      list = list.filter((x) => !list.some((y) => y.id > x.id && y.name === x.name && y.app.id === x.app.id));
    list = [...list].sort((a, b) => b.id - a.id);
    return { status: 200, body: { total_count: list.length, check_runs: list.map((x) => runJson(r, x)) } };
  };

  return [
    route('POST', '/repos/{owner}/{repo}/check-runs', write('checks', { appOnly: true }), async (ctx) => {
      const r = ctx.repo!;
      if (ctx.auth.kind !== 'installation') return notFound;
      const name = str(ctx.body, 'name') ?? '';
      const headSha = str(ctx.body, 'head_sha') ?? '';
      const sha = await gh.resolveCommit(r, headSha);
      if (!sha || sha !== headSha) return unprocessableMessage(`No commit found for SHA: ${headSha}`);
      const output = (ctx.body['output'] ?? {}) as Record<string, unknown>;
      const conclusion = str(ctx.body, 'conclusion');
      const suite = await suiteFor(gh, r, ctx.auth.app.model, sha, null);
      const run: CheckRunModel = {
        id: gh.nextId(),
        name,
        headSha,
        status: conclusion
          ? 'completed'
          : ((str(ctx.body, 'status') as CheckRunModel['status'] | null) ?? 'queued'),
        conclusion,
        title: str(output, 'title'),
        summary: str(output, 'summary'),
        text: str(output, 'text'),
        detailsUrl: str(ctx.body, 'details_url'),
        externalId: str(ctx.body, 'external_id'),
        startedAt: NOW(),
        completedAt: conclusion ? NOW() : null,
        history: [],
        checkSuiteId: suite.id,
        app: ctx.auth.app.model,
        annotations: annotationsOf(output),
      };
      run.history.push({ status: run.status, conclusion: run.conclusion, summary: run.summary });
      r.checkRuns.push(run);
      refreshSuite(r, suite);
      return { status: 201, body: runJson(r, run) };
    }),

    route(
      'PATCH',
      '/repos/{owner}/{repo}/check-runs/{check_run_id}',
      write('checks', { appOnly: true }),
      (ctx) => {
        const r = ctx.repo!;
        const run = runOf(ctx);
        if (!run) return notFound;
        if (ctx.auth.kind !== 'installation' || ctx.auth.app.model.id !== run.app.id)
          return githubError(
            403,
            'Invalid app_id: a check run can only be modified by the GitHub App that created it',
          );
        const output = ctx.body['output'] as Record<string, unknown> | undefined;
        const status = str(ctx.body, 'status');
        if (status) run.status = status as CheckRunModel['status'];
        const conclusion = str(ctx.body, 'conclusion');
        if (conclusion) {
          run.conclusion = conclusion;
          run.status = 'completed';
          run.completedAt = NOW();
        }
        if (output) {
          run.title = str(output, 'title') ?? run.title;
          run.summary = str(output, 'summary') ?? run.summary;
          run.text = str(output, 'text') ?? run.text;
          // GitHub adds annotations from each update to those already there.
          run.annotations.push(...annotationsOf(output));
        }
        run.detailsUrl = str(ctx.body, 'details_url') ?? run.detailsUrl;
        run.history.push({ status: run.status, conclusion: run.conclusion, summary: run.summary });
        const suite = r.checkSuites.find((s) => s.id === run.checkSuiteId);
        if (suite) refreshSuite(r, suite);
        return { status: 200, body: runJson(r, run) };
      },
    ),

    route('GET', '/repos/{owner}/{repo}/check-runs/{check_run_id}', read('checks'), (ctx) => {
      const run = runOf(ctx);
      return run ? { status: 200, body: runJson(ctx.repo!, run) } : notFound;
    }),

    route('GET', '/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations', read('checks'), (ctx) => {
      const r = ctx.repo!;
      const run = runOf(ctx);
      if (!run) return notFound;
      return {
        status: 200,
        body: run.annotations.map((a) => annotationJson(web(), gh.fullName(r), run.headSha, a)),
      };
    }),

    route('GET', '/repos/{owner}/{repo}/commits/{ref}/check-runs', read('checks'), async (ctx) => {
      const r = ctx.repo!;
      const sha = await gh.resolveCommit(r, ctx.params['ref'] ?? '');
      if (!sha) return unprocessableMessage(`No commit found for SHA: ${ctx.params['ref']}`);
      return listRuns(
        ctx,
        r.checkRuns.filter((x) => x.headSha === sha),
      );
    }),

    route('GET', '/repos/{owner}/{repo}/commits/{ref}/check-suites', read('checks'), async (ctx) => {
      const r = ctx.repo!;
      const sha = await gh.resolveCommit(r, ctx.params['ref'] ?? '');
      if (!sha) return unprocessableMessage(`No commit found for SHA: ${ctx.params['ref']}`);
      const suites = r.checkSuites.filter((s) => s.headSha === sha);
      return {
        status: 200,
        body: { total_count: suites.length, check_suites: suites.map((s) => suiteJson(r, s)) },
      };
    }),

    route('GET', '/repos/{owner}/{repo}/check-suites/{check_suite_id}', read('checks'), (ctx) => {
      const suite = suiteOf(ctx);
      return suite ? { status: 200, body: suiteJson(ctx.repo!, suite) } : notFound;
    }),

    route('GET', '/repos/{owner}/{repo}/check-suites/{check_suite_id}/check-runs', read('checks'), (ctx) => {
      const suite = suiteOf(ctx);
      if (!suite) return notFound;
      return listRuns(
        ctx,
        ctx.repo!.checkRuns.filter((x) => x.checkSuiteId === suite.id),
      );
    }),
  ];
}
