/**
 * What a finished task produced, in one typed shape that every consumer reads the same way: the
 * reporters (Telegram's result message, GitHub's sticky comment), memory, the API.
 */

export interface TaskCheck {
  kind: string;
  command: string;
  exitCode: number;
}

export interface TaskResult {
  /** A few sentences on what was done (also the task's `resultSummary`). */
  summary: string;
  /** What to say to the person who asked, when it reads better than the summary (a chat reply). */
  reply?: string;
  /** Dev and follow-up tasks: the branch pushed, the commit, the files changed, the PR. */
  branch?: string;
  commit?: string;
  changed?: string[];
  pr?: { number: number; url: string };
  /** A live preview of the result. */
  preview?: { url: string; port?: number };
  /** Shell tasks: how the command ended and the tail of what it printed. */
  exitCode?: number;
  output?: string;
  durationMs?: number;
  truncated?: boolean;
  /** The shell agent: how many tool calls it made. */
  toolCalls?: number;
  /** The crew: its plan, the checks it ran, test counts and coder <-> executor rounds. */
  plan?: string[];
  checks?: TaskCheck[];
  tests?: { passed: number; failed: number };
  rounds?: number;
}

/** The text to show the requester: the reply when there is one, else the summary. */
export function replyText(result: Pick<TaskResult, 'reply' | 'summary'> | null | undefined): string | null {
  if (!result) return null;
  return result.reply?.trim() || result.summary?.trim() || null;
}
