import type { Redis } from 'ioredis';
import {
  type IRateLimiterOptions,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
} from 'rate-limiter-flexible';
import type { Logger } from '../observability/logger.js';

/** What one request's take of the budget left: the values of the `RateLimit-*` headers. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Requests allowed per window. */
  limit: number;
  remaining: number;
  /** Seconds until the window resets (at least 1). */
  resetSeconds: number;
  windowSeconds: number;
}

/** Counts API requests per subject; one budget per subject across every gateway process. */
export interface ApiRateLimiter {
  take(key: string): Promise<RateLimitDecision>;
}

export interface ApiRateLimiterOptions {
  perMinute: number;
  /**
   * Redis shared by every gateway of the deployment. Without it each process counts on its own
   * (a single-process devbot needs no more).
   */
  redis?: { client: Redis; prefix: string } | undefined;
  /** How long a request waits for Redis before it is counted in memory instead (default 500 ms). */
  redisTimeoutMs?: number;
  logger?: Pick<Logger, 'warn' | 'info'> | undefined;
}

const WINDOW_SECONDS = 60;

/**
 * The in-memory stand-in for Redis while it does not answer (rate-limiter-flexible's
 * insurance limiter): it tells the owner each time it is used, so the outage is logged once.
 */
class FallbackLimiter extends RateLimiterMemory {
  constructor(
    options: IRateLimiterOptions,
    private readonly used: () => void,
  ) {
    super(options);
  }

  override consume(key: string | number, points?: number, options?: { [key: string]: unknown }) {
    this.used();
    return super.consume(key, points, options);
  }
}

/**
 * The API's rate limiter (rate-limiter-flexible): a fixed one-minute window per subject. With
 * Redis, the counter lives at `<deployment's queue prefix>:ratelimit:api:<subject>`, so every
 * gateway process of one deployment shares it and another deployment on the same Redis has its
 * own. When Redis does not answer, each process falls back to counting in memory (it fails open
 * rather than refusing every request) and says so once per outage.
 */
export function createApiRateLimiter(options: ApiRateLimiterOptions): ApiRateLimiter {
  const points = options.perMinute;
  const base = { points, duration: WINDOW_SECONDS };
  let fallbacks = 0;
  let outage = false;
  const fallback = new FallbackLimiter({ ...base, keyPrefix: 'api' }, () => {
    fallbacks += 1;
    if (outage) return;
    outage = true;
    options.logger?.warn(
      { redis: options.redis?.client.status },
      'rate limits: Redis does not answer; each gateway process counts requests on its own until it does',
    );
  });
  const limiter = options.redis
    ? // A Redis that hangs (connected, not answering) must not hold requests: past the timeout
      // the fallback counts this one.
      new RLWrapperTimeouts({
        limiter: new RateLimiterRedis({
          ...base,
          storeClient: options.redis.client,
          keyPrefix: `${options.redis.prefix}:ratelimit:api`,
          // A Redis that is reconnecting answers nothing: use the fallback at once, not after retries.
          rejectIfRedisNotReady: true,
        }),
        insuranceLimiter: fallback,
        timeoutMs: options.redisTimeoutMs ?? 500,
      })
    : fallback;

  const decision = (res: RateLimiterRes, allowed: boolean): RateLimitDecision => ({
    allowed,
    limit: points,
    remaining: allowed ? res.remainingPoints : 0,
    resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
    windowSeconds: WINDOW_SECONDS,
  });

  return {
    async take(key) {
      const before = fallbacks;
      try {
        const res = await limiter.consume(key);
        if (outage && options.redis && fallbacks === before) {
          outage = false;
          options.logger?.info('rate limits: Redis answers again; gateways share the budget');
        }
        return decision(res, true);
      } catch (err) {
        if (err instanceof RateLimiterRes) return decision(err, false);
        // Both Redis and the fallback failed (not expected): let the request through.
        options.logger?.warn({ err }, 'rate limits: not counted');
        return {
          allowed: true,
          limit: points,
          remaining: points,
          resetSeconds: WINDOW_SECONDS,
          windowSeconds: WINDOW_SECONDS,
        };
      }
    },
  };
}

/** The IETF draft's headers (draft-ietf-httpapi-ratelimit-headers): on every limited response. */
export function rateLimitHeaders(d: RateLimitDecision): Record<string, string> {
  return {
    'ratelimit-limit': String(d.limit),
    'ratelimit-remaining': String(d.remaining),
    'ratelimit-reset': String(d.resetSeconds),
    'ratelimit-policy': `${d.limit};w=${d.windowSeconds}`,
  };
}
