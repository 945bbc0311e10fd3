/**
 * Which GitHub events start work, as a pure function of the webhook (no I/O), so every rule is
 * unit-tested without a server:
 * - issue labeled with the trigger label, or opened with it -> dev task from title + body;
 * - issue comment `/devbot <instruction>` or `@<app-slug> <instruction>` -> dev task;
 * - a PR comment or review comment that addresses devbot, on any pull request -> follow-up task
 *   (the handler decides whether it may push there: devbot's PRs, same-repo PRs of a write user;
 *   a fork's PR gets an answer);
 * - on a PR opened by devbot: a review requesting changes -> follow-up on the PR's branch;
 * - `/devbot <subcommand>` from the table in commands.ts: an answer, a review, or a control
 *   command (stop, autofix) that the App carries out without a task;
 * - everything else is ignored, including any bot (devbot itself included): no loops.
 * The idempotency key names the triggering object, so a redelivery, or the `opened` + `labeled`
 * pair GitHub sends for an issue created with the label, makes one task.
 */

export interface TriggerSettings {
  appSlug: string;
  triggerLabel: string;
  /** Who opens devbot's pull requests; default `<appSlug>[bot]` (token mode: the token's user). */
  devbotLogin?: string;
  /** Repository webhooks (token mode) carry no installation: the id their tasks get instead. */
  installationId?: number;
}

export interface WebhookEvent {
  /** X-GitHub-Delivery. */
  id: string;
  /** X-GitHub-Event. */
  name: string;
  payload: unknown;
}

export type ReactionTarget =
  | { type: 'issue'; issueNumber: number }
  | { type: 'comment'; commentId: number }
  | { type: 'review-comment'; commentId: number };

export interface GithubTrigger {
  kind: 'dev' | 'followup';
  /** A read-only run: an answer in a comment, or one review with inline comments. */
  mode?: 'answer' | 'review';
  /** A control subcommand (stop, autofix ...): carried out by the App, no task. */
  control?: { name: string; rest: string };
  owner: string;
  repo: string;
  installationId: number;
  /** The issue (or PR) the conversation happens on; progress is posted there. */
  issueNumber: number;
  issueTitle: string;
  issueBody: string;
  /** Set when the conversation is a pull request. */
  prNumber?: number;
  /** The PR's web URL (finds the task that opened it). */
  prUrl?: string;
  /** The PR's branch, for follow-ups. */
  branch?: string;
  commentId?: number;
  reviewId?: number;
  reviewCommentId?: number;
  /** Who asked (their permission is checked before any task exists). */
  sender: string;
  /** What they asked for beyond the issue itself ('' when the issue is the whole request). */
  instruction: string;
  idempotencyKey: string;
  reactTo: ReactionTarget | null;
}

import { parseSubcommand, readsAsQuestion } from './commands.js';

export type TriggerDecision = { trigger: GithubTrigger } | { ignore: string };

/** Comments devbot writes carry this marker; a comment containing it never triggers anything. */
export const DEVBOT_MARKER = '<!-- devbot:';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Finds a devbot command in a comment: `/devbot ...` at the start of a line, or `@slug ...`
 * anywhere (not `@slugger`). Returns the instruction after it (possibly ''), or null if none.
 * Quoted lines (`> ...`) and code are not commands: replying to a quote must not re-trigger.
 */
export function parseCommand(body: string, appSlug: string): string | null {
  const text = stripQuotesAndCode(body);
  const slug = escapeRe(appSlug);
  const slash = /^[ \t]*\/devbot(?![\w-])[ \t]*(.*)$/im;
  const mention = new RegExp(`(?:^|[^\\w@/-])@${slug}(?:\\[bot\\])?(?![\\w-])[ \\t,:]*(.*)$`, 'im');
  const match = slash.exec(text) ?? mention.exec(text);
  if (!match) return null;
  const rest = text.slice((match.index ?? 0) + match[0].length);
  return `${match[1] ?? ''}${rest}`.trim();
}

