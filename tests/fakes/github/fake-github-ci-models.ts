/**
 * JSON builders for CI on the fake GitHub: check suites, GitHub Actions workflow runs and their
 * jobs (each job is also a check run of the "GitHub Actions" App, with the same id, as on GitHub),
 * commit statuses, and repository webhooks.
 */
import {
  type AppModel,
  appJson,
  type FakeUser,
  nodeId,
  type RepoModel,
  repoJson,
  userJson,
} from './fake-github-models.js';

/** What GitHub calls a `simple-commit`: the head commit inside suites and runs. */
export interface CommitInfo {
  sha: string;
  treeSha: string;
  message: string;
  timestamp: string;
  author: { name: string; email: string };
  committer: { name: string; email: string };
}

export function simpleCommitJson(c: CommitInfo): Record<string, unknown> {
  return {
    id: c.sha,
    tree_id: c.treeSha,
    message: c.message,
    timestamp: c.timestamp,
    author: c.author,
    committer: c.committer,
  };
}

export type CheckStatus = 'queued' | 'in_progress' | 'completed';

export interface CheckSuiteModel {
  id: number;
  app: AppModel;
  headSha: string;
  headBranch: string | null;
  headCommit: CommitInfo;
  status: CheckStatus;
  conclusion: string | null;
  createdAt: string;
  updatedAt: string;
}

export function checkSuiteJson(
  api: string,
  web: string,
  gitBase: string,
  repo: RepoModel,
  suite: CheckSuiteModel,
  runCount: number,
  pullRequests: Array<Record<string, unknown>>,
): Record<string, unknown> {
  const url = `${api}/repos/${repo.owner.login}/${repo.name}/check-suites/${suite.id}`;
  return {
    id: suite.id,
    node_id: nodeId('CheckSuite', suite.id),
    head_branch: suite.headBranch,
    head_sha: suite.headSha,
    status: suite.status,
    conclusion: suite.conclusion,
    url,
    before: null,
    after: suite.headSha,
    pull_requests: pullRequests,
    app: appJson(api, web, suite.app),
    repository: repoJson(api, web, gitBase, repo, false),
    created_at: suite.createdAt,
    updated_at: suite.updatedAt,
    head_commit: simpleCommitJson(suite.headCommit),
    latest_check_runs_count: runCount,
    check_runs_url: `${url}/check-runs`,
    rerequestable: true,
    runs_rerequestable: true,
  };
}

export interface StepModel {
  number: number;
  name: string;
  status: CheckStatus;
  conclusion: string | null;
  /** What the step printed (without GitHub's timestamps; the log adds them). */
  output: string;
}

export interface JobModel {
  /** Also the id of the job's check run. */
  id: number;
  runId: number;
  name: string;
  status: CheckStatus;
  conclusion: string | null;
  steps: StepModel[];
  /** The plain-text log the download URL serves. */
  log: string;
  startedAt: string;
  completedAt: string | null;
}

export interface WorkflowRunModel {
  id: number;
  /** The workflow's name (`name:` in the YAML). */
  name: string;
  path: string;
  workflowId: number;
  runNumber: number;
  event: string;
  status: CheckStatus;
  conclusion: string | null;
  headSha: string;
  headBranch: string;
  headRepo: RepoModel;
  headCommit: CommitInfo;
  checkSuiteId: number;
  actor: FakeUser;
  displayTitle: string;
  createdAt: string;
  updatedAt: string;
  jobs: JobModel[];
}

export function workflowRunJson(
  api: string,
  web: string,
  gitBase: string,
  repo: RepoModel,
  run: WorkflowRunModel,
  pullRequests: Array<Record<string, unknown>>,
): Record<string, unknown> {
  const fullName = `${repo.owner.login}/${repo.name}`;
  const url = `${api}/repos/${fullName}/actions/runs/${run.id}`;
  return {
    id: run.id,
    name: run.name,
    node_id: nodeId('WorkflowRun', run.id),
    check_suite_id: run.checkSuiteId,
    check_suite_node_id: nodeId('CheckSuite', run.checkSuiteId),
    head_branch: run.headBranch,
    head_sha: run.headSha,
    path: run.path,
    run_number: run.runNumber,
    run_attempt: 1,
    referenced_workflows: [],
    event: run.event,
    status: run.status,
    conclusion: run.conclusion,
    workflow_id: run.workflowId,
    url,
    html_url: `${web}/${fullName}/actions/runs/${run.id}`,
    pull_requests: pullRequests,
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    actor: userJson(api, web, run.actor),
    triggering_actor: userJson(api, web, run.actor),
    run_started_at: run.createdAt,
    jobs_url: `${url}/jobs`,
    logs_url: `${url}/logs`,
    check_suite_url: `${api}/repos/${fullName}/check-suites/${run.checkSuiteId}`,
    artifacts_url: `${url}/artifacts`,
    cancel_url: `${url}/cancel`,
    rerun_url: `${url}/rerun`,
    previous_attempt_url: null,
    workflow_url: `${api}/repos/${fullName}/actions/workflows/${run.workflowId}`,
    head_commit: simpleCommitJson(run.headCommit),
    repository: repoJson(api, web, gitBase, repo, false),
    head_repository: repoJson(api, web, gitBase, run.headRepo, false),
    head_repository_id: run.headRepo.id,
    display_title: run.displayTitle,
  };
}

