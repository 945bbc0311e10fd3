import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError, readBody } from './read-body.js';

export type ReadBodyResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: 'too_large' | 'invalid_json' };

/**
 * Reads a JSON body straight from Node's request, stopping at `limit` bytes. Going through the
 * web `Request` that the Hono adapter would otherwise build (a ReadableStream, an AbortSignal)
 * cost more CPU than the rest of task ingest together.
 */
export async function readJsonBody(incoming: IncomingMessage, limit: number): Promise<ReadBodyResult> {
  let body: Buffer;
  try {
    body = await readBody(incoming, limit);
  } catch (err) {
    if (err instanceof BodyTooLargeError) return { ok: false, reason: 'too_large' };
    throw err;
  }
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false, reason: 'invalid_json' };
  }
}
