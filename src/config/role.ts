/** The jobs one devbot process can take on; `all` runs every one of them in one process. */
export const ROLES = ['all', 'gateway', 'worker', 'bot'] as const;
export type Role = (typeof ROLES)[number];
