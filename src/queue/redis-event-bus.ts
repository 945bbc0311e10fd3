import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { EventBus, TaskEvent } from '../core/index.js';
import { createRedis } from './redis-connection.js';
import { TailSubscriber } from './tail-subscriber.js';

export interface RedisEventBusOptions {
  url: string;
  /** Command connection (shared). */
  connection: Redis;
  prefix: string;
  /** Entries kept per task stream (approximate). */
  maxLen?: number;
  /** Seconds a task's stream lives after its last event. */
  ttlSeconds?: number;
  /** How long one XREAD blocks before it is issued again (a stream added meanwhile cuts it short). */
  blockMs?: number;
}

interface WireEvent {
  taskId: string;
  seq: number;
  at: string;
  type: TaskEvent['type'];
  data: Record<string, unknown>;
}

/** A task stream the shared reader follows, and who is listening to it. */
interface Followed {
  /** The last entry id read; '0' reads the stream from its start. */
  lastId: string;
  subscribers: Set<TailSubscriber>;
}

/** Entries one XREAD returns per stream. */
const READ_COUNT = 100;

/**
 * Live task events on a Redis Stream per task. Postgres holds the record; this only lets other
 * processes tail a task without polling the database.
 *
 * Tails share one reader: a single connection issues one blocking XREAD over every followed stream
 * and fans the entries out in memory, so a process holds one reading connection however many
 * streams are open (one each let a single user take hundreds of Redis connections). A stream added
 * while the XREAD blocks cuts it short with CLIENT UNBLOCK, so its events are not held back.
 */
export class RedisEventBus implements EventBus {
  /** The reader's connection name: unique per bus, so CLIENT LIST shows whose it is. */
  readonly readerName = `devbot-tail-${randomBytes(4).toString('hex')}`;
  readonly #followed = new Map<string, Followed>();
  #reader: Redis | null = null;
  #readerId: number | null = null;
  #loop: Promise<void> | null = null;
  /** Resolves the reader's idle wait (nothing followed). */
  #wake: (() => void) | null = null;
  /** Bumped whenever a stream is added; the XREAD in flight read the streams of `#reading`. */
  #generation = 0;
  #reading = -1;
  #closed = false;
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
    if (this.#closed || signal.aborted) return;
    const key = this.streamKey(taskId);
    const subscriber = new TailSubscriber();
    let followed = this.#followed.get(key);
    const fresh = !followed;
    if (!followed) {
      followed = { lastId: '0', subscribers: new Set() };
      this.#followed.set(key, followed);
    }
    followed.subscribers.add(subscriber);
    const onAbort = () => subscriber.end();
    signal.addEventListener('abort', onAbort, { once: true });
    let last = afterSeq;
    try {
      this.#ensureReader();
      if (fresh) this.#streamsChanged();
      else {
        // The reader is past this stream's start: what it holds so far is read here, and live
        // entries the reader hands over meanwhile wait in the subscriber (repeats are skipped).
        const entries = await this.options.connection.xrange(key, '-', '+');
        for (const [, fields] of entries) {
          const event = parseEntry(fields);
          if (!event || event.seq <= last) continue;
          if (signal.aborted) return;
          last = event.seq;
          yield event;
        }
      }
      for (;;) {
        const event = await subscriber.next();
        if (!event) return;
        if (event.seq <= last) continue;
        last = event.seq;
        yield event;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      followed.subscribers.delete(subscriber);
      // The reader drops the stream at its next XREAD; entries it still returns go nowhere.
      if (followed.subscribers.size === 0 && this.#followed.get(key) === followed) this.#followed.delete(key);
    }
  }

  /** Streams followed right now (for tests and metrics). */
  get followedStreams(): number {
    return this.#followed.size;
  }

  #ensureReader(): void {
    if (this.#loop || this.#closed) return;
    const reader = createRedis(this.options.url, { blocking: true, name: this.readerName });
    // A reconnected reader has a new client id: look it up again before the next XREAD.
    reader.on('ready', () => {
      this.#readerId = null;
    });
    this.#reader = reader;
    this.#loop = this.#read(reader);
  }

  async #read(reader: Redis): Promise<void> {
    while (!this.#closed) {
      if (this.#followed.size === 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      let res: [string, [string, string[]][]][] | null;
      try {
        this.#readerId ??= Number(await reader.client('ID'));
        const keys = [...this.#followed.keys()];
        const ids = keys.map((k) => this.#followed.get(k)?.lastId ?? '0');
        this.#reading = this.#generation;
        res = (await reader.xread(
          'COUNT',
          READ_COUNT,
          'BLOCK',
          this.options.blockMs ?? 5000,
          'STREAMS',
          ...keys,
          ...ids,
        )) as [string, [string, string[]][]][] | null;
      } catch {
        if (this.#closed) return;
        // Redis is away: ioredis reconnects; try again shortly.
        await new Promise((r) => setTimeout(r, 250));
        continue;
      } finally {
        this.#reading = -1;
      }
      for (const [key, entries] of res ?? []) {
        const followed = this.#followed.get(key);
        if (!followed) continue;
        for (const [id, fields] of entries) {
          followed.lastId = id;
          const event = parseEntry(fields);
          if (event) for (const subscriber of followed.subscribers) subscriber.push(event);
        }
      }
    }
  }

  /** A stream was added: the reader must include it now, not when its XREAD times out. */
  #streamsChanged(): void {
    this.#generation += 1;
    const wake = this.#wake;
    this.#wake = null;
    if (wake) wake();
    else void this.#unblock(this.#generation);
  }

  async #unblock(generation: number): Promise<void> {
    // The UNBLOCK can overtake the XREAD it means to cut short (they travel on two connections):
    // then nothing was blocked yet, and it is sent again a moment later.
    for (let attempt = 0; attempt < 20; attempt++) {
      // Done when a newer change took over, or the reader is between two XREADs (the next one
      // includes the new stream).
      if (this.#closed || generation !== this.#generation || this.#reading === -1) return;
      const id = this.#readerId;
      if (id !== null) {
        const unblocked = await this.options.connection.client('UNBLOCK', id).catch(() => 0);
        if (Number(unblocked) === 1) return;
      }
      await new Promise((r) => setTimeout(r, 10));
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
    this.#closed = true;
    for (const followed of this.#followed.values())
      for (const subscriber of followed.subscribers) subscriber.end();
    this.#followed.clear();
    this.#wake?.();
    this.#wake = null;
    this.#reader?.disconnect();
    this.#reader = null;
    await this.#loop;
    this.#loop = null;
    this.#cancelListeners.clear();
    if (this.#subscriberConn) {
      this.#subscriberConn.disconnect();
      this.#subscriberConn = null;
    }
  }
}

function parseEntry(fields: string[]): TaskEvent | null {
  const raw = fields[1];
  if (!raw) return null;
  const wire = JSON.parse(raw) as WireEvent;
  return { ...wire, at: new Date(wire.at) } as TaskEvent;
}
