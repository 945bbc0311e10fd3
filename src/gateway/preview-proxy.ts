import { type IncomingHttpHeaders, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { PreviewEntry, PreviewRegistry } from './preview-registry.js';
import type { RawRoute } from './raw-route.js';

export const PREVIEW_PREFIX = '/preview/';

/** Headers that describe one hop, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

interface Target {
  entry: PreviewEntry;
  /** Path inside the app, with the /preview/<token> prefix stripped. */
  path: string;
}

/**
 * Reverse proxy for `/preview/<token>/...` to the Unix socket a sandbox forwards to its port.
 * Streams both ways (no buffering), passes WebSocket upgrades through, 404 for an unknown or
 * expired token, 502 when the app inside does not answer. The API's bearer token is never sent
 * into the sandbox.
 */
export function createPreviewProxyRoute(registry: PreviewRegistry): RawRoute {
  const resolve = (url: string | undefined): { target: Target | null; token: string; bare: boolean } => {
    const raw = url ?? '/';
    const rest = raw.slice(PREVIEW_PREFIX.length);
    const slash = rest.search(/[/?]/);
    const token = slash < 0 ? rest : rest.slice(0, slash);
    const tail = slash < 0 ? '' : rest.slice(slash);
    const entry = token ? registry.lookup(token) : null;
    const path = tail.startsWith('/') ? tail : `/${tail}`;
    return { target: entry ? { entry, path } : null, token, bare: !tail.startsWith('/') };
  };

  return {
    prefix: PREVIEW_PREFIX,
    handle(req: IncomingMessage, res: ServerResponse): void {
      const { target, token, bare } = resolve(req.url);
      if (!target) {
        sendJson(res, 404, 'not_found', 'no such preview (unknown or expired link)');
        return;
      }
      if (bare) {
        // Relative links in the page only resolve under a trailing slash.
        const query = target.path === '/' ? '' : target.path.slice(1);
        res.writeHead(308, { location: `${PREVIEW_PREFIX}${token}/${query}` }).end();
        return;
      }
      const upstream = request({
        socketPath: target.entry.socketPath,
        method: req.method,
        path: target.path,
        headers: forwardHeaders(req, token),
      });
      upstream.on('response', (up) => {
        res.writeHead(up.statusCode ?? 502, stripHopByHop(up.headers));
        up.pipe(res);
        up.on('error', () => res.destroy());
      });
      upstream.on('error', () => {
        if (!res.headersSent) sendJson(res, 502, 'bad_gateway', 'the app in the sandbox did not answer');
        else res.destroy();
      });
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      req.pipe(upstream);
    },
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      const { target, token } = resolve(req.url);
      if (!target) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      const upstream = connect(target.entry.socketPath);
      upstream.on('connect', () => {
        const headers = forwardHeaders(req, token, true);
        let head_ = `${req.method ?? 'GET'} ${target.path} HTTP/1.1\r\n`;
        for (const [name, value] of Object.entries(headers)) {
          for (const v of Array.isArray(value) ? value : [value]) {
            if (v !== undefined) head_ += `${name}: ${v}\r\n`;
          }
        }
        upstream.write(`${head_}\r\n`);
        if (head.length > 0) upstream.write(head);
        socket.pipe(upstream).pipe(socket);
      });
      upstream.on('error', () => {
        if (socket.writable)
          socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      });
      socket.on('error', () => upstream.destroy());
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
    },
  };
}

function forwardHeaders(req: IncomingMessage, token: string, upgrade = false): IncomingHttpHeaders {
  const headers = upgrade ? { ...req.headers } : stripHopByHop(req.headers);
  delete headers.authorization;
  headers['x-forwarded-prefix'] = `${PREVIEW_PREFIX}${token}`;
  headers['x-forwarded-host'] = req.headers.host ?? '';
  headers['x-forwarded-proto'] = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return headers;
}

function stripHopByHop<T extends Record<string, unknown>>(headers: T): T {
  const out = { ...headers };
  const listed = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  for (const name of [...HOP_BY_HOP, ...listed]) delete out[name];
  return out;
}

function sendJson(res: ServerResponse, status: number, error: string, message: string): void {
  const body = JSON.stringify({ error, message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
