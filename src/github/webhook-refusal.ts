import type { IncomingMessage } from 'node:http';

/** Why a webhook request is refused before its body is read, as the HTTP answer to give. */
export interface WebhookRefusal {
  status: 400 | 401 | 404 | 405 | 413 | 415;
  error: string;
  message: string;
}

/** GitHub caps webhook payloads at 25 MB and does not deliver larger ones. */
export const GITHUB_WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;

const REQUIRED_HEADERS = ['x-hub-signature-256', 'x-github-event', 'x-github-delivery'] as const;
const SIGNATURE = /^sha256=[0-9a-f]{64}$/i;
const JSON_TYPE = /^\s*application\/json\s*(;|$)/i;

/**
 * Everything about a webhook request that can be judged from its headers: a request GitHub would
 * never send is refused here, before a byte of its body is read. Probot reads the whole body before
 * it checks the signature, so without this one unsigned upload could grow the process without bound.
 */
export function webhookRefusal(req: IncomingMessage, path: string, limit: number): WebhookRefusal | null {
  const pathname = (req.url ?? '/').split('?')[0]?.replace(/\/+$/, '') ?? '';
  if (pathname !== path) return { status: 404, error: 'not_found', message: `no route for ${pathname}` };
  if (req.method !== 'POST')
    return { status: 405, error: 'method_not_allowed', message: 'GitHub webhooks are delivered with POST' };
  const missing = REQUIRED_HEADERS.filter((name) => !req.headers[name]);
  if (missing.length > 0) {
    const unsigned = missing.includes('x-hub-signature-256');
    return {
      status: unsigned ? 401 : 400,
      error: unsigned ? 'unauthorized' : 'missing_headers',
      message: `missing ${missing.join(', ')}: GitHub sends every delivery with ${REQUIRED_HEADERS.join(', ')}`,
    };
  }
  if (!SIGNATURE.test(String(req.headers['x-hub-signature-256'])))
    return {
      status: 401,
      error: 'unauthorized',
      message: 'x-hub-signature-256 must be sha256= and 64 hex digits',
    };
  if (!JSON_TYPE.test(req.headers['content-type'] ?? ''))
    return {
      status: 415,
      error: 'unsupported_media_type',
      message: 'the content-type must be application/json (set it in the webhook settings)',
    };
  if (Number(req.headers['content-length']) > limit)
    return { status: 413, error: 'payload_too_large', message: `the body is larger than ${limit} bytes` };
  return null;
}
