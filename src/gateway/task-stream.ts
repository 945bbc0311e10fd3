import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { type EventBus, isTerminalEvent, type TaskEvent, type TaskStore } from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import { eventJson } from './task-json.js';
import { InvalidTokenError, NOT_VALID, type TokenIssuer } from './token-issuer.js';

export interface TaskStreamDeps {
  store: TaskStore;
  bus: EventBus;
  tokens: TokenIssuer;
  logger: Logger;
  /** How often to re-read the store when no live event arrived (covers a lost Redis stream). */
  pollMs?: number;
}

const PATH = /^\/tasks\/([0-9a-fA-F-]{36})\/stream$/;

/**
 * WS /tasks/:id/stream?after=SEQ — replays stored events after SEQ, then live ones, in seq order
 * with no gaps or repeats, and closes when the task ends. Resuming with the last seq seen
 * continues exactly where the client left off.
 */
export class TaskStreamServer {
  readonly #wss = new WebSocketServer({ noServer: true });

  constructor(private readonly deps: TaskStreamDeps) {}

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
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? url.searchParams.get('token') ?? '';
    if (!token) return rejectUpgrade(socket, 401, 'unauthorized', 'send a Bearer token or ?token=');
    let subject: string;
    let privileged: boolean;
    try {
      const claims = await this.deps.tokens.verify(token);
      subject = claims.subject;
      privileged = claims.scopes.includes('admin');
      if (!privileged && !claims.scopes.includes('tasks:read')) {
        return rejectUpgrade(socket, 403, 'forbidden', 'the token lacks the tasks:read scope');
      }
    } catch (err) {
      const why = err instanceof InvalidTokenError ? err.message : NOT_VALID;
      return rejectUpgrade(socket, 401, 'unauthorized', why);
    }
    const afterRaw = url.searchParams.get('after') ?? '0';
    if (!/^\d{1,9}$/.test(afterRaw))
      return rejectUpgrade(socket, 400, 'invalid_query', 'after must be a seq number');
    const task = await this.deps.store.getTask(taskId);
    if (!task) return rejectUpgrade(socket, 404, 'not_found', `no task ${taskId}`);
    if (!privileged && task.requester !== subject) {
      return rejectUpgrade(socket, 403, 'forbidden', 'this task belongs to someone else');
    }
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
    let sent = after;
    let ended = false;
    const send = (event: TaskEvent): void => {
      if (event.seq <= sent || ended) return;
      ws.send(JSON.stringify({ taskId, ...eventJson(event) }));
      sent = event.seq;
      if (isTerminalEvent(event)) {
        ended = true;
        ws.close(1000, 'task ended');
        controller.abort();
      }
    };
    const catchUp = async (): Promise<void> => {
      for (const event of await this.deps.store.listEvents(taskId, sent)) send(event);
    };

    // Start tailing first, then replay: anything published in between is in the stream too.
    const live = this.deps.bus.tail(taskId, after, controller.signal)[Symbol.asyncIterator]();
    await catchUp();
    if (ended) return;
    const poll = setInterval(() => {
      void catchUp().catch(() => {});
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
    { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
