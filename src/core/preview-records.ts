/**
 * What produced each preview (task, repository, commit, command, port), kept in the database so a
 * preview link outlives its sandbox: opening an ended repo preview rebuilds it from its commit.
 */
export interface PreviewRecord {
  /** The token in the preview's URL (`/preview/<token>/`). */
  token: string;
  taskId: string;
  /** `owner/name`; null for a shell task's preview (those end with their TTL). */
  repo: string | null;
  branch: string | null;
  commit: string | null;
  /** The command that serves the preview (run again from the commit). */
  command: string | null;
  port: number;
}

export interface PreviewRecords {
  record(record: PreviewRecord): Promise<void>;
  get(token: string): Promise<PreviewRecord | null>;
}

/** The token of a preview URL (`…/preview/<token>/`), or null. */
export function previewToken(url: string): string | null {
  return /\/preview\/([A-Za-z0-9_-]{16,64})\/?$/.exec(url)?.[1] ?? null;
}

/** What opening a preview link whose sandbox is gone does: nothing known, starting, or why not. */
export type PreviewAnswer =
  | { state: 'unknown' }
  | { state: 'starting'; label: string }
  | { state: 'gone'; reason: string }
  | { state: 'failed'; label: string; reason: string };

/**
 * Revivals asked of another process (split roles: the gateway asks, any worker does it). One
 * request per token runs at a time; a worker remembers a gone or failed outcome for a while.
 */
export interface PreviewRevivalRequests {
  request(token: string): Promise<void>;
  /** How the last attempt ended when it did not serve the preview (gone, failed), or null. */
  lastAnswer(token: string): Promise<PreviewAnswer | null>;
}
