import type { Logger } from '../observability/logger.js';

export interface ShutdownStep {
  /** Named in the log line when it does not finish in time. */
  name: string;
  run(): Promise<void>;
  /** The most this step may take (it also never runs past the whole shutdown's deadline). */
  maxMs?: number;
}

export interface ShutdownStackOptions {
  /** The whole shutdown ends within this, whatever is unreachable (DEVBOT_SHUTDOWN_GRACE_MS). */
  graceMs?: number;
  /** A step with no maxMs of its own gets at most this. Default 5 s. */
  stepMs?: number;
}

/**
 * Stop steps in the order things started; stopAll() runs them in reverse, each at most once, each
 * within its own deadline and all within the grace period. A step that does not finish in time
 * (a client retrying an unreachable Redis, Telegram or PostgreSQL) is logged once by name and left
 * behind: the next steps still run, and the process exits when the CLI says so.
 */
export class ShutdownStack {
  readonly #steps: ShutdownStep[] = [];
  #stopping: Promise<void> | null = null;
  readonly graceMs: number;
  readonly #stepMs: number;

  constructor(
    private readonly logger: Logger,
    options: ShutdownStackOptions = {},
  ) {
    this.graceMs = options.graceMs ?? 25_000;
    this.#stepMs = options.stepMs ?? 5000;
  }

  push(step: (() => Promise<void>) | ShutdownStep, name = 'a stop step'): void {
    this.#steps.push(typeof step === 'function' ? { name, run: step } : step);
  }

  /** Safe to call twice: the second call waits for the first. */
  stopAll(): Promise<void> {
    this.#stopping ??= (async () => {
      const deadline = Date.now() + this.graceMs;
      const late: string[] = [];
      for (const step of this.#steps.splice(0).reverse()) {
        const left = deadline - Date.now();
        const allowed = Math.max(0, Math.min(step.maxMs ?? this.#stepMs, left));
        const outcome = await withDeadline(step.run(), allowed).catch((err: unknown) => {
          this.logger.warn({ err, step: step.name }, 'error while stopping');
          return 'done' as const;
        });
        if (outcome === 'late') late.push(step.name);
      }
      if (late.length > 0)
        this.logger.warn(
          { steps: late, graceMs: this.graceMs },
          `shutdown went on without waiting for: ${late.join(', ')} (each has a deadline; the whole shutdown ends within DEVBOT_SHUTDOWN_GRACE_MS)`,
        );
    })();
    return this.#stopping;
  }
}

/** 'done' when the promise settles within ms, 'late' otherwise (the promise runs on, unobserved). */
export function withDeadline(promise: Promise<unknown>, ms: number): Promise<'done' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
    timer.unref();
  });
  return Promise.race([promise.then(() => 'done' as const), late]).finally(() => clearTimeout(timer));
}
