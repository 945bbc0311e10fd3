/**
 * Security review (issue 13), finding 4: one token opened 400 task streams, each holding its own
 * Redis connection. Streams now share one blocking reader per process, each user may hold
 * DEVBOT_STREAMS_PER_USER of them, and resuming a task that already ended closes at once.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { TaskHandler } from '../../src/core/index.js';
import type { RedisEventBus } from '../../src/queue/redis-event-bus.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { TEST_REDIS_URL, waitFor } from '../helpers/test-env.js';

interface Received {
  seq: number;
  type: string;
  data: Record<string, unknown>;
}

/** A task handler the test drives: it emits a step when asked and ends when told. */
function drivenHandler() {
  const running = new Map<string, { step: (message: string) => Promise<unknown>; finish: () => void }>();
  const handler: TaskHandler = async (ctx) => {
    await new Promise<void>((resolve, reject) => {
      running.set(ctx.task.id, {
        step: (message) => ctx.emit('step', { phase: 'test', message }),
        finish: resolve,
      });
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
    });
    return { summary: 'done' };
  };
  const task = (id: string) => waitFor(() => running.get(id), `task ${id} to run`);
  return { handler, task };
}

/** A WebSocket stream as a client sees it: what arrived, and how it ended or was refused. */
function openStream(url: string, token: string, taskId: string, after = 0) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/tasks/${taskId}/stream?after=${after}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const events: Received[] = [];
  const listeners = new Set<() => void>();
  ws.on('message', (data) => {
    events.push(JSON.parse(String(data)) as Received);
    for (const l of listeners) l();
  });
  const opened = new Promise<{ refused: number | null; body: string }>((resolve, reject) => {
    ws.once('open', () => resolve({ refused: null, body: '' }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d;
      });
      res.on('end', () => resolve({ refused: res.statusCode ?? 0, body }));
    });
    ws.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: String(reason), at: performance.now() })),
  );
  /** Resolves with the first event matching `pick`. */
  const next = (pick: (e: Received) => boolean) =>
    new Promise<Received>((resolve) => {
      const check = () => {
        const found = events.find(pick);
        if (found) {
          listeners.delete(check);
          resolve(found);
        }
      };
      listeners.add(check);
      check();
    });
  return { ws, events, opened, closed, next };
}

async function readersNamed(name: string): Promise<number> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const list = String(await redis.client('LIST'));
    return list.split('\n').filter((line) => line.split(' ').includes(`name=${name}`)).length;
  } finally {
    redis.disconnect();
  }
}

