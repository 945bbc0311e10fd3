/**
 * Notices devbot posts at most once (a refusal to an outsider, per issue and day): a claim on a key
 * succeeds once, across restarts and processes. src/store implements it in SQL.
 */
export interface NoticeLog {
  /** True the first time `key` is claimed; false after. */
  claim(key: string): Promise<boolean>;
}
