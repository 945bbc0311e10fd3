/** A lone UTF-16 surrogate: JSON can carry it, PostgreSQL's jsonb refuses it. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * What makes a string unstorable, or null. PostgreSQL refuses a NUL character in text and jsonb,
 * and a lone surrogate in jsonb; the API refuses both up front, naming the field, instead of
 * letting the row fail in the database.
 */
export function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'must not contain a lone UTF-16 surrogate (invalid Unicode)';
  return null;
}
