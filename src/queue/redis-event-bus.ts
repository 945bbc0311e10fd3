import type { Redis } from 'ioredis';
import type { EventBus, TaskEvent } from '../core/index.js';
import { createRedis } from './redis-connection.js';

export interface RedisEventBusOptions {
  url: string;
  /** Command connection (shared). */
  connection: Redis;
  prefix: string;
  /** Entries kept per task stream (approximate). */
  maxLen?: number;
  /** Seconds a task's stream lives after its last event. */
  ttlSeconds?: number;
  /** How long one XREAD blocks before checking the abort signal again. */
  blockMs?: number;
}

interface WireEvent {
  taskId: string;
  seq: number;
  at: string;
  type: TaskEvent['type'];
  data: Record<string, unknown>;
}

/**
 * Live task events on a Redis Stream per task. Postgres holds the record; this only lets other
 * processes tail a task without polling the database.
 */
export class RedisEventBus implements EventBus {
  readonly #tails = new Set<Redis>();
  #subscriberConn: Redis | null = null;
  readonly #cancelListeners = new Set<(taskId: string) => void>();

  constructor(private readonly options: RedisEventBusOptions) {}

  streamKey(taskId: string): string {
    return `${this.options.prefix}:events:${taskId}`;
  }

  get cancelChannel(): string {
    return `${this.options.prefix}:cancel`;
  }

  async publish(event: TaskEvent): Promise<void> {
    const wire: WireEvent = { ...event, at: event.at.toISOString() };
    const key = this.streamKey(event.taskId);
    await this.options.connection
      .multi()
      .xadd(key, 'MAXLEN', '~', String(this.options.maxLen ?? 2000), '*', 'e', JSON.stringify(wire))
      .expire(key, this.options.ttlSeconds ?? 24 * 3600)
      .exec();
  }

  async *tail(taskId: string, afterSeq: number, signal: AbortSignal): AsyncIterable<TaskEvent> {
    // A blocking XREAD holds its connection, so each tail gets its own.
    const conn = createRedis(this.options.url, { blocking: true, name: 'devbot-tail' });
    this.#tails.add(conn);
    const onAbort = () => conn.disconnect();
    signal.addEventListener('abort', onAbort, { once: true });
    let lastId = '0';
    try {
      while (!signal.aborted) {
        let res: [string, [string, string[]][]][] | null;
        try {
          res = (await conn.xread(
            'COUNT',
            100,
            'BLOCK',
            this.options.blockMs ?? 5000,
            'STREAMS',
            this.streamKey(taskId),
            lastId,
          )) as [string, [string, string[]][]][] | null;
        } catch (err) {
          if (signal.aborted) return;
          throw err;
        }
        if (!res) continue;
        for (const [, entries] of res) {
          for (const [id, fields] of entries) {
            lastId = id;
            const raw = fields[1];
            if (!raw) continue;
            const wire = JSON.parse(raw) as WireEvent;
            if (wire.seq <= afterSeq) continue;
            yield { ...wire, at: new Date(wire.at) } as TaskEvent;
          }
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#tails.delete(conn);
      conn.disconnect();
    }
  }

  async requestCancel(taskId: string): Promise<void> {
    await this.options.connection.publish(this.cancelChannel, taskId);
  }

  async onCancel(listener: (taskId: string) => void): Promise<() => Promise<void>> {
    if (!this.#subscriberConn) {
      const sub = createRedis(this.options.url, { blocking: true, name: 'devbot-cancel' });
      sub.on('message', (_channel: string, taskId: string) => {
        for (const l of this.#cancelListeners) l(taskId);
      });
      await sub.subscribe(this.cancelChannel);
      this.#subscriberConn = sub;
    }
    this.#cancelListeners.add(listener);
    return async () => {
      this.#cancelListeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    for (const conn of this.#tails) conn.disconnect();
    this.#tails.clear();
    this.#cancelListeners.clear();
    if (this.#subscriberConn) {
      this.#subscriberConn.disconnect();
      this.#subscriberConn = null;
    }
  }
}
