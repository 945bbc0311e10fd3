/**
 * Webhook deliveries for tests: payloads start from GitHub's own examples
 * (`@octokit/webhooks-examples`) with the repository, issue, comment, PR, run and sender replaced
 * by the fake's objects, and are signed like GitHub signs them (X-Hub-Signature-256). Their shapes
 * are checked against the webhook schemas of GitHub's OpenAPI description
 * (tests/unit/github-fake-webhooks.test.ts).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { FakeGithub } from './fake-github.js';
import {
  checkSuiteJson,
  type WorkflowRunModel,
  workflowJson,
  workflowRunJson,
} from './fake-github-ci-models.js';
import type { CommentModel, ReviewCommentModel, ReviewModel } from './fake-github-models.js';
import { reviewJson } from './fake-github-models.js';
import { pullsForSha } from './routes-checks.js';

interface Definition {
  name: string;
  examples: Array<Record<string, unknown>>;
}

let definitions: Definition[] | null = null;

function loadDefinitions(): Definition[] {
  definitions ??= createRequire(import.meta.url)('@octokit/webhooks-examples') as Definition[];
  return definitions;
}

/** Every event name GitHub delivers (`issues`, `check_suite`, ...). */
export function webhookEventNames(): string[] {
  return loadDefinitions().map((d) => d.name);
}

function example(name: string, action: string, pick?: (e: Record<string, unknown>) => boolean) {
  const def = loadDefinitions().find((d) => d.name === name);
  const found = def?.examples.find((e) => e['action'] === action && (!pick || pick(e)));
  if (!found) throw new Error(`no webhook example for ${name}.${action}`);
  return structuredClone(found);
}

export interface Delivery {
  id: string;
  name: string;
  payload: Record<string, unknown>;
}

