import type { ApiTokenLog } from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import type { RevokedTokens } from './token-issuer.js';

/**
 * The revoked token ids, held in memory for the per-request check and read again from the token
 * log every `pollMs`, so a revocation made by another process (`devbot token --revoke` on
 * PostgreSQL, another gateway) takes effect within seconds. One made here takes effect at once.
 * A log that does not answer keeps the last known set (and says so once).
 */
export class TokenRevocations implements RevokedTokens {
  #ids = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #failing = false;

  constructor(
    private readonly log: Pick<ApiTokenLog, 'revokedIds'>,
    private readonly options: { pollMs: number; logger?: Logger },
  ) {}

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  add(id: string): void {
    this.#ids.add(id);
  }

  async refresh(): Promise<void> {
    try {
      const ids = await this.log.revokedIds();
      // A revocation is never undone, so the set only grows (by what this process revoked while
      // the query ran, too); it holds no more than the revocations ever made.
      for (const id of ids) this.#ids.add(id);
      if (this.#failing) this.options.logger?.info('token revocations are read again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing)
        this.options.logger?.warn({ err }, 'cannot read token revocations; the last known ones still apply');
      this.#failing = true;
    }
  }

  /** Loads the set once, then keeps it current until `stop`. */
  async start(): Promise<void> {
    await this.refresh();
    const tick = () => {
      this.#timer = setTimeout(
        () => void this.refresh().finally(() => this.#timer && tick()),
        this.options.pollMs,
      );
      this.#timer.unref();
    };
    tick();
  }

  stop(): void {
    const timer = this.#timer;
    this.#timer = undefined;
    clearTimeout(timer);
  }
}
