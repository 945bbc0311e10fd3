import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Role } from '../config/role.js';

/**
 * A route served straight from Node's HTTP server, before any body parsing: GitHub webhooks (the
 * signature needs the raw body), the Telegram webhook, the preview proxy. Matched by path prefix.
 */
export interface RawRoute {
  /** Path prefix, e.g. '/api/github/webhooks' or '/preview/'. */
  prefix: string;
  /**
   * Roles whose HTTP server mounts the route (default: all and gateway). A worker serves the
   * preview proxy too, so a separate gateway can forward to it.
   */
  roles?: readonly Role[];
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
  /** WebSocket (or other) upgrades on this prefix. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}
