import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createPreviewProxyRoute } from '../../src/gateway/preview-proxy.js';
import { PreviewRegistry } from '../../src/gateway/preview-registry.js';

describe('preview proxy', () => {
  let dir: string;
  let app: Server;
  let gateway: Server;
  let gatewayUrl: string;
  let now = 1_000_000;
  const seen: { url: string; authorization?: string; cookie?: string; prefix?: string }[] = [];
  let registry: PreviewRegistry;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'devbot-proxy-'));
    // The "app inside the sandbox", listening on a Unix socket like the forwarder does.
    app = createServer((req, res) => {
      seen.push({
        url: req.url ?? '',
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        ...(req.headers.cookie ? { cookie: req.headers.cookie } : {}),
        ...(req.headers['x-forwarded-prefix'] ? { prefix: String(req.headers['x-forwarded-prefix']) } : {}),
      });
      if (req.url === '/cookies') {
        // An app that tries to plant a cookie and a service worker on the gateway's origin.
        res.writeHead(200, {
          'set-cookie': 'devbot_session=stolen; Path=/',
          'service-worker-allowed': '/',
          'content-type': 'text/plain',
        });
        res.end('ok');
        return;
      }
      if (req.url === '/slow') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first;');
        setTimeout(() => res.end('second'), 300);
        return;
      }
      if (req.method === 'POST') {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => res.end(`echo:${body}`));
        return;
      }
      res.end(`app saw ${req.url}`);
    });
    const wss = new WebSocketServer({ server: app });
    wss.on('connection', (ws, req) => {
      ws.on('message', (m) => ws.send(`ws ${req.url} ${String(m)}`));
    });
    await new Promise<void>((resolve) => app.listen(join(dir, 'app.sock'), resolve));

    registry = new PreviewRegistry({ publicUrl: () => gatewayUrl, ttlSeconds: 60, now: () => now });
    const route = createPreviewProxyRoute(registry);
    gateway = createServer((req, res) => void route.handle(req, res));
    gateway.on('upgrade', (req, socket, head) => route.upgrade?.(req, socket, head));
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    url = registry.publish({ sandboxId: 'sb1', port: 8000, socketPath: join(dir, 'app.sock') });
  });

  afterAll(async () => {
    gateway.closeAllConnections();
    app.closeAllConnections();
    await new Promise((r) => gateway.close(r));
    await new Promise((r) => app.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes an unguessable URL under /preview/', () => {
    expect(url).toMatch(new RegExp(`^${gatewayUrl}/preview/[A-Za-z0-9_-]{22}/$`));
    const other = registry.publish({ sandboxId: 'sb2', port: 8000, socketPath: '/nonexistent' });
    expect(other).not.toBe(url);
  });

  it('strips the prefix, keeps the query and never forwards the bearer token', async () => {
    const res = await fetch(`${url}a/b.html?x=1`, { headers: { authorization: 'Bearer secret-token' } });
    expect(await res.text()).toBe('app saw /a/b.html?x=1');
    const last = seen.at(-1)!;
    expect(last.authorization).toBeUndefined();
    expect(last.prefix).toMatch(/^\/preview\/[A-Za-z0-9_-]{22}$/);
  });

  it("keeps the gateway's cookies out of the sandbox, and the sandbox's cookies and service-worker scope off the gateway", async () => {
    const res = await fetch(`${url}cookies`, { headers: { cookie: 'devbot_session=the-users-session' } });
    expect(await res.text()).toBe('ok');
    expect(seen.at(-1)?.cookie).toBeUndefined();
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('service-worker-allowed')).toBeNull();
    // The page runs with an opaque origin: its scripts cannot use the gateway's session.
    expect(res.headers.get('content-security-policy')).toMatch(/^sandbox allow-scripts /);
    expect(res.headers.get('content-security-policy')).not.toMatch(/allow-same-origin/);
  });

  it('redirects the bare token to the trailing-slash URL', async () => {
    const res = await fetch(url.slice(0, -1), { redirect: 'manual' });
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe(new URL(url).pathname);
  });

  it('streams the response instead of buffering it', async () => {
    const res = await fetch(`${url}slow`);
    const reader = res.body!.getReader();
    const start = Date.now();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toBe('first;');
    expect(Date.now() - start).toBeLessThan(250);
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read())
      rest += Buffer.from(r.value).toString();
    expect(rest).toBe('second');
  });

  it('forwards request bodies', async () => {
    const res = await fetch(`${url}submit`, { method: 'POST', body: 'payload' });
    expect(await res.text()).toBe('echo:payload');
  });

  it('passes WebSocket upgrades through', async () => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}socket`);
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('ping'));
      ws.on('message', (m) => resolve(String(m)));
      ws.on('error', reject);
    });
    ws.close();
    expect(reply).toBe('ws /socket ping');
  });

  it('answers 404 JSON for an unknown token and 502 when nothing listens', async () => {
    const missing = await fetch(`${gatewayUrl}/preview/nope/`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not_found', message: expect.any(String) });
    const dead = registry.publish({ sandboxId: 'sb3', port: 1, socketPath: join(dir, 'nothing.sock') });
    const bad = await fetch(dead);
    expect(bad.status).toBe(502);
    expect(await bad.json()).toMatchObject({ error: 'bad_gateway' });
  });

  it('forgets a preview when it expires or its sandbox closes', async () => {
    const short = registry.publish({ sandboxId: 'sb4', port: 8000, socketPath: join(dir, 'app.sock') });
    expect((await fetch(short)).status).toBe(200);
    registry.unpublishSandbox('sb4');
    expect((await fetch(short)).status).toBe(404);
    const expiring = registry.publish({ sandboxId: 'sb5', port: 8000, socketPath: join(dir, 'app.sock') });
    now += 61_000;
    expect((await fetch(expiring)).status).toBe(404);
  });
});