function installation(gh: FakeGithub) {
  return { id: gh.installationId, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u' };
}

export function issueLabeled(
  gh: FakeGithub,
  owner: string,
  repo: string,
  issueNumber: number,
  label: string,
  sender: string,
): Delivery {
  const payload = example('issues', 'labeled');
  const issue = gh.issueJson(owner, repo, issueNumber);
  payload['issue'] = issue;
  payload['label'] = (issue['labels'] as Array<Record<string, unknown>>).find((l) => l['name'] === label) ?? {
    id: 1,
    node_id: 'LA_1',
    url: '',
    name: label,
    color: 'ededed',
    default: false,
    description: null,
  };
  payload['repository'] = gh.repoJson(owner, repo);
  payload['sender'] = gh.userJson(sender);
  payload['installation'] = installation(gh);
  return { id: randomUUID(), name: 'issues', payload };
}

export function issueOpened(
  gh: FakeGithub,
  owner: string,
  repo: string,
  issueNumber: number,
  sender: string,
) {
  const payload = example('issues', 'opened');
  payload['issue'] = gh.issueJson(owner, repo, issueNumber);
  payload['repository'] = gh.repoJson(owner, repo);
  payload['sender'] = gh.userJson(sender);
  payload['installation'] = installation(gh);
  return { id: randomUUID(), name: 'issues', payload };
}

export function issueCommentCreated(
  gh: FakeGithub,
  owner: string,
  repo: string,
  comment: CommentModel,
): Delivery {
  const payload = example('issue_comment', 'created');
  payload['issue'] = gh.issueJson(owner, repo, comment.issueNumber);
  payload['comment'] = gh.commentJson(owner, repo, comment);
  payload['repository'] = gh.repoJson(owner, repo);
  payload['sender'] = gh.userJson(comment.user.login);
  payload['installation'] = installation(gh);
  return { id: randomUUID(), name: 'issue_comment', payload };
}

/**
 * A submitted review. With `review` (e.g. from `gh.seedReview`), that review; otherwise a new one
 * is recorded in the fake first, so the REST and GraphQL answers know it too.
 */
export async function reviewSubmitted(
  gh: FakeGithub,
  owner: string,
  repo: string,
  pullNumber: number,
  input:
    | { state: 'changes_requested' | 'approved' | 'commented'; body: string; user: string }
    | { review: ReviewModel },
): Promise<Delivery> {
  const payload = example('pull_request_review', 'submitted');
  const pull = await gh.pullJson(owner, repo, pullNumber);
  const review = 'review' in input ? input.review : gh.submitReview(owner, repo, pullNumber, input);
  const r = gh.repo(owner, repo);
  const json = reviewJson(gh.url, gh.webUrl, `${owner}/${repo}`, review, gh.association(r, review.user));
  // Webhooks spell review states in lower case, the REST API in upper case.
  json['state'] = review.state.toLowerCase();
  payload['review'] = json;
  payload['pull_request'] = pull;
  payload['repository'] = gh.repoJson(owner, repo);
  payload['sender'] = gh.userJson(review.user.login);
  payload['installation'] = installation(gh);
  return { id: randomUUID(), name: 'pull_request_review', payload };
}

export async function reviewCommentCreated(
  gh: FakeGithub,
  owner: string,
  repo: string,
  comment: ReviewCommentModel,
): Promise<Delivery> {
  const payload = example('pull_request_review_comment', 'created');
  payload['comment'] = gh.reviewCommentJson(owner, repo, comment);
  payload['pull_request'] = await gh.pullJson(owner, repo, comment.pullNumber);
  payload['repository'] = gh.repoJson(owner, repo);
  payload['sender'] = gh.userJson(comment.user.login);
  payload['installation'] = installation(gh);
  return { id: randomUUID(), name: 'pull_request_review_comment', payload };
}

/** `pull_request` `opened`, for a PR a person opened (see `gh.openPullRequest`). */
export async function pullRequestOpened(
  gh: FakeGithub,
  owner: string,
  repo: string,
  pullNumber: number,
): Promise<Delivery> {
  const payload = example('pull_request', 'opened');
  const pull = await gh.pullJson(owner, repo, pullNumber);
  payload['number'] = pullNumber;
  payload['pull_request'] = pull;
  payload['repository'] = gh.repoJson(owner, repo);
  payload['sender'] = pull['user'];
  payload['installation'] = installation(gh);
  return { id: randomUUID(), name: 'pull_request', payload };
}

/**
 * `pull_request` `closed` for a PR closed with `gh.closePull`: `pull_request.merged` says
 * whether it was merged, and the sender is who closed or merged it.
 */
export async function pullRequestClosed(
  gh: FakeGithub,
  owner: string,
  repo: string,
  pullNumber: number,
  sender: string,
): Promise<Delivery> {
  const payload = example('pull_request', 'closed');
  const pull = await gh.pullJson(owner, repo, pullNumber);
  if (pull['state'] !== 'closed')
    throw new Error(`fake github: #${pullNumber} is still open; closePull first`);
  payload['number'] = pullNumber;
  payload['pull_request'] = pull;
  payload['repository'] = gh.repoJson(owner, repo);
  payload['sender'] = gh.userJson(sender);
  payload['installation'] = installation(gh);
  return { id: randomUUID(), name: 'pull_request', payload };
}

/** `check_suite` `completed` for a suite of the fake (a workflow run's, or an App's). */
export function checkSuiteCompleted(gh: FakeGithub, owner: string, repo: string, suiteId: number): Delivery {
  const payload = example('check_suite', 'completed');
  const r = gh.repo(owner, repo);
  const suite = r.checkSuites.find((s) => s.id === suiteId);
  if (!suite) throw new Error(`fake github: no check suite ${suiteId}`);
  if (suite.status !== 'completed') throw new Error(`fake github: check suite ${suiteId} is ${suite.status}`);
  const pulls = pullsForSha(gh, r, suite.headSha);
  const json = checkSuiteJson(
    gh.url,
    gh.webUrl,
    gh.gitUrl,
    r.model,
    suite,
    r.checkRuns.filter((x) => x.checkSuiteId === suite.id).length,
    pulls,
  );
  delete json['repository'];
  payload['check_suite'] = json;
  payload['repository'] = gh.repoJson(owner, repo);
  payload['sender'] = gh.userJson(owner);
  payload['installation'] = installation(gh);
  delete payload['organization'];
  return { id: randomUUID(), name: 'check_suite', payload };
}

/** `workflow_run` `completed` for a run made with `gh.addWorkflowRun`. */
export function workflowRunCompleted(
  gh: FakeGithub,
  owner: string,
  repo: string,
  run: WorkflowRunModel,
): Delivery {
  const payload = example('workflow_run', 'completed', (e) => {
    const wr = e['workflow_run'] as Record<string, unknown>;
    return Array.isArray(wr['pull_requests']) && wr['pull_requests'].length > 0;
  });
  if (run.status !== 'completed') throw new Error(`fake github: workflow run ${run.id} is ${run.status}`);
  const r = gh.repo(owner, repo);
  const pulls = pullsForSha(gh, r, run.headSha);
  payload['workflow_run'] = workflowRunJson(gh.url, gh.webUrl, gh.gitUrl, r.model, run, pulls);
  payload['workflow'] = workflowJson(gh.url, gh.webUrl, r.model, run);
  payload['repository'] = gh.repoJson(owner, repo);
  payload['sender'] = gh.userJson(run.actor.login);
  payload['installation'] = installation(gh);
  delete payload['organization'];
  return { id: randomUUID(), name: 'workflow_run', payload };
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** POSTs a delivery the way GitHub does. `signature` overrides the computed one (bad-signature tests). */
export async function deliver(
  url: string,
  secret: string,
  delivery: Delivery,
  options: { signature?: string } = {},
): Promise<Response> {
  const body = JSON.stringify(delivery.payload);
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/fake',
      'x-github-event': delivery.name,
      'x-github-delivery': delivery.id,
      'x-hub-signature-256': options.signature ?? signBody(secret, body),
    },
    body,
  });
}
