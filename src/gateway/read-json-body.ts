import type { IncomingMessage } from 'node:http';

export type ReadBodyResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: 'too_large' | 'invalid_json' };

/**
 * Reads a JSON body straight from Node's request, stopping at `limit` bytes. Going through the
 * web `Request` that the Hono adapter would otherwise build (a ReadableStream, an AbortSignal)
 * cost more CPU than the rest of task ingest together.
 */
export async function readJsonBody(incoming: IncomingMessage, limit: number): Promise<ReadBodyResult> {
  const declared = Number(incoming.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    incoming.resume();
    return { ok: false, reason: 'too_large' };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      incoming.resume();
      return { ok: false, reason: 'too_large' };
    }
    chunks.push(chunk);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks, size).toString('utf8')) };
  } catch {
    return { ok: false, reason: 'invalid_json' };
  }
}
