/**
 * HTTP forwarding shared by the two proxies around a sandbox: the gateway's preview proxy (into a
 * sandbox) and the local sandbox's egress proxy (out of one). Both drop the headers that describe
 * one hop and stream bodies both ways without buffering.
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';

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

/** A copy without the hop-by-hop headers, including those the Connection header names. */
export function stripHopByHop<T extends Record<string, unknown>>(headers: T): T {
  const out = { ...headers };
  const listed = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  for (const name of [...HOP_BY_HOP, ...listed]) delete out[name];
  return out;
}

/**
 * Streams the request body up and the response down; a dead upstream gets `unreachable(res)`
 * (before the response started) or a cut connection (after).
 */
export function relay(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: ClientRequest,
  unreachable: (res: ServerResponse) => void,
  /** Changes the response headers on their way down (the preview proxy drops cookies). */
  responseHeaders: (headers: IncomingMessage['headers']) => IncomingMessage['headers'] = (h) => h,
): void {
  upstream.on('response', (up) => {
    res.writeHead(up.statusCode ?? 502, responseHeaders(stripHopByHop(up.headers)));
    up.pipe(res);
    up.on('error', () => res.destroy());
  });
  upstream.on('error', () => {
    if (!res.headersSent) unreachable(res);
    else res.destroy();
  });
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}
