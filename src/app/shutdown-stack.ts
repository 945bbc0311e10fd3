import type { Logger } from '../observability/logger.js';

/** Stop steps in the order things started; stopAll() runs them in reverse, each at most once. */
export class ShutdownStack {
  readonly #steps: (() => Promise<void>)[] = [];
  #stopping: Promise<void> | null = null;

  constructor(private readonly logger: Logger) {}

  push(step: () => Promise<void>): void {
    this.#steps.push(step);
  }

  /** Safe to call twice: the second call waits for the first. */
  stopAll(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const step of this.#steps.splice(0).reverse()) {
        await step().catch((err) => this.logger.warn({ err }, 'error while stopping'));
      }
    })();
    return this.#stopping;
  }
}
