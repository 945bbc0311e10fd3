/**
 * GitHub Actions on the fake GitHub: workflow runs with jobs and steps, made by tests with
 * `addWorkflowRun`. As on GitHub, a run belongs to one check suite of the "GitHub Actions" App and
 * each job is also a check run with the same id; a failed job gets GitHub's "Process completed
 * with exit code 1." annotation; a job's log is not in the API answer but behind a 302 to a
 * signed plain-text download that works without credentials for a minute.
 */
import type { FakeGithub, FakeRepoState } from './fake-github.js';
import {
  type JobModel,
  jobJson,
  type StepModel,
  type WorkflowRunModel,
  workflowRunJson,
} from './fake-github-ci-models.js';
import { type Ctx, notFound, type RouteDef, read, route } from './fake-github-http.js';
import { type AnnotationModel, type AppModel, type CheckRunModel, NOW } from './fake-github-models.js';
import { pullsForSha, refreshSuite, suiteFor } from './routes-checks.js';

export type Conclusion =
  | 'success'
  | 'failure'
  | 'cancelled'
  | 'skipped'
  | 'timed_out'
  | 'neutral'
  | 'action_required';

export interface WorkflowJobInput {
  name: string;
  /** Defaults to the run's conclusion (success when the run has none yet). */
  conclusion?: Conclusion;
  /** Defaults to set-up, one step named after the job (with the job's conclusion), complete. */
  steps?: Array<{ name: string; conclusion?: Conclusion; output?: string }>;
  /** The whole log text; by default built from the steps, GitHub-style (timestamps, groups). */
  log?: string;
  annotations?: Array<{
    path: string;
    startLine: number;
    endLine?: number;
    level?: AnnotationModel['level'];
    message: string;
    title?: string;
  }>;
}

export interface WorkflowRunInput {
  headBranch: string;
  /** Defaults to the branch's head. */
  headSha?: string;
  /** Login of the fork's owner when the branch lives in a fork. */
  headOwner?: string;
  workflow?: string;
  path?: string;
  /** Defaults to `pull_request` when an open PR has this branch as head, else `push`. */
  event?: string;
  status?: 'queued' | 'in_progress' | 'completed';
  /** Defaults to the worst of the jobs' conclusions. */
  conclusion?: Conclusion;
  actor?: string;
  jobs: WorkflowJobInput[];
}

const ACTIONS_APP_ID = 15368;

function actionsApp(gh: FakeGithub): AppModel {
  return {
    id: ACTIONS_APP_ID,
    slug: 'github-actions',
    name: 'GitHub Actions',
    owner: gh.user('github', 'Organization'),
    clientId: 'Iv1.05c79e9ad1f0e6bd',
    description: 'Automate your workflow from idea to production',
    externalUrl: 'https://help.github.com/en/actions',
    permissions: {
      actions: 'write',
      checks: 'write',
      contents: 'write',
      metadata: 'read',
      pull_requests: 'write',
      statuses: 'write',
    },
    events: ['check_run', 'check_suite', 'pull_request', 'push', 'workflow_dispatch'],
    createdAt: '2018-07-30T09:30:17Z',
  };
}

/** GitHub's log lines: `2024-05-01T10:00:01.0000000Z text`. */
function logText(started: Date, steps: StepModel[]): string {
  let t = started.getTime();
  const lines: string[] = [];
  const put = (text: string) => {
    lines.push(`${new Date(t).toISOString().replace(/\.\d{3}Z$/, '.0000000Z')} ${text}`);
    t += 1000;
  };
  for (const step of steps) {
    put(`##[group]Run ${step.name}`);
    put(step.name);
    put('##[endgroup]');
    for (const line of step.output.split('\n')) if (line) put(line);
    if (step.conclusion === 'failure') put('##[error]Process completed with exit code 1.');
  }
  put('Cleaning up orphan processes');
  return `\uFEFF${lines.join('\n')}\n`;
}

const WORST_FIRST: Conclusion[] = [
  'action_required',
  'cancelled',
  'timed_out',
  'failure',
  'neutral',
  'success',
  'skipped',
];

