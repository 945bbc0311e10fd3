/**
 * The task as the model sees it. A GitHub task's text comes from an issue or comment that others
 * may have written or edited, so all of it is fenced; a chat or API request comes from an
 * authenticated requester and is labelled as theirs. Attached context is always fenced.
 */
import { isFenced, type Task, untrustedFence } from '../src/core/index.js';

export function describeTask(task: Task): string {
  const fence = untrustedFence();
  const parts: string[] = [];
  // The GitHub front door fences each part (issue body, comment) itself; fence whatever it did not.
  if (task.source === 'github')
    parts.push(
      isFenced(task.prompt) ? task.prompt : fence(`GitHub (${task.repo ?? 'repository'})`, task.prompt),
    );
  else parts.push(`Request from ${task.requester} via ${task.source}:\n${task.prompt}`);
  const context = task.input.context;
  const items = typeof context === 'string' ? (context.trim() ? [{ body: context }] : []) : (context ?? []);
  for (const item of items)
    if (typeof item?.body === 'string')
      parts.push(fence(item.author ? `a comment by ${item.author}` : 'attached context', item.body));
  return parts.join('\n\n');
}
