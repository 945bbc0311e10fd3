/** What devbot writes in the pull requests it opens. */

/** Title and body of a devbot PR: the agent's words, `Closes #N` for issue tasks, a footer. */
export function pullRequestText(input: {
  title: string;
  body: string;
  issueNumber?: number | undefined;
  requester: string;
  taskId: string;
}): { title: string; body: string } {
  const parts = [input.body.trim()];
  if (input.issueNumber !== undefined) parts.push(`Closes #${input.issueNumber}`);
  const who = input.requester.startsWith('gh:') ? `@${input.requester.slice(3)}` : input.requester;
  parts.push(`---\n<sub>Opened by devbot for ${who} · task \`${input.taskId}\`</sub>`);
  return {
    title: input.title.trim().slice(0, 250) || 'devbot changes',
    body: parts.filter(Boolean).join('\n\n'),
  };
}
