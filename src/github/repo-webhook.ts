/**
 * Token mode's webhooks: with no App to receive events, each repository gets a webhook of its own
 * that delivers what an App would, signed with GITHUB_WEBHOOK_SECRET. Adding it twice updates the
 * one already there (same URL) instead of making a second.
 */
import type { RestClient } from './rest-client.js';

/** Every event devbot acts on, the App's default_events and token mode's webhooks alike. */
export const REPO_WEBHOOK_EVENTS = [
  'issues',
  'issue_comment',
  'pull_request',
  'pull_request_review',
  'pull_request_review_comment',
  'check_suite',
  'workflow_run',
] as const;

export interface RepoWebhookResult {
  id: number;
  /** created: a new webhook; updated: one for the same URL existed and now has devbot's settings. */
  action: 'created' | 'updated';
}

export async function ensureRepoWebhook(
  client: RestClient,
  input: { owner: string; repo: string; url: string; secret: string },
): Promise<RepoWebhookResult> {
  const { owner, repo, url, secret } = input;
  const config = { url, content_type: 'json' as const, secret, insecure_ssl: '0' as const };
  const events = [...REPO_WEBHOOK_EVENTS];
  const existing = (
    await client.paginate(client.rest.repos.listWebhooks, { owner, repo, per_page: 100 })
  ).find((h) => h.config.url === url);
  if (existing) {
    await client.rest.repos.updateWebhook({
      owner,
      repo,
      hook_id: existing.id,
      config,
      events,
      active: true,
    });
    return { id: existing.id, action: 'updated' };
  }
  const { data } = await client.rest.repos.createWebhook({
    owner,
    repo,
    name: 'web',
    config,
    events,
    active: true,
  });
  return { id: data.id, action: 'created' };
}
