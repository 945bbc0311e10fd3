/**
 * The GitHub App: a Probot 14 instance whose webhook handlers turn triggers into tasks through
 * the runtime's ingress. `handleGithubEvent` is the transport-free entry point (tests call it);
 * the RawRoute serves `/api/github/webhooks` with Probot's signature check on the raw body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createNodeMiddleware, Probot, ProbotOctokit } from 'probot';
import {
  chatOf,
  memoryPullRequestRecords,
  type NoticeLog,
  neutraliseLinks,
  type PullRequestRecords,
  type Task,
  type TaskIngress,
  type TaskStore,
  telegramOrigin,
  UNTRUSTED_NOTE,
  untrustedFence,
} from '../core/index.js';
import type { RawRoute } from '../http/raw-route.js';
import { BodyTooLargeError, readBody } from '../http/read-body.js';
import { refuseRequest } from '../http/refuse-request.js';
import type { Logger } from '../observability/logger.js';
import type { SecretRegistry } from '../observability/redact.js';
import {
  ciFailedNotice,
  closedNotice,
  conversationNotice,
  escapeHtml,
  type LinkNotice,
  openedNotice,
} from './chat-notices.js';
import { type CiEvent, describeFailure, failedJobs, failsOnBase, parseCiEvent } from './ci-failures.js';
import {
  DEVBOT_MARKER,
  type GithubTrigger,
  parseGithubTrigger,
  type ReactionTarget,
  type WebhookEvent,
} from './github-trigger.js';
import { PermissionGate } from './permission-gate.js';
import type { RestClient } from './rest-client.js';
import { handleTaskCommand, hasAutoLabel, type TaskCommandDeps } from './task-commands.js';
import { buildTaskPrompt } from './task-prompt.js';
import { TOKEN_INSTALLATION_ID, type TokenAuth } from './token-auth.js';
import { GITHUB_WEBHOOK_BODY_LIMIT, webhookRefusal } from './webhook-refusal.js';

export const GITHUB_WEBHOOK_PATH = '/api/github/webhooks';

export const HANDLED_EVENTS = [
  'issues.opened',
  'issues.labeled',
  'issue_comment.created',
  'pull_request_review.submitted',
  'pull_request_review_comment.created',
  'pull_request.opened',
  'pull_request.closed',
  'check_suite.completed',
  'workflow_run.completed',
] as const;

/** The App permissions devbot uses (app.yml lists exactly these; a unit test checks it). */
export const APP_PERMISSIONS = {
  contents: 'write',
  pull_requests: 'write',
  issues: 'write',
  checks: 'write',
  actions: 'read',
  metadata: 'read',
} as const;

export interface GithubAppOptions {
  /** App mode: the App's id and private key. */
  appId?: string;
  privateKey?: string;
  /** Token mode: a personal access token instead of an App (repository webhooks, no installations). */
  token?: TokenAuth;
  webhookSecret: string;
  baseUrl: string;
  appSlug: string;
  triggerLabel: string;
  ingress: TaskIngress;
  /** Where `/devbot stop` finds the running task of an issue or PR, and a PR's opening task. */
  tasks?: Pick<TaskStore, 'listTasks' | 'getTask'>;
  /** devbot's pull requests: outcome, review rounds, CI-fix attempts, autofix. Default: in memory. */
  pullRequests?: PullRequestRecords;
  /** CI-fix attempts per pull request (DEVBOT_CI_FIX_ATTEMPTS, default 2). */
  ciFixAttempts?: number;
  /** Called when a devbot PR is merged or closed (metrics). */
  onPullRequestClosed?: (outcome: 'merged' | 'closed') => void;
  logger: Logger;
  secrets: SecretRegistry;
  /** How long a permission answer is reused (ms). */
  permissionTtlMs?: number;
  /**
   * Octokit's write throttling (one write per second, GitHub's advice against secondary rate
   * limits). On by default; off for servers without those limits (the tests' fake GitHub).
   */
  throttle?: boolean;
  /**
   * Refusals already posted: one per user, issue and day, across restarts. Default: in memory.
   */
  notices?: NoticeLog;
  /**
   * Hosts that links and images in what devbot posts may point at (GitHub's own, devbot's); every
   * other one is neutralised before the text leaves (core's neutraliseLinks). Default: none.
   */
  linkHosts?: readonly string[];
  /**
   * At most this many 👀 reactions wait per installation (default 16). Reactions are cosmetic and
   * share the write throttle with progress comments and check runs, so in a burst of deliveries
   * the extra ones are skipped instead of queueing minutes of writes ahead of the reports.
   */
  reactionBacklog?: number;
  /** Largest webhook body read, in bytes (default GitHub's own cap, 25 MB). */
  webhookBodyLimit?: number;
  /** `/devbot go|revise|<text>` on an issue with a task at work acts on that task (task-commands.ts). */
  taskCommands?: TaskCommandDeps;
}

