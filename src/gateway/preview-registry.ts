import { randomBytes } from 'node:crypto';
import type { PreviewPublisher, PreviewTarget } from '../core/preview-publisher.js';
import { previewUrlFor } from './preview-host.js';

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
  /**
   * DEVBOT_PREVIEW_URL (`https://{token}.preview.example.com`): each preview on its own origin.
   * Tokens are then lowercase hex, as host names are case-insensitive.
   */
  previewUrlTemplate?: string | undefined;
}

/**
 * Unguessable preview tokens (128 random bits) -> the sandbox socket that serves them. In-process:
 * the socket lives on the worker's host. With separate roles, the worker also records its tokens
 * in Redis (preview-directory.ts) and the gateway forwards to the worker's own `/preview/` route.
 */
export class PreviewRegistry implements PreviewPublisher {
  readonly #entries = new Map<string, PreviewEntry>();
  readonly #aliases = new Map<string, string>();
  readonly #o: PreviewRegistryOptions;

  constructor(options: PreviewRegistryOptions) {
    this.#o = options;
  }

  publish(target: PreviewTarget): string {
    return this.publishEntry(target).url;
  }

  /** Like publish, with the token and expiry (to share them with a separate gateway). */
  publishEntry(target: PreviewTarget): PreviewEntry {
    const template = this.#o.previewUrlTemplate;
    const token = randomBytes(16).toString(template ? 'hex' : 'base64url');
    const url = template
      ? previewUrlFor(template, token)
      : `${this.#o.publicUrl().replace(/\/+$/, '')}/preview/${token}/`;
    const entry = { ...target, token, url, expiresAt: this.#now() + this.#o.ttlSeconds * 1000 };
    this.#entries.set(token, entry);
    this.#changed();
    return entry;
  }

  /** An ended preview's token answering with a revived one's entry (its link keeps working). */
  alias(oldToken: string, newToken: string): void {
    this.#aliases.set(oldToken, newToken);
  }

  lookup(token: string): PreviewEntry | null {
    const aliased = this.#aliases.get(token);
    if (aliased !== undefined) {
      const entry = this.lookup(aliased);
      if (!entry) this.#aliases.delete(token);
      return entry;
    }
    const entry = this.#entries.get(token);
    if (!entry) return null;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(token);
      this.#changed();
      return null;
    }
    return entry;
  }

  unpublish(token: string): void {
    if (this.#entries.delete(token)) this.#changed();
  }

  /** Forgets a sandbox's previews; returns their tokens (and the old tokens aliased to them). */
  unpublishSandbox(sandboxId: string): string[] {
    const removed: string[] = [];
    for (const [token, entry] of this.#entries) {
      if (entry.sandboxId === sandboxId) {
        this.#entries.delete(token);
        removed.push(token);
      }
    }
    if (removed.length > 0) this.#changed();
    // A revived preview's old link points at one of them: it is dead again too.
    for (const [alias, target] of this.#aliases) {
      if (removed.includes(target)) {
        this.#aliases.delete(alias);
        removed.push(alias);
      }
    }
    return removed;
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
