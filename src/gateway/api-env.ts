import type { HttpBindings } from '@hono/node-server';
import type { TokenClaims } from './token-issuer.js';

/** Bindings are optional: the app also runs through app.request() in tests, without Node. */
export type ApiEnv = {
  Bindings: Partial<HttpBindings>;
  Variables: { claims: TokenClaims; requestId: string };
};