/** Most notices one linked chat gets a minute (a flood of comments cannot flood the chat). */
export const LINK_NOTICES_PER_MINUTE = 20;

export type GithubEventResult =
  | { task: Task; created: boolean; reason?: undefined }
  | { task: null; created: false; reason: string };

export interface RepoAccess {
  installationId: number;
  octokit: RestClient;
}

/** A NoticeLog in this process's memory (tests, or a GitHub App used without a store). */
function memoryNotices(limit = 5_000): NoticeLog {
  const seen = new Set<string>();
  return {
    async claim(key) {
      if (seen.has(key)) return false;
      if (seen.size >= limit) seen.clear();
      seen.add(key);
      return true;
    },
  };
}

export class GithubApp {
  readonly probot: Probot;
  /** Users' permission answers, cached: shared by the webhook gate and the repository host. */
  readonly permissions: PermissionGate;
  readonly #notices: NoticeLog;
  readonly pullRequests: PullRequestRecords;
  /**
   * Tells a chat something about a PR it started (the merge, a close). Set by the composition
   * root when Telegram is on; GitHub knows no chat transport.
   */
  announce:
    | ((chat: { chatId: number; threadId?: number; replyTo?: number }, html: string) => Promise<void>)
    | null = null;
  /**
   * The chats linked (`/link owner/repo`) to a repository whose notices may go out now. Set by the
   * composition root when Telegram is on (it also checks that whoever linked a chat still may).
   */
  linkedChats: ((repo: string) => Promise<Array<{ chatId: number; threadId?: number }>>) | null = null;
  /** Notices sent per linked chat in the current minute. */
  readonly #noticeWindows = new Map<number, { start: number; count: number }>();
  /** Reactions still in flight: they never hold up the webhook answer. */
  readonly #background = new Set<Promise<void>>();
  /** Reactions waiting or in flight, per installation. */
  readonly #reactionsPending = new Map<number, number>();
  #middleware: Promise<RawRoute['handle']> | null = null;

  constructor(readonly options: GithubAppOptions) {
    const log = options.logger.child({ component: 'probot' });
    const { webhookSecret: secret, baseUrl, token } = options;
    // Token mode: Probot only checks the webhook signatures (the same code path as an App's).
    this.probot = new Probot(
      token
        ? { githubToken: token.token, secret, baseUrl, log }
        : { appId: options.appId, privateKey: options.privateKey, secret, baseUrl, log },
    );
    if (token) this.#neutralise(token.client);
    this.permissions = new PermissionGate(options.permissionTtlMs);
    this.#notices = options.notices ?? memoryNotices();
    this.pullRequests = options.pullRequests ?? memoryPullRequestRecords();
  }

  get appSlug(): string {
    return this.options.appSlug;
  }

  /** Token mode: the personal token's credential (null for an App). */
  get token(): TokenAuth | null {
    return this.options.token ?? null;
  }

