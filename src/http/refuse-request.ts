import type { ServerResponse } from 'node:http';

/**
 * Answers a request whose body devbot will not read (unauthenticated, malformed, too large) with
 * JSON `{error, message}`, and closes the connection after the answer. On a kept-alive connection
 * Node would otherwise read and drop the rest of the body, however large, before the next request.
 */
export function refuseRequest(res: ServerResponse, status: number, error: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error, message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
}
