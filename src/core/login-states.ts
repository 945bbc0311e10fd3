/**
 * One-time states of a sign-in through GitHub's OAuth (issue 13): each is bound to the subject who
 * asked for it (`tg:<id>`), lives ten minutes and works once, so a state nobody was given, or one
 * already used, links nothing.
 *
 * A state proves who asked, not who signs in: whoever opens the link signs in for the asker. So
 * GitHub's answer is not linked at once but held (`hold`) until the person who signed in confirms,
 * on a page that names the Telegram account they are about to let act as them (login CSRF: an
 * attacker who sends his own /login link to a victim would otherwise act as the victim on GitHub).
 */
export interface LoginStates {
  /** A new state for `subject`; `label` names the account to the person who signs in. */
  create(subject: string, label?: string): Promise<string>;
  /** The subject of a live state, leaving it live (the start page checks before sending to GitHub). */
  peek(state: string): Promise<string | null>;
  /** The asker of a live state, once: the state is gone afterwards. */
  take(state: string): Promise<LoginAsker | null>;
  /** Holds a signed-in login for its confirmation: a new one-time token. */
  hold(pending: PendingLogin): Promise<string>;
  /** The held login of a confirmation token, once. */
  redeem(token: string): Promise<PendingLogin | null>;
}

export interface LoginAsker {
  subject: string;
  /** How the account that asked is shown (e.g. `@mallory, Telegram user 42`). */
  label?: string | undefined;
}

export interface PendingLogin extends LoginAsker {
  login: string;
}

export const LOGIN_STATE_TTL_SECONDS = 600;
