import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskIngress, TaskQueue, TaskStore } from '../../src/core/index.js';
import { createApiApp } from '../../src/gateway/api-app.js';
import { type ApiRateLimiter, createApiRateLimiter } from '../../src/gateway/api-rate-limit.js';
import { TokenIssuer } from '../../src/gateway/token-issuer.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { createRedis } from '../../src/queue/redis-connection.js';
import { TEST_REDIS_URL } from '../helpers/test-env.js';

const LIMIT = 3;
const tokens = new TokenIssuer(randomBytes(32).toString('hex'));

/**
 * One gateway process's API app, as start-devbot builds it, with the rate limiter it is given.
 * Only GET /tasks is called, so the store is the one method that route reads.
 */
function gatewayApp(rateLimiter: ApiRateLimiter) {
  const store = { listTasks: async () => [] } as unknown as TaskStore;
  return createApiApp({
    store,
    queue: {} as TaskQueue,
    ingress: {} as TaskIngress,
    tokens,
    metrics: new Metrics(),
    logger: createLogger({ level: 'silent' }),
    rateLimitPerMinute: LIMIT,
    rateLimiter,
    bodyLimitBytes: 1 << 20,
    inputSchema: () => null,
  });
}

function recordingLogger() {
  const lines: { level: string; msg: string }[] = [];
  return {
    lines,
    warn: (obj: unknown, msg?: string) => lines.push({ level: 'warn', msg: msg ?? String(obj) }),
    info: (obj: unknown, msg?: string) => lines.push({ level: 'info', msg: msg ?? String(obj) }),
  };
}

describe('API rate limits shared through Redis', () => {
  let redis: Redis;
  const prefix = `{devbot-test-${randomBytes(4).toString('hex')}}`;
  const other = `{devbot-test-${randomBytes(4).toString('hex')}}`;

  beforeAll(async () => {
    redis = createRedis(TEST_REDIS_URL, { name: 'devbot-rate-limit-test' });
    await redis.ping();
  });
  afterAll(async () => {
    for (const p of [prefix, other]) {
      const keys = await redis.keys(`${p}:ratelimit:*`);
      if (keys.length) await redis.del(...keys);
    }
    redis.disconnect();
  });

  const limiter = (p: string) =>
    createApiRateLimiter({ perMinute: LIMIT, redis: { client: redis, prefix: p } });

  it('two gateways of one deployment share a subject budget; headers say what is left', async () => {
    const first = gatewayApp(limiter(prefix));
    const second = gatewayApp(limiter(prefix));
    const auth = { authorization: `Bearer ${await tokens.sign('alice')}` };

    const answers = [];
    for (const app of [first, second, first]) answers.push(await app.request('/tasks', { headers: auth }));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(answers.map((r) => r.headers.get('ratelimit-remaining'))).toEqual(['2', '1', '0']);
    for (const r of answers) {
      expect(r.headers.get('ratelimit-limit')).toBe(String(LIMIT));
      expect(r.headers.get('ratelimit-policy')).toBe(`${LIMIT};w=60`);
      const reset = Number(r.headers.get('ratelimit-reset'));
      expect(reset).toBeGreaterThanOrEqual(1);
      expect(reset).toBeLessThanOrEqual(60);
      expect(r.headers.get('retry-after')).toBeNull();
    }

    // The second process never served alice three times itself: the budget is the deployment's.
    const limited = await second.request('/tasks', { headers: auth });
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: 'rate_limited' });
    expect(limited.headers.get('ratelimit-limit')).toBe(String(LIMIT));
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get('ratelimit-reset')).toBe(String(retryAfter));

    // Another subject has its own budget; another deployment on the same Redis its own counters.
    const bob = { authorization: `Bearer ${await tokens.sign('bob')}` };
    expect((await second.request('/tasks', { headers: bob })).status).toBe(200);
    const elsewhere = gatewayApp(limiter(other));
    const fresh = await elsewhere.request('/tasks', { headers: auth });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1));
    expect(await redis.exists(`${prefix}:ratelimit:api:alice`)).toBe(1);
  });

  it('requests without a valid token are refused before they count', async () => {
    const app = gatewayApp(limiter(prefix));
    const res = await app.request('/tasks', { headers: { authorization: 'Bearer nope' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('ratelimit-limit')).toBeNull();
  });

  it('Redis unreachable: each process counts in memory (fails open) and says so once', async () => {
    // A port nothing listens on: the client never becomes ready.
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 1000,
    });
    dead.on('error', () => {});
    try {
      const log = recordingLogger();
      const app = gatewayApp(
        createApiRateLimiter({ perMinute: LIMIT, redis: { client: dead, prefix }, logger: log }),
      );
      const auth = { authorization: `Bearer ${await tokens.sign('carol')}` };
      const statuses = [];
      for (let i = 0; i <= LIMIT; i++) statuses.push((await app.request('/tasks', { headers: auth })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
      expect(log.lines[0]?.msg).toMatch(/Redis does not answer/);
    } finally {
      dead.disconnect();
    }
  });

  it('Redis that hangs (connected, silent): requests wait at most the timeout, then count in memory', async () => {
    // Answers the client's handshake (INFO for the ready check, anything else +OK) and then
    // nothing at all: the rate limiter's script never comes back.
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', (chunk) => {
        // One reply per command (RESP arrays of bulk strings); a pipelined chunk holds several.
        for (const m of String(chunk).matchAll(/\*\d+\r\n\$\d+\r\n([^\r]+)\r\n/g)) {
          const command = (m[1] ?? '').toLowerCase();
          if (command.startsWith('eval')) continue;
          if (command === 'hello') socket.write("-ERR unknown command 'hello'\r\n");
          else if (command === 'info') {
            const body = '# Server\r\nredis_version:7.0.0\r\nloading:0\r\n';
            socket.write(`$${body.length}\r\n${body}\r\n`);
          } else socket.write('+OK\r\n');
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const silent = new Redis(`redis://127.0.0.1:${(server.address() as AddressInfo).port}`, {
      maxRetriesPerRequest: 0,
    });
    silent.on('error', () => {});
    try {
      await once(silent, 'ready');
      const log = recordingLogger();
      const app = gatewayApp(
        createApiRateLimiter({
          perMinute: LIMIT,
          redis: { client: silent, prefix },
          redisTimeoutMs: 100,
          logger: log,
        }),
      );
      const auth = { authorization: `Bearer ${await tokens.sign('dave')}` };
      const started = performance.now();
      const res = await app.request('/tasks', { headers: auth });
      expect(res.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(res.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1));
      expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    } finally {
      silent.disconnect();
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });
});
