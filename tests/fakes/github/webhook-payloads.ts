/**
 * Webhook deliveries for tests: payloads start from GitHub's own examples
 * (`@octokit/webhooks-examples`) with the repository, issue, comment and sender replaced by the
 * fake's objects, and are signed like GitHub signs them (X-Hub-Signature-256).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { FakeGithub } from './fake-github.js';
import type { CommentModel, ReviewCommentModel } from './fake-github-models.js';

interface Definition {
  name: string;
  examples: Array<Record<string, unknown>>;
}

let definitions: Definition[] | null = null;

function example(name: string, action: string, pick?: (e: Record<string, unknown>) => boolean) {
  definitions ??= createRequire(import.meta.url)('@octokit/webhooks-examples') as Definition[];
  const def = definitions.find((d) => d.name === name);
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

export async function reviewSubmitted(
  gh: FakeGithub,
  owner: string,
  repo: string,
  pullNumber: number,
  input: { state: 'changes_requested' | 'approved' | 'commented'; body: string; user: string },
): Promise<Delivery> {
  const payload = example('pull_request_review', 'submitted');
  const pull = await gh.pullJson(owner, repo, pullNumber);
  const review = payload['review'] as Record<string, unknown>;
  review['id'] = Math.floor(Math.random() * 1e9);
  review['state'] = input.state;
  review['body'] = input.body;
  review['user'] = gh.userJson(input.user);
  review['commit_id'] = (pull['head'] as Record<string, unknown>)['sha'];
  payload['pull_request'] = pull;
  payload['repository'] = gh.repoJson(owner, repo);
  payload['sender'] = gh.userJson(input.user);
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
