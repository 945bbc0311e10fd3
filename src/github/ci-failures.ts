/**
 * CI failures on devbot's pull requests: a completed `workflow_run` (GitHub Actions) or
 * `check_suite` (any other CI) that failed on the head of a PR devbot opened, and does not also
 * fail on the PR's base branch, becomes a follow-up carrying the tail of each failed job's log.
 * Logs come from Actions (job logs), else from the check runs' output and annotations. All of it
 * is untrusted text: it is fenced where it enters the prompt.
 */
import type { RestClient } from './rest-client.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

const FAILED = new Set(['failure', 'timed_out']);
/** Lines of each failed job's log kept for the crew. */
const TAIL_LINES = 80;
const TAIL_CHARS = 8_000;
const MAX_JOBS = 5;

/** A completed CI run as the webhook names it. */
export interface CiEvent {
  source: 'workflow_run' | 'check_suite';
  owner: string;
  repo: string;
  installationId: number;
  headSha: string;
  /** PR numbers GitHub attached to the run (PRs of the same repository). */
  pullNumbers: number[];
  /** workflow_run: the run id and its workflow; check_suite: the suite id and its App. */
  id: number;
  workflowId?: number;
  name: string;
  url: string;
}

/** A failed workflow run or check suite, or null when the event is not one. */
export function parseCiEvent(name: string, payload: unknown, appSlug: string): CiEvent | null {
  const p = obj(payload);
  if (str(p['action']) !== 'completed') return null;
  const repository = obj(p['repository']);
  const owner = str(obj(repository['owner'])['login']);
  const repo = str(repository['name']);
  const installationId = num(obj(p['installation'])['id']);
  if (!owner || !repo || !Number.isFinite(installationId)) return null;
  const where = { owner, repo, installationId };
  const prs = (v: unknown) =>
    (Array.isArray(v) ? v : []).map((x) => num(obj(x)['number'])).filter((n) => Number.isFinite(n));
  if (name === 'workflow_run') {
    const run = obj(p['workflow_run']);
    if (!FAILED.has(str(run['conclusion']))) return null;
    return {
      source: 'workflow_run',
      ...where,
      headSha: str(run['head_sha']),
      pullNumbers: prs(run['pull_requests']),
      id: num(run['id']),
      workflowId: num(run['workflow_id']),
      name: str(run['name']) || str(obj(p['workflow'])['name']) || 'workflow',
      url: str(run['html_url']),
    };
  }
  if (name === 'check_suite') {
    const suite = obj(p['check_suite']);
    const app = str(obj(suite['app'])['slug']);
    // Actions suites arrive as workflow_run too; devbot's own check never feeds back into itself.
    if (app === 'github-actions' || app === appSlug) return null;
    if (!FAILED.has(str(suite['conclusion']))) return null;
    return {
      source: 'check_suite',
      ...where,
      headSha: str(suite['head_sha']),
      pullNumbers: prs(suite['pull_requests']),
      id: num(suite['id']),
      name: str(obj(suite['app'])['name']) || app || 'CI',
      url: str(suite['url']),
    };
  }
  return null;
}

export interface FailedJob {
  name: string;
  failedSteps: string[];
  /** The end of its log (timestamps stripped), or the check run's output and annotations. */
  logTail: string;
}

/** The tail of a GitHub Actions log, without the timestamps GitHub prefixes each line with. */
export function logTail(log: string, lines = TAIL_LINES, chars = TAIL_CHARS): string {
  const clean = log
    .split('\n')
    .map((l) => l.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z ?/, '').replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');
  return clean.slice(-lines).join('\n').slice(-chars);
}

/**
 * Whether the same check also fails on the base branch (then it is not this PR's doing): the
 * latest completed run of the same workflow, or check runs of the same names, on the base's head.
 */
export async function failsOnBase(
  octokit: RestClient,
  event: CiEvent,
  baseRef: string,
  failingNames: string[],
): Promise<boolean> {
  const { owner, repo } = event;
  if (event.source === 'workflow_run') {
    const { data } = await octokit.rest.actions.listWorkflowRunsForRepo({
      owner,
      repo,
      branch: baseRef,
      status: 'completed',
      per_page: 30,
    });
    const last = data.workflow_runs.find((r) => r.workflow_id === event.workflowId);
    return last !== undefined && FAILED.has(last.conclusion ?? '');
  }
  const { data } = await octokit.rest.checks.listForRef({ owner, repo, ref: baseRef, per_page: 100 });
  const failingOnBase = new Set(
    data.check_runs.filter((r) => FAILED.has(r.conclusion ?? '')).map((r) => r.name),
  );
  return failingNames.length > 0 && failingNames.every((n) => failingOnBase.has(n));
}

/** The failed jobs of the run (Actions job logs) or the failed check runs of the suite. */
export async function failedJobs(octokit: RestClient, event: CiEvent): Promise<FailedJob[]> {
  const { owner, repo } = event;
  if (event.source === 'workflow_run') {
    const { data } = await octokit.rest.actions.listJobsForWorkflowRun({
      owner,
      repo,
      run_id: event.id,
      per_page: 100,
    });
    const failed = data.jobs.filter((j) => FAILED.has(j.conclusion ?? '')).slice(0, MAX_JOBS);
    return Promise.all(
      failed.map(async (job) => {
        let tail = '';
        try {
          const res = await octokit.rest.actions.downloadJobLogsForWorkflowRun({
            owner,
            repo,
            job_id: job.id,
          });
          tail = logTail(typeof res.data === 'string' ? res.data : String(res.data ?? ''));
        } catch {
          tail = '(the job log could not be read)';
        }
        return {
          name: job.name,
          failedSteps: (job.steps ?? []).filter((s) => FAILED.has(s.conclusion ?? '')).map((s) => s.name),
          logTail: tail,
        };
      }),
    );
  }
  const { data } = await octokit.rest.checks.listForSuite({
    owner,
    repo,
    check_suite_id: event.id,
    per_page: 100,
  });
  const failed = data.check_runs.filter((r) => FAILED.has(r.conclusion ?? '')).slice(0, MAX_JOBS);
  return Promise.all(
    failed.map(async (run) => {
      const parts = [run.output.title, run.output.summary, run.output.text].filter(Boolean) as string[];
      try {
        const { data: notes } = await octokit.rest.checks.listAnnotations({
          owner,
          repo,
          check_run_id: run.id,
          per_page: 50,
        });
        for (const a of notes)
          parts.push(
            `${a.path}:${a.start_line}: ${a.annotation_level}: ${a.title ? `${a.title}: ` : ''}${a.message}`,
          );
      } catch {
        // Annotations are extra context; the output alone will do.
      }
      return { name: run.name, failedSteps: [], logTail: logTail(parts.join('\n')) };
    }),
  );
}

/** What the crew is told about the failure (the log tails are fenced by the caller). */
export function describeFailure(event: CiEvent, jobs: FailedJob[]): string {
  return jobs
    .map((j) =>
      [
        `## ${j.name}${j.failedSteps.length ? ` (failed steps: ${j.failedSteps.join(', ')})` : ''}`,
        j.logTail || '(no log output)',
      ].join('\n'),
    )
    .join('\n\n')
    .concat(jobs.length === 0 ? `${event.name} failed (no failed job details were available).` : '');
}
