/**
 * The GitHub App: a Probot 14 instance whose webhook handlers turn triggers into tasks through
 * the runtime's ingress. `handleGithubEvent` is the transport-free entry point (tests call it);
 * the RawRoute serves `/api/github/webhooks` with Probot's signature check on the raw body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createNodeMiddleware, Probot, type ProbotOctokit } from 'probot';
import type { Task, TaskIngress } from '../core/index.js';
import type { RawRoute } from '../gateway/raw-route.js';
import type { Logger } from '../observability/logger.js';
import type { SecretRegistry } from '../observability/redact.js';
import {
  DEVBOT_MARKER,
  type GithubTrigger,
  parseGithubTrigger,
  type ReactionTarget,
  type WebhookEvent,
} from './github-trigger.js';
import { PermissionGate } from './permission-gate.js';
import { buildTaskPrompt } from './task-prompt.js';

export const GITHUB_WEBHOOK_PATH = '/api/github/webhooks';

export const HANDLED_EVENTS = [
  'issues.opened',
  'issues.labeled',
  'issue_comment.created',
  'pull_request_review.submitted',
  'pull_request_review_comment.created',
] as const;

export interface GithubAppOptions {
  appId: string;
  privateKey: string;
  webhookSecret: string;
  baseUrl: string;
  appSlug: string;
  triggerLabel: string;
  ingress: TaskIngress;
  logger: Logger;
  secrets: SecretRegistry;
  /** How long a permission answer is reused (ms). */
  permissionTtlMs?: number;
}

export type GithubEventResult =
  | { task: Task; created: boolean; reason?: undefined }
  | { task: null; created: false; reason: string };

export interface RepoAccess {
  installationId: number;
  octokit: ProbotOctokit;
}

/** Keys of denials already answered: a redelivered request gets no second reply. */
const MAX_REMEMBERED_DENIALS = 5_000;

export class GithubApp {
  readonly probot: Probot;
  readonly #gate: PermissionGate;
  readonly #denied = new Set<string>();
  #middleware: Promise<RawRoute['handle']> | null = null;

  constructor(readonly options: GithubAppOptions) {
    this.probot = new Probot({
      appId: options.appId,
      privateKey: options.privateKey,
      secret: options.webhookSecret,
      baseUrl: options.baseUrl,
      log: options.logger.child({ component: 'probot' }),
    });
    this.#gate = new PermissionGate(options.permissionTtlMs);
  }

  get appSlug(): string {
    return this.options.appSlug;
  }

  /** Registers the webhook handlers on a Probot instance (the ApplicationFunction). */
  readonly appFn = (app: Probot): void => {
    app.on([...HANDLED_EVENTS], async (context) => {
      await this.handleGithubEvent({ id: context.id, name: context.name, payload: context.payload });
    });
  };

