import {
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Role } from '../config/role.js';
import type { RawRoute } from '../http/raw-route.js';
import { relay, stripHopByHop } from '../http/relay.js';
import type { RemotePreview } from './preview-directory.js';
import { type PreviewMiss, sendPreviewPage } from './preview-pages.js';
import type { PreviewEntry, PreviewRegistry } from './preview-registry.js';

export const PREVIEW_PREFIX = '/preview/';

/**
 * A preview served on the gateway's origin must not set cookies there, nor widen a service
 * worker's scope to the whole origin: both would let the sandbox's app act on the gateway.
 */
export function previewResponseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out = { ...headers };
  delete out['set-cookie'];
  delete out['service-worker-allowed'];
  delete out['clear-site-data'];
  return out;
}

/**
 * Set on a request the gateway forwards to a worker: the worker answers from its own registry
 * and never forwards again (no loops). A client setting it only turns the forwarding off.
 */
const FORWARDED_MARK = 'x-devbot-preview-forwarded';

export interface PreviewProxyOptions {
  /** Finds the worker serving a token this process does not know (split roles; Redis). */
  remote?: (token: string) => Promise<RemotePreview | null>;
  /** Roles that mount the route (RawRoute.roles). */
  roles?: readonly Role[];
  /** A token nobody serves: bring its preview back, or say why not (410 gone, 503 starting). */
  revive?: (token: string) => Promise<PreviewMiss>;
  /** A preview was served (its sandbox becomes the most recently used). */
  onServe?: (sandboxId: string) => void;
}

interface Target {
  entry: PreviewEntry;
  /** Path inside the app, with the /preview/<token> prefix stripped. */
  path: string;
}

interface Resolved {
  target: Target | null;
  token: string;
  path: string;
  bare: boolean;
}

/**
 * Reverse proxy for `/preview/<token>/...` to the Unix socket a sandbox forwards to its port.
 * Streams both ways (no buffering), passes WebSocket upgrades through, 404 for an unknown or
 * expired token, 502 when the app inside does not answer. The API's bearer token is never sent
 * into the sandbox.
 */
