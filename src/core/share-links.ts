/**
 * Read-only capability links to one task's page (`/ui/t/<token>`): unguessable, stored hashed,
 * revocable by an admin. The GitHub check run, the sticky comment and the chat's result message
 * link to `urlFor(taskId)`; `GET /tasks/:id` gives it to the task's owner.
 */
export interface ShareLinks {
  /** The task's current share token, minting one (or a new one after a revoke) when needed. */
  tokenFor(taskId: string): Promise<string>;
  /** The task's share URL: `<public URL>/ui/t/<token>`. */
  urlFor(taskId: string): Promise<string>;
  /** The task a live (unrevoked) token opens, or null. */
  resolve(token: string): Promise<string | null>;
  /** Revokes the task's links; returns how many were live. The next tokenFor mints a new one. */
  revoke(taskId: string): Promise<number>;
}