  /** The webhook route, mounted before any body parser (the signature needs the raw body). */
  route(): RawRoute {
    return {
      prefix: GITHUB_WEBHOOK_PATH,
      handle: async (req: IncomingMessage, res: ServerResponse) => {
        this.#middleware ??= createNodeMiddleware(this.appFn, {
          probot: this.probot,
          webhooksPath: GITHUB_WEBHOOK_PATH,
        }) as Promise<RawRoute['handle']>;
        const middleware = await this.#middleware;
        const handled = await (
          middleware as (a: IncomingMessage, b: ServerResponse) => Promise<boolean | undefined>
        )(req, res);
        if (handled === false && !res.headersSent) res.writeHead(404).end();
      },
    };
  }

  /**
   * The transport-free entry point: decides whether the event is a trigger, checks the sender may
   * start work, and submits the task (idempotent on the triggering object). Returns the task, or
   * null with the reason nothing was created.
   */
  async handleGithubEvent(event: WebhookEvent): Promise<GithubEventResult> {
    const log = this.options.logger.child({ deliveryId: event.id, event: event.name });
    const decision = parseGithubTrigger(event, {
      appSlug: this.options.appSlug,
      triggerLabel: this.options.triggerLabel,
    });
    if ('ignore' in decision) {
      log.debug({ reason: decision.ignore }, 'github event ignored');
      return { task: null, created: false, reason: decision.ignore };
    }
    const t = decision.trigger;
    const octokit = await this.installationOctokit(t.installationId);
    const verdict = await this.#gate.check(octokit, t.owner, t.repo, t.sender);
    if (!verdict.allowed) {
      await this.#replyDenied(octokit, t, verdict.role, log);
      return { task: null, created: false, reason: `@${t.sender} has ${verdict.role} permission, not write` };
    }
    const { task, created } = await this.options.ingress.submit({
      source: 'github',
      origin: originOf(t, event.id),
      requester: `gh:${t.sender}`,
      repo: `${t.owner}/${t.repo}`,
      kind: t.kind,
      prompt: buildTaskPrompt(t),
      input: {
        issueNumber: t.issueNumber,
        issueTitle: t.issueTitle,
        ...(t.prNumber !== undefined ? { prNumber: t.prNumber } : {}),
        ...(t.branch ? { branch: t.branch } : {}),
      },
      idempotencyKey: t.idempotencyKey,
    });
    if (created && t.reactTo) await this.#react(octokit, t, t.reactTo, log);
    log.info(
      { taskId: task.id, created, kind: t.kind, repo: `${t.owner}/${t.repo}` },
      'github task accepted',
    );
    return { task, created };
  }

  async installationOctokit(installationId: number): Promise<ProbotOctokit> {
    return this.probot.auth(installationId);
  }

  /** The installation for a repository (for tasks that did not come from a webhook, e.g. Telegram). */
  async repoAccess(owner: string, repo: string, installationId?: number): Promise<RepoAccess> {
    let id = installationId;
    if (id === undefined) {
      const appOctokit = await this.probot.auth();
      const { data } = await appOctokit.rest.apps.getRepoInstallation({ owner, repo });
      id = data.id;
    }
    return { installationId: id, octokit: await this.installationOctokit(id) };
  }

  /**
   * A short-lived installation token for git over HTTPS. Registered as a secret at once, so any
   * log line, event or comment that ever contained it is masked.
   */
  async installationToken(octokit: ProbotOctokit): Promise<string> {
    const auth = (await octokit.auth({ type: 'installation' })) as { token?: string };
    if (!auth.token) throw new Error('GitHub did not return an installation token');
    this.options.secrets.add(auth.token);
    this.options.secrets.add(Buffer.from(`x-access-token:${auth.token}`).toString('base64'));
    return auth.token;
  }

  async #react(octokit: ProbotOctokit, t: GithubTrigger, target: ReactionTarget, log: Logger): Promise<void> {
    const { owner, repo } = t;
    try {
      if (target.type === 'issue')
        await octokit.rest.reactions.createForIssue({
          owner,
          repo,
          issue_number: target.issueNumber,
          content: 'eyes',
        });
      else if (target.type === 'comment')
        await octokit.rest.reactions.createForIssueComment({
          owner,
          repo,
          comment_id: target.commentId,
          content: 'eyes',
        });
      else
        await octokit.rest.reactions.createForPullRequestReviewComment({
          owner,
          repo,
          comment_id: target.commentId,
          content: 'eyes',
        });
    } catch (err) {
      // The task exists; a missing reaction is cosmetic.
      log.warn({ err }, 'could not add the 👀 reaction');
    }
  }

  async #replyDenied(octokit: ProbotOctokit, t: GithubTrigger, role: string, log: Logger): Promise<void> {
    if (this.#denied.has(t.idempotencyKey)) return;
    if (this.#denied.size >= MAX_REMEMBERED_DENIALS) this.#denied.clear();
    this.#denied.add(t.idempotencyKey);
    const body =
      `${DEVBOT_MARKER}denied -->\nThanks @${t.sender}! devbot only starts work for people with write ` +
      `access to this repository (you have ${role}). A maintainer can ask on your behalf.`;
    try {
      await octokit.rest.issues.createComment({
        owner: t.owner,
        repo: t.repo,
        issue_number: t.issueNumber,
        body,
      });
    } catch (err) {
      log.warn({ err }, 'could not post the permission reply');
    }
    log.info({ sender: t.sender, role }, 'github trigger refused: no write permission');
  }
}

function originOf(t: GithubTrigger, deliveryId: string): Record<string, unknown> {
  const origin: Record<string, unknown> = {
    owner: t.owner,
    repo: t.repo,
    installationId: t.installationId,
    issueNumber: t.issueNumber,
    deliveryId,
  };
  if (t.commentId !== undefined) origin['commentId'] = t.commentId;
  if (t.prNumber !== undefined) origin['prNumber'] = t.prNumber;
  if (t.reviewId !== undefined) origin['reviewId'] = t.reviewId;
  if (t.reviewCommentId !== undefined) origin['reviewCommentId'] = t.reviewCommentId;
  if (t.branch) origin['branch'] = t.branch;
  return origin;
}