  /** Registers the webhook handlers on a Probot instance (the ApplicationFunction). */
  readonly appFn = (app: Probot): void => {
    app.on([...HANDLED_EVENTS], async (context) => {
      await this.handleGithubEvent({ id: context.id, name: context.name, payload: context.payload });
    });
  };

  /**
   * The webhook route, mounted before any body parser (the signature needs the raw body). A request
   * GitHub would not send is refused from its headers alone; the body is read up to the cap, and
   * only then handed to Probot, which checks the signature over it.
   */
  route(): RawRoute {
    const limit = this.options.webhookBodyLimit ?? GITHUB_WEBHOOK_BODY_LIMIT;
    return {
      prefix: GITHUB_WEBHOOK_PATH,
      handle: async (req: IncomingMessage, res: ServerResponse) => {
        const refusal = webhookRefusal(req, GITHUB_WEBHOOK_PATH, limit);
        if (refusal) return refuseRequest(res, refusal.status, refusal.error, refusal.message);
        let body: Buffer;
        try {
          body = await readBody(req, limit);
        } catch (err) {
          if (err instanceof BodyTooLargeError)
            return refuseRequest(res, 413, 'payload_too_large', err.message);
          throw err;
        }
        // octokit/webhooks takes a string `body` already on the request as the raw payload (the way
        // frameworks with their own body reading use it) instead of reading the stream again.
        Object.assign(req, { body: body.toString('utf8') });
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
    const result = await this.#handle(event, log);
    if (this.linkedChats && (event.name === 'pull_request_review' || event.name === 'issue_comment')) {
      const notice = conversationNotice(event, await this.#devbotLogin());
      // A follow-up that streams to its PR's chat tells that chat already.
      const told = result.created ? chatOf(result.task)?.chatId : undefined;
      if (notice) this.#tellLinkedChats(notice, told, log);
    }
    return result;
  }

  async #handle(event: WebhookEvent, log: Logger): Promise<GithubEventResult> {
    const token = this.options.token;
    if (event.name === 'workflow_run' || event.name === 'check_suite') return this.#ciEvent(event, log);
    if (event.name === 'pull_request') return this.#pullRequestEvent(event, log);
    const decision = parseGithubTrigger(event, {
      appSlug: this.options.appSlug,
      triggerLabel: this.options.triggerLabel,
      ...(token ? { devbotLogin: (await token.user()).login, installationId: TOKEN_INSTALLATION_ID } : {}),
    });
    if ('ignore' in decision) {
      log.debug({ reason: decision.ignore }, 'github event ignored');
      return { task: null, created: false, reason: decision.ignore };
    }
    const t = decision.trigger;
    const octokit = await this.installationOctokit(t.installationId);
    const verdict = await this.permissions.check(octokit, t.owner, t.repo, t.sender);
    if (!verdict.allowed) {
      await this.#replyDenied(octokit, t, verdict.role, log);
      return { task: null, created: false, reason: `@${t.sender} has ${verdict.role} permission, not write` };
    }
    if (t.control) return this.#control(octokit, t, log);
    const command = this.options.taskCommands ? await handleTaskCommand(t, this.options.taskCommands) : null;
    if (command) return this.#commandDone(octokit, t, command, log);
    if (t.reviewId !== undefined && t.prNumber !== undefined)
      await this.pullRequests.reviewRound(`${t.owner}/${t.repo}`, t.prNumber).catch(() => {});
    // A follow-up on a PR a Telegram chat started streams to that chat too.
    const opening =
      t.prNumber !== undefined && t.prUrl ? await this.#openingTask(t.issueBody, t.prUrl) : null;
    const { task, created } = await this.options.ingress.submit({
      source: 'github',
      origin: { ...originOf(t, event.id), ...chatLinkOf(opening) },
      requester: `gh:${t.sender}`,
      repo: `${t.owner}/${t.repo}`,
      kind: t.kind,
      prompt: buildTaskPrompt(t),
      input: {
        issueNumber: t.issueNumber,
        issueTitle: t.issueTitle,
        ...(t.prNumber !== undefined ? { prNumber: t.prNumber } : {}),
        ...(t.branch ? { branch: t.branch } : {}),
        ...(t.kind === 'dev' && hasAutoLabel(event.payload) ? { skipApproval: true } : {}),
        ...(t.mode ? { mode: t.mode } : {}),
      },
      idempotencyKey: t.idempotencyKey,
    });
    if (created && t.reactTo) this.#reactLater(octokit, t, t.reactTo, log);
    log.info(
      { taskId: task.id, created, kind: t.kind, repo: `${t.owner}/${t.repo}` },
      'github task accepted',
    );
    return { task, created };
  }

  /** A command acted on the issue's task (👀 on the comment) or was refused (a comment says why). */
  async #commandDone(
    octokit: RestClient,
    t: GithubTrigger,
    command: { acted: Task } | { refused: string },
    log: Logger,
  ): Promise<GithubEventResult> {
    if ('acted' in command) {
      if (t.reactTo) this.#reactLater(octokit, t, t.reactTo, log);
      log.info({ taskId: command.acted.id }, 'github command acted on the task at work');
      return { task: command.acted, created: false };
    }
    const body = `${DEVBOT_MARKER}notice -->\n@${t.sender}: ${command.refused}.`;
    await octokit.rest.issues
      .createComment({ owner: t.owner, repo: t.repo, issue_number: t.issueNumber, body })
      .catch((err: unknown) => log.warn({ err }, 'could not post the refusal'));
    return { task: null, created: false, reason: command.refused };
  }

  /** Resolves when background work (reactions) started so far has ended. */
  async settled(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  readonly #tokens = new Map<number, { token: string; until: number }>();
  readonly #octokits = new Map<number, { octokit: ProbotOctokit; token: string }>();

  /**
   * An installation token minted through the app-authenticated client (so GITHUB_API_URL is
   * honoured) and cached until five minutes before it expires.
   */
  async #token(installationId: number): Promise<string> {
    if (this.options.token) return this.options.token.token;
    const hit = this.#tokens.get(installationId);
    if (hit && hit.until > Date.now()) return hit.token;
    const appOctokit = await this.probot.auth();
    const { data } = await appOctokit.rest.apps.createInstallationAccessToken({
      installation_id: installationId,
    });
    this.options.secrets.add(data.token);
    this.options.secrets.add(Buffer.from(`x-access-token:${data.token}`).toString('base64'));
    const until = new Date(data.expires_at).getTime() - 5 * 60_000;
    this.#tokens.set(installationId, { token: data.token, until });
    return data.token;
  }

  async installationOctokit(installationId: number): Promise<RestClient> {
    if (this.options.token) return this.options.token.client;
    const token = await this.#token(installationId);
    const cached = this.#octokits.get(installationId);
    if (cached && cached.token === token) return cached.octokit;
    const octokit = new ProbotOctokit({
      baseUrl: this.options.baseUrl,
      auth: { token },
      throttle: { enabled: this.options.throttle !== false },
      log: this.options.logger.child({ component: 'octokit' }),
    } as ConstructorParameters<typeof ProbotOctokit>[0]);
    this.#neutralise(octokit);
    this.#octokits.set(installationId, { octokit, token });
    return octokit;
  }

  /** Every text devbot posts passes here, whichever code writes it (PR, comment, review, check). */
  #neutralise(octokit: RestClient): void {
    const hosts = this.options.linkHosts ?? [];
    octokit.hook.before('request', (options) => neutraliseRequest(options as Record<string, unknown>, hosts));
  }

