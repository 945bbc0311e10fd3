import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LOGIN_STATE_TTL_SECONDS, type LoginStates } from '../core/index.js';

/**
 * Sign-in states in Redis, shared by every process (the bot makes them, the gateway redeems them):
 * stored by hash with a TTL, taken with GETDEL so two redemptions cannot both succeed.
 */
export class RedisLoginStates implements LoginStates {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds = LOGIN_STATE_TTL_SECONDS,
  ) {}

  #key(state: string): string {
    return `${this.prefix}:login-state:${createHash('sha256').update(state).digest('hex')}`;
  }

  async create(subject: string): Promise<string> {
    const state = randomBytes(24).toString('base64url');
    await this.redis.set(this.#key(state), subject, 'EX', this.ttlSeconds);
    return state;
  }

  async peek(state: string): Promise<string | null> {
    return this.redis.get(this.#key(state));
  }

  async take(state: string): Promise<string | null> {
    return this.redis.getdel(this.#key(state));
  }
}
