import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { UnavailableError } from '../core/errors.js';
import type { RawRoute } from '../http/raw-route.js';
import type { Logger } from '../observability/logger.js';
import type { ApiEnv } from './api-app.js';
import { previewHostMatcher, routePreviewHost } from './preview-host.js';
import type { TaskStreamServer } from './task-stream.js';

export interface GatewayServerOptions {
  api: Hono<ApiEnv>;
  /** The task stream (WebSocket); null where the API is not served (a worker's or a bot's port). */
  stream: TaskStreamServer | null;
  rawRoutes: RawRoute[];
  logger: Logger;
  /** DEVBOT_PREVIEW_URL: requests on a preview host go to the preview route, whatever their path. */
  previewUrlTemplate?: string | undefined;
}

/**
 * Node's HTTP server in front: raw routes (webhooks, previews) see the untouched request first;
 * everything else goes to the Hono API. WebSocket upgrades go to the task stream or a raw route.
 */
export class GatewayServer {
  readonly server: Server;
  #listening = false;

  constructor(private readonly options: GatewayServerOptions) {
    const api = getRequestListener(options.api.fetch);
    this.#previewHost = options.previewUrlTemplate ? previewHostMatcher(options.previewUrlTemplate) : null;
    this.server = createServer((req, res) => this.#dispatch(req, res, api));
    this.server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head));
    // Slow or idle clients must not hold sockets forever.
    this.server.headersTimeout = 30_000;
    this.server.requestTimeout = 120_000;
    this.server.keepAliveTimeout = 5_000;
  }

  readonly #previewHost: ((host: string | undefined) => string | null) | null;

  #route(req: IncomingMessage): RawRoute | undefined {
    if (this.#previewHost) routePreviewHost(req, this.#previewHost);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    return this.options.rawRoutes.find((r) => path === r.prefix || path.startsWith(r.prefix));
  }

  #dispatch(req: IncomingMessage, res: ServerResponse, api: ReturnType<typeof getRequestListener>): void {
    const route = this.#route(req);
    if (!route) {
      void api(req, res);
      return;
    }
    Promise.resolve(route.handle(req, res)).catch((err) => {
      this.options.logger.error({ err, path: route.prefix }, 'raw route failed');
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'internal', message: 'the request failed; the logs have details' }));
      } else res.destroy();
    });
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    const onPreviewHost = this.#previewHost !== null && this.#previewHost(req.headers.host) !== null;
    if (!onPreviewHost && this.options.stream?.matches(req)) {
      this.options.stream?.upgrade(req, socket, head);
      return;
    }
    const route = this.#route(req);
    if (route?.upgrade) {
      route.upgrade(req, socket, head);
      return;
    }
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    if (!this.#listening) {
      await new Promise<void>((resolve, reject) => {
        const fail = (err: Error) => reject(listenError(err, host, port));
        this.server.once('error', fail);
        this.server.listen(port, host, () => {
          this.server.off('error', fail);
          resolve();
        });
      });
      this.#listening = true;
    }
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    this.options.stream?.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      setTimeout(() => this.server.closeAllConnections(), 2000).unref();
    });
  }
}

/** The reasons a listen fails that an operator can fix, said as what to change. */
function listenError(err: Error, host: string, port: number): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const fix: Record<string, string> = {
    EADDRINUSE: `${where} is already in use (another devbot?): stop what listens there or set PORT to a free port`,
    EACCES: `no permission to listen on ${where} (ports below 1024 need root): set PORT to 1024 or above`,
    EADDRNOTAVAIL: `HOST=${host} is not an address of this machine: set HOST to 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`,
    ENOTFOUND: `HOST=${host} does not resolve: set HOST to 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`,
  };
  const message = code ? fix[code] : undefined;
  return message ? new UnavailableError(`cannot listen: ${message}`, { cause: err }) : err;
}