export function createPreviewProxyRoute(
  registry: PreviewRegistry,
  options: PreviewProxyOptions = {},
): RawRoute {
  const remote = options.remote;
  const resolve = (url: string | undefined): Resolved => {
    const raw = url ?? '/';
    const rest = raw.slice(PREVIEW_PREFIX.length);
    const slash = rest.search(/[/?]/);
    const token = slash < 0 ? rest : rest.slice(0, slash);
    const tail = slash < 0 ? '' : rest.slice(slash);
    const entry = token ? registry.lookup(token) : null;
    const path = tail.startsWith('/') ? tail : `/${tail}`;
    return { target: entry ? { entry, path } : null, token, path, bare: !tail.startsWith('/') };
  };
  // Local miss: ask which worker serves the token, unless this request was forwarded already.
  const findWorker = async (req: IncomingMessage, r: Resolved): Promise<RemotePreview | null | 'error'> => {
    if (!remote || req.headers[FORWARDED_MARK] !== undefined || !r.token || escapesPrefix(r.path))
      return null;
    try {
      return await remote(r.token);
    } catch {
      return 'error';
    }
  };

  return {
    prefix: PREVIEW_PREFIX,
    ...(options.roles ? { roles: options.roles } : {}),
    async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const resolved = resolve(req.url);
      const { target, token, bare } = resolved;
      const worker = target ? null : await findWorker(req, resolved);
      if (!target && !worker) {
        const miss =
          options.revive && token && !escapesPrefix(resolved.path) ? await options.revive(token) : null;
        if (miss && miss.state !== 'unknown') sendPreviewPage(res, miss);
        else sendJson(res, 404, 'not_found', 'no such preview (unknown or expired link)');
        return;
      }
      if (worker === 'error') {
        sendJson(res, 502, 'bad_gateway', 'could not look up which worker serves this preview');
        return;
      }
      if (bare) {
        // Relative links in the page only resolve under a trailing slash.
        const query = resolved.path === '/' ? '' : resolved.path.slice(1);
        res.writeHead(308, { location: `${PREVIEW_PREFIX}${token}/${query}` }).end();
        return;
      }
      if (worker) {
        forwardToWorker(req, res, worker, token, resolved.path);
        return;
      }
      if (!target) return;
      options.onServe?.(target.entry.sandboxId);
      const upstream = request({
        socketPath: target.entry.socketPath,
        method: req.method,
        path: target.path,
        headers: forwardHeaders(req, token),
      });
      relay(
        req,
        res,
        upstream,
        (r) => sendJson(r, 502, 'bad_gateway', 'the app in the sandbox did not answer'),
        previewResponseHeaders,
      );
    },
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      const resolved = resolve(req.url);
      const { target, token } = resolved;
      if (!target) {
        void findWorker(req, resolved).then((worker) => {
          if (worker === 'error') socket.end(statusOnly(502, 'Bad Gateway'));
          else if (!worker || resolved.bare) socket.end(statusOnly(404, 'Not Found'));
          else upgradeToWorker(req, socket, head, worker, token, resolved.path);
        });
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

/** Streams a request to `<worker>/preview/<token><path>`; the worker serves it from its registry. */
function forwardToWorker(
  req: IncomingMessage,
  res: ServerResponse,
  worker: RemotePreview,
  token: string,
  path: string,
): void {
  const upstream = workerRequest(req, worker, token, path, false);
  relay(
    req,
    res,
    upstream,
    (r) => sendJson(r, 502, 'bad_gateway', 'the worker serving this preview did not answer'),
    previewResponseHeaders,
  );
}

/** A WebSocket upgrade forwarded to the worker; its 101 (or refusal) is relayed as is. */
function upgradeToWorker(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  worker: RemotePreview,
  token: string,
  path: string,
): void {
  const upstream = workerRequest(req, worker, token, path, true);
  upstream.on('upgrade', (up, upSocket, upHead) => {
    let lines = `HTTP/1.1 ${up.statusCode ?? 101} ${up.statusMessage ?? 'Switching Protocols'}\r\n`;
    for (let i = 0; i + 1 < up.rawHeaders.length; i += 2)
      lines += `${up.rawHeaders[i]}: ${up.rawHeaders[i + 1]}\r\n`;
    socket.write(`${lines}\r\n`);
    if (upHead.length > 0) socket.write(upHead);
    if (head.length > 0) upSocket.write(head);
    upSocket.pipe(socket).pipe(upSocket);
    upSocket.on('error', () => socket.destroy());
    upSocket.on('close', () => socket.destroy());
    socket.on('close', () => upSocket.destroy());
  });
  upstream.on('response', (up) => {
    up.resume();
    socket.end(statusOnly(up.statusCode ?? 502, up.statusMessage ?? ''));
  });
  upstream.on('error', () => {
    if (socket.writable) socket.end(statusOnly(502, 'Bad Gateway'));
  });
  socket.on('error', () => upstream.destroy());
  upstream.end();
}

/** The request to the worker that serves the preview; an upgrade keeps its hop headers. */
function workerRequest(
  req: IncomingMessage,
  worker: RemotePreview,
  token: string,
  path: string,
  upgrade: boolean,
): ClientRequest {
  const headers: IncomingHttpHeaders = upgrade ? { ...req.headers } : stripHopByHop(req.headers);
  delete headers.authorization;
  delete headers.cookie;
  headers[FORWARDED_MARK] = '1';
  return request(`${worker.url}${PREVIEW_PREFIX}${token}${path}`, { method: req.method, headers });
}

/** A dot segment (plain or %-encoded) could climb out of `/preview/<token>/` at the worker. */
function escapesPrefix(path: string): boolean {
  const pathname = path.split('?')[0] ?? '';
  return pathname.split(/[/\\]/).some((segment) => /^(\.|%2e){1,2}$/i.test(segment));
}

function statusOnly(status: number, text: string): string {
  return `HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
}

function forwardHeaders(req: IncomingMessage, token: string, upgrade = false): IncomingHttpHeaders {
  const headers = upgrade ? { ...req.headers } : stripHopByHop(req.headers);
  // The gateway's credentials (the API token, the dashboard's cookies) never reach the sandbox.
  delete headers.authorization;
  delete headers.cookie;
  headers['x-forwarded-prefix'] = `${PREVIEW_PREFIX}${token}`;
  headers['x-forwarded-host'] = req.headers.host ?? '';
  headers['x-forwarded-proto'] = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return headers;
}

function sendJson(res: ServerResponse, status: number, error: string, message: string): void {
  const body = JSON.stringify({ error, message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
