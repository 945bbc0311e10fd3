/**
 * Text helpers for Telegram's HTML parse mode. Telegram counts its 4096 limit after entity parsing,
 * in UTF-16 code units (a JS string's `length`), so lengths here are measured on the visible text.
 */

/** Telegram's limit for a message text, after entity parsing. */
export const MAX_MESSAGE_LENGTH = 4096;

/** HTML mode needs only these three escaped (Telegram's own rule); quotes stay as they are. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** The text Telegram shows for our HTML: tags removed, entities decoded. */
export function htmlToPlain(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&(lt|gt|amp|quot);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"' })[e] ?? '');
}

/** Length Telegram counts for our HTML. */
export function visibleLength(html: string): number {
  return htmlToPlain(html).length;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** The first `max` code units, never splitting a surrogate pair; `…` marks a cut. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let end = max - 1;
  if (end > 0 && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** The last `max` code units, never splitting a surrogate pair; `…` marks a cut. */
export function tailText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let start = text.length - (max - 1);
  if (start < text.length && isLowSurrogate(text.charCodeAt(start))) start += 1;
  return `…${text.slice(start)}`;
}

/** The last `lines` lines of text. */
export function lastLines(text: string, lines: number): string {
  const all = text.replace(/\n+$/, '').split('\n');
  return all.length <= lines ? all.join('\n') : all.slice(-lines).join('\n');
}
