/**
 * The REST client every GitHub call goes through, whichever credential stands behind it: an App
 * installation's ProbotOctokit, or the personal token's `@octokit/rest` client. Both are Octokit
 * with the REST methods, pagination, retry and throttling; only Probot's `config` plugin differs,
 * and devbot does not use it.
 */
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import type { ProbotOctokit } from 'probot';
import type { Logger } from '../observability/logger.js';

export type RestClient = Omit<ProbotOctokit, 'config'>;

const TokenOctokit = Octokit.plugin(retry, throttling);

export interface TokenClientOptions {
  token: string;
  baseUrl: string;
  logger: Logger;
  /** Octokit's write throttling (default on; off against servers without secondary limits). */
  throttle?: boolean;
}

/**
 * A client for a personal access token, with GitHub's advice on limits: retry server errors, wait
 * out a primary rate limit (at most twice) and a secondary one (once), one write a second.
 */
export function createTokenClient(options: TokenClientOptions): RestClient {
  const log = options.logger;
  return new TokenOctokit({
    auth: options.token,
    baseUrl: options.baseUrl,
    userAgent: 'devbot',
    log: {
      debug: (msg: string) => log.debug(msg),
      info: (msg: string) => log.debug(msg),
      warn: (msg: string) => log.warn(msg),
      error: (msg: string) => log.error(msg),
    },
    throttle: {
      enabled: options.throttle !== false,
      onRateLimit: (
        retryAfter: number,
        request: { method: string; url: string },
        _o: unknown,
        retryCount: number,
      ) => {
        log.warn({ retryAfter, method: request.method, url: request.url }, 'GitHub rate limit reached');
        return retryCount < 2;
      },
      onSecondaryRateLimit: (
        retryAfter: number,
        request: { method: string; url: string },
        _o: unknown,
        retryCount: number,
      ) => {
        log.warn(
          { retryAfter, method: request.method, url: request.url },
          'GitHub secondary rate limit reached',
        );
        return retryCount < 1;
      },
    },
  });
}
