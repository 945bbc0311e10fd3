/**
 * Telegram's HTML parse mode, as far as the fake needs it: the supported tags, the four named
 * entities plus numeric ones, and the errors Telegram answers with ("can't parse entities: ...").
 * Offsets and lengths are in UTF-16 code units, like the real Bot API.
 */

export interface MessageEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
}

export interface ParsedText {
  text: string;
  entities: MessageEntity[];
}

export class EntityParseError extends Error {}

const TAG_TYPES: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

interface OpenTag {
  name: string;
  start: number;
  attrs: Record<string, string>;
}

function byteOffset(input: string, index: number): number {
  return Buffer.byteLength(input.slice(0, index));
}

function parseAttributes(raw: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of raw.matchAll(/([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g)) {
    const key = m[1];
    if (key) attrs[key.toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

function decodeEntities(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => decodeOne(e));
}

function decodeOne(entity: string): string {
  if (entity.startsWith('#x') || entity.startsWith('#X'))
    return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
  if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
  return NAMED_ENTITIES[entity] ?? `&${entity};`;
}

function fail(message: string): never {
  throw new EntityParseError(`Bad Request: can't parse entities: ${message}`);
}

/** Parses Telegram HTML into plain text and entities, or throws EntityParseError. */
export function parseTelegramHtml(input: string): ParsedText {
  let text = '';
  const entities: MessageEntity[] = [];
  const stack: OpenTag[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i] as string;
    if (ch === '&') {
      const m = /^&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);/.exec(input.slice(i, i + 12));
      if (m?.[1]) {
        text += decodeOne(m[1]);
        i += m[0].length;
      } else {
        text += '&';
        i += 1;
      }
      continue;
    }
    if (ch !== '<') {
      text += ch;
      i += 1;
      continue;
    }
    const close = input.indexOf('>', i);
    if (close < 0) fail(`Unclosed start tag at byte offset ${byteOffset(input, i)}`);
    const inner = input.slice(i + 1, close);
    if (inner.startsWith('/')) {
      const name = inner.slice(1).trim().toLowerCase();
      const top = stack.pop();
      if (!top || top.name !== name)
        fail(
          `Unmatched end tag at byte offset ${byteOffset(input, i)}, expected "</${top?.name ?? ''}>", found "</${name}>"`,
        );
      const length = text.length - top.start;
      const entity: MessageEntity = { type: TAG_TYPES[top.name] ?? top.name, offset: top.start, length };
      if (top.name === 'a' && top.attrs.href) entity.url = top.attrs.href;
      if (length > 0) entities.push(entity);
    } else {
      const nameMatch = /^[a-zA-Z][a-zA-Z0-9-]*/.exec(inner);
      const name = (nameMatch?.[0] ?? '').toLowerCase();
      if (!name || !(name in TAG_TYPES))
        fail(`Unsupported start tag "${name}" at byte offset ${byteOffset(input, i)}`);
      stack.push({ name, start: text.length, attrs: parseAttributes(inner.slice(name.length)) });
    }
    i = close + 1;
  }
  const open = stack.pop();
  if (open) fail(`Can't find end tag corresponding to start tag "${open.name}"`);
  entities.sort((a, b) => a.offset - b.offset);
  return { text, entities };
}