function stripQuotesAndCode(body: string): string {
  return body
    .replace(/```[\s\S]*?```/g, '')
    .replace(/`[^`\n]*`/g, '')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('>'))
    .join('\n');
}

function isBot(user: Obj, appSlug: string): boolean {
  return str(user['type']) === 'Bot' || str(user['login']) === `${appSlug}[bot]`;
}

function isDevbotPr(author: Obj, s: TriggerSettings): boolean {
  return str(author['login']) === (s.devbotLogin ?? `${s.appSlug}[bot]`);
}

function base(
  payload: Obj,
  fallbackInstallation?: number,
): { owner: string; repo: string; installationId: number } | null {
  const repository = obj(payload['repository']);
  const owner = str(obj(repository['owner'])['login']);
  const repo = str(repository['name']);
  const installationId = num(obj(payload['installation'])['id'] ?? fallbackInstallation);
  if (!owner || !repo || !Number.isFinite(installationId)) return null;
  return { owner, repo, installationId };
}

export function parseGithubTrigger(event: WebhookEvent, settings: TriggerSettings): TriggerDecision {
  const payload = obj(event.payload);
  const action = str(payload['action']);
  const sender = obj(payload['sender']);
  if (isBot(sender, settings.appSlug)) return { ignore: 'sent by a bot' };
  const where = base(payload, settings.installationId);
  if (!where) return { ignore: 'no repository or installation in the payload' };
  const login = str(sender['login']);
  switch (event.name) {
    case 'issues':
      return issueEvent(payload, action, where, login, settings);
    case 'issue_comment':
      return issueComment(payload, action, where, login, settings);
    case 'pull_request_review':
      return review(payload, action, where, login, settings);
    case 'pull_request_review_comment':
      return reviewComment(payload, action, where, login, settings);
    default:
      return { ignore: `event ${event.name} is not a trigger` };
  }
}

type Where = { owner: string; repo: string; installationId: number };

function issueEvent(
  payload: Obj,
  action: string,
  where: Where,
  login: string,
  s: TriggerSettings,
): TriggerDecision {
  const issue = obj(payload['issue']);
  if (issue['pull_request']) return { ignore: 'labels on pull requests are not triggers' };
  const labels = Array.isArray(issue['labels']) ? issue['labels'].map((l) => str(obj(l)['name'])) : [];
  const wanted = s.triggerLabel.toLowerCase();
  if (action === 'labeled') {
    if (str(obj(payload['label'])['name']).toLowerCase() !== wanted)
      return { ignore: 'a label other than the trigger label' };
  } else if (action === 'opened') {
    if (!labels.some((l) => l.toLowerCase() === wanted))
      return { ignore: 'opened without the trigger label' };
  } else {
    return { ignore: `issues.${action} is not a trigger` };
  }
  return {
    trigger: {
      kind: 'dev',
      ...where,
      issueNumber: num(issue['number']),
      issueTitle: str(issue['title']),
      issueBody: str(issue['body']),
      sender: login,
      instruction: '',
      idempotencyKey: `gh:label:${num(issue['id'])}:${wanted}`,
      reactTo: { type: 'issue', issueNumber: num(issue['number']) },
    },
  };
}

function issueComment(
  payload: Obj,
  action: string,
  where: Where,
  login: string,
  s: TriggerSettings,
): TriggerDecision {
  if (action !== 'created') return { ignore: `issue_comment.${action} is not a trigger` };
  const comment = obj(payload['comment']);
  const issue = obj(payload['issue']);
  const body = str(comment['body']);
  if (isBotComment(comment, body, s)) return { ignore: 'a comment by a bot' };
  const instruction = parseCommand(body, s.appSlug);
  if (instruction === null) return { ignore: 'the comment does not address devbot' };
  const commentId = num(comment['id']);
  const common = {
    ...where,
    issueNumber: num(issue['number']),
    issueTitle: str(issue['title']),
    issueBody: str(issue['body']),
    commentId,
    sender: login,
    instruction,
    idempotencyKey: `gh:comment:${commentId}`,
    reactTo: { type: 'comment', commentId } as const,
  };
  const isPull = Boolean(issue['pull_request']);
  const sub = subcommandOf(instruction, isPull);
  if ('ignore' in sub) return sub;
  // On a PR the branch comes from the PR itself when the task runs (issue_comment does not carry it).
  const pull = isPull
    ? { kind: 'followup' as const, prNumber: num(issue['number']) }
    : { kind: 'dev' as const };
  return { trigger: { ...common, ...pull, ...sub.fields } };
}

function review(
  payload: Obj,
  action: string,
  where: Where,
  login: string,
  s: TriggerSettings,
): TriggerDecision {
  if (action !== 'submitted') return { ignore: `pull_request_review.${action} is not a trigger` };
  const rev = obj(payload['review']);
  const pr = obj(payload['pull_request']);
  const body = str(rev['body']);
  const state = str(rev['state']).toLowerCase();
  const mention = parseCommand(body, s.appSlug);
  if (mention === null && !isDevbotPr(obj(pr['user']), s))
    return { ignore: 'a pull request devbot did not open' };
  if (state !== 'changes_requested' && mention === null)
    return { ignore: 'a review that neither requests changes nor mentions devbot' };
  const sub = mention === null ? { fields: {} } : subcommandOf(mention, true);
  if ('ignore' in sub) return sub;
  const reviewId = num(rev['id']);
  return {
    trigger: {
      kind: 'followup',
      ...where,
      ...pullRequestFields(pr),
      reviewId,
      sender: login,
      instruction: mention ?? body.trim(),
      idempotencyKey: `gh:review:${reviewId}`,
      reactTo: null,
      ...sub.fields,
    },
  };
}

/** Comments by bots (devbot included) and devbot's own marked comments never trigger work. */
/** What a subcommand adds to a trigger, or why it does not apply here. */
function subcommandOf(
  instruction: string,
  onPullRequest: boolean,
): { fields: Partial<GithubTrigger> } | { ignore: string } {
  const sub = parseSubcommand(instruction);
  if (!sub) return readsAsQuestion(instruction) ? { fields: { mode: 'answer' } } : { fields: {} };
  if (sub.spec.pullRequestOnly && !onPullRequest)
    return { ignore: `/devbot ${sub.name} applies to pull requests only` };
  if (sub.spec.action === 'control') return { fields: { control: { name: sub.name, rest: sub.rest } } };
  return { fields: { mode: sub.spec.action } };
}

function isBotComment(comment: Obj, body: string, s: TriggerSettings): boolean {
  return isBot(obj(comment['user']), s.appSlug) || body.includes(DEVBOT_MARKER);
}

/** What a follow-up on one of devbot's pull requests carries about the PR. */
function pullRequestFields(pr: Obj) {
  return {
    issueNumber: num(pr['number']),
    prNumber: num(pr['number']),
    issueTitle: str(pr['title']),
    issueBody: str(pr['body']),
    prUrl: str(pr['html_url']),
    branch: str(obj(pr['head'])['ref']),
  };
}

function reviewComment(
  payload: Obj,
  action: string,
  where: Where,
  login: string,
  s: TriggerSettings,
): TriggerDecision {
  if (action !== 'created') return { ignore: `pull_request_review_comment.${action} is not a trigger` };
  const comment = obj(payload['comment']);
  const pr = obj(payload['pull_request']);
  const body = str(comment['body']);
  if (isBotComment(comment, body, s)) return { ignore: 'a comment by a bot' };
  const instruction = parseCommand(body, s.appSlug);
  if (instruction === null) return { ignore: 'the review comment does not address devbot' };
  const sub = subcommandOf(instruction, true);
  if ('ignore' in sub) return sub;
  const commentId = num(comment['id']);
  const path = str(comment['path']);
  return {
    trigger: {
      kind: 'followup',
      ...where,
      ...pullRequestFields(pr),
      reviewCommentId: commentId,
      sender: login,
      instruction: path ? `${instruction}\n\n(on ${path})` : instruction,
      idempotencyKey: `gh:review-comment:${commentId}`,
      reactTo: { type: 'review-comment', commentId },
      ...sub.fields,
    },
  };
}