describe('task streams', () => {
  let devbot: TestDevbot;
  const driven = drivenHandler();
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    devbot = await startTestDevbot({
      // 60 tasks held open at once: a busy machine can starve the 2 s test lock of its renewal, and a
      // job BullMQ takes for stalled runs twice. Stall recovery has its own test (durability).
      env: {
        DEVBOT_CONCURRENCY: '60',
        DEVBOT_STREAMS_PER_USER: '20',
        DEVBOT_LOCK_DURATION_MS: '30000',
        DEVBOT_STALLED_INTERVAL_MS: '30000',
      },
      handlers: { question: driven.handler },
    });
    for (const user of ['ann', 'ben', 'cat', 'dan', 'eve']) tokens[user] = (await devbot.client(user)).token;
  });
  afterAll(async () => devbot?.stop());

  const createAs = async (user: string, prompt: string): Promise<string> => {
    const client = await devbot.client(user);
    const res = await client.createTask({ kind: 'question', prompt });
    expect(res.status).toBe(202);
    return res.body.id as string;
  };

  it('50 concurrent streams read through one Redis connection, and each gets its live events', async () => {
    const bus = devbot.app.runtime.bus as RedisEventBus;
    // 50 streams of three users (20 + 20 + 10), one task each.
    const owners = Array.from({ length: 50 }, (_, i) => ['ann', 'ben', 'cat'][Math.floor(i / 20)]!);
    const ids = await Promise.all(owners.map((user, i) => createAs(user, `stream ${i}`)));
    await Promise.all(ids.map((id) => driven.task(id)));
    const streams = ids.map((id, i) => openStream(devbot.app.url, tokens[owners[i]!]!, id));
    expect((await Promise.all(streams.map((s) => s.opened))).every((o) => o.refused === null)).toBe(true);
    await Promise.all(streams.map((s) => s.next((e) => e.type === 'task.started')));
    expect(bus.followedStreams).toBe(50);
    expect(await readersNamed(bus.readerName)).toBe(1);

    for (const [i, id] of ids.entries()) await (await driven.task(id)).step(`live ${i}`);
    await Promise.all(streams.map((s, i) => s.next((e) => e.data['message'] === `live ${i}`)));
    for (const id of ids) (await driven.task(id)).finish();
    const ends = await Promise.all(streams.map((s) => s.closed));
    expect(ends.every((e) => e.code === 1000)).toBe(true);
    for (const s of streams) {
      expect(s.events.map((e) => e.type)).toEqual(['task.created', 'task.started', 'step', 'task.succeeded']);
      expect(s.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    }
    await waitFor(() => bus.followedStreams === 0, 'the reader to drop the ended streams');
    // Still one reader, idle, for the next streams.
    expect(await readersNamed(bus.readerName)).toBe(1);
  }, 60_000);

  it('a stream opened while the reader blocks gets its live events at once, not at the next poll', async () => {
    const first = await createAs('dan', 'first');
    const second = await createAs('dan', 'second');
    const [a, b] = [await driven.task(first), await driven.task(second)];
    const streamA = openStream(devbot.app.url, tokens['dan']!, first);
    await streamA.next((e) => e.type === 'task.started');
    // The shared XREAD now blocks on the first task's stream alone.
    await new Promise((r) => setTimeout(r, 300));
    const streamB = openStream(devbot.app.url, tokens['dan']!, second);
    await streamB.next((e) => e.type === 'task.started');
    const sent = performance.now();
    await b.step('right away');
    await streamB.next((e) => e.data['message'] === 'right away');
    // The stream's fallback re-reads the store every 3 s; live events come well before that.
    expect(performance.now() - sent).toBeLessThan(1000);
    a.finish();
    b.finish();
    await Promise.all([streamA.closed, streamB.closed]);
  });

  it('refuses a user’s stream over DEVBOT_STREAMS_PER_USER with 429; others are unaffected', async () => {
    const id = await createAs('eve', 'watched a lot');
    const task = await driven.task(id);
    const held = Array.from({ length: 20 }, () => openStream(devbot.app.url, tokens['eve']!, id));
    expect((await Promise.all(held.map((s) => s.opened))).every((o) => o.refused === null)).toBe(true);

    const over = openStream(devbot.app.url, tokens['eve']!, id);
    const refused = await over.opened;
    expect(refused.refused).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'too_many_streams' });

    // An admin watching the same task holds their own slots.
    const admin = await devbot.client('ops', ['admin']);
    const other = openStream(devbot.app.url, admin.token, id);
    expect((await other.opened).refused).toBeNull();

    // A closed stream gives its slot back.
    held[0]!.ws.close();
    await held[0]!.closed;
    const again = openStream(devbot.app.url, tokens['eve']!, id);
    await waitFor(async () => (await again.opened).refused === null || null, 'a slot to free up');
    task.finish();
    await Promise.all([...held.slice(1), other, again].map((s) => s.closed));
  });

  it('resuming with ?after=<last seq> a task that already ended closes at once: "task ended"', async () => {
    const id = await createAs('dan', 'ended');
    (await driven.task(id)).finish();
    const ended = await (await devbot.client('dan')).waitForEnd(id);
    expect(ended.status).toBe('succeeded');
    const last = (ended.events as Received[]).at(-1)!.seq;
    const started = performance.now();
    const resumed = openStream(devbot.app.url, tokens['dan']!, id, last);
    const closed = await Promise.race([
      resumed.closed,
      new Promise<null>((r) => setTimeout(() => r(null), 5000)),
    ]);
    expect(closed, 'the stream closed').not.toBeNull();
    expect(closed?.code).toBe(1000);
    expect(closed?.reason).toBe('task ended');
    expect(resumed.events).toEqual([]);
    expect((closed?.at ?? Number.POSITIVE_INFINITY) - started).toBeLessThan(1000);
    resumed.ws.terminate();
  });
});

