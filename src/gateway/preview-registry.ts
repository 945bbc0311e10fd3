import { randomBytes } from 'node:crypto';
import type { PreviewPublisher, PreviewTarget } from '../../sandbox/preview-publisher.js';

export interface PreviewEntry extends PreviewTarget {
  token: string;
  url: string;
  expiresAt: number;
}

export interface PreviewRegistryOptions {
  /** Base URL of the gateway (DEVBOT_PUBLIC_URL or the bound address), read at publish time. */
  publicUrl: () => string;
  /** How long a preview URL lives unless its sandbox closes first. */
  ttlSeconds: number;
  now?: () => number;
  /** Told the number of live previews whenever it changes (metrics.previewsActive). */
  onSizeChange?: (size: number) => void;
}

/**
 * Unguessable preview tokens (128 random bits) -> the sandbox socket that serves them. In-process:
 * the gateway that proxies must run in the same process as the worker that owns the sandbox
 * (role `all`), since the socket lives on that host.
 */
export class PreviewRegistry implements PreviewPublisher {
  readonly #entries = new Map<string, PreviewEntry>();
  readonly #o: PreviewRegistryOptions;

  constructor(options: PreviewRegistryOptions) {
    this.#o = options;
  }

  publish(target: PreviewTarget): string {
    const token = randomBytes(16).toString('base64url');
    const base = this.#o.publicUrl().replace(/\/+$/, '');
    const url = `${base}/preview/${token}/`;
    this.#entries.set(token, { ...target, token, url, expiresAt: this.#now() + this.#o.ttlSeconds * 1000 });
    this.#changed();
    return url;
  }

  lookup(token: string): PreviewEntry | null {
    const entry = this.#entries.get(token);
    if (!entry) return null;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(token);
      this.#changed();
      return null;
    }
    return entry;
  }

  unpublishSandbox(sandboxId: string): void {
    let removed = false;
    for (const [token, entry] of this.#entries) {
      if (entry.sandboxId === sandboxId) {
        this.#entries.delete(token);
        removed = true;
      }
    }
    if (removed) this.#changed();
  }

  get size(): number {
    return this.#entries.size;
  }

  #now(): number {
    return this.#o.now?.() ?? Date.now();
  }

  #changed(): void {
    this.#o.onSizeChange?.(this.#entries.size);
  }
}
