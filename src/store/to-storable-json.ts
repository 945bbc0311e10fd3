/**
 * A JSON escape PostgreSQL's jsonb refuses, only where it is an escape: `\u0000` (NUL) or a lone
 * surrogate (`\ud800`-`\udfff`; JSON.stringify escapes exactly the unpaired ones). The lookbehind
 * and the pairs of backslashes skip an escaped backslash followed by text that looks like one.
 */
const UNSTORABLE_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g;

/** The replacement: U+FFFD, Unicode's mark for "a character that could not be represented". */
export const REPLACEMENT = '\ufffd';

/**
 * JSON for a jsonb column. Command output is bytes and may hold NUL or invalid UTF-16, which
 * PostgreSQL rejects in jsonb, and with it the whole write (the output was lost and the task
 * retried over it). Each NUL and lone surrogate is stored as U+FFFD instead (one character for
 * one, so lengths and offsets stay as they were); everything else is kept exactly.
 */
export function toStorableJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSTORABLE_ESCAPE, '$1\\ufffd');
}
