import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  LOGIN_STATE_TTL_SECONDS,
  type LoginAsker,
  type LoginStates,
  type PendingLogin,
} from '../core/index.js';

/** How long a signed-in login waits for its confirmation. */
const CONFIRM_TTL_SECONDS = 300;

/**
 * Sign-in states in Redis, shared by every process (the bot makes them, the gateway redeems them):
 * stored by hash with a TTL, taken with GETDEL so two redemptions cannot both succeed. Held logins
 * waiting for their confirmation live the same way under their own key.
 */
export class RedisLoginStates implements LoginStates {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds = LOGIN_STATE_TTL_SECONDS,
  ) {}

  #key(kind: 'state' | 'confirm', token: string): string {
    return `${this.prefix}:login-${kind}:${createHash('sha256').update(token).digest('hex')}`;
  }

  async create(subject: string, label?: string): Promise<string> {
    const state = randomBytes(24).toString('base64url');
    const value: LoginAsker = { subject, ...(label ? { label } : {}) };
    await this.redis.set(this.#key('state', state), JSON.stringify(value), 'EX', this.ttlSeconds);
    return state;
  }

  async peek(state: string): Promise<string | null> {
    return parse<LoginAsker>(await this.redis.get(this.#key('state', state)))?.subject ?? null;
  }

  async take(state: string): Promise<LoginAsker | null> {
    return parse<LoginAsker>(await this.redis.getdel(this.#key('state', state)));
  }

  async hold(pending: PendingLogin): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    await this.redis.set(this.#key('confirm', token), JSON.stringify(pending), 'EX', CONFIRM_TTL_SECONDS);
    return token;
  }

  async redeem(token: string): Promise<PendingLogin | null> {
    const held = parse<PendingLogin>(await this.redis.getdel(this.#key('confirm', token)));
    return held && typeof held.login === 'string' ? held : null;
  }
}

function parse<T extends LoginAsker>(raw: string | null): T | null {
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as T;
    return value && typeof value.subject === 'string' ? value : null;
  } catch {
    return null;
  }
}
