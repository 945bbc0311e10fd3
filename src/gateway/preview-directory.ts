import type { Redis } from 'ioredis';
import { UnavailableError } from '../core/errors.js';
import type { PreviewPublisher } from '../core/preview-publisher.js';
import type { PreviewRegistry } from './preview-registry.js';

/** Where a worker serves a preview: its internal base URL (never a sandbox's own address). */
export interface RemotePreview {
  url: string;
  expiresAt: number;
  /**
   * The worker process that registered it. While it lives it renews a presence key; an entry
   * whose worker stopped renewing (killed, host gone) is stale: the preview is treated as dead
   * and revived by any worker.
   */
  worker?: string;
}

/** How often a worker renews its presence, and how long the presence outlives the last renewal. */
export const PRESENCE_EVERY_MS = 5000;
export const PRESENCE_TTL_MS = 15_000;

/** The shape of the tokens PreviewRegistry issues: 128 random bits, base64url. */
const TOKEN = /^[A-Za-z0-9_-]{22}$/;

/**
 * Preview tokens shared through Redis when the gateway and the worker are separate processes: a
 * worker records `token -> its internal URL` under devbot's queue prefix, with the preview's TTL,
 * and the gateway looks a token up there when its own registry does not know it. Only devbot's
 * workers write these keys, and what is read back must still parse as an http(s) base URL.
 */
export class PreviewDirectory {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #now: () => number;

  constructor(options: { redis: Redis; prefix: string; now?: () => number }) {
    this.#redis = options.redis;
    this.#prefix = options.prefix;
    this.#now = options.now ?? Date.now;
  }

  async put(token: string, entry: RemotePreview): Promise<void> {
    const ttlMs = Math.max(1, entry.expiresAt - this.#now());
    await this.#redis.set(this.#key(token), JSON.stringify(entry), 'PX', ttlMs);
  }

  async remove(tokens: readonly string[]): Promise<void> {
    if (tokens.length > 0) await this.#redis.del(...tokens.map((t) => this.#key(t)));
  }

  /**
   * Marks a worker as alive until `PRESENCE_TTL_MS` from now, and again every `PRESENCE_EVERY_MS`
   * until the returned function is called (which removes the mark: that worker's entries are stale).
   */
  announce(worker: string, onError?: (err: unknown) => void): () => Promise<void> {
    const key = this.#presenceKey(worker);
    let failing = false;
    const beat = () =>
      this.#redis.set(key, '1', 'PX', PRESENCE_TTL_MS).then(
        () => {
          failing = false;
        },
        (err: unknown) => {
          if (!failing) onError?.(err);
          failing = true;
        },
      );
    void beat();
    const timer = setInterval(() => void beat(), PRESENCE_EVERY_MS);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await this.#redis.del(key).catch(() => {});
    };
  }

  /** Whether a process announced itself and still renews its presence. */
  async isAlive(worker: string): Promise<boolean> {
    return (await this.#redis.exists(this.#presenceKey(worker))) === 1;
  }

  /**
   * The worker that serves a token, or null when unknown, expired, malformed or stale (its worker
   * is gone; the entry is removed so that the next lookup does not ask again).
   */
  async lookup(token: string): Promise<RemotePreview | null> {
    const entry = await this.#read(token);
    if (!entry?.worker) return entry;
    if (await this.isAlive(entry.worker)) return entry;
    await this.#redis.del(this.#key(token)).catch(() => {});
    return null;
  }

  async #read(token: string): Promise<RemotePreview | null> {
    if (!TOKEN.test(token)) return null;
    const raw = await this.#redis.get(this.#key(token));
    if (!raw) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return null;
    }
    const { url, expiresAt, worker } = (parsed ?? {}) as Partial<RemotePreview>;
    if (typeof url !== 'string' || typeof expiresAt !== 'number' || expiresAt <= this.#now()) return null;
    try {
      const base = new URL(url);
      if (base.protocol !== 'http:' && base.protocol !== 'https:') return null;
    } catch {
      return null;
    }
    return {
      url: url.replace(/\/+$/, ''),
      expiresAt,
      ...(typeof worker === 'string' && worker !== '' ? { worker } : {}),
    };
  }

  #key(token: string): string {
    return `${this.#prefix}:preview:${token}`;
  }

  #presenceKey(worker: string): string {
    return `${this.#prefix}:preview-worker:${worker}`;
  }
}

/**
 * A worker's publisher when the gateway is another process: the preview is registered locally
 * (the worker's own `/preview/` route serves it) and its token recorded in Redis before the URL is
 * handed out, so the link works as soon as anyone sees it.
 */
export function sharedPreviewPublisher(
  registry: PreviewRegistry,
  directory: PreviewDirectory,
  internalUrl: () => string,
  worker?: string,
): PreviewPublisher {
  return {
    async publish(target) {
      const entry = registry.publishEntry(target);
      try {
        await directory.put(entry.token, {
          url: internalUrl(),
          expiresAt: entry.expiresAt,
          ...(worker ? { worker } : {}),
        });
      } catch (err) {
        registry.unpublish(entry.token);
        throw new UnavailableError('could not share the preview link with the gateway (Redis)', {
          cause: err,
        });
      }
      return entry.url;
    },
    unpublishSandbox(sandboxId) {
      const tokens = registry.unpublishSandbox(sandboxId);
      // The key expires on its own; deleting it now makes a closed preview 404 at once.
      void directory.remove(tokens).catch(() => {});
    },
  };
}

/**
 * A worker's alias for a revived preview: its old token (the link people have) answers with the
 * new sandbox here, and the directory sends the gateway to this worker for it.
 */
export async function sharePreviewAlias(
  registry: PreviewRegistry,
  directory: PreviewDirectory,
  internalUrl: () => string,
  worker: string,
  oldToken: string,
  newToken: string,
): Promise<void> {
  registry.alias(oldToken, newToken);
  const entry = registry.lookup(newToken);
  if (!entry) return;
  await directory.put(oldToken, { url: internalUrl(), expiresAt: entry.expiresAt, worker });
}
