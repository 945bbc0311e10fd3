/**
 * Who may make devbot change which repository, for people who do not come in through GitHub: a
 * Telegram user (`tg:<id>`) or an API subject can be linked to a GitHub login (then that login's
 * permission on the repository decides), or granted repositories outright by an operator.
 * src/store implements it; `devbot users` manages it.
 */

export interface SubjectRecord {
  subject: string;
  /** The host login the subject acts as, if linked. */
  login: string | null;
  /** Repository patterns granted outright: `owner/name`, `owner/*` or `*`. */
  grants: string[];
}

export interface SubjectAccess {
  get(subject: string): Promise<SubjectRecord>;
  link(subject: string, login: string): Promise<void>;
  /** True when a link was removed. */
  unlink(subject: string): Promise<boolean>;
  grant(subject: string, pattern: string): Promise<void>;
  /** True when the grant existed. */
  revoke(subject: string, pattern: string): Promise<boolean>;
  list(): Promise<SubjectRecord[]>;
}

/** `owner/name`, `owner/*` or `*`; case-insensitive, as GitHub names are. */
export function grantMatches(pattern: string, repo: string): boolean {
  const p = pattern.toLowerCase();
  const r = repo.toLowerCase();
  if (p === '*') return true;
  if (p.endsWith('/*')) return r.startsWith(p.slice(0, -1));
  return p === r;
}

/** A grant pattern devbot accepts. */
export function isGrantPattern(pattern: string): boolean {
  return pattern === '*' || /^[A-Za-z0-9_.-]+\/(\*|[A-Za-z0-9_.-]+)$/.test(pattern);
}

/** A subject devbot accepts: a Telegram user (`tg:<id>`) or an API token's user name. */
export function isSubjectName(subject: string): boolean {
  return /^[\w.@:-]{1,100}$/.test(subject);
}

/** A GitHub login's shape. */
export function isHostLogin(login: string): boolean {
  return /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(login);
}
