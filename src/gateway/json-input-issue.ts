import { textProblem } from './text-problem.js';

export interface JsonInputLimits {
  /** Levels of objects and arrays, the input object itself being the first. */
  maxDepth: number;
  /** Bytes of the value as JSON (UTF-8). */
  maxBytes: number;
}

export interface JsonInputIssue {
  /** Where, below the input (keys shown with a NUL escaped). */
  path: (string | number)[];
  message: string;
}

/**
 * The first reason a task's free-form JSON `input` cannot be stored, or null: a key or string
 * PostgreSQL would refuse, nesting deeper than `maxDepth` (a deep value also overflows the stack of
 * JSON.stringify and of PostgreSQL's jsonb parser) or more than `maxBytes`. The walk stops at the
 * depth limit, so it never recurses deeper than that itself.
 */
export function jsonInputIssue(value: unknown, limits: JsonInputLimits): JsonInputIssue | null {
  const issue = walk(value, [], 1, limits.maxDepth);
  if (issue) return issue;
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > limits.maxBytes)
    return { path: [], message: `is ${bytes} bytes as JSON; at most ${limits.maxBytes} are accepted` };
  return null;
}

function walk(
  value: unknown,
  path: (string | number)[],
  depth: number,
  maxDepth: number,
): JsonInputIssue | null {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem ? { path, message: problem } : null;
  }
  if (value === null || typeof value !== 'object') return null;
  if (depth > maxDepth) return { path, message: `nests objects and arrays deeper than ${maxDepth} levels` };
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  for (const [key, child] of entries) {
    const at = [...path, typeof key === 'string' ? key.replaceAll('\u0000', '\\u0000') : key];
    const keyProblem = typeof key === 'string' ? textProblem(key) : null;
    if (keyProblem) return { path: at, message: `the key ${keyProblem}` };
    const issue = walk(child, at, depth + 1, maxDepth);
    if (issue) return issue;
  }
  return null;
}