/** The `workflow` object of a workflow_run delivery. */
export function workflowJson(api: string, web: string, repo: RepoModel, run: WorkflowRunModel) {
  const fullName = `${repo.owner.login}/${repo.name}`;
  return {
    badge_url: `${web}/${fullName}/workflows/${encodeURIComponent(run.name)}/badge.svg`,
    created_at: run.createdAt,
    html_url: `${web}/${fullName}/blob/${repo.defaultBranch}/${run.path}`,
    id: run.workflowId,
    name: run.name,
    node_id: nodeId('Workflow', run.workflowId),
    path: run.path,
    state: 'active',
    updated_at: run.updatedAt,
    url: `${api}/repos/${fullName}/actions/workflows/${run.workflowId}`,
  };
}

export function jobJson(
  api: string,
  web: string,
  repo: RepoModel,
  run: WorkflowRunModel,
  job: JobModel,
): Record<string, unknown> {
  const fullName = `${repo.owner.login}/${repo.name}`;
  return {
    id: job.id,
    run_id: run.id,
    run_url: `${api}/repos/${fullName}/actions/runs/${run.id}`,
    run_attempt: 1,
    node_id: nodeId('CheckRun', job.id),
    head_sha: run.headSha,
    url: `${api}/repos/${fullName}/actions/jobs/${job.id}`,
    html_url: `${web}/${fullName}/actions/runs/${run.id}/job/${job.id}`,
    status: job.status,
    conclusion: job.conclusion,
    created_at: job.startedAt,
    started_at: job.startedAt,
    completed_at: job.completedAt,
    name: job.name,
    steps: job.steps.map((s) => ({
      name: s.name,
      status: s.status,
      conclusion: s.conclusion,
      number: s.number,
      started_at: job.startedAt,
      completed_at: job.completedAt,
    })),
    check_run_url: `${api}/repos/${fullName}/check-runs/${job.id}`,
    labels: ['ubuntu-latest'],
    runner_id: 1,
    runner_name: 'GitHub Actions 1',
    runner_group_id: 2,
    runner_group_name: 'GitHub Actions',
    workflow_name: run.name,
    head_branch: run.headBranch,
  };
}

export interface StatusModel {
  id: number;
  sha: string;
  state: 'error' | 'failure' | 'pending' | 'success';
  targetUrl: string | null;
  description: string | null;
  context: string;
  creator: FakeUser;
  createdAt: string;
}

export function statusJson(
  api: string,
  web: string,
  fullName: string,
  s: StatusModel,
  withCreator: boolean,
): Record<string, unknown> {
  const json: Record<string, unknown> = {
    url: `${api}/repos/${fullName}/statuses/${s.sha}`,
    avatar_url: `${web}/avatars/${s.creator.id}`,
    id: s.id,
    node_id: nodeId('StatusContext', s.id),
    state: s.state,
    description: s.description,
    target_url: s.targetUrl,
    context: s.context,
    created_at: s.createdAt,
    updated_at: s.createdAt,
  };
  if (withCreator) json['creator'] = userJson(api, web, s.creator);
  return json;
}

/**
 * GitHub's combined state: failure if any context's latest status is error or failure, pending
 * if there is none or any is pending, success when every context's latest is success.
 */
export function combinedState(latest: StatusModel[]): 'failure' | 'pending' | 'success' {
  if (latest.some((s) => s.state === 'error' || s.state === 'failure')) return 'failure';
  if (latest.length === 0 || latest.some((s) => s.state === 'pending')) return 'pending';
  return 'success';
}

export interface HookModel {
  id: number;
  active: boolean;
  events: string[];
  url: string;
  contentType: 'json' | 'form';
  secret: string | null;
  insecureSsl: '0' | '1';
  createdAt: string;
  updatedAt: string;
  lastResponse: { code: number | null; status: string; message: string | null };
}

export function hookJson(api: string, fullName: string, h: HookModel): Record<string, unknown> {
  const url = `${api}/repos/${fullName}/hooks/${h.id}`;
  const config: Record<string, unknown> = {
    url: h.url,
    content_type: h.contentType,
    insecure_ssl: h.insecureSsl,
  };
  // GitHub never shows a hook's secret again: it masks it.
  if (h.secret) config['secret'] = '********';
  return {
    type: 'Repository',
    id: h.id,
    name: 'web',
    active: h.active,
    events: h.events,
    config,
    updated_at: h.updatedAt,
    created_at: h.createdAt,
    url,
    test_url: `${url}/test`,
    ping_url: `${url}/pings`,
    deliveries_url: `${url}/deliveries`,
    last_response: h.lastResponse,
  };
}
