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

/** The prompt with the PR's review context appended. */
export function promptWithReviewContext(prompt: string, context: PullRequestContext): string {
  const fence = untrustedFence(promptNonce(prompt));
  const parts = [prompt];
  if (context.files.length > 0) {
    const files = context.files.map((f) => `- ${f.path} (+${f.additions} -${f.deletions})`).join('\n');
    parts.push(`Files this pull request changes so far:\n${fence('github-pull-request-files', files)}`);
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
