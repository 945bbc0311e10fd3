/**
 * A fixed one-minute window per requester, in memory: the Telegram ingress's per-user task limit.
 * (The HTTP API's limit is shared by all gateways through Redis: gateway/api-rate-limit.ts.)
 */
export class RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns 0 when allowed, else the seconds until the window resets. */
  take(key: string): number {
    const now = this.now();
    let w = this.#windows.get(key);
    if (!w || now - w.start >= 60_000) {
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
      if (this.#windows.size > 10_000) this.#sweep(now);
    }
    w.count += 1;
    if (w.count <= this.perMinute) return 0;
    return Math.max(1, Math.ceil((w.start + 60_000 - now) / 1000));
  }

  #sweep(now: number): void {
    for (const [key, w] of this.#windows) if (now - w.start >= 60_000) this.#windows.delete(key);
  }
}
