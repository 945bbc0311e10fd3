/**
 * The one preview lifetime, for shell and dev previews alike: a preview keeps its sandbox (or its
 * server in a chat's long-lived sandbox) alive for the TTL, and ends at most once — by the timer,
 * by the server exiting, by a newer preview taking its key, or by stop() at shutdown.
 */
import type { Sandbox } from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

export interface PreviewLeasesOptions {
  ttlMs: number;
  /** DEVBOT_PREVIEW_MAX: previews held at once; a new one stops the least recently used. */
  max?: number;
  metrics?: Pick<Metrics, 'previewsActive'>;
  logger?: Logger;
}

export interface PreviewLease {
  taskId: string;
  sandbox: Sandbox;
  /** Frees what the preview held (closes the sandbox, or kills the server and releases a chat's). */
  release(): Promise<void>;
  /** Resolves when the preview ends on its own (its server exited). */
  ended?: Promise<unknown>;
  /** A newer lease with the same key ends this one (one server per port in a chat's sandbox). */
  key?: string;
}

export class PreviewLeases {
  readonly #o: PreviewLeasesOptions;
  /** Open leases, least recently used first (a use moves one to the end). */
  readonly #open = new Map<() => Promise<void>, string>();
  readonly #byKey = new Map<string, () => Promise<void>>();

  constructor(options: PreviewLeasesOptions) {
    this.#o = options;
  }

  get active(): number {
    return this.#open.size;
  }

  /** Ends the lease holding `key`, if any (before a new preview takes its port). */
  async end(key: string): Promise<void> {
    await this.#byKey.get(key)?.();
  }

  /** A preview of this sandbox was just served: it becomes the most recently used. */
  touch(sandboxId: string): void {
    for (const [close, id] of this.#open) {
      if (id !== sandboxId) continue;
      this.#open.delete(close);
      this.#open.set(close, id);
      return;
    }
  }

  /** Holds the preview for the TTL; returns the function that ends it early. */
  hold(lease: PreviewLease): () => Promise<void> {
    const { ttlMs, metrics, logger } = this.#o;
    const max = this.#o.max ?? Number.POSITIVE_INFINITY;
    // Over the limit: the least recently used previews give way (a repo preview comes back when
    // its link is opened again).
    for (const [oldest] of this.#open) {
      if (this.#open.size < max) break;
      this.#open.delete(oldest);
      logger?.info({ taskId: lease.taskId }, 'preview limit reached: the least recently used preview stops');
      void oldest();
    }
    void lease.sandbox.keepAlive?.(ttlMs + 60_000).catch(() => {});
    metrics?.previewsActive.inc();
    let closing: Promise<void> | null = null;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        clearTimeout(timer);
        this.#open.delete(close);
        if (lease.key !== undefined && this.#byKey.get(lease.key) === close) this.#byKey.delete(lease.key);
        metrics?.previewsActive.dec();
        await lease
          .release()
          .catch((err) => logger?.warn({ err, taskId: lease.taskId }, 'ending a preview failed'));
        logger?.info({ taskId: lease.taskId }, 'preview closed');
      })();
      return closing;
    };
    const timer = setTimeout(() => void close(), ttlMs);
    timer.unref();
    void lease.ended?.then(close, close);
    this.#open.set(close, lease.sandbox.id);
    if (lease.key !== undefined) this.#byKey.set(lease.key, close);
    return close;
  }

  /** Ends every preview (shutdown). Safe to call twice. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.#open.keys()].map((close) => close()));
  }
}
