import type { RouteDecision, Task } from '../../src/core/index.js';

/**
 * The routing rules that need no LLM: `/sh cmd` and `$ cmd` are shell commands, `/new_task` is a
 * dev task, anything from a GitHub trigger is a dev task. Returns null when no rule applies.
 */
export function ruleRoute(task: Pick<Task, 'prompt' | 'source'>): RouteDecision | null {
  const text = task.prompt.trim();
  const sh = /^\/sh(?:@\w+)?(?:\s+([\s\S]*))?$/.exec(text);
  if (sh) {
    const command = (sh[1] ?? '').trim();
    if (!command) return null;
    return { kind: 'shell', input: { command }, confidence: 1, reason: 'rule: /sh command' };
  }
  if (text.startsWith('$ ') && text.slice(2).trim())
    return {
      kind: 'shell',
      input: { command: text.slice(2).trim() },
      confidence: 1,
      reason: 'rule: $ command',
    };
  const newTask = /^\/new_task(?:@\w+)?(?:\s+([\s\S]*))?$/.exec(text);
  if (newTask)
    return {
      kind: 'dev',
      input: { instruction: (newTask[1] ?? '').trim() },
      confidence: 1,
      reason: 'rule: /new_task',
    };
  if (task.source === 'github') return { kind: 'dev', confidence: 1, reason: 'rule: GitHub trigger' };
  return null;
}
