/**
 * `/devbot <subcommand> ...` on GitHub: one table, so a new subcommand is one entry. A comment
 * whose first word is not in the table is a request in plain words (`/devbot rename foo`): a
 * change, or on a fork's pull request an answer — unless it reads as a question (`/devbot how does
 * the cache expire?`), which is answered like `explain`.
 *
 * What each entry does:
 * - `answer`: a read-only crew run whose answer is the comment (no branch, no PR, no push);
 * - `review`: a read-only run that posts one review with inline comments (pull requests only);
 * - `control`: acts on devbot itself (stop a task, CI autofix off/on) without a crew run.
 */

export type CommandAction = 'answer' | 'review' | 'control';

export interface CommandSpec {
  action: CommandAction;
  /** Only on pull requests. */
  pullRequestOnly?: boolean;
  /** One line for the README and the help text. */
  help: string;
}

export const DEVBOT_COMMANDS: Record<string, CommandSpec> = {
  explain: { action: 'answer', help: 'explain code or behaviour; answers in a comment, changes nothing' },
  why: { action: 'answer', help: 'answer a why-question about the code; changes nothing' },
  review: { action: 'review', pullRequestOnly: true, help: 'review the pull request with inline comments' },
  stop: { action: 'control', help: "cancel devbot's running task on this issue or pull request" },
  autofix: {
    action: 'control',
    pullRequestOnly: true,
    help: '`autofix off` / `autofix on`: whether devbot tries to fix failing CI on this pull request',
  },
};

export interface ParsedSubcommand {
  name: string;
  spec: CommandSpec;
  /** What follows the subcommand. */
  rest: string;
}

/** The subcommand an instruction starts with (case-insensitive), or null for plain words. */
export function parseSubcommand(
  instruction: string,
  table: Record<string, CommandSpec> = DEVBOT_COMMANDS,
): ParsedSubcommand | null {
  const m = /^([a-z][a-z-]*)(?![\w-])[ \t:,]*([\s\S]*)$/i.exec(instruction.trim());
  if (!m) return null;
  const name = (m[1] as string).toLowerCase();
  const spec = Object.hasOwn(table, name) ? table[name] : undefined;
  return spec ? { name, spec, rest: (m[2] ?? '').trim() } : null;
}

const QUESTION_START =
  /^(how|what|why|where|which|who|whom|whose|when|does|do|did|is|are|was|were|can|should|has|have|had|isn't|aren't|doesn't)\b/i;
/** Requests phrased politely as questions ("can you fix…?") still ask for a change. */
const REQUEST_START = /^(?:(?:can|could|would|will)\s+(?:you|devbot|we|u)\b|please\b)/i;

/**
 * Whether plain words read as a question rather than a request for a change: one question (it ends
 * with `?`, starts with a question word, is not "can you …?") of a few lines at most. The answer
 * comes from a read-only run; someone who wanted a change says so (or uses the imperative).
 */
export function readsAsQuestion(instruction: string): boolean {
  const text = instruction.trim();
  if (!text.endsWith('?') || text.length > 1_000 || text.split('\n').length > 5) return false;
  return QUESTION_START.test(text) && !REQUEST_START.test(text);
}