describe('task events over Server-Sent Events', () => {
  let devbot: TestDevbot;
  const driven = drivenHandler();

  beforeAll(async () => {
    devbot = await startTestDevbot({ handlers: { question: driven.handler } });
  });
  afterAll(async () => devbot?.stop());

  /** Reads an SSE response to its end: each event's id, type and seq. */
  async function readSse(res: Response, onEvent?: (e: { id: string; event: string }) => void) {
    const events: { id: string; event: string; seq: number }[] = [];
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) =>
          block
            .split('\n')
            .find((l) => l.startsWith(`${name}:`))
            ?.slice(name.length + 1)
            .trim();
        const id = String(field('id') ?? '');
        const event = String(field('event') ?? '');
        const data = JSON.parse(String(field('data') ?? '{}')) as { seq: number };
        events.push({ id, event, seq: data.seq });
        onEvent?.({ id, event });
        end = buffer.indexOf('\n\n');
      }
    }
    return events;
  }

  it('follows a task live with curl -N semantics, resumes after Last-Event-ID, and ends with the task', async () => {
    const created = await devbot.api.createTask({ kind: 'question', prompt: 'sse' });
    const id = created.body.id as string;
    const task = await driven.task(id);
    const auth = { authorization: `Bearer ${devbot.api.token}` };
    const res = await fetch(`${devbot.app.url}/tasks/${id}/events`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    let stepped = false;
    const all = readSse(res, (e) => {
      // Live: once the replay reached task.started, the handler emits and then ends.
      if (e.event === 'task.started' && !stepped) {
        stepped = true;
        void task.step('live step').then(() => task.finish());
      }
    });
    const events = await all;
    expect(events.map((e) => e.event)).toContain('step');
    expect(events.at(-1)?.event).toBe('task.succeeded');
    expect(events.map((e) => Number(e.id))).toEqual(events.map((e) => e.seq));
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    // Resumed after the second event: exactly the rest, then the end.
    const second = seqs[1] as number;
    const resumed = await readSse(
      await fetch(`${devbot.app.url}/tasks/${id}/events`, {
        headers: { ...auth, 'last-event-id': String(second) },
      }),
    );
    expect(resumed.map((e) => e.seq)).toEqual(seqs.filter((s) => s > second));
    // Resumed at the end: ends at once with nothing.
    const atEnd = await readSse(
      await fetch(`${devbot.app.url}/tasks/${id}/events?after=${seqs.at(-1)}`, { headers: auth }),
    );
    expect(atEnd).toEqual([]);
  });

  it('refuses without a token, for someone else, and with a bad Last-Event-ID', async () => {
    const created = await devbot.api.createTask({ kind: 'question', prompt: 'mine' });
    const id = created.body.id as string;
    expect((await fetch(`${devbot.app.url}/tasks/${id}/events`)).status).toBe(401);
    const other = await devbot.client('mallory');
    expect(
      (
        await fetch(`${devbot.app.url}/tasks/${id}/events`, {
          headers: { authorization: `Bearer ${other.token}` },
        })
      ).status,
    ).toBe(403);
    const bad = await fetch(`${devbot.app.url}/tasks/${id}/events`, {
      headers: { authorization: `Bearer ${devbot.api.token}`, 'last-event-id': 'x' },
    });
    expect(bad.status).toBe(400);
    (await driven.task(id)).finish();
  });
});
