/**
 * One-time states of a sign-in through GitHub's OAuth (issue 13): each is bound to the subject who
 * asked for it (`tg:<id>`), lives ten minutes and works once, so a state nobody was given, or one
 * already used, links nothing.
 */
export interface LoginStates {
  /** A new state for `subject`. */
  create(subject: string): Promise<string>;
  /** The subject of a live state, leaving it live (the start page checks before sending to GitHub). */
  peek(state: string): Promise<string | null>;
  /** The subject of a live state, once: the state is gone afterwards. */
  take(state: string): Promise<string | null>;
}

export const LOGIN_STATE_TTL_SECONDS = 600;
