import WebSocket from 'ws';
import { TERMINAL_STATUSES } from '../../src/core/index.js';

export interface StreamedEvent {
  taskId: string;
  seq: number;
  type: string;
  data: Record<string, unknown>;
}

/** A small HTTP client for the /tasks API, as a user of devbot would write one. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    // Tests read the JSON loosely (res.body.status, res.body.events...).
    // biome-ignore lint/suspicious/noExplicitAny: a test client's answers are untyped JSON
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, headers: res.headers, body: json };
  }

  createTask(body: unknown, headers: Record<string, string> = {}) {
    return this.request('POST', '/tasks', body, headers);
  }

  getTask(id: string) {
    return this.request('GET', `/tasks/${id}`);
  }

  /** Waits until the task reaches a terminal status. */
  async waitForEnd(id: string, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.getTask(id);
      if (TERMINAL_STATUSES.includes(res.body?.status)) return res.body;
      if (Date.now() > deadline) throw new Error(`task ${id} did not end (status ${res.body?.status})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Collects every event from the WebSocket stream until the server closes it. */
  stream(
    id: string,
    after = 0,
    options: { stopAfter?: number } = {},
  ): Promise<{ events: StreamedEvent[]; code: number }> {
    const wsUrl = `${this.baseUrl.replace(/^http/, 'ws')}/tasks/${id}/stream?after=${after}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${this.token}` } });
      const events: StreamedEvent[] = [];
      ws.on('message', (data) => {
        events.push(JSON.parse(String(data)) as StreamedEvent);
        if (options.stopAfter !== undefined && events.length >= options.stopAfter) ws.close(1000);
      });
      ws.on('close', (code) => resolve({ events, code }));
      ws.on('unexpected-response', (_req, res) =>
        reject(new Error(`stream refused: HTTP ${res.statusCode}`)),
      );
      ws.on('error', reject);
    });
  }
}
