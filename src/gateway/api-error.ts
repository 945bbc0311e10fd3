import type { ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { ApiEnv } from './api-env.js';

/** An answer the API gives on purpose: a status, a code for programs, a message for people. */
export class ApiError extends HTTPException {
  constructor(
    status: 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 503,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(status, { message });
  }
}

/** The one error boundary of the API: known failures as JSON `{error, message}`, the rest as 500. */
export function apiErrorHandler(deps: { metrics: Metrics; logger: Logger }): ErrorHandler<ApiEnv> {
  return (err, c) => {
    if (err instanceof ApiError) {
      for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
      return c.json({ error: err.code, message: err.message }, err.status);
    }
    if (err instanceof HTTPException) {
      const code = err.status === 413 ? 'payload_too_large' : 'http_error';
      return c.json({ error: code, message: err.message || 'request failed' }, err.status);
    }
    deps.metrics.errorsTotal.inc({ component: 'gateway' });
    deps.logger.error({ err, path: c.req.path, requestId: c.get('requestId') }, 'request failed');
    return c.json({ error: 'internal', message: 'the request failed; the logs have details' }, 500);
  };
}
