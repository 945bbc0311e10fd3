/**
 * The short notices a chat linked to a repository (`/link owner/repo` in Telegram) gets about
 * devbot's pull requests there: opened, a review, a comment, a CI failure, merged or closed. Pure:
 * GithubApp decides who hears them. The text is Telegram's HTML mode; the review and comment
 * bodies come from anyone who can comment, so they are escaped, cut short, and shown as a quote
 * whose @mentions and /commands are inert.
 */

/** The most of a review or comment body a notice quotes. */
export const NOTICE_BODY_MAX = 600;
const TITLE_MAX = 200;

/** A notice for the chats linked to `repo`, posted once per `key` (redeliveries share it). */
export interface LinkNotice {
  repo: string;
  key: string;
  html: string;
  prNumber: number;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** HTML mode's escapes (Telegram's rule: & < > only; quotes too for attributes). */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** The first `max` UTF-16 units, never splitting a surrogate pair; `…` marks a cut. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/**
 * Someone else's text as a quote: escaped, cut, and with a word joiner after `@` and a leading
 * `/` so Telegram makes no mention (pinging a chat member) and no tappable command of it.
 */
export function quoteUntrusted(text: string, max = NOTICE_BODY_MAX): string {
  const trimmed = cut(text.replace(/\r\n?/g, '\n').trim(), max);
  if (trimmed === '') return '';
  const inert = trimmed.replace(/@(?=\w)/g, '@\u2060').replace(/(^|\s)\/(?=\w)/g, '$1/\u2060');
  return `\n<blockquote>${escapeHtml(inert)}</blockquote>`;
}

/** `acme/shop #7 · Title`, the number linking to `url`. */
function head(icon: string, repo: string, number: number, url: string, title: string): string {
  const safeTitle = escapeHtml(cut(title.replace(/\s+/g, ' ').trim(), TITLE_MAX));
  return `${icon} <b>${escapeHtml(repo)}</b> <a href="${escapeHtml(url)}">#${number}</a>${safeTitle ? ` · ${safeTitle}` : ''}`;
}

/** A GitHub login as text (no `@`: in Telegram that would mention someone else). */
const who = (login: string) => `<b>${escapeHtml(login || 'someone')}</b>`;

export function openedNotice(
  repo: string,
  pr: { number: number; html_url: string; title?: string },
): LinkNotice {
  return {
    repo,
    prNumber: pr.number,
    key: `link:opened:${repo}#${pr.number}`,
    html: `${head('🆕', repo, pr.number, pr.html_url, pr.title ?? '')}\ndevbot opened this pull request.`,
  };
}

export function closedNotice(
  repo: string,
  pr: { number: number; html_url: string; title?: string },
  merged: boolean,
): LinkNotice {
  return {
    repo,
    prNumber: pr.number,
    key: `link:closed:${repo}#${pr.number}`,
    html: `${head(merged ? '🎉' : '🚫', repo, pr.number, pr.html_url, pr.title ?? '')}\n${merged ? 'Merged.' : 'Closed without merging.'}`,
  };
}

export function ciFailedNotice(
  repo: string,
  pr: { number: number; html_url: string; title: string },
  ci: { name: string; headSha: string; id: number | string; source?: string },
  outcome: string,
): LinkNotice {
  return {
    repo,
    prNumber: pr.number,
    key: `link:ci:${repo}:${ci.source ?? 'ci'}:${ci.id}`,
    html: `${head('❌', repo, pr.number, pr.html_url, pr.title)}\nCI failed: ${escapeHtml(ci.name)} on ${escapeHtml(ci.headSha.slice(0, 7))}. ${escapeHtml(outcome)}`,
  };
}

const REVIEW_VERB: Record<string, string> = {
  approved: 'approved',
  changes_requested: 'requested changes',
  commented: 'reviewed',
  dismissed: 'dismissed a review',
};

/**
 * A submitted review or a new PR comment on one of devbot's pull requests (by someone other than
 * devbot) as a notice; null for any other event.
 */
export function conversationNotice(
  event: { name: string; payload: unknown },
  devbotLogin: string,
): LinkNotice | null {
  const p = obj(event.payload);
  const repo = str(obj(p['repository'])['full_name']);
  if (!repo) return null;
  if (event.name === 'pull_request_review' && p['action'] === 'submitted') {
    const pr = obj(p['pull_request']);
    const review = obj(p['review']);
    const author = str(obj(review['user'])['login']) || str(obj(p['sender'])['login']);
    if (str(obj(pr['user'])['login']) !== devbotLogin || author === devbotLogin) return null;
    const number = Number(pr['number']);
    const url = str(review['html_url']) || str(pr['html_url']);
    const verb = REVIEW_VERB[str(review['state']).toLowerCase()] ?? 'reviewed';
    return {
      repo,
      prNumber: number,
      key: `link:review:${repo}:${String(review['id'])}`,
      html: `${head('📝', repo, number, url, str(pr['title']))}\n${who(author)} ${verb}${str(review['body']).trim() ? ':' : '.'}${quoteUntrusted(str(review['body']))}`,
    };
  }
  if (event.name === 'issue_comment' && p['action'] === 'created') {
    const issue = obj(p['issue']);
    const comment = obj(p['comment']);
    const author = str(obj(comment['user'])['login']) || str(obj(p['sender'])['login']);
    if (!issue['pull_request'] || str(obj(issue['user'])['login']) !== devbotLogin || author === devbotLogin)
      return null;
    const number = Number(issue['number']);
    const url = str(comment['html_url']) || str(issue['html_url']);
    return {
      repo,
      prNumber: number,
      key: `link:comment:${repo}:${String(comment['id'])}`,
      html: `${head('💬', repo, number, url, str(issue['title']))}\n${who(author)} commented:${quoteUntrusted(str(comment['body']))}`,
    };
  }
  return null;
}
