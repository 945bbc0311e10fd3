import type { IncomingMessage } from 'node:http';

/** The dashboard's session cookie: the sign-in link's token, HttpOnly and SameSite=Strict. */
export const SESSION_COOKIE = 'devbot_session';

/**
 * The header the dashboard's script sends with every request that changes something. A page on
 * another site cannot send it without a CORS preflight, which devbot never answers, so a request
 * authenticated by the cookie alone cannot be forged from elsewhere (SameSite=Strict is the first
 * line; this is the second).
 */
export const UI_HEADER = 'x-devbot-ui';

/** Longest a session lasts, whatever the token says. */
export const SESSION_MAX_AGE_SECONDS = 30 * 24 * 3600;

/** A cookie from a raw Node request (the WebSocket upgrade has no Hono context). */
export function cookieOf(req: Pick<IncomingMessage, 'headers'>, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/**
 * Whether a request's Origin (when it has one) is the host it was sent to: a cookie-authenticated
 * WebSocket must come from devbot's own pages (browsers do not apply CORS to WebSockets).
 */
export function sameOrigin(req: Pick<IncomingMessage, 'headers'>): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
