/**
 * A follow-up's review context in the prompt (fenced as untrusted, with the prompt's own nonce),
 * and after the push, which threads the change addressed: the agent may say so thread by thread
 * (`AgentResult.threads`); otherwise a thread counts as addressed when its file changed.
 */
import {
  type AgentResult,
  type PullRequestContext,
  type ReviewThread,
  untrustedFence,
} from '../../core/index.js';

/** The nonce the front door fenced the prompt with, so every part of one prompt shares it. */
function promptNonce(prompt: string): string | undefined {
  return /<untrusted-([0-9a-f]{8}) source="/.exec(prompt)?.[1];
}

export function threadLocation(t: Pick<ReviewThread, 'path' | 'line' | 'startLine'>): string {
  if (t.line === null) return t.path;
  return t.startLine !== null && t.startLine !== t.line
    ? `${t.path}:${t.startLine}-${t.line}`
    : `${t.path}:${t.line}`;
}

const MAX_HUNK_LINES = 30;

/** How much of the PR's diff a read-only run (answer, review) sees: per file and in all. */
const MAX_PATCH_CHARS = 8_000;
const MAX_DIFF_CHARS = 60_000;

/**
 * The prompt with the PR's review context appended. `patches`: also the diff itself (a review or
 * an answer about the PR reads it; a change works on the checked-out branch instead).
 */
export function promptWithReviewContext(
  prompt: string,
  context: PullRequestContext,
  options: { patches?: boolean } = {},
): string {
  const fence = untrustedFence(promptNonce(prompt));
  const parts = [prompt];
  if (context.title || context.body)
    parts.push(
      `The pull request:\n${fence('github-pull-request', `# ${context.title}\n\n${context.body}`.trim())}`,
    );
  if (context.files.length > 0) {
    const files = context.files.map((f) => `- ${f.path} (+${f.additions} -${f.deletions})`).join('\n');
    parts.push(`Files this pull request changes so far:\n${fence('github-pull-request-files', files)}`);
  }
  if (options.patches) {
    const diff = pullRequestDiff(context.files);
    if (diff) parts.push(`The pull request's diff:\n${fence('github-pull-request-diff', diff)}`);
  }
  if (context.linkedIssue) {
    const i = context.linkedIssue;
    parts.push(
      `The issue this pull request closes (#${i.number}):\n${fence('github-issue', `# ${i.title}\n\n${i.body}`.trim())}`,
    );
  }
  if (context.threads.length > 0) {
    const threads = context.threads.map((t) => {
      const hunk = t.diffHunk.split('\n').slice(-MAX_HUNK_LINES).join('\n');
      const said = t.comments.map((c) => `@${c.author}: ${c.body}`).join('\n\n');
      return [
        `### Thread ${t.id} on ${threadLocation(t)}${t.outdated ? ' (outdated: the code changed since)' : ''}`,
        '```diff',
        hunk,
        '```',
        said,
      ].join('\n');
    });
    parts.push(
      `Unresolved review threads (${context.threads.length}; ${context.resolvedCount} resolved thread(s) left out). ` +
        'Address each one you can; say in your result which thread ids you addressed and why any were not.\n' +
        fence('github-review-threads', threads.join('\n\n')),
    );
  }
  return parts.join('\n\n');
}

/** The files' patches as one unified diff, each file and the whole cut to a size a prompt can hold. */
export function pullRequestDiff(files: PullRequestContext['files']): string {
  const out: string[] = [];
  let size = 0;
  let left = 0;
  for (const f of files) {
    if (!f.patch) continue;
    const patch =
      f.patch.length > MAX_PATCH_CHARS ? `${f.patch.slice(0, MAX_PATCH_CHARS)}\n… (cut)` : f.patch;
    const part = `--- a/${f.path}\n+++ b/${f.path}\n${patch}`;
    if (size + part.length > MAX_DIFF_CHARS) {
      left += 1;
      continue;
    }
    out.push(part);
    size += part.length;
  }
  if (left > 0) out.push(`… ${left} more file(s) left out; read them in the workspace.`);
  return out.join('\n');
}

export interface ThreadOutcome {
  thread: ReviewThread;
  addressed: boolean;
  note: string;
}

/** Which threads the change addressed: the agent's word when it gave one, else whether the file changed. */
export function threadOutcomes(
  threads: readonly ReviewThread[],
  changed: readonly string[],
  result: Pick<AgentResult, 'threads' | 'reply' | 'summary'>,
): ThreadOutcome[] {
  const said = new Map((result.threads ?? []).map((t) => [t.id, t]));
  const reply = (result.reply ?? result.summary).trim();
  return threads.map((thread) => {
    const word = said.get(thread.id);
    if (word)
      return {
        thread,
        addressed: word.addressed && changed.length > 0,
        note: word.note?.trim() || (word.addressed ? reply : 'not addressed by this change'),
      };
    return changed.includes(thread.path)
      ? { thread, addressed: true, note: reply }
      : { thread, addressed: false, note: `this change does not touch ${thread.path}` };
  });
}
