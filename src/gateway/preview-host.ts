/**
 * Previews on an origin of their own: DEVBOT_PREVIEW_URL is a URL whose host begins with
 * `{token}.`, e.g. `https://{token}.preview.example.com` (a wildcard DNS name and certificate
 * pointing at the gateway). Each preview then has its own origin: nothing it runs shares cookies,
 * storage or service workers with the dashboard or with another preview.
 */
import type { IncomingMessage } from 'node:http';

/** Where previews live on the gateway's own origin (and where host-routed requests are sent). */
export const PREVIEW_PREFIX = '/preview/';

export const PREVIEW_URL_TEMPLATE = /^https?:\/\/\{token\}\.[a-z0-9.-]+(:\d{1,5})?\/?$/i;

/** The URL of a preview under the template. */
export function previewUrlFor(template: string, token: string): string {
  return `${template.replace(/\/$/, '').replace('{token}', token.toLowerCase())}/`;
}

/** A preview token from a request's Host under the template, or null (any other host). */
export function previewHostMatcher(template: string): (host: string | undefined) => string | null {
  const suffix = new URL(template.replace('{token}', 'x')).host.slice(2).toLowerCase();
  return (host) => {
    const h = (host ?? '').toLowerCase();
    if (!h.endsWith(`.${suffix}`)) return null;
    const label = h.slice(0, -suffix.length - 1);
    return /^[a-z0-9_-]{8,64}$/.test(label) ? label : null;
  };
}

/** Requests that came in on a preview host (their app sees no path prefix). */
const hostRouted = new WeakSet<IncomingMessage>();

/**
 * Points a request on a preview host at the preview route (`/preview/<token>/...`): true when it
 * is one. Everything on such a host is preview content; the API and the dashboard are not there.
 */
export function routePreviewHost(
  req: IncomingMessage,
  match: (host: string | undefined) => string | null,
): boolean {
  const token = match(req.headers.host);
  if (!token) return false;
  const path = req.url?.startsWith('/') ? req.url : `/${req.url ?? ''}`;
  req.url = `${PREVIEW_PREFIX}${token}${path}`;
  hostRouted.add(req);
  return true;
}

export function isHostRouted(req: IncomingMessage): boolean {
  return hostRouted.has(req);
}
