import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  type EventBus,
  isTerminal,
  isTerminalEvent,
  type ShareLinks,
  type TaskEvent,
  type TaskStore,
} from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import { SubjectSlots } from './subject-slots.js';
import { eventJson } from './task-json.js';
import { InvalidTokenError, NOT_VALID, type TokenIssuer } from './token-issuer.js';
import { cookieOf, SESSION_COOKIE, sameOrigin } from './ui/ui-session.js';

export interface TaskStreamDeps {
  store: TaskStore;
  bus: EventBus;
  tokens: TokenIssuer;
  logger: Logger;
  /** How often to re-read the store when no live event arrived (covers a lost Redis stream). */
  pollMs?: number;
  /** Streams one subject may hold open at once (DEVBOT_STREAMS_PER_USER); more are refused, 429. */
  maxPerSubject?: number;
  /** Share links: `?share=<token>` streams the one task the link opens (the dashboard's share page). */
  shareLinks?: Pick<ShareLinks, 'resolve'>;
}

const PATH = /^\/tasks\/([0-9a-fA-F-]{36})\/stream$/;

/**
 * WS /tasks/:id/stream?after=SEQ — replays stored events after SEQ, then live ones, in seq order
 * with no gaps or repeats, and closes when the task ends. Resuming with the last seq seen
 * continues exactly where the client left off; resuming a task that already ended closes at once.
 * Each subject holds at most `maxPerSubject` streams at once.
 *
 * Credentials: a Bearer header or `?token=` (API clients); the dashboard's session cookie, only from
 * a page of devbot's own origin; or `?share=<token>`, for the one task that share link opens.
 */
export class TaskStreamServer {
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #slots: SubjectSlots;

  constructor(private readonly deps: TaskStreamDeps) {
    this.#slots = new SubjectSlots(deps.maxPerSubject ?? 20);
  }

