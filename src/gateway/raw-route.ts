import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * A route served straight from Node's HTTP server, before any body parsing: GitHub webhooks (the
 * signature needs the raw body), the Telegram webhook, the preview proxy. Matched by path prefix.
 */
export interface RawRoute {
  /** Path prefix, e.g. '/api/github/webhooks' or '/preview/'. */
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
  /** WebSocket (or other) upgrades on this prefix. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}