  /** The installation for a repository (for tasks that did not come from a webhook, e.g. Telegram). */
  async repoAccess(owner: string, repo: string, installationId?: number): Promise<RepoAccess> {
    if (this.options.token)
      return { installationId: TOKEN_INSTALLATION_ID, octokit: this.options.token.client };
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
  async installationToken(installationId: number): Promise<string> {
    return this.#token(installationId);
  }

  /** Not awaited: with write throttling a burst of webhooks would otherwise queue behind it. */
  #reactLater(octokit: RestClient, t: GithubTrigger, target: ReactionTarget, log: Logger): void {
    const id = t.installationId;
    const waiting = this.#reactionsPending.get(id) ?? 0;
    if (waiting >= (this.options.reactionBacklog ?? 16)) {
      log.debug({ waiting }, 'skipping the 👀 reaction: too many reactions are already waiting');
      return;
    }
    this.#reactionsPending.set(id, waiting + 1);
    const pending = this.#react(octokit, t, target, log).finally(() => {
      const left = (this.#reactionsPending.get(id) ?? 1) - 1;
      if (left > 0) this.#reactionsPending.set(id, left);
      else this.#reactionsPending.delete(id);
      this.#background.delete(pending);
    });
    this.#background.add(pending);
  }

  async #react(octokit: RestClient, t: GithubTrigger, target: ReactionTarget, log: Logger): Promise<void> {
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

  /** Who opens devbot's pull requests: the App's bot, or the personal token's user. */
  async #devbotLogin(): Promise<string> {
    const token = this.options.token;
    return token ? (await token.user()).login : `${this.appSlug}[bot]`;
  }

  /** A control subcommand (`/devbot stop`): done here, answered in one comment, no task. */
  async #control(octokit: RestClient, t: GithubTrigger, log: Logger): Promise<GithubEventResult> {
    const control = t.control as NonNullable<GithubTrigger['control']>;
    let text: string;
    if (control.name === 'stop') {
      const running = (await this.options.tasks?.listTasks({ source: 'github', unfinished: true })) ?? [];
      const here = running.filter(
        (x) =>
          x.origin.owner === t.owner && x.origin.repo === t.repo && x.origin.issueNumber === t.issueNumber,
      );
      const stopped: string[] = [];
      for (const x of here)
        if (await this.options.ingress.cancel(x.id, `gh:${t.sender}`).catch(() => null)) stopped.push(x.id);
      text =
        stopped.length > 0
          ? `Stopped devbot's task${stopped.length === 1 ? '' : 's'} ${stopped.map((id) => `\`${id}\``).join(', ')} (asked by @${t.sender}).`
          : `devbot has no running task on #${t.issueNumber}.`;
    } else if (control.name === 'autofix' && t.prNumber !== undefined) {
      const on = !/^off\b/i.test(control.rest);
      await this.pullRequests.setAutofix(`${t.owner}/${t.repo}`, t.prNumber, on);
      text = on
        ? 'devbot will try to fix failing CI on this pull request again.'
        : 'devbot will not try to fix failing CI on this pull request (`/devbot autofix on` to undo).';
    } else {
      text = `devbot does not know \`/devbot ${control.name}\`.`;
    }
    try {
      await octokit.rest.issues.createComment({
        owner: t.owner,
        repo: t.repo,
        issue_number: t.issueNumber,
        body: `${DEVBOT_MARKER}control -->\n${text}`,
      });
    } catch (err) {
      log.warn({ err }, 'could not answer a control command');
    }
    log.info({ command: control.name, sender: t.sender }, 'github control command');
    return { task: null, created: false, reason: `control command ${control.name}` };
  }

  /** `pull_request` opened or closed on one of devbot's PRs: its record and fate. */
  async #pullRequestEvent(event: WebhookEvent, log: Logger): Promise<GithubEventResult> {
    const p = event.payload as {
      action?: string;
      pull_request?: {
        number: number;
        body: string | null;
        html_url: string;
        merged?: boolean;
        title?: string;
        user?: { login: string };
      };
      repository?: { full_name: string };
    };
    const pr = p.pull_request;
    const repo = p.repository?.full_name;
    if (!pr || !repo || pr.user?.login !== (await this.#devbotLogin()))
      return { task: null, created: false, reason: 'not a pull request devbot opened' };
    if (p.action === 'opened') {
      const task = await this.#openingTask(pr.body ?? '', pr.html_url);
      await this.pullRequests.opened(repo, pr.number, task?.id ?? null);
      // The chat that asked for it has the PR in its result message already.
      this.#tellLinkedChats(openedNotice(repo, pr), chatLinkOf(task)['chatId'], log);
    } else if (p.action === 'closed') {
      const task = await this.#openingTask(pr.body ?? '', pr.html_url);
      await this.pullRequests.opened(repo, pr.number, task?.id ?? null);
      const record = await this.pullRequests.closed(repo, pr.number, pr.merged === true);
      this.options.onPullRequestClosed?.(record.outcome === 'merged' ? 'merged' : 'closed');
      log.info({ repo, pr: pr.number, outcome: record.outcome }, 'devbot pull request closed');
      await this.#announceToChat(
        task,
        pr,
        record.outcome === 'merged' ? 'was merged 🎉' : 'was closed without merging',
        log,
      );
      this.#tellLinkedChats(
        closedNotice(repo, pr, record.outcome === 'merged'),
        chatLinkOf(task)['chatId'],
        log,
      );
    }
    return { task: null, created: false, reason: `pull_request.${p.action} recorded` };
  }

  async #announceToChat(
    task: Task | null,
    pr: { number: number; html_url: string },
    what: string,
    log: Logger,
  ): Promise<void> {
    const link = chatLinkOf(task);
    if (!this.announce || link['chatId'] === undefined) return;
    const html = `Pull request <a href="${escapeHtml(pr.html_url)}">#${pr.number}</a> ${what}.`;
    await this.announce(
      {
        chatId: link['chatId'],
        ...(link['threadId'] !== undefined ? { threadId: link['threadId'] } : {}),
        ...(link['messageId'] !== undefined ? { replyTo: link['messageId'] } : {}),
      },
      html,
    ).catch((err: unknown) => log.warn({ err }, 'could not announce the pull request in its chat'));
  }

  /**
   * Posts a notice to the chats linked to its repository, once per notice key, except `told` (the
   * chat that hears about it anyway). In the background: the webhook answer never waits on chats.
   */
  #tellLinkedChats(notice: LinkNotice, told: number | undefined, log: Logger): void {
    const linkedChats = this.linkedChats;
    const announce = this.announce;
    if (!linkedChats || !announce) return;
    const pending = (async () => {
      const chats = (await linkedChats(notice.repo)).filter((c) => c.chatId !== told);
      if (chats.length === 0) return;
      if (!(await this.#notices.claim(notice.key))) return;
      await Promise.all(
        chats.map((c) => {
          const where = { chatId: c.chatId, ...(c.threadId !== undefined ? { threadId: c.threadId } : {}) };
          const room = this.#noticeRoom(c.chatId);
          if (room === 'full') return undefined;
          const html =
            room === 'last'
              ? `${notice.html}\n\n⏸ Much pull-request activity: further notices in this chat pause for a minute.`
              : notice.html;
          return announce(where, html);
        }),
      );
      log.info(
        { repo: notice.repo, pr: notice.prNumber, chats: chats.length },
        'pull request notice sent to linked chats',
      );
    })()
      .catch((err: unknown) => log.warn({ err, repo: notice.repo }, 'could not tell the linked chats'))
      .finally(() => this.#background.delete(pending));
    this.#background.add(pending);
  }

  /**
   * Anyone who can comment on a public repository can make notices: at most LINK_NOTICES_PER_MINUTE
   * per chat and minute (in this process), the last one saying that the rest pause.
   */
  #noticeRoom(chatId: number): 'ok' | 'last' | 'full' {
    const now = Date.now();
    let w = this.#noticeWindows.get(chatId);
    if (!w || now - w.start >= 60_000) {
      if (this.#noticeWindows.size > 10_000) this.#noticeWindows.clear();
      w = { start: now, count: 0 };
      this.#noticeWindows.set(chatId, w);
    }
    w.count += 1;
    return w.count < LINK_NOTICES_PER_MINUTE ? 'ok' : w.count === LINK_NOTICES_PER_MINUTE ? 'last' : 'full';
  }

  /** The task that opened a devbot PR: named in the PR's footer, and its PR must be this one. */
  async #openingTask(body: string, url: string): Promise<Task | null> {
    const id = /task `([0-9a-f-]{36})`/.exec(body)?.[1];
    if (!id || !this.options.tasks) return null;
    const task = await this.options.tasks.getTask(id).catch(() => null);
    // The footer is editable text: only a task whose own PR is this one counts.
    return task && task.prUrl === url ? task : null;
  }

  /**
   * A failed CI run on the head of one of devbot's open PRs, not failing on the base branch too:
   * a follow-up with the failed jobs' log tails, within the PR's CI-fix attempts.
   */
  async #ciEvent(event: WebhookEvent, log: Logger): Promise<GithubEventResult> {
    const ignore = (reason: string): GithubEventResult => {
      log.debug({ reason }, 'ci event ignored');
      return { task: null, created: false, reason };
    };
    const ci = parseCiEvent(event.name, event.payload, this.appSlug);
    if (!ci) return ignore('not a failed CI run');
    if (ci.pullNumbers.length === 0) return ignore('the run belongs to no pull request');
    const octokit = await this.installationOctokit(ci.installationId);
    for (const number of ci.pullNumbers) {
      const { data: pr } = await octokit.rest.pulls.get({
        owner: ci.owner,
        repo: ci.repo,
        pull_number: number,
      });
      if (
        pr.state !== 'open' ||
        pr.user?.login !== (await this.#devbotLogin()) ||
        !pr.head.ref.startsWith('devbot/')
      )
        continue;
      if (pr.head.sha !== ci.headSha) return ignore(`#${number} has moved on from ${ci.headSha}`);
      return this.#ciFix(octokit, ci, pr, event.id, log);
    }
    return ignore('no open pull request devbot opened');
  }

  async #ciFix(
    octokit: RestClient,
    ci: CiEvent,
    pr: {
      number: number;
      title: string;
      body: string | null;
      html_url: string;
      head: { ref: string };
      base: { ref: string };
    },
    deliveryId: string,
    log: Logger,
  ): Promise<GithubEventResult> {
    const repo = `${ci.owner}/${ci.repo}`;
    const opening = await this.#openingTask(pr.body ?? '', pr.html_url);
    if (!opening) return { task: null, created: false, reason: `no devbot task opened #${pr.number}` };
    const jobs = await failedJobs(octokit, ci);
    if (
      await failsOnBase(
        octokit,
        ci,
        pr.base.ref,
        jobs.map((j) => j.name),
      )
    )
      return { task: null, created: false, reason: `${ci.name} fails on ${pr.base.ref} too` };
    // One decision per run, however often GitHub delivers it.
    if (!(await this.#notices.claim(`ci:${repo}:${ci.source}:${ci.id}`).catch(() => false)))
      return { task: null, created: false, reason: 'this run was handled already' };
    const max = this.options.ciFixAttempts ?? 2;
    const claim = await this.pullRequests.claimCiFix(repo, pr.number, max);
    if ('refused' in claim) {
      const why =
        claim.refused === 'autofix-off'
          ? 'CI autofix is off for this pull request (`/devbot autofix on` turns it back on).'
          : `devbot already made ${claim.attempts} attempt${claim.attempts === 1 ? '' : 's'} to fix CI here (the limit is ${max}), so it stops; a person needs to look.`;
      await octokit.rest.issues
        .createComment({
          owner: ci.owner,
          repo: ci.repo,
          issue_number: pr.number,
          body: `${DEVBOT_MARKER}ci-fix -->\n❌ ${ci.name} failed on ${ci.headSha.slice(0, 7)}. No new fix attempt: ${why}`,
        })
        .catch((err: unknown) => log.warn({ err }, 'could not post the CI-fix notice'));
      this.#tellLinkedChats(ciFailedNotice(repo, pr, ci, `No new fix attempt: ${why}`), undefined, log);
      return { task: null, created: false, reason: claim.refused };
    }
    const fence = untrustedFence();
    const prompt = [
      `CI failed on pull request ${repo}#${pr.number} (branch ${pr.head.ref}, commit ${ci.headSha}): ${ci.name}. ` +
        `This is CI-fix attempt ${claim.attempt} of ${max}. Push a commit to the same branch that makes it pass; ` +
        'do not skip, delete or weaken the failing checks.',
      fence('github-pull-request', `# ${pr.title}\n\n${pr.body ?? ''}`.trim()),
      `The failed jobs and the end of their logs:\n${fence('ci-log', describeFailure(ci, jobs))}`,
      UNTRUSTED_NOTE,
    ].join('\n\n');
    const { task, created } = await this.options.ingress.submit({
      source: 'github',
      origin: {
        owner: ci.owner,
        repo: ci.repo,
        installationId: ci.installationId,
        issueNumber: pr.number,
        prNumber: pr.number,
        deliveryId,
        ...chatLinkOf(opening),
      },
      requester: opening.requester,
      repo,
      kind: 'followup',
      prompt,
      input: {
        prNumber: pr.number,
        issueNumber: pr.number,
        issueTitle: pr.title,
        ciFix: { attempt: claim.attempt, max, check: ci.name },
      },
      idempotencyKey: `gh:ci:${repo}:${ci.source}:${ci.id}`,
    });
    log.info({ taskId: task.id, pr: pr.number, attempt: claim.attempt }, 'ci fix task accepted');
    // The chat that started the PR follows the fix itself.
    this.#tellLinkedChats(
      ciFailedNotice(repo, pr, ci, `devbot is trying a fix (attempt ${claim.attempt} of ${max}).`),
      chatLinkOf(opening)['chatId'],
      log,
    );
    return { task, created };
  }

  async #replyDenied(octokit: RestClient, t: GithubTrigger, role: string, log: Logger): Promise<void> {
    // One refusal per user, issue and day: an outsider cannot make devbot post one per comment.
    const day = new Date().toISOString().slice(0, 10);
    const key = `github-denial:${t.owner}/${t.repo}#${t.issueNumber}:${t.sender.toLowerCase()}:${day}`;
    if (!(await this.#notices.claim(key).catch(() => false))) return;
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

/** Neutralises links and images in the text fields GitHub renders as Markdown. */
function neutraliseRequest(options: Record<string, unknown>, hosts: readonly string[]): void {
  if (typeof options['body'] === 'string') options['body'] = neutraliseLinks(options['body'], hosts);
  const output = options['output'];
  if (output && typeof output === 'object') {
    const o = output as Record<string, unknown>;
    for (const key of ['summary', 'text'])
      if (typeof o[key] === 'string') o[key] = neutraliseLinks(o[key] as string, hosts);
  }
  const comments = options['comments'];
  if (Array.isArray(comments))
    for (const c of comments as Record<string, unknown>[])
      if (typeof c?.['body'] === 'string') c['body'] = neutraliseLinks(c['body'] as string, hosts);
}

/** The chat a Telegram task that opened a PR came from: its follow-ups report there too. */
function chatLinkOf(opening: Task | null): Record<string, number> {
  const chat = opening ? telegramOrigin(opening) : null;
  if (!chat) return {};
  const reply = chat.resultMessageId ?? chat.messageId;
  return {
    chatId: chat.chatId,
    ...(chat.threadId !== undefined ? { threadId: chat.threadId } : {}),
    ...(reply !== undefined ? { messageId: reply } : {}),
  };
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
