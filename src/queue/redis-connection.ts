import { Redis } from 'ioredis';
import type { OutageLog } from '../observability/outage-log.js';

/**
 * One place that builds ioredis clients. BullMQ workers and blocking readers need
 * `maxRetriesPerRequest: null`; plain commands fail fast instead of queueing forever.
 */
export function createRedis(
  url: string,
  options: { blocking?: boolean; name?: string; outage?: OutageLog | undefined } = {},
): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: options.blocking ? null : 3,
    enableReadyCheck: true,
    ...(options.name ? { connectionName: options.name } : {}),
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  });
  // Connection errors are retried by ioredis; /readyz reports them, and the outage log says so
  // once (then once a minute). Unhandled 'error' events would otherwise crash the process.
  const outage = options.outage;
  client.on('error', (err) => outage?.failed(err));
  if (outage) client.on('ready', () => outage.recovered());
  return client;
}

/** Resolves when Redis answers PING, or rejects after timeoutMs. */
export async function pingRedis(url: string, timeoutMs = 1000): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } finally {
    client.disconnect();
  }
}
