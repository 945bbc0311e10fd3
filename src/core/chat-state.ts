/**
 * What devbot keeps about a chat (Telegram today): the repository it works on, the shell fast
 * lane's persistent sandbox, working directory and recent commands, and which updates were already
 * turned into tasks. src/store implements both ports in SQL (PostgreSQL and PGlite).
 */

export interface ChatBinding {
  chatId: number;
  chatType: string;
  repo: string | null;
  sandboxId: string | null;
  shellCwd: string | null;
  shellHistory: string[];
  updatedAt: Date;
}

export interface ChatBindings {
  get(chatId: number): Promise<ChatBinding | null>;
  /** Binds the chat to a repository (null unbinds). */
  setRepo(chatId: number, chatType: string, repo: string | null): Promise<ChatBinding>;
  /** Records the chat's persistent sandbox (null when it is gone). */
  setSandbox(chatId: number, sandboxId: string | null): Promise<ChatBinding>;
  /** Records a shell command and the working directory after it; keeps the last `keep` commands. */
  recordShell(chatId: number, command: string, cwd: string | null, keep?: number): Promise<ChatBinding>;
  /**
   * Forgets the chat's sandbox, cwd and history (the repository stays). With `onlyIf`, only when
   * the binding still names that sandbox and was last touched before `before`. True when it changed.
   */
  clearShell(chatId: number, onlyIf?: { sandboxId: string; before: Date }): Promise<boolean>;
  /** Chats with a sandbox whose binding was last touched before `before`, oldest first. */
  listIdleSandboxes(before: Date, limit?: number): Promise<{ chatId: number; sandboxId: string }[]>;
}

/** Update ids a bot already handled, so a redelivery creates nothing twice. */
export interface UpdateClaims {
  /** True for the first claim of an update; false when it was seen before. */
  claim(updateId: number, chatId: number | null): Promise<boolean>;
  /** The task an earlier delivery of this update created, if it got that far. */
  taskOf(updateId: number): Promise<string | null>;
  attachTask(updateId: number, taskId: string): Promise<void>;
  /** Gives an update back (its handling failed before anything was sent), so a redelivery retries. */
  release(updateId: number): Promise<void>;
  /** Forgets claims older than `days`. */
  prune(days?: number): Promise<number>;
}

/**
 * A chat subscribed (`/link owner/repo`) to devbot's pull-request events of a repository: its
 * reviews, comments, CI failures, openings and fates are announced there.
 */
export interface ChatRepoLink {
  chatId: number;
  /** The forum topic the link was made in (notices go there), or null. */
  threadId: number | null;
  /** `owner/name`, lower case (GitHub's names are case-insensitive). */
  repo: string;
  /** Who linked it (`tg:<user id>`): the notices go on while that subject may act on the repo. */
  linkedBy: string;
  createdAt: Date;
}

export type LinkOutcome = 'linked' | 'updated' | { full: number };

export interface ChatRepoLinks {
  /**
   * Links a chat to a repository (again: updates who linked it and the topic). Refused with
   * `{ full }` when the chat already has `max` other links.
   */
  link(link: Omit<ChatRepoLink, 'createdAt'>, max: number): Promise<LinkOutcome>;
  /** Removes one link, or every link of the chat; returns the repositories unlinked. */
  unlink(chatId: number, repo?: string): Promise<string[]>;
  /** A chat's links, oldest first. */
  list(chatId: number): Promise<ChatRepoLink[]>;
  /** The chats linked to a repository. */
  chatsFor(repo: string): Promise<ChatRepoLink[]>;
}
