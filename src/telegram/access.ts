/**
 * Who the bot serves and when it speaks. Access fails closed: only allowlisted user ids. In groups
 * the bot answers only messages addressed to it (a mention, `/cmd@bot`, or a reply to it).
 */

export interface BotIdentity {
  id: number;
  /** Without @; unknown until getMe succeeds. */
  username?: string | undefined;
}

interface EntityLike {
  type: string;
  offset: number;
  length: number;
  user?: { id: number };
}

/** The fields of a Telegram message these rules read. */
export interface MessageLike {
  chat: { id: number; type: string };
  from?: { id: number; is_bot?: boolean };
  text?: string;
  caption?: string;
  entities?: EntityLike[];
  caption_entities?: EntityLike[];
  reply_to_message?: { from?: { id: number } };
}

/** Parses TELEGRAM_ALLOWED_USER_IDS entries; anything not a positive integer is ignored. */
export function allowedUserIds(entries: readonly string[]): Set<number> {
  const ids = new Set<number>();
  for (const entry of entries) {
    if (/^\d+$/.test(entry.trim())) ids.add(Number(entry.trim()));
  }
  return ids;
}

export function isAllowedUser(userId: number | undefined, allowed: ReadonlySet<number>): boolean {
  return userId !== undefined && allowed.has(userId);
}

export interface Addressed {
  /** Whether the bot should answer at all. */
  addressed: boolean;
  /** The text with the bot's mention removed. */
  text: string;
}

/** Decides whether a message is for the bot and strips the mention from its text. */
export function addressedToBot(message: MessageLike, bot: BotIdentity): Addressed {
  const text = message.text ?? message.caption ?? '';
  if (message.chat.type === 'private') return { addressed: true, text };
  const entities = message.entities ?? message.caption_entities ?? [];
  const username = bot.username?.toLowerCase();
  let stripped = text;
  let addressed = message.reply_to_message?.from?.id === bot.id;
  // Walk mentions from the end so earlier offsets stay valid while we cut.
  for (const e of [...entities].sort((a, b) => b.offset - a.offset)) {
    const slice = text.slice(e.offset, e.offset + e.length);
    const isOurMention =
      (e.type === 'mention' && username !== undefined && slice.toLowerCase() === `@${username}`) ||
      (e.type === 'text_mention' && e.user?.id === bot.id);
    const isOurCommand =
      e.type === 'bot_command' && username !== undefined && slice.toLowerCase().endsWith(`@${username}`);
    if (isOurMention) {
      addressed = true;
      stripped = stripped.slice(0, e.offset) + stripped.slice(e.offset + e.length);
    } else if (isOurCommand) {
      addressed = true;
    }
  }
  return { addressed, text: stripped.trim() };
}
