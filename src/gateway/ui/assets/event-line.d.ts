/** Types of event-line.js, the text the dashboard's server pages and client script share. */
export function formatDuration(ms: number): string;
export function cost(usd: number | undefined | null): string;
export function clip(text: unknown, max: number): string;
export function statusClass(status: string): string;
export function eventLine(type: string, d: Record<string, unknown>): string;
