import type { Context } from 'hono';
import { type ReadBodyResult, readJsonBody } from '../http/read-json-body.js';
import type { ApiEnv } from './api-env.js';
import { ApiError } from './api-error.js';

/** The request's JSON body, at most `limit` bytes: 413 over it, 400 when it is not JSON. */
export async function readRequestJson(c: Context<ApiEnv>, limit: number): Promise<unknown> {
  const incoming = c.env?.incoming;
  const result = incoming ? await readJsonBody(incoming, limit) : await readWebJsonBody(c.req.raw, limit);
  if (result.ok) return result.value;
  if (result.reason === 'too_large')
    throw new ApiError(413, 'payload_too_large', `the body is larger than ${limit} bytes`);
  throw new ApiError(400, 'invalid_body', 'the body must be JSON');
}

/**
 * The same for a web Request (the app used without Node's server, as in app.request()): the same
 * cap, checked on the declared length first and then while reading, never after.
 */
async function readWebJsonBody(req: Request, limit: number): Promise<ReadBodyResult> {
  if (Number(req.headers.get('content-length')) > limit) return { ok: false, reason: 'too_large' };
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body?.getReader();
  for (;;) {
    const next = await reader?.read();
    if (!next || next.done) break;
    size += next.value.byteLength;
    if (size > limit) {
      await reader?.cancel().catch(() => {});
      return { ok: false, reason: 'too_large' };
    }
    chunks.push(next.value);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { ok: false, reason: 'invalid_json' };
  }
}