  matches(req: IncomingMessage): boolean {
    const url = new URL(req.url ?? '/', 'http://x');
    return PATH.test(url.pathname);
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    void this.#upgrade(req, socket, head).catch((err) => {
      this.deps.logger.warn({ err }, 'task stream upgrade failed');
      rejectUpgrade(socket, 500, 'internal', 'the stream could not start');
    });
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const taskId = PATH.exec(url.pathname)?.[1] ?? '';
    const header = req.headers.authorization ?? '';
    const cookie = cookieOf(req, SESSION_COOKIE);
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? url.searchParams.get('token') ?? (cookie || '');
    const share = url.searchParams.get('share');
    let subject: string;
    let privileged: boolean;
    if (share !== null) {
      // A share link reads its one task; its streams count against the link, not a person.
      const shared = this.deps.shareLinks ? await this.deps.shareLinks.resolve(share) : null;
      if (!shared || shared.toLowerCase() !== taskId.toLowerCase())
        return rejectUpgrade(socket, 404, 'not_found', 'this link opens no task here');
      subject = `share:${shared}`;
      privileged = true;
    } else if (!token) {
      return rejectUpgrade(socket, 401, 'unauthorized', 'send a Bearer token or ?token=');
    } else if (token === cookie && !sameOrigin(req)) {
      return rejectUpgrade(socket, 403, 'forbidden', "the session cookie works only from devbot's own pages");
    } else {
      let scopes: readonly string[];
      try {
        const claims = await this.deps.tokens.verify(token);
        subject = claims.subject;
        scopes = claims.scopes;
      } catch (err) {
        const why = err instanceof InvalidTokenError ? err.message : NOT_VALID;
        return rejectUpgrade(socket, 401, 'unauthorized', why);
      }
      privileged = scopes.includes('admin');
      if (!privileged && !scopes.includes('tasks:read')) {
        return rejectUpgrade(socket, 403, 'forbidden', 'the token lacks the tasks:read scope');
      }
    }
    // A slot is taken before anything else is looked up, so a burst of upgrades cannot all pass
    // the count; it is given back when the connection closes, or at once when refused.
    const release = this.#slots.take(subject);
    if (!release)
      return rejectUpgrade(
        socket,
        429,
        'too_many_streams',
        `at most ${this.#slots.max} streams may be open at once per user; close one first`,
      );
    socket.once('close', release);
    const refuse = (status: number, code: string, message: string) => {
      release();
      rejectUpgrade(socket, status, code, message);
    };
    const afterRaw = url.searchParams.get('after') ?? '0';
    if (!/^\d{1,9}$/.test(afterRaw)) return refuse(400, 'invalid_query', 'after must be a seq number');
    const task = await this.deps.store.getTask(taskId).catch((err: unknown) => {
      release();
      throw err;
    });
    if (!task) return refuse(404, 'not_found', `no task ${taskId}`);
    if (!privileged && task.requester !== subject)
      return refuse(403, 'forbidden', 'this task belongs to someone else');
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      void this.#stream(ws, taskId, Number(afterRaw)).catch((err) => {
        this.deps.logger.warn({ err, taskId }, 'task stream failed');
        ws.close(1011, 'stream failed');
      });
    });
  }

  async #stream(ws: WebSocket, taskId: string, after: number): Promise<void> {
    const controller = new AbortController();
    ws.on('close', () => controller.abort());
    ws.on('error', () => controller.abort());
    await this.follow(
      taskId,
      after,
      {
        send: (event) => ws.send(JSON.stringify({ taskId, ...eventJson(event) })),
        end: () => ws.close(1000, 'task ended'),
      },
      controller,
    );
  }

  /**
   * A stream slot for `subject` (the SSE endpoint takes one as the WebSocket does), or null when
   * the subject holds `maxPerSubject` already. Call the release when the stream ends.
   */
  takeSlot(subject: string): (() => void) | null {
    return this.#slots.take(subject);
  }

  /**
   * Sends a task's events after `after` to `sink`, stored ones first and then live ones, in seq
   * order with no gaps or repeats, and calls `sink.end` once the task has ended (at once for a
   * resume at or past its end). Returns when it ended or `controller` was aborted.
   */
  async follow(
    taskId: string,
    after: number,
    sink: { send(event: TaskEvent): void; end(): void },
    controller: AbortController,
  ): Promise<void> {
    let sent = after;
    let ended = false;
    const finish = (): void => {
      if (ended) return;
      ended = true;
      sink.end();
      controller.abort();
    };
    const send = (event: TaskEvent): void => {
      if (event.seq <= sent || ended) return;
      sink.send(event);
      sent = event.seq;
      if (isTerminalEvent(event)) finish();
    };
    const catchUp = async (): Promise<void> => {
      for (const event of await this.deps.store.listEvents(taskId, sent)) send(event);
    };
    /**
     * Replays what is stored; a task that had already ended with nothing left to send (a resume
     * with `after` at or past its end) ends now instead of waiting for an event that will not
     * come. The status is read first: a task ends with its terminal event in the same write, so
     * the replay after it includes that event whenever there is one to send.
     */
    const catchUpOrEnd = async (): Promise<void> => {
      const task = await this.deps.store.getTask(taskId);
      await catchUp();
      if (!ended && task && isTerminal(task.status)) finish();
    };

    // Start tailing first, then replay: anything published in between is in the stream too.
    const live = this.deps.bus.tail(taskId, after, controller.signal)[Symbol.asyncIterator]();
    await catchUpOrEnd();
    if (ended) return;
    const poll = setInterval(() => {
      void catchUpOrEnd().catch(() => {});
    }, this.deps.pollMs ?? 3000);
    try {
      while (!controller.signal.aborted) {
        const next = await live.next();
        if (next.done) break;
        const event = next.value;
        if (event.seq > sent + 1) await catchUp(); // a gap (trimmed stream): fill from the store
        send(event);
      }
    } finally {
      clearInterval(poll);
      controller.abort();
      await live.return?.();
    }
  }

  close(): void {
    for (const client of this.#wss.clients) client.close(1001, 'server shutting down');
    this.#wss.close();
  }
}

function rejectUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: code, message });
  const reason =
    {
      400: 'Bad Request',
      401: 'Unauthorized',
      403: 'Forbidden',
      404: 'Not Found',
      429: 'Too Many Requests',
    }[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
