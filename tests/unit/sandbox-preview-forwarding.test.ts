/**
 * The split-roles preview path in miniature: an app on a Unix socket (the sandbox forwarder), a
 * "worker" serving it from its registry and sharing the token through real Redis, and a "gateway"
 * with an empty registry that forwards to the worker.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { PreviewPublisher } from '../../src/core/preview-publisher.js';
import {
  PreviewDirectory,
  sharedPreviewPublisher,
  sharePreviewAlias,
} from '../../src/gateway/preview-directory.js';
import { createPreviewProxyRoute } from '../../src/gateway/preview-proxy.js';
import { PreviewRegistry } from '../../src/gateway/preview-registry.js';
import type { RawRoute } from '../../src/http/raw-route.js';
import { TEST_REDIS_URL, uniquePrefix, waitFor } from '../helpers/test-env.js';

describe('preview forwarding from a gateway to the worker that owns the sandbox', () => {
  const prefix = uniquePrefix();
  const redis = new Redis(TEST_REDIS_URL);
  const directory = new PreviewDirectory({ redis, prefix });
  const seen: { url: string; authorization?: string; prefix?: string }[] = [];
  let dir: string;
  let app: Server;
  let worker: Server;
  let gateway: Server;
  let workerUrl: string;
  let gatewayUrl: string;
  let publisher: PreviewPublisher;
  let url: string;

  const serve = async (route: RawRoute): Promise<[Server, string]> => {
    const server = createServer((req, res) => void route.handle(req, res));
    server.on('upgrade', (req, socket, head) => route.upgrade?.(req, socket, head));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return [server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`];
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'devbot-forward-'));
    app = createServer((req, res) => {
      seen.push({
        url: req.url ?? '',
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        ...(req.headers['x-forwarded-prefix'] ? { prefix: String(req.headers['x-forwarded-prefix']) } : {}),
      });
      res.end(`app saw ${req.url}`);
    });
    new WebSocketServer({ server: app }).on('connection', (ws, req) => {
      ws.on('message', (m) => ws.send(`ws ${req.url} ${String(m)}`));
    });
    await new Promise<void>((resolve) => app.listen(join(dir, 'app.sock'), resolve));

    const workerRegistry = new PreviewRegistry({ publicUrl: () => gatewayUrl, ttlSeconds: 60 });
    [worker, workerUrl] = await serve(createPreviewProxyRoute(workerRegistry));
    [gateway, gatewayUrl] = await serve(
      createPreviewProxyRoute(new PreviewRegistry({ publicUrl: () => gatewayUrl, ttlSeconds: 60 }), {
        remote: (token) => directory.lookup(token),
      }),
    );
    publisher = sharedPreviewPublisher(workerRegistry, directory, () => workerUrl);
    url = await publisher.publish({ sandboxId: 'sb1', port: 8000, socketPath: join(dir, 'app.sock') });
  });

  afterAll(async () => {
    for (const server of [gateway, worker, app]) {
      server?.closeAllConnections();
      await new Promise((r) => server?.close(r));
    }
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  it('hands out the gateway URL and records the worker in Redis with a TTL', async () => {
    expect(url.startsWith(`${gatewayUrl}/preview/`)).toBe(true);
    const token = url.split('/').at(-2) ?? '';
    const key = `${prefix}:preview:${token}`;
    expect(JSON.parse((await redis.get(key)) ?? '{}')).toMatchObject({ url: workerUrl });
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('forwards HTTP through the worker to the app, without the API token', async () => {
    const res = await fetch(`${url}page?x=1`, { headers: { authorization: 'Bearer secret-api-token' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('app saw /page?x=1');
    const last = seen.at(-1);
    expect(last?.authorization).toBeUndefined();
    expect(last?.prefix).toBe(`/preview/${url.split('/').at(-2)}`);
  });

  it('forwards WebSocket upgrades', async () => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}socket`);
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('hello'));
      ws.on('message', (m) => resolve(String(m)));
      ws.on('error', reject);
    });
    ws.close();
    expect(reply).toBe('ws /socket hello');
  });

  it('does not forward a request that says it was forwarded already', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      request(url, { headers: { 'x-devbot-preview-forwarded': '1' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(404);
  });

  it('ignores what is not a devbot token or not an http(s) worker URL', async () => {
    expect(await directory.lookup('../../etc')).toBeNull();
    const token = randomBytes(16).toString('base64url');
    await redis.set(
      `${prefix}:preview:${token}`,
      JSON.stringify({ url: 'file:///etc/passwd', expiresAt: Date.now() + 9e5 }),
    );
    expect(await directory.lookup(token)).toBeNull();
    expect((await fetch(`${gatewayUrl}/preview/${token}/`)).status).toBe(404);
    await redis.set(
      `${prefix}:preview:${token}`,
      JSON.stringify({ url: workerUrl, expiresAt: Date.now() - 1 }),
    );
    expect(await directory.lookup(token)).toBeNull();
  });

  it('forgets the token in Redis when the sandbox closes: the link answers 404', async () => {
    const other = await publisher.publish({
      sandboxId: 'sb2',
      port: 8000,
      socketPath: join(dir, 'app.sock'),
    });
    expect((await fetch(other)).status).toBe(200);
    publisher.unpublishSandbox('sb2');
    await waitFor(
      async () => (await redis.get(`${prefix}:preview:${other.split('/').at(-2)}`)) === null,
      'key deleted',
    );
    const gone = await fetch(other);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: 'not_found' });
    expect((await fetch(url)).status).toBe(200);
  });

  it("treats a worker's entry as stale once its presence is gone, and forgets it", async () => {
    const token = randomBytes(16).toString('base64url');
    const leave = directory.announce('w1');
    await directory.put(token, { url: workerUrl, expiresAt: Date.now() + 60_000, worker: 'w1' });
    await waitFor(async () => (await directory.lookup(token))?.worker === 'w1', 'the live entry');
    await leave();
    expect(await directory.lookup(token)).toBeNull();
    expect(await redis.get(`${prefix}:preview:${token}`)).toBeNull();
  });

  it("shares a revived preview's old link, and forgets it with the revived sandbox", async () => {
    const registry = new PreviewRegistry({ publicUrl: () => gatewayUrl, ttlSeconds: 60 });
    const shared = sharedPreviewPublisher(registry, directory, () => workerUrl, 'w2');
    const leave = directory.announce('w2');
    const fresh = await shared.publish({ sandboxId: 'sb3', port: 8000, socketPath: join(dir, 'app.sock') });
    const old = randomBytes(16).toString('base64url');
    await sharePreviewAlias(registry, directory, () => workerUrl, 'w2', old, fresh.split('/').at(-2) ?? '');
    expect(registry.lookup(old)?.sandboxId).toBe('sb3');
    expect(await directory.lookup(old)).toMatchObject({ url: workerUrl, worker: 'w2' });
    shared.unpublishSandbox('sb3');
    expect(registry.lookup(old)).toBeNull();
    await waitFor(
      async () => (await redis.get(`${prefix}:preview:${old}`)) === null,
      'the old link forgotten',
    );
    await leave();
  });
});
