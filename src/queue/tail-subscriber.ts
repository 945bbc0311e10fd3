import type { TaskEvent } from '../core/index.js';

/**
 * Events beyond this wait for a slow consumer at most; older ones are dropped. EventBus.tail may
 * skip events, and its consumers fill gaps from the store, so a stalled client costs bounded memory.
 */
const MAX_WAITING = 1000;

/** One tail's inbox: the shared reader pushes events in, the tail's iterator takes them out. */
export class TailSubscriber {
  readonly #waiting: TaskEvent[] = [];
  #wake: (() => void) | null = null;
  #ended = false;

  push(event: TaskEvent): void {
    if (this.#ended) return;
    this.#waiting.push(event);
    if (this.#waiting.length > MAX_WAITING) this.#waiting.shift();
    this.#notify();
  }

  /** No more events: `next()` answers null from now on. */
  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** The next event, waiting for one; null once ended. */
  async next(): Promise<TaskEvent | null> {
    while (!this.#ended && this.#waiting.length === 0) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    if (this.#ended) return null;
    return this.#waiting.shift() ?? null;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
