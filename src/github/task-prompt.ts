import { UNTRUSTED_NOTE, untrustedFence } from '../core/index.js';
import type { GithubTrigger } from './github-trigger.js';

/** The task prompt for a GitHub trigger: what to do, with everyone's text fenced as untrusted. */
export function buildTaskPrompt(t: GithubTrigger): string {
  // One fence per prompt: every part carries the same nonce.
  const fenceUntrusted = untrustedFence();
  const where = `${t.owner}/${t.repo}#${t.issueNumber}`;
  const parts: string[] = [];
  if (t.mode) {
    const what = t.prNumber !== undefined ? `pull request ${where}` : `GitHub issue ${where}`;
    parts.push(
      t.mode === 'review'
        ? `Review ${what}, requested by @${t.sender}. Do not change files: report your findings, each on the file and line it is about.`
        : `Answer the question @${t.sender} asked on ${what}. Do not change files: read the code, run what helps, and answer.`,
    );
    parts.push(
      fenceUntrusted(
        t.prNumber !== undefined ? 'github-pull-request' : 'github-issue',
        `# ${t.issueTitle}\n\n${t.issueBody}`.trim(),
      ),
    );
    parts.push(fenceUntrusted('github-comment', t.instruction));
  } else if (t.kind === 'followup') {
    parts.push(
      `Follow-up on pull request ${where} (branch ${t.branch ?? 'of the PR'}), requested by @${t.sender}. ` +
        'Push new commits to the same branch that address the request.',
    );
    parts.push(fenceUntrusted('github-pull-request', `# ${t.issueTitle}\n\n${t.issueBody}`.trim()));
    parts.push(
      fenceUntrusted('github-review', t.instruction || 'Address the changes requested in the review.'),
    );
  } else {
    parts.push(
      `Work on GitHub issue ${where}, requested by @${t.sender}. Open a pull request that resolves it.`,
    );
    parts.push(fenceUntrusted('github-issue', `# ${t.issueTitle}\n\n${t.issueBody}`.trim()));
    if (t.instruction) parts.push(fenceUntrusted('github-comment', t.instruction));
  }
  parts.push(UNTRUSTED_NOTE);
  return parts.join('\n\n');
}