export async function addWorkflowRun(
  gh: FakeGithub,
  r: FakeRepoState,
  input: WorkflowRunInput,
): Promise<WorkflowRunModel> {
  const headState = input.headOwner ? gh.repo(input.headOwner, r.model.name) : r;
  const headSha = input.headSha ?? (await gh.refSha(headState, input.headBranch));
  if (!headSha) throw new Error(`fake github: no branch ${input.headBranch} in ${gh.fullName(headState)}`);
  const status = input.status ?? 'completed';
  const done = status === 'completed';
  const jobConclusion = (j: WorkflowJobInput): Conclusion | null =>
    done ? (j.conclusion ?? input.conclusion ?? 'success') : null;
  const conclusion = done
    ? (input.conclusion ??
      WORST_FIRST.find((c) => input.jobs.some((j) => jobConclusion(j) === c)) ??
      'success')
    : null;
  const app = actionsApp(gh);
  const commit = await gh.commitInfo(headState, headSha);
  const suite = await suiteFor(gh, r, app, headSha, input.headBranch, headState);
  const now = NOW();
  const hasPull = r.pulls.some(
    (p) => p.state === 'open' && p.head === input.headBranch && p.headRepo.id === headState.model.id,
  );
  const run: WorkflowRunModel = {
    id: gh.nextId(),
    name: input.workflow ?? 'CI',
    path: input.path ?? '.github/workflows/ci.yml',
    workflowId: 161335,
    runNumber: r.workflowRuns.length + 1,
    event: input.event ?? (hasPull ? 'pull_request' : 'push'),
    status,
    conclusion,
    headSha,
    headBranch: input.headBranch,
    headRepo: headState.model,
    headCommit: commit,
    checkSuiteId: suite.id,
    actor: gh.user(input.actor ?? headState.model.owner.login),
    displayTitle: commit.message.split('\n')[0] ?? '',
    createdAt: now,
    updatedAt: now,
    jobs: [],
  };
  for (const j of input.jobs) {
    const c = jobConclusion(j);
    const steps: StepModel[] = (
      j.steps ?? [
        { name: 'Set up job', conclusion: 'success' },
        { name: j.name },
        { name: 'Complete job', conclusion: 'success' },
      ]
    ).map((s, i) => ({
      number: i + 1,
      name: s.name,
      status: done ? 'completed' : 'in_progress',
      conclusion: done ? (s.conclusion ?? c) : null,
      output: s.output ?? '',
    }));
    const job: JobModel = {
      id: gh.nextId(),
      runId: run.id,
      name: j.name,
      status: done ? 'completed' : 'in_progress',
      conclusion: c,
      steps,
      log: j.log ?? logText(new Date(), steps),
      startedAt: now,
      completedAt: done ? now : null,
    };
    run.jobs.push(job);
    const annotations: AnnotationModel[] = (j.annotations ?? []).map((a) => ({
      path: a.path,
      startLine: a.startLine,
      endLine: a.endLine ?? a.startLine,
      startColumn: null,
      endColumn: null,
      level: a.level ?? 'failure',
      title: a.title ?? null,
      message: a.message,
      rawDetails: null,
    }));
    if (c === 'failure' && annotations.length === 0)
      annotations.push({
        path: '.github',
        startLine: 1,
        endLine: 1,
        startColumn: null,
        endColumn: null,
        level: 'failure',
        title: null,
        message: 'Process completed with exit code 1.',
        rawDetails: null,
      });
    const checkRun: CheckRunModel = {
      id: job.id,
      name: j.name,
      headSha,
      status: job.status,
      conclusion: c,
      title: null,
      summary: null,
      text: null,
      detailsUrl: `${gh.webUrl}/${gh.fullName(r)}/actions/runs/${run.id}/job/${job.id}`,
      externalId: null,
      startedAt: now,
      completedAt: job.completedAt,
      history: [{ status: job.status, conclusion: c, summary: null }],
      checkSuiteId: suite.id,
      app,
      annotations,
    };
    r.checkRuns.push(checkRun);
  }
  r.workflowRuns.push(run);
  refreshSuite(r, suite);
  return run;
}

export function actionsRoutes(gh: FakeGithub): RouteDef[] {
  const api = () => gh.url;
  const web = () => gh.webUrl;
  const runJson = (r: FakeRepoState, run: WorkflowRunModel) =>
    workflowRunJson(api(), web(), gh.gitUrl, r.model, run, pullsForSha(gh, r, run.headSha));
  const runOf = (ctx: Ctx) => ctx.repo!.workflowRuns.find((x) => x.id === Number(ctx.params['run_id']));
  const jobOf = (ctx: Ctx) => {
    const id = Number(ctx.params['job_id']);
    for (const run of ctx.repo!.workflowRuns) {
      const job = run.jobs.find((j) => j.id === id);
      if (job) return { run, job };
    }
    return null;
  };

  return [
    route('GET', '/repos/{owner}/{repo}/actions/runs', read('actions'), (ctx) => {
      const r = ctx.repo!;
      const q = ctx.query;
      const list = r.workflowRuns
        .filter(
          (x) =>
            (!q.get('branch') || x.headBranch === q.get('branch')) &&
            (!q.get('event') || x.event === q.get('event')) &&
            (!q.get('head_sha') || x.headSha === q.get('head_sha')) &&
            (!q.get('check_suite_id') || String(x.checkSuiteId) === q.get('check_suite_id')) &&
            // `status` takes a status or a conclusion, as on GitHub.
            (!q.get('status') || x.status === q.get('status') || x.conclusion === q.get('status')),
        )
        .sort((a, b) => b.id - a.id);
      return {
        status: 200,
        body: { total_count: list.length, workflow_runs: list.map((x) => runJson(r, x)) },
      };
    }),

    route('GET', '/repos/{owner}/{repo}/actions/runs/{run_id}', read('actions'), (ctx) => {
      const run = runOf(ctx);
      return run ? { status: 200, body: runJson(ctx.repo!, run) } : notFound;
    }),

    route('GET', '/repos/{owner}/{repo}/actions/runs/{run_id}/jobs', read('actions'), (ctx) => {
      const r = ctx.repo!;
      const run = runOf(ctx);
      if (!run) return notFound;
      return {
        status: 200,
        body: {
          total_count: run.jobs.length,
          jobs: run.jobs.map((j) => jobJson(api(), web(), r.model, run, j)),
        },
      };
    }),

    route('GET', '/repos/{owner}/{repo}/actions/jobs/{job_id}', read('actions'), (ctx) => {
      const found = jobOf(ctx);
      return found
        ? { status: 200, body: jobJson(api(), web(), ctx.repo!.model, found.run, found.job) }
        : notFound;
    }),

    route('GET', '/repos/{owner}/{repo}/actions/jobs/{job_id}/logs', read('actions'), (ctx) => {
      const found = jobOf(ctx);
      if (!found) return notFound;
      return { status: 302, text: '', headers: { location: gh.signedDownload(found.job.log) } };
    }),

    // The download host: no credentials, only the link's signature, and a minute to use it.
    route(
      'GET',
      '/_blobs/{key}',
      { kind: 'public' },
      (ctx) => {
        const text = gh.download(ctx.params['key'] ?? '');
        if (text === null) return { status: 403, text: 'AuthenticationFailed: the signed link has expired' };
        return { status: 200, text };
      },
      { outsideRestApi: true },
    ),
  ];
}
